//! `rdy wait`: parallel targets, the overall deadline, and signals.

mod common;

use nix::sys::signal::Signal;

use common::net::{ReservedPort, TcpServer};
use common::{Rdy, bin, skip_unless_root};

#[test]
fn waits_until_a_late_target_opens() {
    let early = TcpServer::start();
    let late = ReservedPort::new();
    let mut run = Rdy::new(&[
        "wait",
        "-i",
        "50ms",
        &early.addr(),
        &late.addr(),
        "--name",
        "late",
    ])
    .spawn();
    run.wait_for("msg=\"late is not ready ✗\"");
    let late = late.listen();
    let out = run.finish();
    out.expect(0, "msg=\"late is ready ✓\"");
    assert!(late.accepted() >= 1);
    assert_eq!(early.accepted(), 1, "a ready target is not probed again");
}

#[test]
fn timeout_ends_with_one_summary_line_per_target_still_down() {
    let up = TcpServer::start();
    let down_a = ReservedPort::new();
    let down_b = ReservedPort::new();
    let out = Rdy::new(&[
        "wait",
        "--timeout",
        "300ms",
        "-i",
        "100ms",
        &down_a.addr(),
        "--name",
        "first",
        &up.addr(),
        &down_b.addr(),
        "--name",
        "second",
    ])
    .run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let summary: Vec<&str> = out
        .lines()
        .into_iter()
        .filter(|l| l.contains("level=ERROR"))
        .collect();
    assert_eq!(summary.len(), 2, "{}", out.stderr);
    assert!(
        summary[0].contains("msg=\"first is not ready after 300ms ✗\""),
        "{}",
        summary[0]
    );
    assert!(
        summary[0].contains("error=\"connection refused\""),
        "{}",
        summary[0]
    );
    assert!(
        summary[1].contains("msg=\"second is not ready after 300ms ✗\""),
        "{}",
        summary[1]
    );
}

#[test]
fn zero_timeout_means_no_limit() {
    let late = ReservedPort::new();
    let mut run = Rdy::new(&["wait", "-t", "0", "-i", "20ms", &late.addr()]).spawn();
    run.wait_for("is not ready");
    run.wait_for("is not ready");
    let _server = late.listen();
    assert_eq!(run.finish().code, Some(0));
}

fn stopped_by(signal: Signal, code: i32) {
    let closed = ReservedPort::new();
    let mut run = Rdy::new(&["wait", "-i", "50ms", &closed.addr()]).spawn();
    run.wait_for("is not ready");
    run.signal(signal);
    let out = run.finish();
    assert_eq!(out.code, Some(code), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("Stopped by {}", signal.as_str())),
        "{}",
        out.stderr
    );
}

#[test]
fn sigterm_exits_143() {
    stopped_by(Signal::SIGTERM, 143);
}

#[test]
fn sigint_exits_130() {
    stopped_by(Signal::SIGINT, 130);
}

#[test]
fn sighup_and_sigquit_exit_128_plus_n() {
    stopped_by(Signal::SIGHUP, 129);
    stopped_by(Signal::SIGQUIT, 131);
}

#[test]
fn sigterm_mid_attempt_does_not_wait_for_the_attempt() {
    // The attempt blocks on a server that accepts but never answers; a long
    // dial timeout keeps it blocked. The signal must still end the run.
    let silent = TcpServer::start();
    let url = format!("http://{}/", silent.addr());
    let mut run = Rdy::new(&["wait", "--dial-timeout", "1h", &url]).spawn();
    run.wait_for("Waiting for");
    assert!(common::eventually(|| silent.accepted() == 1));
    run.signal(Signal::SIGTERM);
    assert_eq!(run.finish().code, Some(143));
}

#[test]
fn sigterm_as_pid_1_exits_143() {
    if skip_unless_root("sigterm_as_pid_1_exits_143") {
        return;
    }
    let closed = ReservedPort::new();
    // `unshare --fork --pid` makes rdy PID 1 of a new PID namespace, where
    // the kernel ignores signals that have no handler.
    let mut run = Rdy::new(&["wait", "-i", "50ms", &closed.addr()])
        .wrapped(
            &["unshare", "--pid", "--fork", "--kill-child=SIGKILL"],
            bin(),
        )
        .spawn();
    run.wait_for("is not ready");
    // Signal the namespace's PID 1 from outside: it is unshare's only child.
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", run.pid()))
        .expect("children of unshare");
    let pid: i32 = children.trim().parse().expect("one child");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap_or_default();
    assert_eq!(nspid.split_whitespace().last(), Some("1"), "{status}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let out = run.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
}
