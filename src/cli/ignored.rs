//! Settings that would be silently ignored, overruled or merged are refused
//! instead (exit 2): a user who wrote them believes they work.

use super::env::{Env, non_empty};
use super::error::UsageError;
use super::flags::{self, Id};
use super::options::RunOptions;

/// On the command line: wait's options after `check` (there is no command
/// or hook to apply them to), and `-q` with `-v`.
pub fn refuse_on_line(
    check: bool,
    given: &[(Id, String)],
    run: &RunOptions,
) -> Result<(), UsageError> {
    let spelled = |wanted: &[Id]| {
        given
            .iter()
            .find(|(id, _)| wanted.contains(id))
            .map(|(_, spelled)| spelled.clone())
    };
    if check && let Some(option) = spelled(&flags::WAIT_ONLY) {
        return Err(UsageError::OnlyFor {
            option,
            command: "wait",
        });
    }
    if run.quiet == Some(true)
        && run.verbose == Some(true)
        && let (Some(quiet), Some(verbose)) = (spelled(&[Id::Quiet]), spelled(&[Id::Verbose]))
    {
        return Err(quiet_and_verbose(quiet, verbose));
    }
    Ok(())
}

/// In the environment: two sources of targets (one would be ignored, or
/// both merged), and `RDY_QUIET` with `LOG_EXTRA_FIELDS`.
pub fn refuse_in_env(
    env: Env<'_>,
    line_targets: bool,
    env_run: &RunOptions,
) -> Result<(), UsageError> {
    const IGNORED: &str = "the variable would be ignored; unset it or drop the targets";
    let conflict = |first: &str, second: &str, because| UsageError::Conflict {
        first: first.to_owned(),
        second: second.to_owned(),
        because,
    };
    let address = non_empty(env, "TARGET_ADDRESS").is_some();
    let hosts = non_empty(env, "WAIT_HOSTS").is_some();
    match (address, hosts) {
        (true, true) => Err(conflict(
            "TARGET_ADDRESS",
            "WAIT_HOSTS",
            "both list targets; put them all in WAIT_HOSTS (a comma list)",
        )),
        (true, false) if line_targets => Err(conflict(
            "TARGET_ADDRESS",
            "targets on the command line",
            IGNORED,
        )),
        (false, true) if line_targets => Err(conflict(
            "WAIT_HOSTS",
            "targets on the command line",
            IGNORED,
        )),
        _ if env_run.quiet == Some(true) && env_run.verbose == Some(true) => Err(
            quiet_and_verbose("RDY_QUIET".to_owned(), "LOG_EXTRA_FIELDS".to_owned()),
        ),
        _ => Ok(()),
    }
}

/// `--supervise` (or `RDY_SUPERVISE`) for a wait without a command.
pub fn refuse_supervise(run: &RunOptions, line: &RunOptions) -> Result<(), UsageError> {
    if run.supervise != Some(true) {
        return Ok(());
    }
    let setting = match line.supervise {
        Some(_) => "--supervise",
        None => "RDY_SUPERVISE",
    };
    Err(UsageError::Useless {
        setting: setting.to_owned(),
        because: "there is no command to supervise; add -- COMMAND",
    })
}

fn quiet_and_verbose(quiet: String, verbose: String) -> UsageError {
    UsageError::Conflict {
        first: quiet,
        second: verbose,
        because: "one logs errors only, the other adds debug lines; keep one",
    }
}
