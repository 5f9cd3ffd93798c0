//! The options of `rdy serve`, layered like the others (command line over
//! environment over defaults) into [`Settings`], and the checks that keep
//! each command's options to that command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::error::{Source, UsageError};
use super::flags::{Id, Scope};
use super::options::Given;
use super::{Env, each_env, non_empty};
use crate::serve::Settings;
use crate::serve::auth::{Token, TokenFile};
use crate::serve::listen::{self, Listen};
use crate::serve::rate::{self, Rate};
use crate::serve::routes::{FORCE_VALUES, Force};
use crate::target::Target;

const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_WORKERS: usize = 256;
const MAX_CONNECTIONS: usize = 1 << 20;

/// The options of `rdy wait` that mean nothing to a server.
const WAIT_ONLY: [Id; 5] = [
    Id::Supervise,
    Id::ThenPost,
    Id::WaitBefore,
    Id::WaitAfter,
    Id::Strict,
];

/// One layer of serve options; `None` means "not set here".
#[derive(Debug, Default)]
pub struct ServeOptions {
    listen: Option<Listen>,
    cache_ttl: Option<Duration>,
    workers: Option<usize>,
    max_connections: Option<usize>,
    idle_timeout: Option<Duration>,
    client_timeout: Option<Duration>,
    force: Option<Force>,
    /// Opened when the settings are built, so that `rdy wait --token-file`
    /// is refused for being the wrong command, not for a missing file.
    token_file: Option<(Source, PathBuf)>,
    rate_limit: Option<Rate>,
    /// The options as spelled on the command line.
    pub given: Vec<String>,
}

impl ServeOptions {
    /// Sets one option from its text.
    pub fn apply(&mut self, id: Id, value: &Given<'_>) -> Result<(), UsageError> {
        match id {
            Id::Listen => {
                let parsed = Listen::parse(value.text);
                self.listen = Some(parsed.ok_or_else(|| value.invalid(listen::ACCEPTED))?);
            }
            Id::CacheTtl => self.cache_ttl = Some(value.duration()?),
            Id::Workers => self.workers = Some(count(value, MAX_WORKERS)?),
            Id::MaxConnections => self.max_connections = Some(count(value, MAX_CONNECTIONS)?),
            Id::IdleTimeout => self.idle_timeout = Some(value.positive_duration()?),
            Id::ClientTimeout => self.client_timeout = Some(value.positive_duration()?),
            Id::Force => {
                let parsed = Force::parse(value.text);
                self.force = Some(parsed.ok_or_else(|| value.invalid(FORCE_VALUES))?);
            }
            Id::TokenFile => {
                let path = PathBuf::from(value.non_empty("a file name")?);
                self.token_file = Some((value.source.clone(), path));
            }
            Id::RateLimit => {
                let parsed = Rate::parse(value.text);
                self.rate_limit = Some(parsed.ok_or_else(|| value.invalid(rate::ACCEPTED))?);
            }
            _ => unreachable!("{id:?} is not a serve option"),
        }
        Ok(())
    }

    /// This layer with `top` laid over it.
    fn under(self, top: ServeOptions) -> ServeOptions {
        ServeOptions {
            listen: top.listen.or(self.listen),
            cache_ttl: top.cache_ttl.or(self.cache_ttl),
            workers: top.workers.or(self.workers),
            max_connections: top.max_connections.or(self.max_connections),
            idle_timeout: top.idle_timeout.or(self.idle_timeout),
            client_timeout: top.client_timeout.or(self.client_timeout),
            force: top.force.or(self.force),
            token_file: top.token_file.or(self.token_file),
            rate_limit: top.rate_limit.or(self.rate_limit),
            given: top.given,
        }
    }
}

/// A whole number from 1 to `max`.
fn count(value: &Given<'_>, max: usize) -> Result<usize, UsageError> {
    match value.text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(value.invalid(format!("a whole number from 1 to {max}"))),
    }
}

/// Refuses an option written for another command: serve's options outside
/// `rdy serve`, and `wait`'s command and hooks inside it. Silently ignoring
/// either would leave the user believing it works.
pub fn check_command(
    serving: bool,
    serve: &ServeOptions,
    run_given: &[(Id, String)],
    command: &[OsString],
) -> Result<(), UsageError> {
    let only_for = |option: &str, command: &'static str| UsageError::OnlyFor {
        option: option.to_owned(),
        command,
    };
    if !serving {
        return match serve.given.first() {
            Some(spelled) => Err(only_for(spelled, "serve")),
            None => Ok(()),
        };
    }
    if !command.is_empty() {
        return Err(only_for("-- COMMAND", "wait"));
    }
    match run_given.iter().find(|(id, _)| WAIT_ONLY.contains(id)) {
        Some((_, spelled)) => Err(only_for(spelled, "wait")),
        None => Ok(()),
    }
}

/// Builds the settings: the environment under the command line, the token
/// read, and target names checked (they name `/ready/NAME` and label the
/// metrics, so they must be unique).
pub fn settings(
    line: ServeOptions,
    targets: &[Target],
    env: Env<'_>,
) -> Result<Settings, UsageError> {
    for (i, target) in targets.iter().enumerate() {
        if targets[..i].iter().any(|t| t.name == target.name) {
            return Err(UsageError::DuplicateName(target.name.clone()));
        }
    }
    let mut from_env = ServeOptions::default();
    // The seed's variables: RATE_LIMIT requests per RATE_LIMIT_PERIOD (1h),
    // below RDY_RATE_LIMIT.
    if let Some(count) = non_empty(env, "RATE_LIMIT") {
        let period = non_empty(env, "RATE_LIMIT_PERIOD").unwrap_or_else(|| "1h".to_owned());
        let text = format!("{}/{}", count.trim(), period.trim());
        from_env.rate_limit = Some(Rate::parse(&text).ok_or_else(|| UsageError::Invalid {
            source: Source::Env("RATE_LIMIT"),
            given: text,
            expected: "a count, with a duration in RATE_LIMIT_PERIOD (3600 and 1h)".to_owned(),
        })?);
    }
    each_env(env, |flag, given| match flag.scope {
        Scope::Serve => from_env.apply(flag.id, given),
        _ => Ok(()),
    })?;
    let options = from_env.under(line);
    // A token file wins over RDY_TOKEN: it is the form that can rotate.
    let token = match options.token_file {
        Some((source, path)) => match TokenFile::open(path.clone()) {
            Ok(file) => Some(Token::File(file)),
            Err(e) => {
                return Err(UsageError::Invalid {
                    source,
                    given: path.display().to_string(),
                    expected: format!("a readable file that holds the token ({e})"),
                });
            }
        },
        None => non_empty(env, "RDY_TOKEN").map(|t| Token::Fixed(t.trim().as_bytes().to_vec())),
    };
    Ok(Settings {
        listen: options.listen.unwrap_or(listen::DEFAULT),
        cache_ttl: options.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL),
        workers: options.workers,
        max_connections: options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        idle_timeout: options.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT),
        client_timeout: options.client_timeout.unwrap_or(DEFAULT_CLIENT_TIMEOUT),
        force: options.force,
        token,
        rate_limit: options.rate_limit,
    })
}
