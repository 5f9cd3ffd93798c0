//! Option values in layers: environment, then options before the first target
//! (defaults), then options after a target (that target only). Each value is
//! parsed the moment it is read, so an error names its flag or variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::http::Method;

use super::error::{Source, UsageError};
use super::flags::Id;
use crate::duration;
use crate::kube::expect;
use crate::log;
use crate::probe::http::header::{self, Header};
use crate::probe::http::status::{self, StatusSet};
use crate::probe::http::{self, METHODS};
use crate::termination;
use crate::transport::tls::Trust;

/// Per-target settings of one layer; `None` means "not set here".
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    pub name: Option<String>,
    /// `--type`: a scheme's name, checked against the table when read.
    pub check_type: Option<&'static str>,
    pub interval: Option<Duration>,
    pub dial_timeout: Option<Duration>,
    pub method: Option<Method>,
    pub headers: Option<Vec<Header>>,
    pub allow_duplicate_headers: Option<bool>,
    pub status: Option<StatusSet>,
    pub body_contains: Option<String>,
    /// `--body-json`, as written and parsed.
    pub body_json: Option<(String, expect::Expect)>,
    pub follow_redirects: Option<bool>,
    pub insecure: Option<bool>,
    pub ca: Option<Trust>,
    pub icmp_read_timeout: Option<Duration>,
    /// `--for`: conditions of a `k8s:` target, all of them, as written
    /// (checked when read, parsed again for the target).
    pub expect: Option<Vec<String>>,
    /// `--failed-if`: states of a `k8s:` target that end the wait, as
    /// written (checked when read).
    pub failed_if: Option<Vec<String>>,
    /// The options set in this layer as spelled, so an option after a target
    /// of the wrong kind can be named in the error.
    pub given: Vec<(Id, String)>,
}

/// Settings of the whole run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub timeout: Option<Duration>,
    pub log_format: Option<log::Format>,
    pub quiet: Option<bool>,
    pub verbose: Option<bool>,
    pub supervise: Option<bool>,
    /// `--then-post` URLs, checked when the run is assembled.
    pub then_post: Option<Vec<String>>,
    pub wait_before: Option<Duration>,
    pub wait_after: Option<Duration>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `LOG_LEVEL` under `rdy serve`, below `-q`/`-v`.
    pub level: Option<log::Level>,
    /// `--termination-log`: where a failed run's summary goes.
    pub termination_log: Option<termination::Destination>,
}

/// What a boolean value may look like; Go's `strconv.ParseBool` set, which
/// PortPatrol's variables were read with.
pub const BOOLEANS: &str = "true or false (or 1/0, t/f)";

/// Parses a boolean the way Go's `strconv.ParseBool` does, case-insensitively.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" => Some(true),
        "0" | "f" | "false" => Some(false),
        _ => None,
    }
}

/// A value and where it came from, for parsing with good errors.
pub struct Given<'a> {
    pub source: &'a Source,
    pub text: &'a str,
}

impl Given<'_> {
    pub fn invalid(&self, expected: impl Into<String>) -> UsageError {
        UsageError::Invalid {
            source: self.source.clone(),
            given: self.text.to_owned(),
            expected: expected.into(),
        }
    }

    pub(super) fn duration(&self) -> Result<Duration, UsageError> {
        duration::parse(self.text).map_err(|_| self.invalid(duration::ACCEPTED))
    }

    pub(super) fn positive_duration(&self) -> Result<Duration, UsageError> {
        match self.duration()? {
            d if d.is_zero() => Err(self.invalid(format!("{} greater than 0", duration::ACCEPTED))),
            d => Ok(d),
        }
    }

    fn boolean(&self) -> Result<bool, UsageError> {
        parse_bool(self.text).ok_or_else(|| self.invalid(BOOLEANS))
    }

    pub(super) fn non_empty(&self, what: &str) -> Result<String, UsageError> {
        match self.text {
            "" => Err(self.invalid(what)),
            text => Ok(text.to_owned()),
        }
    }
}

impl TargetOptions {
    /// Sets one per-target option from its text; `--type` is read where
    /// the scheme table is (cli::apply_target).
    pub fn apply(&mut self, id: Id, value: &Given<'_>) -> Result<(), UsageError> {
        match id {
            Id::Name => self.name = Some(value.non_empty("a non-empty name")?),
            Id::Interval => self.interval = Some(value.positive_duration()?),
            Id::DialTimeout => self.dial_timeout = Some(value.positive_duration()?),
            Id::IcmpReadTimeout => self.icmp_read_timeout = Some(value.positive_duration()?),
            Id::Method => {
                let m = http::parse_method(value.text).ok_or_else(|| value.invalid(METHODS))?;
                self.method = Some(m);
            }
            Id::Header => {
                // A header may carry a credential: the error names only it.
                let parsed = header::parse_list(value.text).map_err(|e| UsageError::Hidden {
                    source: value.source.clone(),
                    problem: e.to_string(),
                })?;
                self.headers.get_or_insert_with(Vec::new).extend(parsed);
            }
            Id::AllowDuplicateHeaders => self.allow_duplicate_headers = Some(value.boolean()?),
            Id::For => {
                expect::parse(value.text).map_err(|e| match e {
                    expect::ExpectError::Form => value.invalid(expect::ACCEPTED),
                    other => value.invalid(format!("{} ({other})", expect::ACCEPTED)),
                })?;
                let list = self.expect.get_or_insert_with(Vec::new);
                list.push(value.text.to_owned());
            }
            Id::FailedIf => {
                expect::parse_final(value.text)
                    .map_err(|e| value.invalid(format!("{} ({e})", expect::FINAL)))?;
                let list = self.failed_if.get_or_insert_with(Vec::new);
                list.push(value.text.to_owned());
            }
            Id::Status => {
                let set =
                    StatusSet::parse(value.text).map_err(|_| value.invalid(status::ACCEPTED))?;
                self.status = Some(set);
            }
            Id::BodyContains => self.body_contains = Some(value.non_empty("a non-empty text")?),
            Id::BodyJson => {
                let parsed = expect::parse_path(value.text)
                    .map_err(|e| value.invalid(format!("{} ({e})", expect::BODY)))?;
                self.body_json = Some((value.text.to_owned(), parsed));
            }
            Id::FollowRedirects => self.follow_redirects = Some(value.boolean()?),
            Id::Insecure => self.insecure = Some(value.boolean()?),
            Id::CaFile => {
                let trust = Trust::from_ca_file(Path::new(value.text)).map_err(|e| {
                    value.invalid(format!("a readable PEM file of CA certificates ({e})"))
                })?;
                self.ca = Some(trust);
            }
            _ => unreachable!("{id:?} is not a per-target option"),
        }
        Ok(())
    }

    /// This layer with `top` laid over it: a value set in `top` wins, and
    /// headers in `top` replace those of the same name.
    pub fn under(&self, top: &TargetOptions) -> TargetOptions {
        TargetOptions {
            name: top.name.clone().or_else(|| self.name.clone()),
            check_type: top.check_type.or(self.check_type),
            interval: top.interval.or(self.interval),
            dial_timeout: top.dial_timeout.or(self.dial_timeout),
            method: top.method.clone().or_else(|| self.method.clone()),
            headers: merge_headers(self.headers.as_deref(), top.headers.as_deref()),
            allow_duplicate_headers: top.allow_duplicate_headers.or(self.allow_duplicate_headers),
            status: top.status.clone().or_else(|| self.status.clone()),
            body_contains: top
                .body_contains
                .clone()
                .or_else(|| self.body_contains.clone()),
            body_json: top.body_json.clone().or_else(|| self.body_json.clone()),
            follow_redirects: top.follow_redirects.or(self.follow_redirects),
            insecure: top.insecure.or(self.insecure),
            ca: top.ca.clone().or_else(|| self.ca.clone()),
            icmp_read_timeout: top.icmp_read_timeout.or(self.icmp_read_timeout),
            expect: top.expect.clone().or_else(|| self.expect.clone()),
            failed_if: top.failed_if.clone().or_else(|| self.failed_if.clone()),
            given: top.given.clone(),
        }
    }
}

fn merge_headers(below: Option<&[Header]>, top: Option<&[Header]>) -> Option<Vec<Header>> {
    match (below, top) {
        (None, None) => None,
        (Some(h), None) | (None, Some(h)) => Some(h.to_vec()),
        (Some(below), Some(top)) => {
            let kept = below
                .iter()
                .filter(|b| !top.iter().any(|t| t.name.eq_ignore_ascii_case(&b.name)));
            Some(kept.chain(top).cloned().collect())
        }
    }
}

impl RunOptions {
    /// Sets one run-wide option from its text.
    pub fn apply(&mut self, id: Id, value: &Given<'_>) -> Result<(), UsageError> {
        match id {
            // 0 means "no limit", as in wait-for-it (-t 0) and wait4x.
            Id::Timeout => self.timeout = Some(value.duration()?),
            Id::LogFormat => {
                let format = match value.text.trim().to_ascii_lowercase().as_str() {
                    "logfmt" | "text" => log::Format::Logfmt,
                    "json" => log::Format::Json,
                    _ => return Err(value.invalid("logfmt or json")),
                };
                self.log_format = Some(format);
            }
            Id::Quiet => self.quiet = Some(value.boolean()?),
            Id::Verbose => self.verbose = Some(value.boolean()?),
            Id::Supervise => self.supervise = Some(value.boolean()?),
            Id::ThenPost => {
                let urls = self.then_post.get_or_insert_with(Vec::new);
                match value.source {
                    // One URL per option; the variable holds a comma list.
                    Source::Flag(_) => urls.push(value.non_empty("a URL")?),
                    Source::Env(_) => urls.extend(
                        value
                            .text
                            .split(',')
                            .map(str::trim)
                            .filter(|u| !u.is_empty())
                            .map(str::to_owned),
                    ),
                }
            }
            Id::WaitBefore => self.wait_before = Some(value.duration()?),
            Id::WaitAfter => self.wait_after = Some(value.duration()?),
            Id::Strict => {
                value.boolean()?;
            }
            Id::Kubeconfig => self.kubeconfig = Some(PathBuf::from(value.non_empty("a file")?)),
            Id::Context => self.context = Some(value.non_empty("a context name")?),
            Id::TerminationLog => {
                let parsed = termination::Destination::parse(value.text);
                self.termination_log =
                    Some(parsed.ok_or_else(|| value.invalid(termination::ACCEPTED))?);
            }
            _ => unreachable!("{id:?} is not a run option"),
        }
        Ok(())
    }

    /// This layer with `top` laid over it.
    pub fn under(&self, top: &RunOptions) -> RunOptions {
        RunOptions {
            timeout: top.timeout.or(self.timeout),
            log_format: top.log_format.or(self.log_format),
            quiet: top.quiet.or(self.quiet),
            verbose: top.verbose.or(self.verbose),
            supervise: top.supervise.or(self.supervise),
            then_post: top.then_post.clone().or_else(|| self.then_post.clone()),
            wait_before: top.wait_before.or(self.wait_before),
            wait_after: top.wait_after.or(self.wait_after),
            kubeconfig: top.kubeconfig.clone().or_else(|| self.kubeconfig.clone()),
            context: top.context.clone().or_else(|| self.context.clone()),
            level: top.level.or(self.level),
            termination_log: (top.termination_log.clone()).or_else(|| self.termination_log.clone()),
        }
    }

    /// The logger configuration these options ask for.
    pub fn log_config(&self) -> log::Config {
        let verbose = self.verbose.unwrap_or(false);
        let level = match (self.quiet.unwrap_or(false), verbose) {
            (true, _) => log::Level::Error,
            (false, true) => log::Level::Debug,
            (false, false) => self.level.unwrap_or(log::Level::Info),
        };
        log::Config {
            format: self.log_format.unwrap_or_default(),
            level,
            extra_fields: verbose,
        }
    }

    /// The overall deadline; `0` and absent both mean none.
    pub fn deadline(&self) -> Option<Duration> {
        self.timeout.filter(|t| !t.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "2", "truee"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn headers_of_a_higher_layer_replace_by_name() {
        let h = |n: &str, v: &str| Header {
            name: n.into(),
            value: v.into(),
        };
        let merged =
            merge_headers(Some(&[h("A", "1"), h("B", "2")]), Some(&[h("b", "3")])).unwrap();
        assert_eq!(merged, vec![h("A", "1"), h("b", "3")]);
    }
}
