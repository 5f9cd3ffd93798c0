//! What log lines look like to a machine: in JSON, counts and codes are
//! numbers, not strings (issue 13 item 13).

mod common;

use common::Rdy;
use common::net::{ReservedPort, TcpServer};
use nix::sys::signal::Signal;
use serde_json::Value;

/// Every stderr line as JSON.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_lines_write_counts_and_codes_as_numbers() {
    let closed = ReservedPort::new();
    let out = Rdy::new(&[
        "wait",
        "--log-format",
        "json",
        "-v",
        "--timeout",
        "1s",
        &closed.addr(),
    ])
    .run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let lines = json_lines(&out.stderr);
    let attempt = lines
        .iter()
        .find_map(|l| l.get("attempt"))
        .expect("attempt");
    assert_eq!(attempt, &Value::from(1), "{}", out.stderr);

    let db = TcpServer::start();
    let mut run = Rdy::new(&[
        "serve",
        "--log-format",
        "json",
        "--listen",
        "127.0.0.1:0",
        &db.addr(),
    ])
    .spawn();
    run.wait_for("\"msg\":\"Serving\"");
    run.signal(Signal::SIGTERM);
    let out = run.finish();
    let lines = json_lines(&out.stderr);
    let serving = lines.iter().find(|l| l["msg"] == "Serving").unwrap();
    assert_eq!(serving["targets"], Value::from(1), "{serving}");
    assert_eq!(serving["workers"], Value::from(1), "{serving}");
    assert!(serving["listen"].is_string(), "{serving}");
    let stopped = lines.iter().find(|l| l.get("exit_code").is_some()).unwrap();
    assert_eq!(stopped["exit_code"], Value::from(143), "{stopped}");
}
