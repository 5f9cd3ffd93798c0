//! grpc:// and grpcs:// targets against a real gRPC health server
//! (grpcio's `grpc_health.v1.HealthServicer`, tests/servers/health_server.py)
//! on loopback, with per-service status switched while rdy runs.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;

use common::net::ReservedPort;
use common::pki::{Pki, pki};
use common::{LIMIT, Rdy, skip};

/// The Python gRPC health server, stopped (killed and reaped) on drop.
struct HealthServer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    port: u16,
}

/// How to start a [`HealthServer`].
#[derive(Default)]
struct Setup<'a> {
    port: u16,
    tls: Option<&'a Pki>,
    no_health: bool,
}

impl HealthServer {
    /// Starts the server, or records a skip when Python's grpcio is missing.
    fn start(test: &str, setup: Setup<'_>) -> Option<HealthServer> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/servers/health_server.py"
        );
        let mut command = Command::new("python3");
        command.arg(script).arg(setup.port.to_string());
        if let Some(pki) = setup.tls {
            command
                .arg("--tls")
                .arg(&pki.server_files.0)
                .arg(&pki.server_files.1);
        }
        if setup.no_health {
            command.arg("--no-health");
        }
        let spawned = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let Ok(mut child) = spawned else {
            skip(test, "python3 is not installed");
            return None;
        };
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout piped");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take().expect("stdin piped");
        let mut server = HealthServer {
            child,
            stdin,
            lines,
            port: 0,
        };
        match server.lines.recv_timeout(LIMIT) {
            Ok(line) if line.starts_with("listening ") => {
                server.port = line["listening ".len()..].parse().expect("port");
                Some(server)
            }
            _ => {
                skip(
                    test,
                    "the Python gRPC health server did not start (pip install grpcio grpcio-health-checking)",
                );
                None
            }
        }
    }

    /// Sets a service's status (`serving`, `not_serving`, `unknown`) and
    /// waits until the server has applied it.
    fn set(&mut self, state: &str, service: &str) {
        writeln!(self.stdin, "{state} {service}").expect("command");
        let line = self.lines.recv_timeout(LIMIT).expect("server answers");
        assert_eq!(line, "ok");
    }

    fn target(&self, scheme: &str, service: &str) -> String {
        match service {
            "" => format!("{scheme}://localhost:{}", self.port),
            name => format!("{scheme}://localhost:{}?service={name}", self.port),
        }
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn status_per_service_decides() {
    let test = "status_per_service_decides";
    let Some(mut server) = HealthServer::start(test, Setup::default()) else {
        return;
    };
    server.set("serving", "");
    server.set("not_serving", "shop.Cart");
    server.set("unknown", "shop.Stock");
    let port = server.port;
    let check = |service: &str| {
        let target = format!("grpc://localhost:{port}?service={service}");
        Rdy::new(&["check", &target]).run()
    };
    check("").expect(0, "localhost is ready ✓");
    check("shop.Cart").expect(
        1,
        r#"error="service \"shop.Cart\": health status NOT_SERVING""#,
    );
    check("shop.Stock").expect(1, "health status UNKNOWN");
    check("shop.Nowhere").expect(1, "unknown to the health service (grpc-status 5 NOT_FOUND");
    server.set("serving", "shop.Cart");
    check("shop.Cart").expect(0, "is ready ✓");
    server.set("not_serving", "");
    check("").expect(1, r#"error="health status NOT_SERVING""#);
}

#[test]
fn a_service_that_starts_serving_ends_the_wait() {
    let test = "a_service_that_starts_serving_ends_the_wait";
    let Some(mut server) = HealthServer::start(test, Setup::default()) else {
        return;
    };
    server.set("not_serving", "shop.Cart");
    let target = server.target("grpc", "shop.Cart");
    let mut rdy = Rdy::new(&["wait", "-i", "100ms", "-t", "20s", &target]).spawn();
    rdy.wait_for("health status NOT_SERVING");
    server.set("serving", "shop.Cart");
    rdy.wait_for("is ready ✓");
    assert_eq!(rdy.finish().code, Some(0));
}

#[test]
fn a_server_started_during_the_wait_is_waited_for() {
    let test = "a_server_started_during_the_wait_is_waited_for";
    // A free port, released for the server (grpcio binds with SO_REUSEPORT,
    // which a held socket without it would refuse).
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let target = format!("grpc://127.0.0.1:{port}");
    let mut rdy = Rdy::new(&["wait", "-i", "100ms", "-t", "25s", &target]).spawn();
    rdy.wait_for("connection refused");
    let Some(_server) = HealthServer::start(
        test,
        Setup {
            port,
            ..Setup::default()
        },
    ) else {
        return;
    };
    rdy.wait_for("is ready ✓");
    assert_eq!(rdy.finish().code, Some(0));
}

#[test]
fn a_stopped_server_is_refused() {
    let closed = ReservedPort::new();
    Rdy::new(&["check", &format!("grpc://{}", closed.addr())])
        .run()
        .expect(1, "error=\"connection refused\"");
}

#[test]
fn no_health_service_can_never_become_ready() {
    let test = "no_health_service_can_never_become_ready";
    let setup = Setup {
        no_health: true,
        ..Setup::default()
    };
    let Some(server) = HealthServer::start(test, setup) else {
        return;
    };
    let target = server.target("grpc", "");
    // A wait without --timeout ends at once with exit 3.
    Rdy::new(&["wait", &target]).run().expect(
        3,
        "no gRPC health service: /grpc.health.v1.Health/Check answered grpc-status 12 UNIMPLEMENTED",
    );
}

#[test]
fn grpcs_verifies_the_server_like_https() {
    let test = "grpcs_verifies_the_server_like_https";
    let ours = pki(&["localhost"]);
    let setup = Setup {
        tls: Some(&ours),
        ..Setup::default()
    };
    let Some(mut server) = HealthServer::start(test, setup) else {
        return;
    };
    server.set("serving", "");
    let target = server.target("grpcs", "");
    let ca = ours.ca_file.to_str().unwrap();
    Rdy::new(&["check", "--ca-file", ca, &target])
        .run()
        .expect(0, "is ready ✓");
    Rdy::new(&["check", &target, "--insecure"])
        .run()
        .expect(0, "is ready ✓");
    // Trust store: another CA.
    let other = pki(&["localhost"]);
    Rdy::new(&["check", &target])
        .env("SSL_CERT_FILE", other.ca_file.to_str().unwrap())
        .run()
        .expect(1, "error=\"tls:");
    // Plain gRPC to a TLS port is not an answer.
    Rdy::new(&["check", &server.target("grpc", "")])
        .run()
        .expect(1, "is not ready ✗");
}

#[test]
fn bad_grpc_targets_are_usage_errors() {
    let cases = [
        ("grpc://api", "missing port"),
        (
            "grpc://api:50051?svc=x",
            "unknown option \"svc\"; grpc://HOST:PORT takes service=NAME",
        ),
        (
            "grpc://api:50051?service=a&service=b",
            "service= is given twice",
        ),
        (
            "grpc://api:50051/grpc.health.v1.Health",
            "expected grpc://host:port",
        ),
    ];
    for (target, says) in cases {
        Rdy::new(&["check", target]).run().expect(2, says);
    }
    Rdy::new(&["check", "grpc://api:50051", "--ca-file", "/nonexistent"])
        .run()
        .expect(2, "--ca-file");
}
