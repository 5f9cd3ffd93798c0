//! Starting the application after the wait: exec, supervision (also as PID
//! 1), `--then-post`, and docker-compose-wait's variables. Real processes,
//! real signals, a real HTTP server on loopback.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::Signal;

use common::net::{HttpServer, Reply, ReservedPort, TcpServer};
use common::{Rdy, bin, eventually, skip_unless_root, temp_dir};

#[test]
fn exec_replaces_rdy_and_keeps_its_pid() {
    let up = TcpServer::start();
    let run = Rdy::new(&["wait", &up.addr(), "--", "sh", "-c", "echo $$; exit 3"]).spawn();
    let pid = run.pid();
    let out = run.finish();
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), pid.to_string());
    assert!(out.stderr.contains("msg=\"Starting sh\""), "{}", out.stderr);
}

#[test]
fn a_missing_command_is_127_and_a_non_executable_one_126() {
    let up = TcpServer::start();
    let dir = temp_dir("noexec");
    let script = common::write_file(&dir, "script", b"#!/bin/sh\nexit 0\n");
    for supervise in [false, true] {
        let flag = if supervise { "--supervise" } else { "--quiet" };
        let missing = Rdy::new(&["wait", flag, &up.addr(), "--", "no-such-command-rdy"]).run();
        missing.expect(127, "error=\"command not found\"");
        let denied = Rdy::new(&["wait", flag, &up.addr(), "--", script.to_str().unwrap()]).run();
        denied.expect(126, "error=\"permission denied\"");
        let orphan = dir.join("orphan");
        std::fs::write(&orphan, "#!/no/such/interpreter\n").unwrap();
        std::fs::set_permissions(&orphan, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let out = Rdy::new(&["wait", flag, &up.addr(), "--", orphan.to_str().unwrap()]).run();
        out.expect(127, "its interpreter (ELF loader or #! line) is missing");
    }
}

#[test]
fn the_command_never_runs_when_the_wait_fails() {
    let closed = ReservedPort::new();
    let dir = temp_dir("never");
    let marker = dir.join("started");
    let touch = format!("touch {}", marker.display());
    for mode in ["--quiet", "--supervise"] {
        let addr = closed.addr();
        let args = [
            "wait", mode, "-t", "200ms", "-i", "50ms", &addr, "--", "sh", "-c", &touch,
        ];
        let out = Rdy::new(&args).run();
        assert_eq!(out.code, Some(1), "{mode}: {}", out.stderr);
        assert!(!marker.exists(), "{mode}");
    }
}

#[test]
fn sigterm_during_the_wait_never_starts_the_command() {
    let closed = ReservedPort::new();
    let dir = temp_dir("sigterm");
    let marker = dir.join("started");
    let touch = format!("touch {}", marker.display());
    let mut run = Rdy::new(&[
        "wait",
        "--supervise",
        "-i",
        "50ms",
        &closed.addr(),
        "--",
        "sh",
        "-c",
        &touch,
    ])
    .spawn();
    run.wait_for("is not ready");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.finish().code, Some(143));
    assert!(!marker.exists());
}

/// SIGTERM sent just as the wait ends, over many trials that sweep the
/// moment across the program's start: either rdy stops (143, the program
/// never starts) or the program receives the signal. Never exit 0 with the
/// signal lost, and no program left running after rdy has gone.
#[test]
fn sigterm_as_the_program_starts_is_never_lost() {
    let up = TcpServer::start();
    let dir = temp_dir("race");
    for supervise in [false, true] {
        for trial in 0..30u64 {
            let pidfile = dir.join(format!("{supervise}-{trial}"));
            let script = format!("echo $$ > {}; exec sleep 3", pidfile.display());
            let mode = if supervise {
                "--supervise"
            } else {
                "--verbose"
            };
            let addr = up.addr();
            let args = [
                "wait",
                mode,
                "--wait-after",
                "10ms",
                &addr,
                "--",
                "sh",
                "-c",
                &script,
            ];
            let mut run = Rdy::new(&args).spawn();
            run.wait_for("Sleeping");
            std::thread::sleep(std::time::Duration::from_micros(8_000 + trial * 150));
            run.signal(Signal::SIGTERM);
            let out = run.finish();
            assert_ne!(out.code, Some(0), "trial {trial}, {mode}: {}", out.stderr);
            if let Ok(pid) = std::fs::read_to_string(&pidfile) {
                let status = format!("/proc/{}/status", pid.trim());
                let running =
                    std::fs::read_to_string(status).is_ok_and(|s| !s.contains("State:\tZ"));
                assert!(
                    !running || !supervise,
                    "trial {trial}: the child outlived rdy"
                );
            }
        }
    }
}

/// As PID 1 of a PID namespace (a container's entrypoint) the kernel drops
/// a signal that has no handler, so a command exec'd as PID 1 would lose a
/// SIGTERM sent before it installs its own. Sent at moments spread over the
/// first 4 ms after rdy has blocked its signals, the signal must either stop rdy or reach the command (which
/// then exits 77, or 143 when it had no trap yet): never a command that runs
/// to completion (0) as if no signal was sent.
#[test]
fn sigterm_as_the_program_starts_as_pid_1_is_never_lost() {
    if skip_unless_root("sigterm_as_the_program_starts_as_pid_1_is_never_lost") {
        return;
    }
    let up = TcpServer::start();
    let addr = up.addr();
    let command = "trap 'exit 77' TERM; sleep 1 & wait";
    let mut lost = Vec::new();
    for trial in 0..200u64 {
        let run = Rdy::new(&["wait", "-q", &addr, "--", "sh", "-c", command])
            .wrapped(
                &[
                    "unshare",
                    "--pid",
                    "--fork",
                    "--mount-proc",
                    "--kill-child=SIGKILL",
                ],
                bin(),
            )
            .spawn();
        let children = format!("/proc/{0}/task/{0}/children", run.pid());
        let pid = || {
            std::fs::read_to_string(&children)
                .ok()
                .and_then(|c| c.trim().parse::<i32>().ok())
        };
        // While unshare's child is still becoming rdy (its exec, std's
        // start-up) a SIGTERM is dropped by the kernel whatever rdy does:
        // start the clock once rdy has its signals blocked (any of its
        // threads; `sigwait` lifts the mask of the thread that waits), or
        // has already exec'd the command.
        let ready_for_it = || {
            let Some(pid) = pid() else { return false };
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            match comm.trim() {
                "unshare" | "" => false,
                "rdy" => sigterm_blocked_in_a_thread(pid),
                _ => true,
            }
        };
        assert!(eventually(ready_for_it));
        std::thread::sleep(std::time::Duration::from_micros((trial % 20) * 200));
        if let Some(pid) = pid() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM);
        }
        let out = run.finish();
        if out.code == Some(0) {
            lost.push(trial);
        }
    }
    assert!(lost.is_empty(), "the signal was lost in trials {lost:?}");
}

/// Whether any thread of `pid` has SIGTERM (bit 15) in its blocked mask.
fn sigterm_blocked_in_a_thread(pid: i32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("status"))
            .ok()
            .and_then(|s| {
                let mask = s.lines().find_map(|l| l.strip_prefix("SigBlk:"))?;
                u64::from_str_radix(mask.trim(), 16).ok()
            })
            .is_some_and(|mask| mask & (1 << 14) != 0)
    })
}

/// A child that reports readiness on stderr, exits 42 on SIGTERM, and
/// otherwise gives up after 30 s.
const TRAPPING_CHILD: &str = "trap 'exit 42' TERM; echo child-ready >&2; \
                              i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 9";

#[test]
fn supervise_forwards_sigterm_and_returns_the_child_status() {
    let up = TcpServer::start();
    let mut run = Rdy::new(&[
        "wait",
        "--supervise",
        &up.addr(),
        "--",
        "sh",
        "-c",
        TRAPPING_CHILD,
    ])
    .spawn();
    run.wait_for("child-ready");
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    out.expect(42, "exit_code=42");
}

#[test]
fn supervise_forwards_the_other_signals_too() {
    let up = TcpServer::start();
    let child = "trap 'echo got-usr1 >&2' USR1; trap 'exit 5' HUP; echo child-ready >&2; \
                 i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 9";
    let mut run = Rdy::new(&["wait", "--supervise", &up.addr(), "--", "sh", "-c", child]).spawn();
    run.wait_for("child-ready");
    run.signal(Signal::SIGUSR1);
    run.wait_for("got-usr1");
    run.signal(Signal::SIGHUP);
    assert_eq!(run.finish().code, Some(5));
}

/// The one failure seen of the test above was no race: 390 runs of it in a
/// bounded loop (six at a time) all passed, and one run under `nohup`
/// failed every time. A signal ignored when rdy starts stays ignored
/// across `execve`, and a shell cannot trap a signal ignored on entry, so
/// the forwarded SIGHUP did nothing. The child now starts with the
/// forwarded signals at their default action.
#[test]
fn a_signal_ignored_when_rdy_started_still_reaches_the_supervised_child() {
    let up = TcpServer::start();
    let child = "trap 'exit 5' HUP; echo child-ready >&2; \
                 i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 9";
    let addr = up.addr();
    let args = ["wait", "--supervise", &addr, "--", "sh", "-c", child];
    // nohup ignores SIGHUP, then execs rdy.
    let mut run = Rdy::new(&args).wrapped(&["nohup"], bin()).spawn();
    run.wait_for("child-ready");
    run.signal(Signal::SIGHUP);
    assert_eq!(run.finish().code, Some(5), "the child never saw the SIGHUP");
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_n() {
    let up = TcpServer::start();
    let out = Rdy::new(&[
        "wait",
        "--supervise",
        &up.addr(),
        "--",
        "sh",
        "-c",
        "kill -KILL $$",
    ])
    .run();
    assert_eq!(out.code, Some(137), "{}", out.stderr);
    let out = Rdy::new(&[
        "wait",
        "--supervise",
        &up.addr(),
        "--",
        "sh",
        "-c",
        "kill -TERM $$",
    ])
    .run();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
}

#[test]
fn as_pid_1_orphans_are_reaped_and_nothing_is_left_behind() {
    if skip_unless_root("as_pid_1_orphans_are_reaped_and_nothing_is_left_behind") {
        return;
    }
    let up = TcpServer::start();
    // An orphan that exits at once must be reaped by PID 1 (rdy); the child
    // then counts zombies in the namespace and exits with that count. A
    // second orphan (a unique sleep) outlives the child: it must die with
    // the namespace when rdy exits.
    let child = "(sleep 0.05 &); sleep 30.4242 & \
                 i=0; while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done; \
                 exit $(grep -l '^[0-9]* ([^)]*) Z' /proc/[0-9]*/stat 2>/dev/null | wc -l)";
    let out = Rdy::new(&["wait", "--supervise", &up.addr(), "--", "sh", "-c", child])
        .wrapped(
            &[
                "unshare",
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child=SIGKILL",
            ],
            bin(),
        )
        .run();
    assert_eq!(out.code, Some(0), "zombies were left: {}", out.stderr);
    let leftover = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|c| c.windows(7).any(|w| w == b"30.4242"))
        })
    };
    assert!(
        eventually(|| !leftover()),
        "an orphan outlived the namespace"
    );
}

/// A stand-in for the Istio proxy: /healthz/ready answers 503 until
/// `ready_after` requests have been made, /quitquitquit records the POST.
fn fake_proxy(ready_after: usize) -> HttpServer {
    let seen = Arc::new(AtomicUsize::new(0));
    HttpServer::start(move |r| match (r.method.as_str(), r.target.as_str()) {
        ("GET", "/healthz/ready") if seen.fetch_add(1, Ordering::SeqCst) < ready_after => {
            Reply::status(503)
        }
        ("GET", "/healthz/ready") => Reply::status(200),
        ("POST", "/quitquitquit") => Reply::status(200),
        _ => Reply::status(404),
    })
}

fn posts(server: &HttpServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.target == "/quitquitquit")
        .count()
}

#[test]
fn then_post_tells_the_proxy_once_the_job_is_done() {
    let proxy = fake_proxy(2);
    let out = Rdy::new(&[
        "wait",
        "-i",
        "50ms",
        &proxy.url("/healthz/ready"),
        "--then-post",
        &proxy.url("/quitquitquit"),
        "--",
        "sh",
        "-c",
        "exit 7",
    ])
    .run();
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    assert_eq!(posts(&proxy), 1);
    let requests = proxy.requests();
    assert_eq!(
        requests.last().unwrap().target,
        "/quitquitquit",
        "posted after the job"
    );
    assert!(
        requests.len() >= 4,
        "three readiness requests, then the POST"
    );
    assert!(out.stderr.contains("Posted to"), "{}", out.stderr);
}

#[test]
fn then_post_failures_never_change_the_exit_code() {
    let proxy = fake_proxy(0);
    let gone = ReservedPort::new();
    let hook = format!("http://{}/quitquitquit", gone.addr());
    // Both a command that succeeds and one that fails keep their status: a
    // failed hook neither turns 0 into a failure nor 7 into 0 or 1.
    for code in [0, 7] {
        let out = Rdy::new(&[
            "wait",
            &proxy.url("/healthz/ready"),
            "--then-post",
            &hook,
            "--then-post",
            &proxy.url("/quitquitquit"),
            "--",
            "sh",
            "-c",
            &format!("exit {code}"),
        ])
        .run();
        assert_eq!(out.code, Some(code), "{}", out.stderr);
        let failed = out.lines().into_iter().find(|l| l.contains(&hook));
        assert!(
            failed.is_some_and(|l| l.contains("connection refused")),
            "a line naming the failed hook: {}",
            out.stderr
        );
    }
    assert_eq!(posts(&proxy), 2, "the second hook still ran, each time");
}

/// Hooks to a proxy that accepts and never answers, each allowed a minute:
/// a SIGTERM while they hang ends rdy at once, with the command's status.
#[test]
fn sigterm_while_posting_exits_with_the_commands_status() {
    let up = TcpServer::start();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/quitquitquit", silent.local_addr().unwrap());
    let mut run = Rdy::new(&[
        "wait",
        &up.addr(),
        "--dial-timeout",
        "60s",
        "--then-post",
        &hook,
        "--then-post",
        &hook,
        "--",
        "sh",
        "-c",
        "exit 6",
    ])
    .spawn();
    run.wait_for("The command exited");
    let (_posting, _) = silent.accept().expect("the first hook connects");
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    assert_eq!(out.code, Some(6), "{}", out.stderr);
    assert!(
        out.stderr.contains("Stopped by SIGTERM while posting"),
        "{}",
        out.stderr
    );
}

#[test]
fn then_post_also_runs_when_the_wait_fails() {
    let proxy = fake_proxy(usize::MAX);
    let out = Rdy::new(&[
        "wait",
        "-t",
        "200ms",
        "-i",
        "50ms",
        &proxy.url("/healthz/ready"),
        "--",
        "true",
    ])
    .env("RDY_THEN_POST", &proxy.url("/quitquitquit"))
    .run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(posts(&proxy), 1);
}

#[test]
fn docker_compose_wait_variables_map_onto_wait() {
    let a = TcpServer::start();
    let b = TcpServer::start();
    let out = Rdy::new(&[])
        .env("WAIT_HOSTS", &format!("{}, {}", a.addr(), b.addr()))
        .env("WAIT_TIMEOUT", "5")
        .env("WAIT_SLEEP_INTERVAL", "1")
        .env("WAIT_HOST_CONNECT_TIMEOUT", "2")
        .env("WAIT_COMMAND", "sh -c 'echo \"started $0\"; exit 5' job")
        .run();
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert_eq!(out.stdout, "started job\n");
    assert_eq!(a.accepted() + b.accepted(), 2);
}

#[test]
fn docker_compose_wait_timeout_applies() {
    let closed = ReservedPort::new();
    let out = Rdy::new(&[])
        .env("WAIT_HOSTS", &closed.addr())
        .env("WAIT_TIMEOUT", "1")
        .env("WAIT_COMMAND", "true")
        .run();
    out.expect(1, "is not ready after 1s ✗");
}

#[test]
fn docker_compose_wait_bad_values_are_errors() {
    let up = TcpServer::start();
    let cases: [(&str, &str, &str); 6] = [
        ("WAIT_TIMEOUT", "abc", "WAIT_TIMEOUT: invalid value \"abc\""),
        (
            "WAIT_SLEEP_INTERVAL",
            "0",
            "WAIT_SLEEP_INTERVAL: invalid value \"0\"",
        ),
        (
            "WAIT_HOST_CONNECT_TIMEOUT",
            "-5",
            "WAIT_HOST_CONNECT_TIMEOUT: invalid value \"-5\"",
        ),
        (
            "WAIT_COMMAND",
            "sh -c 'oops",
            "WAIT_COMMAND: invalid value \"sh -c 'oops\"; expected a command line (unterminated single quote)",
        ),
        (
            "WAIT_PATHS",
            "/tmp/x",
            "WAIT_PATHS: invalid value \"/tmp/x\"",
        ),
        ("WAIT_BEFORE", "soon", "WAIT_BEFORE: invalid value \"soon\""),
    ];
    for (var, value, says) in cases {
        let out = Rdy::new(&[])
            .env("WAIT_HOSTS", &up.addr())
            .env(var, value)
            .run();
        assert_eq!(out.code, Some(2), "{var}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{var}: {}", out.stderr);
    }
    let out = Rdy::new(&[]).env("WAIT_HOSTS", "db").run();
    out.expect(2, "target \"db\": missing port");
    let legacy = Rdy::new(&[])
        .env("WAIT_HOSTS", &up.addr())
        .env("WAIT_TIMEOUT", "5")
        .env("WAIT_HOSTS_TIMEOUT", "bad")
        .run();
    legacy.expect(2, "WAIT_HOSTS_TIMEOUT: invalid value \"bad\"");
    assert_eq!(up.accepted(), 0);
}

#[test]
fn wait_before_and_after_are_announced() {
    let up = TcpServer::start();
    let out = Rdy::new(&[
        "wait",
        "--wait-before",
        "10ms",
        &up.addr(),
        "--",
        "sh",
        "-c",
        "echo command-ran >&2",
    ])
    .env("WAIT_AFTER", "20ms")
    .run();
    out.expect(0, "Sleeping 10ms before checking");
    // Each pause at its place: before the first attempt, and between the
    // last target ready and the command.
    let at = |needle: &str| {
        out.lines()
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{}", out.stderr))
    };
    let order = [
        at("Sleeping 10ms before checking"),
        at("Waiting for"),
        at("is ready"),
        at("Sleeping 20ms after every target is ready"),
        at("command-ran"),
    ];
    assert!(order.is_sorted(), "{order:?} in:\n{}", out.stderr);
}

/// wait-for-it's `HOST:PORT -t SECONDS -s -- COMMAND`: the bare number is
/// seconds, the command runs with its own status once the target is up,
/// and never when it is not.
#[test]
fn wait_for_its_command_line_works() {
    let up = TcpServer::start();
    let command = ["--", "sh", "-c", "echo command-ran >&2; exit 3"];
    let addr = up.addr();
    let ran = Rdy::new(&[&["wait", &addr, "-t", "15", "-s"][..], &command].concat()).run();
    ran.expect(3, "command-ran");
    let gone = ReservedPort::new();
    let addr = gone.addr();
    let refused = Rdy::new(&[&["wait", &addr, "-t", "1", "-s"][..], &command].concat()).run();
    refused.expect(1, "is not ready after 1s");
    assert!(
        !refused.stderr.contains("command-ran"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_program_starts_with_no_signal_blocked() {
    // rdy blocks its signals to take them with sigwait; the mask survives
    // exec and fork, so a program that inherited it would ignore SIGTERM.
    let up = TcpServer::start();
    for mode in ["--quiet", "--supervise"] {
        let out = Rdy::new(&[
            "wait",
            mode,
            &up.addr(),
            "--",
            "grep",
            "SigBlk",
            "/proc/self/status",
        ])
        .run();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(
            out.stdout.split_whitespace().last(),
            Some("0000000000000000"),
            "{mode}"
        );
    }
}
