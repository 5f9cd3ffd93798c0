//! Test support: run the built `rdy` binary and give it real servers on
//! loopback to talk to. Every wait here is bounded in time and count.
#![allow(dead_code)]

pub mod databases;
pub mod dist;
pub mod kube;
pub mod net;
pub mod pki;
pub mod realkube;
pub mod realnode;
pub mod serve;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Every `.rs` file under `dir` (the source checks).
pub fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// No test waits longer than this for anything.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The binary under test, as cargo built it.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rdy")
}

/// A command line for `rdy` with a clean environment, so the host's
/// `HTTP_PROXY` or `CHECK_INTERVAL` cannot leak into a test.
pub struct Rdy {
    args: Vec<String>,
    env: HashMap<String, String>,
    program: String,
    prefix: Vec<String>,
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// Exit code, `None` if killed by a signal.
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Finished {
    /// Asserts the exit code and that stderr contains `says`.
    #[track_caller]
    pub fn expect(&self, code: i32, says: &str) -> &Finished {
        assert_eq!(self.code, Some(code), "{}", self.stderr);
        assert!(
            self.stderr.contains(says),
            "wanted {says:?} in:\n{}",
            self.stderr
        );
        self
    }

    /// Stderr lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

impl Rdy {
    /// `rdy ARGS...`
    pub fn new(args: &[&str]) -> Rdy {
        Rdy {
            args: args.iter().map(|a| a.to_string()).collect(),
            env: HashMap::new(),
            program: bin().to_owned(),
            prefix: Vec::new(),
        }
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Rdy {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Runs through a wrapper (`unshare`, `chroot`, `setpriv`): the wrapper
    /// and its arguments come first, then the binary at `program`.
    pub fn wrapped(mut self, wrapper: &[&str], program: &str) -> Rdy {
        self.prefix = wrapper.iter().map(|a| a.to_string()).collect();
        self.program = program.to_owned();
        self
    }

    fn command(&self) -> Command {
        let mut cmd = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut cmd = Command::new(first);
                cmd.args(rest).arg(&self.program);
                cmd
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs to completion (bounded by [`LIMIT`]).
    pub fn run(self) -> Finished {
        self.spawn().finish()
    }

    /// Starts the process; its stderr lines can be awaited.
    pub fn spawn(self) -> Running {
        let mut child = self
            .command()
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.program));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr piped");
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }
}

/// A running `rdy`.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits (at most [`LIMIT`]) for a stderr line containing `needle` and
    /// returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let end = Instant::now() + LIMIT;
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!(
                        "no line containing {needle:?}; saw:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal).expect("kill");
    }

    /// Waits (at most [`LIMIT`]) for the exit and collects the output.
    pub fn finish(mut self) -> Finished {
        let end = Instant::now() + LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                panic!(
                    "rdy did not exit within {LIMIT:?}; saw:\n{}",
                    self.seen.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut stdout);
        }
        // The reader thread ends when the pipe closes; drain what it has.
        let drain_end = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(drain_end.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        let mut stderr = self.seen.join("\n");
        if !stderr.is_empty() {
            stderr.push('\n');
        }
        Finished {
            code: status.code(),
            stdout,
            stderr,
        }
    }
}

/// A fresh directory under the system temp dir, unique to this test run.
pub fn temp_dir(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rdy-test-{}-{label}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write file");
    path
}

/// Whether the tests run as root; network namespaces, chroot, raw ICMP and
/// PID namespaces need it. CI runs as root (`.ci/run` checks).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Records that `test` did nothing, and why: on stderr, and as a line in
/// [`skip_log`], which `./test.sh` empties first and prints as the run's
/// summary of skipped tests (failing on any under `CI=true`, since CI
/// installs everything a test needs).
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    eprintln!("SKIPPED {test}: {why}");
    let line = format!("{test}: {why}\n");
    // One write of one short line with O_APPEND: lines from tests running in
    // parallel never interleave.
    if let Ok(mut log) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
    {
        let _ = log.write_all(line.as_bytes());
    }
}

/// Where [`skip`] records skipped tests: `target/tmp/skipped-tests.txt`.
pub fn skip_log() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt")
}

/// Skips a privileged test when not root.
pub fn skip_unless_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    skip(test, "needs root (CI runs as root)");
    true
}

/// Polls `condition` every 10 ms, at most 500 times (5 s).
pub fn eventually(condition: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    condition()
}
