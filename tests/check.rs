//! `rdy check` stays on one thread and still stops at once on a signal,
//! also as PID 1 and in the middle of an attempt.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;

use common::{Rdy, bin, skip_unless_root};
use nix::sys::signal::Signal;

/// An HTTP server that accepts connections and never answers; it keeps
/// them open, so a check's attempt stays blocked in its read.
struct Silent {
    listener: TcpListener,
    held: Mutex<Vec<TcpStream>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Silent {
            listener,
            held: Mutex::new(Vec::new()),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.listener.local_addr().unwrap())
    }

    /// Whether a connection arrived (bounded wait, see `eventually`).
    fn connected(&self) -> bool {
        common::eventually(|| match self.listener.accept() {
            Ok((stream, _)) => {
                self.held.lock().unwrap().push(stream);
                true
            }
            Err(_) => false,
        })
    }
}

/// A check blocked on a [`Silent`] server, with a dial timeout that keeps
/// it blocked; returns the running check.
fn blocked_check(extra: &[&str], silent: &Silent) -> common::Running {
    let url = silent.url();
    let mut args = vec!["check", "--dial-timeout", "1h"];
    args.extend_from_slice(extra);
    args.push(&url);
    let run = Rdy::new(&args).spawn();
    assert!(silent.connected());
    run
}

fn threads(pid: i32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn a_single_target_check_runs_on_one_thread() {
    let silent = Silent::start();
    let run = blocked_check(&[], &silent);
    assert_eq!(threads(run.pid()), "1");
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
}

#[test]
fn signals_mid_attempt_exit_128_plus_n_with_a_log_line() {
    for (signal, code) in [
        (Signal::SIGTERM, 143),
        (Signal::SIGINT, 130),
        (Signal::SIGHUP, 129),
        (Signal::SIGQUIT, 131),
    ] {
        let silent = Silent::start();
        let run = blocked_check(&[], &silent);
        run.signal(signal);
        let out = run.finish();
        let line = format!(
            "level=WARN msg=\"Stopped by {}\" exit_code={code}\n",
            signal.as_str()
        );
        assert_eq!(out.code, Some(code), "{}", out.stderr);
        assert!(out.stderr.contains(&line), "{line:?} in {}", out.stderr);
    }
}

#[test]
fn the_stop_line_follows_the_log_format() {
    let silent = Silent::start();
    let run = blocked_check(&["--log-format", "json"], &silent);
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    let line = out.stderr.lines().last().unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(line).expect(line);
    assert_eq!(json["level"], "WARN");
    assert_eq!(json["msg"], "Stopped by SIGTERM");
    // A number, as every other line's exit_code (tests/log_format.rs).
    assert_eq!(json["exit_code"], serde_json::Value::from(143), "{line}");
}

#[test]
fn quiet_stops_without_a_line() {
    let silent = Silent::start();
    let run = blocked_check(&["-q"], &silent);
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

#[test]
fn sigterm_stops_a_check_that_is_pid_1() {
    if skip_unless_root("sigterm_stops_a_check_that_is_pid_1") {
        return;
    }
    let silent = Silent::start();
    let url = silent.url();
    // `unshare --fork --pid` makes rdy PID 1 of a new PID namespace, where
    // the kernel drops signals that have no handler.
    let run = Rdy::new(&["check", "--dial-timeout", "1h", &url])
        .wrapped(
            &["unshare", "--pid", "--fork", "--kill-child=SIGKILL"],
            bin(),
        )
        .spawn();
    assert!(silent.connected());
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", run.pid()))
        .expect("children of unshare");
    let pid: i32 = children.trim().parse().expect("one child");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let out = run.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
}
