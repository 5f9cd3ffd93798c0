//! The environment as the command line reads it: one variable at a time
//! through a function (tests pass their own), empty meaning unset.

use super::error::{Source, UsageError};
use super::flags::{self, Flag};
use super::options::Given;

/// Reads one environment variable; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Calls `apply` with the value of every option's variable that is set.
pub fn each_env(
    env: Env<'_>,
    mut apply: impl FnMut(&Flag, &Given<'_>) -> Result<(), UsageError>,
) -> Result<(), UsageError> {
    for flag in flags::FLAGS {
        let Some(var) = flag.env else { continue };
        let Some(text) = non_empty(env, var) else {
            continue;
        };
        let source = Source::Env(var);
        let given = Given {
            source: &source,
            text: &text,
        };
        apply(flag, &given)?;
    }
    Ok(())
}

/// A variable's value; empty counts as unset, as with Go's `os.Getenv`.
pub fn non_empty(env: Env<'_>, var: &str) -> Option<String> {
    env(var).filter(|v| !v.trim().is_empty())
}
