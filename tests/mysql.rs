//! `mysql://` targets against a real MariaDB, on loopback and, for the host
//! cache, across a veth pair between two network namespaces the test makes
//! (MariaDB never blocks loopback addresses).

mod common;

use std::io::Read;
use std::net::TcpStream;

use common::databases::{MariaData, NetnsPair, free_port};
use common::{Finished, Rdy};

#[test]
fn a_running_server_is_ready() {
    let Some(data) = MariaData::new("a_running_server_is_ready") else {
        return;
    };
    let port = free_port();
    let _server = data.start("127.0.0.1", port, &[], None);
    let target = format!("mysql://127.0.0.1:{port}");
    Rdy::new(&["check", &target])
        .run()
        .expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn a_stopped_server_is_refused() {
    let out = Rdy::new(&["check", &format!("mysql://127.0.0.1:{}", free_port())]).run();
    out.expect(1, "error=\"connection refused\"");
}

#[test]
fn a_server_started_during_the_wait() {
    let Some(data) = MariaData::new("a_server_started_during_the_wait") else {
        return;
    };
    let port = free_port();
    let target = format!("mysql://127.0.0.1:{port}");
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "100ms", &target]).spawn();
    wait.wait_for("connection refused");
    let _server = data.start("127.0.0.1", port, &[], None);
    wait.finish().expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn too_many_connections_is_not_ready_until_one_closes() {
    let Some(data) = MariaData::new("too_many_connections_is_not_ready_until_one_closes") else {
        return;
    };
    let port = free_port();
    let _server = data.start("127.0.0.1", port, &["--max-connections=10"], None);
    // Idle clients fill the server until it answers one with an ERR packet
    // instead of its handshake (MariaDB keeps a place beyond
    // max_connections for administrators).
    let mut held = Vec::new();
    let full = (0..30).any(|_| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(common::LIMIT)).unwrap();
        let mut first = [0; 5];
        s.read_exact(&mut first).expect("first packet");
        held.push(s);
        first[4] == 0xff
    });
    assert!(full, "30 idle connections did not fill max_connections=10");
    let target = format!("mysql://127.0.0.1:{port}");
    Rdy::new(&["check", &target])
        .run()
        .expect(1, "too many connections (ERR 1040)");
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "100ms", &target]).spawn();
    wait.wait_for("ERR 1040");
    drop(held);
    wait.finish().expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn a_port_that_is_not_mysql_is_not_ready() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = std::io::Write::write_all(&mut s, b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    let out = Rdy::new(&["check", &format!("mysql://127.0.0.1:{port}")]).run();
    out.expect(1, "not a MySQL server");
}

/// `rdy check TARGET` from inside the client namespace.
fn check_from(pair: &NetnsPair, target: &str) -> Finished {
    Rdy::new(&["check", "--dial-timeout", "5s", target])
        .wrapped(&["ip", "netns", "exec", &pair.client], common::bin())
        .run()
}

#[test]
fn two_hundred_probes_leave_the_host_unblocked_where_tcp_probes_block_it() {
    let test = "two_hundred_probes_leave_the_host_unblocked_where_tcp_probes_block_it";
    let Some(pair) = NetnsPair::new(test) else {
        return;
    };
    let Some(data) = MariaData::new(test) else {
        return;
    };
    let (ip, port) = (pair.server_ip.clone(), 3306);
    let _server = data.start(&ip, port, &["--max-connect-errors=10"], Some(&pair.server));
    let mysql = format!("mysql://{ip}:{port}");
    for i in 0..200 {
        let out = check_from(&pair, &mysql);
        assert_eq!(out.code, Some(0), "probe {i}: {}", out.stderr);
    }
    // The control: bare TCP connect-and-drop, as a tcp:// probe does,
    // counts toward max_connect_errors (10) and blocks the host.
    let tcp = format!("tcp://{ip}:{port}");
    for _ in 0..12 {
        check_from(&pair, &tcp).expect(0, "is ready ✓");
    }
    let blocked = common::eventually(|| {
        let out = check_from(&pair, &mysql);
        out.code == Some(1) && out.stderr.contains("FLUSH HOSTS")
    });
    let out = check_from(&pair, &mysql);
    assert!(
        blocked,
        "not blocked after 12 bare TCP probes: {}",
        out.stderr
    );
    out.expect(1, "(ERR 1129; unblock it with FLUSH HOSTS on the server)");
}
