//! The termination message: a failed `wait` or `check` tells the kubelet,
//! through the container's termination message file, which targets were not
//! ready and why; never a secret, never more than the kubelet reads.

mod common;

use std::fs;

use common::net::{HttpServer, Reply, ReservedPort, TcpServer};
use common::{Rdy, skip, skip_unless_root, temp_dir};

#[test]
fn a_timed_out_wait_names_each_target_still_down_and_its_last_error() {
    let dir = temp_dir("termination-wait");
    let log = dir.join("termination-log");
    let up = TcpServer::start();
    let down = ReservedPort::new();
    let web = HttpServer::start(|_| Reply::status(503));
    let out = Rdy::new(&[
        "wait",
        "--timeout",
        "300ms",
        "-i",
        "100ms",
        "--termination-log",
        log.to_str().unwrap(),
        &up.addr(),
        &down.addr(),
        "--name",
        "db",
        &web.url("/ready"),
        "--name",
        "api",
    ])
    .run();
    out.expect(1, "not ready after 300ms");
    let message = fs::read_to_string(&log).expect("termination message written");
    assert_eq!(
        message,
        format!(
            "rdy wait: 2 targets not ready after 300ms\n\
             db ({}): connection refused\n\
             api ({}): status 503, expected 200\n",
            down.addr(),
            web.url("/ready")
        ),
        "{}",
        out.stderr
    );
}

/// The summary names a target by its address, port included: by the
/// inferred name alone (`127.0.0.1: connection refused`) it did not say
/// which of a host's servers was down.
#[test]
fn a_failed_check_writes_through_the_variable_and_a_ready_one_writes_nothing() {
    let dir = temp_dir("termination-check");
    let log = dir.join("message");
    let down = ReservedPort::new();
    let out = Rdy::new(&["check", &down.addr()])
        .env("RDY_TERMINATION_LOG", log.to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let message = fs::read_to_string(&log).expect("termination message written");
    assert_eq!(
        message,
        format!(
            "rdy check: 1 target not ready\n{}: connection refused\n",
            down.addr()
        )
    );

    fs::remove_file(&log).unwrap();
    let up = TcpServer::start();
    let out = Rdy::new(&["check", &up.addr()])
        .env("RDY_TERMINATION_LOG", log.to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!log.exists(), "a ready check leaves no message");
}

#[test]
fn none_writes_nothing_and_a_target_that_can_never_be_ready_is_named() {
    let dir = temp_dir("termination-none");
    let log = dir.join("message");
    let failed = HttpServer::start(|_| Reply::status(503).header("Rdy-Outcome", "failed"));
    let url = failed.url("/");
    let out = Rdy::new(&["wait", &url, "--name", "job", "--termination-log", "none"])
        .env("RDY_TERMINATION_LOG", log.to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(!log.exists(), "--termination-log none beats the variable");

    let out = Rdy::new(&["wait", &url, "--name", "job"])
        .env("RDY_TERMINATION_LOG", log.to_str().unwrap())
        .run();
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let message = fs::read_to_string(&log).unwrap();
    assert!(
        message.starts_with(&format!(
            "rdy wait: a target can never become ready\njob ({url}): "
        )),
        "{message}"
    );
}

#[test]
fn secrets_stay_out_and_the_message_fits_the_kubelets_4_kib() {
    let dir = temp_dir("termination-secret");
    let log = dir.join("message");
    let web = HttpServer::start(|_| Reply::status(401));
    // 60 targets with long names: far more than 4 KiB of summary.
    let name = "n".repeat(100);
    let mut args = vec![
        "check".to_owned(),
        "-H".to_owned(),
        "Authorization=Bearer s3cr3t-token".to_owned(),
        "--termination-log".to_owned(),
        log.to_str().unwrap().to_owned(),
    ];
    for i in 0..60 {
        args.push(web.url(&format!("/{i}?token=pa55word")));
        args.push("--name".to_owned());
        args.push(format!("{name}{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = Rdy::new(&args).run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let message = fs::read(&log).unwrap();
    assert!(message.len() <= 4096, "{} bytes", message.len());
    let message = String::from_utf8(message).expect("cut on a character boundary");
    assert!(message.starts_with("rdy check: 60 targets not ready\n"));
    assert!(message.ends_with("\n…\n"), "{message}");
    let first = format!("{name}0 ({}): status 401", web.url("/0?…"));
    assert!(message.contains(&first), "{message}");
    assert!(!message.contains("s3cr3t") && !message.contains("pa55word"));
}

#[test]
fn bad_values_are_refused_before_any_probe() {
    let down = ReservedPort::new();
    Rdy::new(&[
        "check",
        "--termination-log",
        "/no/such/dir/log",
        &down.addr(),
    ])
    .run()
    .expect(
        2,
        "rdy: --termination-log: invalid value \"/no/such/dir/log\"; \
             expected a file in an existing directory, or none",
    );
    Rdy::new(&["check", &down.addr()])
        .env("RDY_TERMINATION_LOG", "/tmp/")
        .run()
        .expect(2, "RDY_TERMINATION_LOG");
    Rdy::new(&["serve", "--termination-log", "none", &down.addr()])
        .run()
        .expect(
            2,
            "--termination-log applies to rdy wait and rdy check only",
        );
}

/// The default file is used only where the kubelet made it: inside a mount
/// namespace with its own /dev holding an empty termination-log, as a
/// container has.
#[test]
fn the_default_is_dev_termination_log_when_it_exists() {
    if skip_unless_root("the_default_is_dev_termination_log_when_it_exists") {
        return;
    }
    if !std::path::Path::new("/usr/bin/unshare").exists() {
        skip(
            "the_default_is_dev_termination_log_when_it_exists",
            "unshare (util-linux) is not installed",
        );
        return;
    }
    let down = ReservedPort::new();
    // A private /dev; the message is printed after rdy exits.
    let script = format!(
        "mount -t tmpfs none /dev && : > /dev/termination-log && \
         {} check --name db {}; echo \"exit=$?\"; cat /dev/termination-log",
        common::bin(),
        down.addr()
    );
    let out = Rdy::new(&["-c", &script])
        .wrapped(
            &["unshare", "--mount", "--propagation", "private"],
            "/bin/sh",
        )
        .run();
    let expected = format!(
        "exit=1\nrdy check: 1 target not ready\ndb ({}): connection refused\n",
        down.addr()
    );
    assert!(
        out.stdout.contains(&expected),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}
