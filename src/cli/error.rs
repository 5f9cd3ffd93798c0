//! Usage errors: one line that names what was wrong, what was given and what
//! is accepted. They all end the run with exit code 2 before any network
//! activity.

use std::fmt;

use super::flags;
use crate::target::redacted;

/// Where a value came from, as the user would spell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line option as written (`--interval`, `-i`).
    Flag(String),
    /// An environment variable.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => f.write_str(name),
            Source::Env(name) => f.write_str(name),
        }
    }
}

/// A command line or environment rdy cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// A value that does not parse.
    Invalid {
        source: Source,
        given: String,
        expected: String,
    },
    /// An option no command knows, as spelled, and the command it was
    /// given to.
    UnknownOption {
        option: String,
        command: &'static str,
    },
    /// An option written before the command (`rdy -q wait`).
    OptionBeforeCommand {
        option: String,
        command: &'static str,
    },
    /// An option that needs a value came last.
    MissingValue { option: String, value: &'static str },
    /// An argument that is not UTF-8.
    NotUtf8(String),
    /// The first argument is not a command.
    UnknownCommand(String),
    /// No arguments and no `TARGET_ADDRESS`.
    NoCommand,
    /// A command without targets.
    NoTargets(&'static str),
    /// A target string that does not parse or cannot be set up.
    Target { target: String, problem: String },
    /// A per-target option after a target it does not apply to.
    NotForTarget {
        option: String,
        applies_to: String,
        target: String,
        kind: &'static str,
    },
    /// `--name` before the first of several targets.
    NameForAll(usize),
    /// `-- COMMAND` after `rdy check`.
    CommandAfterCheck,
    /// An option of one command given to another.
    OnlyFor {
        option: String,
        command: &'static str,
    },
    /// Two `rdy serve` targets with one display name.
    DuplicateName(String),
    /// Two targets of `wait` or `check` given one `--name`: their log lines
    /// would be alike.
    SameName(String),
    /// An option that takes one value given twice in one layer: as
    /// first spelled, and as spelled again.
    Repeated { first: String, again: String },
    /// Two settings that contradict each other, or where one would be
    /// ignored.
    Conflict {
        first: String,
        second: String,
        because: &'static str,
    },
    /// A setting that would do nothing.
    Useless {
        setting: String,
        because: &'static str,
    },
    /// The Kubernetes configuration cannot be used.
    Kube(String),
    /// A value that may hold a secret (a header, a proxy URL), said
    /// without it.
    Hidden { source: Source, problem: String },
    /// `rdy serve` without targets serves only `/api/healthz`, which needs
    /// a Kubernetes configuration; why there is none.
    NoTargetsNorKube(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Invalid {
                source,
                given,
                expected,
            } => write!(f, "{source}: invalid value {given:?}; expected {expected}"),
            UsageError::Hidden { source, problem } => write!(f, "{source}: {problem}"),
            UsageError::UnknownOption { option, command } => {
                write!(f, "unknown option {option}")?;
                let typo = option.strip_prefix("--").and_then(flags::closest);
                if let Some(flag) = typo {
                    write!(f, " (did you mean --{}?)", flag.long)?;
                }
                write!(f, "; see rdy {command} --help")
            }
            UsageError::OptionBeforeCommand { option, command } => write!(
                f,
                "{option} comes before the command; options follow it: \
                 rdy {command} {option} ... (see rdy {command} --help)"
            ),
            UsageError::MissingValue { option, value } => {
                write!(f, "{option} needs a value ({value}); see rdy --help")
            }
            UsageError::NotUtf8(what) => write!(f, "{what} is not valid UTF-8"),
            UsageError::UnknownCommand(word) if word.contains(':') => write!(
                f,
                "unknown command {word:?}; expected wait, check or serve \
                 (did you mean rdy wait {word}?)"
            ),
            UsageError::UnknownCommand(word) => {
                write!(f, "unknown command {word:?}; expected wait, check or serve")
            }
            UsageError::NoCommand => f.write_str(
                "no command given and TARGET_ADDRESS is not set; \
                 run rdy wait TARGET... or rdy check TARGET... (see rdy --help)",
            ),
            UsageError::NoTargets(command) => {
                write!(
                    f,
                    "{command}: no targets given; e.g. rdy {command} tcp://db:5432"
                )
            }
            UsageError::Target { target, problem } => {
                let target = redacted(target);
                write!(f, "target {target:?}: {problem}")
            }
            UsageError::NotForTarget {
                option,
                applies_to,
                target,
                kind,
            } => {
                let target = redacted(target);
                write!(
                    f,
                    "{option} applies to {applies_to}, but {target:?} is a {kind} target"
                )
            }
            UsageError::NameForAll(count) => write!(
                f,
                "--name before the first target would give all {count} targets \
                 one name; put it after the target it names"
            ),
            UsageError::CommandAfterCheck => {
                f.write_str("check: -- COMMAND is only supported by rdy wait")
            }
            UsageError::OnlyFor { option, command } => {
                write!(f, "{option} applies to rdy {command} only")
            }
            UsageError::DuplicateName(name) => write!(
                f,
                "serve: two targets are named {name:?}; /ready/NAME and the metrics \
                 need unique names (give one a --name)"
            ),
            UsageError::SameName(name) => write!(
                f,
                "two targets are named {name:?} with --name; each log line must say \
                 which target it is about (give each its own name)"
            ),
            UsageError::Repeated { first, again } if first == again => {
                write!(f, "{first} is given twice; it takes one value")
            }
            UsageError::Repeated { first, again } => {
                write!(
                    f,
                    "{first} is given twice (again as {again}); it takes one value"
                )
            }
            UsageError::Conflict {
                first,
                second,
                because,
            } => write!(f, "{first} and {second} cannot be used together: {because}"),
            UsageError::Useless { setting, because } => {
                write!(f, "{setting} would do nothing: {because}")
            }
            UsageError::Kube(problem) => write!(f, "Kubernetes configuration: {problem}"),
            UsageError::NoTargetsNorKube(why) => write!(
                f,
                "serve: no targets given, and /api/healthz has no Kubernetes configuration \
                 ({why}); e.g. rdy serve tcp://db:5432"
            ),
        }
    }
}

impl std::error::Error for UsageError {}
