//! Bounded input everywhere: a file, a server's text or a server's answer
//! that is larger or stranger than it should be ends in one clear line,
//! never in memory use without end, a garbled message, or "ready".

mod common;

use std::net::UdpSocket;

use common::Rdy;
use common::net::answering_server;

#[test]
fn a_password_file_is_read_only_up_to_its_limit() {
    Rdy::new(&["check", "redis://127.0.0.1:1?password_file=/dev/zero"])
        .run()
        .expect(
            2,
            "password_file=/dev/zero: cannot read it: it holds more than 16 KiB",
        );
}

#[test]
fn the_termination_log_escapes_a_servers_control_characters() {
    // A Redis-speaking server whose error carries an escape sequence and a
    // bell, as a hostile server's would.
    let port = answering_server(b"-ERR \x1b[2Jwiped\x07\r\n".to_vec(), false);
    let dir = common::temp_dir("termination-escape");
    let log = dir.join("termination-log");
    let target = format!("redis://127.0.0.1:{port}");
    let out = Rdy::new(&["check", "--termination-log", log.to_str().unwrap(), &target]).run();
    out.expect(1, "wiped");
    let written = std::fs::read_to_string(&log).expect("termination log");
    assert!(
        written.contains("ERR \\u001b[2Jwiped\\u0007"),
        "{written:?}"
    );
    let controls = written.chars().filter(|c| c.is_control() && *c != '\n');
    assert_eq!(controls.count(), 0, "{written:?}");
}

/// A DNS server on 127.0.0.1 that answers every query with one A record
/// whose owner name is `name` (wire form); its port.
fn dns_server(name: &'static [u8]) -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = socket.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut buf = [0; 512];
        while let Ok((len, from)) = socket.recv_from(&mut buf) {
            let mut answer = buf[..len].to_vec();
            // QR, RD, RA; NOERROR; one answer record.
            answer[2..4].copy_from_slice(&[0x81, 0x80]);
            answer[6..8].copy_from_slice(&[0, 1]);
            answer.extend_from_slice(name);
            answer.extend_from_slice(b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
            let _ = socket.send_to(&answer, from);
        }
    });
    port
}

#[test]
fn a_dns_answer_with_a_malformed_name_is_not_ready() {
    let good = dns_server(b"\xc0\x0c");
    let target = format!("dns://db.local?server=127.0.0.1:{good}");
    Rdy::new(&["check", &target]).run().expect(0, "is ready ✓");
    // A compression pointer past the end of the message.
    let bad = dns_server(b"\xc0\xff");
    let target = format!("dns://db.local?server=127.0.0.1:{bad}");
    Rdy::new(&["check", &target]).run().expect(
        1,
        "malformed DNS answer: compression pointer that does not point back",
    );
}

#[test]
fn a_kubeconfig_token_no_request_can_carry_is_exit_2_naming_the_file() {
    let dir = common::temp_dir("bad-token");
    let token_file = common::write_file(&dir, "token", b"abc\x01def\n");
    let kubeconfig = |user: &str| {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    \
             insecure-skip-tls-verify: true\n\
             users:\n- name: u\n  user:\n    {user}\n\
             contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
        )
    };
    let inline = common::write_file(
        &dir,
        "inline",
        kubeconfig("token: \"abc\\ndef\"").as_bytes(),
    );
    let from_file = format!("tokenFile: {}", token_file.display());
    let from_file = common::write_file(&dir, "from-file", kubeconfig(&from_file).as_bytes());
    for (file, field) in [
        (&inline, "token".to_owned()),
        (&from_file, format!("tokenFile {}", token_file.display())),
    ] {
        let file = file.to_str().unwrap();
        let out = Rdy::new(&["check", "--kubeconfig", file, "k8s:deployment/app"]).run();
        out.expect(
            2,
            &format!("kubeconfig {file}: user \"u\": {field}: the token holds a control character"),
        );
        assert!(!out.stderr.contains("abc"), "{}", out.stderr);
    }
}
