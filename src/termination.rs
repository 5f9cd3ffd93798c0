//! The container's termination message: when `wait` or `check` fails, a
//! short summary of which targets were not ready and why, written where the
//! kubelet reads it (the container's `terminationMessagePath`,
//! `/dev/termination-log` by default), so `kubectl describe pod` shows why
//! an initContainer failed without anyone reading its logs.
//!
//! The kubelet reads at most 4096 bytes of the file. The summary holds
//! target names and the errors the log lines already carry, which never
//! contain credentials.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::duration::Human;
use crate::log;
use crate::target;
use crate::wait::{Failure, Outcome};

/// The kubelet's default `terminationMessagePath`.
pub const DEFAULT_PATH: &str = "/dev/termination-log";

/// The most the kubelet reads of the file (`kubelet` truncates at 4 KiB).
pub const MAX_BYTES: usize = 4096;

/// What `--termination-log` accepts.
pub const ACCEPTED: &str = "a file in an existing directory, or none";

/// Where the summary goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Destination {
    /// `/dev/termination-log` when it exists and is writable, as it is in
    /// every Kubernetes container; elsewhere nothing is written.
    #[default]
    Default,
    /// A file given by the user: created or replaced.
    File(PathBuf),
    /// `none`: never written.
    Off,
}

impl Destination {
    /// Parses `--termination-log`: `none`, or a file whose directory exists
    /// (checked now, so a typo is exit 2 before any probe, not a message
    /// silently lost after a failed wait).
    pub fn parse(text: &str) -> Option<Destination> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("none") {
            return Some(Destination::Off);
        }
        let path = Path::new(text);
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        (!text.is_empty() && !text.ends_with('/') && dir.is_dir())
            .then(|| Destination::File(path.to_owned()))
    }
}

/// Writes the summary of a failed run; a ready run writes nothing. Only a
/// file the user named is worth a warning when it cannot be written.
pub fn write(
    destination: &Destination,
    command: &str,
    outcome: &Outcome,
    timeout: Option<Duration>,
) {
    if matches!(outcome, Outcome::Ready) {
        return;
    }
    let text = summary(command, outcome, timeout);
    let result = match destination {
        Destination::Off => return,
        // No `create`: outside Kubernetes there is no such file, and rdy
        // must not leave one in /dev.
        Destination::Default => match OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(DEFAULT_PATH)
        {
            Ok(mut file) => file.write_all(text.as_bytes()),
            Err(_) => return,
        },
        Destination::File(path) => std::fs::write(path, text.as_bytes()),
    };
    if let Err(e) = result {
        let path = match destination {
            Destination::File(path) => path.display().to_string(),
            _ => DEFAULT_PATH.to_owned(),
        };
        log::warn(format_args!("Cannot write the termination message"))
            .field("path", path)
            .field("error", crate::os_error::words(&e))
            .emit();
    }
}

/// The message: one line saying what failed, then `NAME (ADDRESS): error`
/// for each target (see [`label`]), cut to [`MAX_BYTES`] on a character boundary.
pub fn summary(command: &str, outcome: &Outcome, timeout: Option<Duration>) -> String {
    let mut text = String::new();
    let failures: &[Failure] = match outcome {
        Outcome::Ready => &[],
        Outcome::NotReady(failures) => {
            let _ = write!(text, "rdy {command}: {} not ready", count(failures.len()));
            if let Some(timeout) = timeout.filter(|_| command == "wait") {
                let _ = write!(text, " after {}", Human(timeout));
            }
            failures
        }
        Outcome::Fatal(failure) => {
            let _ = write!(text, "rdy {command}: a target can never become ready");
            std::slice::from_ref(failure)
        }
    };
    // Names and errors may hold a server's text: one line each, whatever
    // it sent (a CR or an escape sequence would garble `kubectl describe`).
    for Failure { target, error } in failures {
        text.push('\n');
        let _ = log::escape_controls(&mut text, &label(&target.name, &target.address));
        text.push_str(": ");
        let _ = log::escape_controls(&mut text, &error.to_string());
    }
    text.push('\n');
    truncate(text)
}

/// How a line of the summary names its target: by its address (redacted
/// as in the log lines), so the port is there (`tcp://127.0.0.1:5432`, not
/// the inferred name `127.0.0.1`), after the name the user gave it.
fn label(name: &str, address: &str) -> String {
    let address = target::redacted(address);
    if address.contains(name) {
        address.into_owned()
    } else {
        format!("{name} ({address})")
    }
}

fn count(n: usize) -> String {
    match n {
        1 => "1 target".to_owned(),
        n => format!("{n} targets"),
    }
}

/// Cuts `text` to [`MAX_BYTES`], ending it with a marker when it was cut.
fn truncate(mut text: String) -> String {
    const CUT: &str = "\n…\n";
    if text.len() <= MAX_BYTES {
        return text;
    }
    let mut end = MAX_BYTES - CUT.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_none_and_files_in_existing_directories() {
        assert_eq!(Destination::parse("none"), Some(Destination::Off));
        assert_eq!(Destination::parse("NONE"), Some(Destination::Off));
        assert_eq!(
            Destination::parse("/tmp/x"),
            Some(Destination::File("/tmp/x".into()))
        );
        assert_eq!(
            Destination::parse("x.log"),
            Some(Destination::File("x.log".into()))
        );
        assert_eq!(Destination::parse(""), None);
        assert_eq!(Destination::parse("/tmp/"), None);
        assert_eq!(Destination::parse("/no/such/dir/x"), None);
    }

    #[test]
    fn label_keeps_the_port_of_a_target_named_by_its_host() {
        assert_eq!(label("127.0.0.1", "127.0.0.1:5432"), "127.0.0.1:5432");
        assert_eq!(
            label("db", "tcp://db:5432"),
            "tcp://db:5432",
            "a name the address holds adds nothing"
        );
        assert_eq!(
            label(
                "billing",
                "postgres://app:secret@db:5432/orders?sslmode=require"
            ),
            "billing (postgres://…@db:5432/orders?…)",
            "the address as log lines show it: no password, no query"
        );
    }

    #[test]
    fn truncate_keeps_the_limit_and_char_boundaries() {
        let long = "é".repeat(MAX_BYTES);
        let cut = truncate(long);
        assert!(cut.len() <= MAX_BYTES, "{}", cut.len());
        assert!(cut.ends_with("\n…\n"));
        let short = "short\n".to_owned();
        assert_eq!(truncate(short.clone()), short);
    }
}
