//! TCP targets against real listeners on loopback.

mod common;

use std::net::TcpListener;

use common::net::{ReservedPort, TcpServer};
use common::{Rdy, eventually};

#[test]
fn an_open_port_is_ready_and_sees_one_connection() {
    let server = TcpServer::start();
    let out = Rdy::new(&["check", &server.addr()]).run();
    out.expect(0, "127.0.0.1 is ready ✓");
    assert!(
        eventually(|| server.accepted() == 1),
        "accepted {}",
        server.accepted()
    );
}

#[test]
fn a_closed_port_is_refused() {
    let closed = ReservedPort::new();
    let out = Rdy::new(&["check", &format!("tcp://{}", closed.addr())]).run();
    out.expect(1, "error=\"connection refused\"");
}

#[test]
fn localhost_needs_no_resolver_and_tries_both_families() {
    // Only ::1 listens: 127.0.0.1 (tried first) refuses, ::1 accepts.
    let listener = TcpListener::bind("[::1]:0").expect("IPv6 loopback");
    let port = listener.local_addr().unwrap().port();
    let out = Rdy::new(&["check", &format!("localhost:{port}")]).run();
    out.expect(0, "localhost is ready ✓");
}

#[test]
fn ipv6_literals_in_brackets() {
    let listener = TcpListener::bind("[::1]:0").expect("IPv6 loopback");
    let port = listener.local_addr().unwrap().port();
    let out = Rdy::new(&["check", &format!("[::1]:{port}")]).run();
    out.expect(0, "::1 is ready ✓");
}

#[test]
fn the_name_option_names_the_target() {
    let server = TcpServer::start();
    let out = Rdy::new(&["check", &server.addr(), "--name", "PostgreSQL"]).run();
    assert_eq!(out.code, Some(0));
    assert!(
        out.stderr.contains("msg=\"PostgreSQL is ready ✓\""),
        "{}",
        out.stderr
    );
}
