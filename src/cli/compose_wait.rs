//! docker-compose-wait's variables mapped onto `rdy wait`.
//!
//! `WAIT_HOSTS` (comma list of `host:port`) supplies targets when none are
//! given, and then that tool's defaults apply: 30 s overall, 1 s between
//! attempts, 5 s per connection. `WAIT_TIMEOUT`, `WAIT_SLEEP_INTERVAL` and
//! `WAIT_HOST_CONNECT_TIMEOUT` set `--timeout`, `--interval` and
//! `--dial-timeout`; `WAIT_COMMAND` is the command to exec. Unlike that tool,
//! which silently replaces a bad value with its default, a bad value is a
//! usage error. `WAIT_BEFORE`/`WAIT_AFTER` are the variables of
//! `--wait-before`/`--wait-after` in the option table.

use std::ffi::OsString;
use std::time::Duration;

use super::env::Env;
use super::error::{Source, UsageError};
use super::flags::Id;
use super::options::{Given, RunOptions, TargetOptions};

/// What docker-compose-wait's variables asked for.
#[derive(Debug, Default)]
pub struct ComposeWait {
    /// `WAIT_HOSTS` entries.
    pub hosts: Vec<String>,
    /// `WAIT_TIMEOUT`, or the tool's 30 s default when `WAIT_HOSTS` is used.
    pub run: RunOptions,
    /// `WAIT_SLEEP_INTERVAL`, `WAIT_HOST_CONNECT_TIMEOUT`, or the tool's
    /// defaults when `WAIT_HOSTS` is used.
    pub targets: TargetOptions,
    /// `WAIT_COMMAND`, split as a shell would split words (no expansion).
    pub command: Option<Vec<OsString>>,
}

/// The tool's defaults, used when its `WAIT_HOSTS` supplies the targets.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads the variables; `hosts_used` says whether `WAIT_HOSTS` will supply
/// the targets (no target on the command line).
pub fn read(env: Env<'_>, hosts_used: bool) -> Result<ComposeWait, UsageError> {
    if let Some(paths) = value(env, &["WAIT_PATHS"]) {
        return Err(UsageError::Invalid {
            source: Source::Env("WAIT_PATHS"),
            given: paths.1,
            expected: "nothing: rdy does not wait for files; unset it".to_owned(),
        });
    }
    let mut out = ComposeWait::default();
    if let Some((_, hosts)) = value(env, &["WAIT_HOSTS"]) {
        out.hosts = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
    }
    let use_defaults = hosts_used && !out.hosts.is_empty();
    if use_defaults {
        out.run.timeout = Some(DEFAULT_TIMEOUT);
        out.targets.interval = Some(DEFAULT_INTERVAL);
        out.targets.dial_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
    }
    // WAIT_HOSTS_TIMEOUT, WAIT_BEFORE_HOSTS and WAIT_AFTER_HOSTS are the
    // tool's legacy names; WAIT_BEFORE/WAIT_AFTER are in the option table.
    let run_vars: [(&[&'static str], Id); 3] = [
        (&["WAIT_TIMEOUT", "WAIT_HOSTS_TIMEOUT"], Id::Timeout),
        (&["WAIT_BEFORE_HOSTS"], Id::WaitBefore),
        (&["WAIT_AFTER_HOSTS"], Id::WaitAfter),
    ];
    // Every name set is checked (a bad legacy value is an error even next
    // to a good current one); the current name, applied last, wins.
    for (names, id) in run_vars {
        for &name in names.iter().rev() {
            if let Some((var, text)) = value(env, &[name]) {
                apply(var, &text, |given| out.run.apply(id, given))?;
            }
        }
    }
    if let Some((var, text)) = value(env, &["WAIT_LOGGER_LEVEL"]) {
        logger_level(&mut out.run, var, &text)?;
    }
    let target_vars = [
        ("WAIT_SLEEP_INTERVAL", Id::Interval),
        ("WAIT_HOST_CONNECT_TIMEOUT", Id::DialTimeout),
    ];
    for (name, id) in target_vars {
        if let Some((var, text)) = value(env, &[name]) {
            apply(var, &text, |given| out.targets.apply(id, given))?;
        }
    }
    if let Some((var, text)) = value(env, &["WAIT_COMMAND"]) {
        let words = split_words(&text).map_err(|problem| UsageError::Invalid {
            source: Source::Env(var),
            given: text.clone(),
            expected: format!("a command line ({problem})"),
        })?;
        out.command = Some(words.into_iter().map(OsString::from).collect());
    }
    Ok(out)
}

fn value(env: Env<'_>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|&name| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name, v))
    })
}

/// Applies one variable to a run or target layer with errors naming it.
fn apply(
    var: &'static str,
    text: &str,
    set: impl FnOnce(&Given<'_>) -> Result<(), UsageError>,
) -> Result<(), UsageError> {
    let source = Source::Env(var);
    set(&Given {
        source: &source,
        text,
    })
}

/// The tool's `WAIT_LOGGER_LEVEL` as rdy's levels: `off` and `error` log
/// errors only (`-q`; rdy's errors are the lines that say why it exits),
/// `debug` is `-v`, `info` the default.
fn logger_level(run: &mut RunOptions, var: &'static str, text: &str) -> Result<(), UsageError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" | "error" => run.quiet = Some(true),
        "debug" => run.verbose = Some(true),
        "info" => {}
        _ => {
            return Err(UsageError::Invalid {
                source: Source::Env(var),
                given: text.to_owned(),
                expected: "off, error, info or debug".to_owned(),
            });
        }
    }
    Ok(())
}

/// Splits a command line into words as a POSIX shell does, without any
/// expansion: blanks separate words, `'…'` is literal, `"…"` allows `\"`,
/// `\\`, `\$` and `` \` ``, and a backslash outside quotes escapes the next
/// character (`shell-words`' rules, which docker-compose-wait uses).
pub fn split_words(text: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("unterminated double quote"),
                        },
                        Some(c) => w.push(c),
                        None => return Err("unterminated double quote"),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("a trailing backslash"),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    if words.is_empty() {
        return Err("no command");
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split_words(text).unwrap()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(words("node server.js"), ["node", "server.js"]);
        assert_eq!(
            words("  sh -c 'echo $HOME; exit 3'  "),
            ["sh", "-c", "echo $HOME; exit 3"]
        );
        assert_eq!(
            words(r#"echo "a \"b\" \$c \d""#),
            ["echo", r#"a "b" $c \d"#]
        );
        assert_eq!(words(r"a\ b c"), ["a b", "c"]);
        assert_eq!(words("''"), [""]);
        assert_eq!(words("x'y'\"z\""), ["xyz"]);
    }

    #[test]
    fn refuses_broken_lines() {
        assert_eq!(split_words("echo 'oops"), Err("unterminated single quote"));
        assert_eq!(split_words("echo \"oops"), Err("unterminated double quote"));
        assert_eq!(split_words("echo \\"), Err("a trailing backslash"));
        assert_eq!(split_words("   "), Err("no command"));
    }
}
