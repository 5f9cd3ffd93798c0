//! A TLS server that trickles its handshake — one byte every 0.5 s, a
//! valid handshake that never ends in time — cannot stretch an attempt:
//! every byte rdy reads and writes is bounded by the attempt's deadline,
//! for every TLS scheme and the Kubernetes client.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::Rdy;

/// The most bytes one connection trickles (a minute), so that no server
/// thread outlives its test by much.
const MAX_TRICKLE: usize = 120;

/// What the server does before TLS.
#[derive(Clone, Copy)]
enum Before {
    /// TLS from the first byte.
    Nothing,
    /// PostgreSQL: read the 8-byte `SSLRequest`, answer `S`.
    SslRequest,
}

/// A server on 127.0.0.1 that answers each connection's ClientHello with
/// its real handshake, one byte every 0.5 s; its port.
fn trickling_server(config: Arc<rustls::ServerConfig>, before: Before) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || trickle(stream, config, before));
        }
    });
    port
}

fn trickle(mut stream: TcpStream, config: Arc<rustls::ServerConfig>, before: Before) {
    let _ = stream.set_read_timeout(Some(common::LIMIT));
    if let Before::SslRequest = before {
        let mut request = [0; 8];
        if stream.read_exact(&mut request).is_err() || stream.write_all(b"S").is_err() {
            return;
        }
    }
    let mut tls = rustls::ServerConnection::new(config).expect("server connection");
    let mut flight = Vec::new();
    while flight.is_empty() {
        match tls.read_tls(&mut stream) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if tls.process_new_packets().is_err() {
            return;
        }
        while tls.wants_write() {
            let _ = tls.write_tls(&mut flight);
        }
    }
    for byte in flight.iter().take(MAX_TRICKLE) {
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// Each TLS scheme's target on a trickling server, trusting its CA.
fn targets(pki: &common::pki::Pki) -> Vec<String> {
    let plain = trickling_server(pki.server.clone(), Before::Nothing);
    let postgres = trickling_server(pki.server.clone(), Before::SslRequest);
    vec![
        format!("https://localhost:{plain}/"),
        format!("grpcs://localhost:{plain}"),
        format!("rediss://localhost:{plain}"),
        format!("postgres://localhost:{postgres}?sslmode=require"),
    ]
}

#[test]
fn check_ends_by_its_dial_timeout() {
    let pki = common::pki::pki(&["localhost"]);
    let ca = pki.ca_file.to_str().expect("utf-8 path");
    for target in targets(&pki) {
        Rdy::new(&["check", "--dial-timeout", "1s", "--ca-file", ca, &target])
            .run()
            .expect(1, "error=\"timed out\"");
    }
}

#[test]
fn wait_ends_by_its_timeout() {
    let pki = common::pki::pki(&["localhost"]);
    let ca = pki.ca_file.to_str().expect("utf-8 path");
    for target in targets(&pki) {
        let out = Rdy::new(&[
            "wait",
            "--timeout",
            "2s",
            "--dial-timeout",
            "10s",
            "--ca-file",
            ca,
            &target,
        ])
        .run();
        out.expect(1, "timed out");
    }
}

#[test]
fn the_kubernetes_client_ends_by_its_deadline() {
    let pki = common::pki::pki(&["localhost"]);
    let port = trickling_server(pki.server.clone(), Before::Nothing);
    let dir = common::temp_dir("trickle-kube");
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters:\n- name: k\n  cluster:\n    server: https://localhost:{port}\n    \
         certificate-authority: {}\n\
         users:\n- name: u\n  user:\n    token: t\n\
         contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n    namespace: default\n",
        pki.ca_file.display()
    );
    let file = common::write_file(&dir, "kubeconfig", kubeconfig.as_bytes());
    let file = file.to_str().expect("utf-8 path");
    Rdy::new(&[
        "wait",
        "--timeout",
        "2s",
        "--kubeconfig",
        file,
        "k8s:deployment/app",
    ])
    .run()
    .expect(1, "timed out");
}
