//! `/all?wait=DUR`: a probe endpoint holds a not-ready answer until its
//! targets are ready or DUR has passed, so a startupProbe or a native
//! sidecar sees readiness when it happens, not one probe period later.
//! The order of events is asserted, never how long they took.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use common::net::ReservedPort;
use common::serve::{Server, connect, read_response};

/// Sends `GET path` on a new connection and returns the connection.
fn ask(server: &Server, path: &str) -> std::net::TcpStream {
    let mut stream = connect(server.addr);
    write!(stream, "GET {path} HTTP/1.1\r\nHost: rdy\r\n\r\n").expect("send");
    stream
}

/// Whether anything has arrived on `stream` yet (without waiting for it).
fn answered(stream: &std::net::TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let got = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("{e}"),
    };
    stream.set_nonblocking(false).unwrap();
    got
}

#[test]
fn a_held_all_answers_200_once_its_target_comes_up_and_self_answers_meanwhile() {
    let port = ReservedPort::new();
    let mut server = Server::start(&[&port.addr(), "--name", "db", "--cache-ttl", "0"]);
    let held = ask(&server, "/all?wait=30s");
    // The first round found db down (its first result is logged), and the
    // request is still not answered: it is held.
    server.running().wait_for("db is not ready");
    assert!(
        !answered(&held),
        "a held request was answered while db was down"
    );
    // The loop is not blocked by it.
    assert_eq!(server.get("/self").status, 200);
    assert_eq!(server.get("/all").status, 503, "without wait=, at once");

    let _db = port.listen();
    let mut reader = std::io::BufReader::new(held);
    let response = read_response(&mut reader, false).expect("a response");
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "ok   db\n")
    );
}

#[test]
fn a_held_all_answers_503_when_its_wait_ends_and_a_ready_one_at_once() {
    let port = ReservedPort::new();
    let server = Server::start(&[&port.addr(), "--name", "db"]);
    let response = server.get("/all?wait=300ms");
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(response.body.contains("db"), "{}", response.body);
    let _db = port.listen();
    let response = server.get("/all?wait=30s");
    assert_eq!(response.status, 200, "{}", response.body);
}

#[test]
fn a_wait_beyond_a_minute_or_not_a_duration_is_refused_with_400() {
    let port = ReservedPort::new();
    let server = Server::start(&[&port.addr()]);
    for bad in ["61s", "2m", "soon", ""] {
        let response = server.get(&format!("/all?wait={bad}"));
        assert_eq!(response.status, 400, "wait={bad}: {}", response.body);
        assert!(
            response.body.starts_with("wait is a duration up to 1m"),
            "{}",
            response.body
        );
    }
}

#[test]
fn a_held_request_is_answered_when_the_server_stops() {
    let port = ReservedPort::new();
    let mut server = Server::start(&[&port.addr(), "--name", "db"]);
    let mut held = ask(&server, "/all?wait=60s");
    server.running().wait_for("db is not ready");
    server.running().signal(nix::sys::signal::Signal::SIGTERM);
    held.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut text = String::new();
    let _ = held.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 503"), "{text:?}");
    let out = server.finish();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
}
