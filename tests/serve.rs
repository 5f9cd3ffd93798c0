//! `rdy serve` against real HTTP clients on loopback: every endpoint and
//! method, the bodies, coalescing counted at the target, limits, malformed
//! input, tokens, the rate limit, signals and IPv6.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::net::{HttpServer, Reply, ReservedPort, TcpServer};
use common::serve::{Client, IO_LIMIT, Server, get, read_response, serve_args};
use common::{Rdy, eventually};
use nix::sys::signal::Signal;

#[test]
fn every_endpoint_and_method() {
    let db = TcpServer::start();
    let server = Server::start(&[&db.addr(), "--name", "db"]);
    let mut client = Client::new(&server);
    for path in ["/self", "/livez"] {
        let r = client.get(path);
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"), "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert!(r.header("date").is_some_and(|d| d.ends_with(" GMT")));
    }
    for path in ["/all", "/readyz", "/ready/db"] {
        let r = client.get(path);
        assert_eq!((r.status, r.body.as_str()), (200, "ok   db\n"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    let head = client.request("HEAD", "/all", "");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("8"))
    );
    assert_eq!(head.body, "");
    let head = client.request("HEAD", "/self", "");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("3"))
    );
    for path in [
        "/",
        "/ready/nope",
        "/ready/",
        "/all/",
        "/selfish",
        "/metrics/x",
    ] {
        assert_eq!(client.get(path).status, 404, "{path}");
    }
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"] {
        for path in ["/self", "/all", "/ready/db", "/metrics"] {
            let r = client.request(method, path, "");
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"));
        }
    }
    let metrics = client.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let out = server.stop();
    assert!(
        out.stderr
            .contains("msg=Request method=GET path=/self status=200")
    );
}

#[test]
fn one_failing_target_is_named_and_fails_the_aggregate() {
    let db = TcpServer::start();
    let envoy = ReservedPort::new();
    let server = Server::start(&[
        &db.addr(),
        "--name",
        "postgres",
        &envoy.addr(),
        "--name",
        "envoy",
    ]);
    let all = server.get("/all");
    assert_eq!(all.status, 503);
    assert_eq!(all.body, "ok   postgres\nfail envoy: connection refused\n");
    let json = server.get("/all?format=json").json();
    assert_eq!(
        json,
        serde_json::json!({"ready": false, "targets": [
            {"name": "postgres", "ready": true},
            {"name": "envoy", "ready": false, "error": "connection refused"},
        ]})
    );
    let by_accept = server.send(
        "GET /readyz HTTP/1.1\r\nHost: rdy\r\nAccept: text/html, application/json;q=0.9\r\n\r\n",
    );
    assert_eq!(by_accept.header("content-type"), Some("application/json"));
    assert_eq!(by_accept.json()["ready"], false);
    let text = server.get("/all?format=text");
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(server.get("/all?format=xml").status, 400);
    assert_eq!(server.get("/ready/postgres").status, 200);
    let envoy_only = server.get("/ready/envoy?format=json").json();
    assert_eq!(envoy_only["targets"][0]["error"], "connection refused");
    assert_eq!(server.get("/ready/envoy").status, 503);
}

#[test]
fn names_are_percent_decoded_in_ready_paths() {
    let db = TcpServer::start();
    let server = Server::start(&[&db.addr(), "--name", "main db"]);
    assert_eq!(server.get("/ready/main%20db").status, 200);
}

/// A strict reader of the Prometheus text format: every sample's family
/// has HELP and TYPE first, counters end in `_total`, label values are
/// escaped, values are numbers, no series twice.
fn parse_metrics(text: &str) -> HashMap<(String, String), f64> {
    let mut helped = HashSet::new();
    let mut typed = HashMap::new();
    let mut samples = HashMap::new();
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty() && helped.insert(name.to_owned()), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(matches!(kind, "counter" | "gauge"), "{line}");
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
            assert!(typed.insert(name.to_owned(), kind.to_owned()).is_none());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').expect("}")),
            None => (series, ""),
        };
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "{line}"
        );
        assert!(typed.contains_key(name), "sample before TYPE: {line}");
        let label = parse_label(labels);
        assert!(
            samples.insert((name.to_owned(), label), value).is_none(),
            "twice: {line}"
        );
    }
    samples
}

/// `target="..."` (or `version="..."`) with the format's escapes undone.
fn parse_label(labels: &str) -> String {
    let (key, quoted) = labels.split_once('=').expect("label=value");
    assert!(matches!(key, "target" | "version"), "{labels}");
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .expect("quoted");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                other => panic!("bad escape {other:?} in {labels}"),
            },
            '"' | '\n' => panic!("unescaped {c:?} in {labels}"),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn metrics_are_valid_exposition_format() {
    let db = TcpServer::start();
    let down = ReservedPort::new();
    let weird = r#"we"ird\name"#;
    let server = Server::start(&[&db.addr(), "--name", weird, &down.addr(), "--name", "down"]);
    assert_eq!(server.get("/all").status, 503);
    let metrics = server.get("/metrics");
    let samples = parse_metrics(&metrics.body);
    let value = |name: &str, target: &str| samples[&(name.to_owned(), target.to_owned())];
    assert_eq!(value("rdy_target_up", weird), 1.0);
    assert_eq!(value("rdy_target_up", "down"), 0.0);
    assert_eq!(value("rdy_target_checks_total", weird), 1.0);
    assert_eq!(value("rdy_target_failures_total", "down"), 1.0);
    assert_eq!(value("rdy_target_failures_total", weird), 0.0);
    assert!(value("rdy_target_check_duration_seconds", "down") >= 0.0);
    assert_eq!(value("rdy_build_info", env!("CARGO_PKG_VERSION")), 1.0);
}

/// A target that counts HTTP requests and answers each after `delay`.
fn slow_target(delay: Duration) -> HttpServer {
    HttpServer::start(move |_| {
        thread::sleep(delay);
        Reply::status(200)
    })
}

#[test]
fn concurrent_requests_share_one_probe_and_the_cache_serves_the_rest() {
    let target = slow_target(Duration::from_millis(300));
    let tcp = TcpServer::start();
    let app = target.url("/health");
    let db = tcp.addr();
    let server = Server::start(&[
        "--cache-ttl",
        "1m",
        &app,
        "--name",
        "app",
        &db,
        "--name",
        "db",
    ]);
    let addr = server.addr;
    let clients: Vec<_> = (0..32)
        .map(|i| {
            let path = if i % 2 == 0 { "/all" } else { "/ready/app" };
            thread::spawn(move || get(addr, path).status)
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap(), 200);
    }
    assert_eq!(target.requests().len(), 1, "one probe for 32 requests");
    // The listener thread may not have counted it yet.
    assert!(eventually(|| tcp.accepted() == 1));
    for _ in 0..20 {
        assert_eq!(server.get("/all").status, 200);
    }
    assert_eq!(target.requests().len(), 1, "answered from the cache");
    assert_eq!(tcp.accepted(), 1);
}

#[test]
fn without_a_cache_every_request_probes_but_concurrent_ones_still_share() {
    let target = slow_target(Duration::from_millis(300));
    let server = Server::start(&["--cache-ttl", "0", &target.url("/")]);
    let addr = server.addr;
    for expected in 1..=3 {
        assert_eq!(server.get("/all").status, 200);
        assert_eq!(target.requests().len(), expected);
    }
    let clients: Vec<_> = (0..8)
        .map(|_| thread::spawn(move || get(addr, "/all").status))
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap(), 200);
    }
    // Eight concurrent requests made at most a handful of probes: each
    // joined the one in flight when it arrived.
    let probes = target.requests().len() - 3;
    assert!((1..8).contains(&probes), "{probes} probes for 8 requests");
}

#[test]
fn timeout_bounds_a_round_and_names_the_slow_target() {
    let slow = slow_target(Duration::from_secs(5));
    let server = Server::start(&["--timeout", "300ms", &slow.url("/"), "--name", "slow"]);
    let all = server.get("/all");
    assert_eq!(all.status, 503);
    assert_eq!(all.body, "fail slow: timed out\n");
}

#[test]
fn idle_and_slow_clients_cannot_keep_self_from_answering() {
    let db = TcpServer::start();
    let server = Server::start(&["--max-connections", "64", &db.addr()]);
    let mut held = Vec::new();
    for i in 0..200 {
        let mut stream = server.connect();
        if i % 2 == 0 {
            // Slowloris: a head that never ends.
            stream
                .write_all(b"GET /all HTTP/1.1\r\nHost: rdy\r\nX-Slow: ")
                .unwrap();
        }
        held.push(stream);
    }
    for _ in 0..5 {
        let r = server.get("/self");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    }
    assert_eq!(db.accepted(), 0, "no probe for idle clients");
}

/// A client that pipelines requests and never reads its responses leaves
/// its connection stuck writing. At the connection cap such connections
/// make room like idle ones.
#[test]
fn clients_that_never_read_cannot_keep_self_from_answering() {
    let db = TcpServer::start();
    let server = Server::start(&["--max-connections", "4", &db.addr()]);
    let batch = b"GET /self HTTP/1.1\r\nHost: rdy\r\n\r\n".repeat(400);
    let mut stuck = Vec::new();
    for _ in 0..4 {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket.set_recv_buffer_size(1024).expect("SO_RCVBUF");
        socket.connect(&server.addr.into()).expect("connect");
        let mut stream = TcpStream::from(socket);
        stream.set_nonblocking(true).expect("non-blocking");
        // Pipeline until the server stops reading this client: it is then
        // stuck writing responses nobody reads. Bounded: 4,000 writes.
        let mut refused_in_a_row = 0;
        for _ in 0..4000 {
            match stream.write(&batch) {
                Ok(_) => refused_in_a_row = 0,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    refused_in_a_row += 1;
                    if refused_in_a_row > 20 {
                        break;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("pipelining: {e}"),
            }
        }
        stuck.push(stream);
    }
    for _ in 0..3 {
        let r = server.get("/self");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    }
}

/// Requests pipelined behind ones that wait for a slow probe are kept only
/// within their share of the server's byte budget, so a `/self` whose head
/// arrives in two pieces still finds room.
#[test]
fn pipelined_requests_cannot_use_up_the_room_for_partial_heads() {
    let (url, probed) = announcing_target(Duration::from_secs(3));
    let server = Server::start(&["--dial-timeout", "10s", &url]);
    let first = b"GET /all HTTP/1.1\r\nHost: rdy\r\n\r\n";
    let behind = b"GET /self HTTP/1.1\r\nHost: rdy\r\n\r\n".repeat(600);
    let mut waiting = Vec::new();
    for _ in 0..24 {
        let mut stream = server.connect();
        let mut bytes = first.to_vec();
        bytes.extend_from_slice(&behind[..16 * 1024 - first.len()]);
        stream.write_all(&bytes).unwrap();
        waiting.push(stream);
    }
    probed.recv_timeout(IO_LIMIT).expect("the probe started");
    // One round trip: the loop has handled every event queued before it.
    assert_eq!(server.get("/self").status, 200);
    let mut split = server.connect();
    split.write_all(b"GET /se").unwrap();
    assert_eq!(server.get("/self").status, 200, "the loop read the piece");
    split
        .write_all(b"lf HTTP/1.1\r\nHost: rdy\r\n\r\n")
        .unwrap();
    let r = read_response(&mut BufReader::new(split), false).expect("a response");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
}

#[test]
fn two_hundred_idle_connections_stay_open_while_self_answers() {
    let db = TcpServer::start();
    let server = Server::start(&[&db.addr()]);
    let mut clients: Vec<Client> = (0..200).map(|_| Client::new(&server)).collect();
    for client in clients.iter_mut().step_by(10) {
        assert_eq!(client.get("/self").status, 200);
    }
    assert_eq!(server.get("/self").status, 200);
    // Every one of them is still open and served.
    for client in &mut clients {
        assert_eq!(client.get("/self").status, 200);
    }
}

#[test]
fn keep_alive_pipelining_and_connection_close() {
    let db = TcpServer::start();
    let server = Server::start(&[&db.addr(), "--name", "db"]);
    let mut stream = server.connect();
    stream
        .write_all(
            b"GET /self HTTP/1.1\r\nHost: rdy\r\n\r\nGET /ready/db HTTP/1.1\r\nHost: rdy\r\n\r\n\
              HEAD /self HTTP/1.1\r\nHost: rdy\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let first = read_response(&mut reader, false).unwrap();
    let second = read_response(&mut reader, false).unwrap();
    let third = read_response(&mut reader, true).unwrap();
    assert_eq!((first.status, first.body.as_str()), (200, "ok\n"));
    assert_eq!((second.status, second.body.as_str()), (200, "ok   db\n"));
    assert_eq!(third.header("connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(reader.read_to_end(&mut rest).unwrap(), 0, "closed after");

    // HTTP/1.0 closes unless asked to keep alive.
    let r = server.send("GET /self HTTP/1.0\r\n\r\n");
    assert_eq!(r.header("connection"), Some("close"));
    let r = server.send("GET /self HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.header("connection"), Some("keep-alive"));
}

#[test]
fn oversized_and_malformed_requests_are_refused_and_the_server_lives_on() {
    let db = TcpServer::start();
    let server = Server::start(&[&db.addr()]);
    let big_header = format!(
        "GET /self HTTP/1.1\r\nHost: rdy\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let r = server.send(&big_header);
    assert_eq!(r.status, 431);
    assert_eq!(r.header("connection"), Some("close"));
    let many: String = (0..40).map(|i| format!("X-{i}: 1\r\n")).collect();
    assert_eq!(
        server
            .send(&format!("GET /self HTTP/1.1\r\nHost: rdy\r\n{many}\r\n"))
            .status,
        431
    );
    let huge_line = format!("GET /{} HTTP/1.1\r\nHost: rdy\r\n\r\n", "a".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\x01\x02\xff\xfe garbage\r\n\r\n".to_vec()),
        ("HTTP/0.9", b"GET /self\r\n\r\n".to_vec()),
        ("bare LF", b"GET /self HTTP/1.1\nHost: rdy\n\n".to_vec()),
        ("huge request line", huge_line.into_bytes()),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("no Host", b"GET /self HTTP/1.1\r\n\r\n".to_vec()),
        (
            "authority form",
            b"GET rdy:8081 HTTP/1.1\r\nHost: rdy\r\n\r\n".to_vec(),
        ),
        (
            "two Hosts",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nHost: other\r\n\r\n".to_vec(),
        ),
        (
            "space in name",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nBad Name: x\r\n\r\n".to_vec(),
        ),
        (
            "obs-fold",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nX: a\r\n b\r\n\r\n".to_vec(),
        ),
        (
            "two lengths",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        ),
        (
            "a body",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nContent-Length: 2\r\n\r\nab".to_vec(),
        ),
        (
            "chunked",
            b"GET /self HTTP/1.1\r\nHost: rdy\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
        ),
        (
            "tls hello",
            vec![
                0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
            ],
        ),
    ];
    for (what, raw) in &cases {
        let r = server.send_bytes(raw);
        assert_eq!(r.status, 400, "{what}: {r:?}");
        assert_eq!(r.header("connection"), Some("close"), "{what}");
        assert_eq!(server.get("/self").status, 200, "after {what}");
    }
    // Random bytes, many times over: always an answer or a close, never a
    // crash.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let len = (seed % 300) as usize + 1;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let mut stream = server.connect();
        let _ = stream.write_all(&bytes);
        let _ = stream.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
    assert_eq!(server.get("/self").status, 200);
    // A body after a method that is not allowed: refused and closed.
    let r = server.send("POST /all HTTP/1.1\r\nHost: rdy\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!((r.status, r.header("connection")), (405, Some("close")));
    // A refused HEAD gets no body either (RFC 9110 §9.3.2).
    let mut stream = server.connect();
    stream.write_all(b"HEAD /self HTTP/1.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let r = read_response(&mut reader, true).expect("a response");
    assert_eq!(r.status, 400);
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    assert_eq!(String::from_utf8_lossy(&rest), "", "no body after the head");
    // The absolute form is a path like any other (RFC 9112 §3.2.2).
    let r = server.send("GET http://rdy:8081/self HTTP/1.1\r\nHost: rdy\r\n\r\n");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
}

#[test]
fn the_token_is_required_in_any_of_its_forms_and_never_logged() {
    let db = TcpServer::start();
    let token = "s3cr+t/t0ken";
    let server = Server::with(
        Rdy::new(&serve_args("127.0.0.1:0", &[&db.addr(), "--name", "db"])).env("RDY_TOKEN", token),
    );
    assert_eq!(server.get("/self").status, 200, "/self needs no token");
    assert_eq!(server.get("/livez").status, 200);
    let missing = server.get("/all");
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"rdy\"")
    );
    for path in ["/ready/db", "/metrics", "/nope", "/ready/unknown"] {
        assert_eq!(server.get(path).status, 401, "{path}");
    }
    let with = |header: &str| {
        server
            .send(&format!(
                "GET /all HTTP/1.1\r\nHost: rdy\r\nAuthorization: {header}\r\n\r\n"
            ))
            .status
    };
    assert_eq!(with(&format!("Bearer {token}")), 200);
    assert_eq!(
        with(&format!("Basic {token}")),
        200,
        "the seed's raw Basic form"
    );
    assert_eq!(with(&format!("bearer {token}")), 200);
    assert_eq!(with("Bearer wrong"), 403);
    assert_eq!(with(&format!("Bearer {token}x")), 403);
    assert_eq!(with("Digest abc"), 401);
    assert_eq!(server.get("/all?token=s3cr%2Bt%2Ft0ken").status, 200);
    assert_eq!(
        server
            .get(&format!("/all?format=json&token={token}"))
            .status,
        200
    );
    assert_eq!(server.get("/all?token=nope").status, 403);
    let out = server.stop();
    assert!(
        out.stderr.contains("path=/all status=200"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("s3cr"),
        "token in the log:\n{}",
        out.stderr
    );
}

#[test]
fn a_rotated_token_file_is_picked_up() {
    let db = TcpServer::start();
    let dir = common::temp_dir("token");
    let file = common::write_file(&dir, "token", b"first\n");
    let file = file.to_str().unwrap();
    let server = Server::start(&["--token-file", file, &db.addr()]);
    let with = |token: &str| server.get(&format!("/all?token={token}")).status;
    assert_eq!(with("first"), 200);
    // The way a Secret volume rotates: a new file renamed over the old.
    common::write_file(&dir, "token.new", b"second");
    std::fs::rename(dir.join("token.new"), dir.join("token")).unwrap();
    assert!(eventually(|| with("second") == 200), "new token accepted");
    assert_eq!(with("first"), 403);
}

#[test]
fn the_rate_limit_answers_429_then_recovers_and_spares_self() {
    let db = TcpServer::start();
    let server = Server::start(&["--rate-limit", "2/2s", &db.addr()]);
    let limited = (0..10)
        .map(|_| server.get("/all"))
        .find(|r| r.status == 429)
        .expect("a 429 within 10 requests");
    assert_eq!(limited.header("retry-after"), Some("1"));
    for _ in 0..10 {
        assert_eq!(server.get("/self").status, 200);
    }
    assert!(eventually(|| server.get("/all").status == 200), "recovers");
}

#[test]
fn the_seeds_rate_limit_variables_work() {
    let db = TcpServer::start();
    let server = Server::with(
        Rdy::new(&serve_args("127.0.0.1:0", &[&db.addr()]))
            .env("RATE_LIMIT", "1")
            .env("RATE_LIMIT_PERIOD", "1h"),
    );
    assert_eq!(server.get("/all").status, 200);
    let r = server.get("/all");
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3000 && retry <= 3600, "{retry}");
}

#[test]
fn force_overrides_all_without_probing() {
    let db = TcpServer::start();
    let server = Server::start(&["--force", "unready", &db.addr(), "--name", "db"]);
    let all = server.get("/all");
    assert_eq!((all.status, all.body.as_str()), (503, "forced unready\n"));
    assert_eq!(
        server.get("/readyz?format=json").json()["forced"],
        "unready"
    );
    assert_eq!(db.accepted(), 0);
    assert_eq!(
        server.get("/ready/db").status,
        200,
        "one target is still probed"
    );

    let down = ReservedPort::new();
    let server = Server::with(
        Rdy::new(&serve_args("127.0.0.1:0", &[&down.addr()])).env("RDY_FORCE", "ready"),
    );
    assert_eq!(server.get("/all").status, 200);
}

/// A target that reports each connection it accepts, then answers an HTTP
/// request after `delay`.
fn announcing_target(delay: Duration) -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = tx.send(());
            let tx_alive = tx.clone();
            thread::spawn(move || {
                let mut stream = stream;
                let _ = common::net::read_request(&mut stream);
                thread::sleep(delay);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                drop(tx_alive);
            });
        }
    });
    (url, rx)
}

#[test]
fn sigterm_stops_accepting_finishes_the_request_in_flight_and_exits_143() {
    let (url, probed) = announcing_target(Duration::from_millis(500));
    let mut server = Server::start(&[&url, "--name", "app"]);
    let addr = server.addr;
    let in_flight = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
        stream
            .write_all(b"GET /all HTTP/1.1\r\nHost: rdy\r\n\r\n")
            .unwrap();
        read_response(&mut BufReader::new(stream), false)
    });
    probed.recv_timeout(IO_LIMIT).expect("the probe started");
    server.running().signal(Signal::SIGTERM);
    server.running().wait_for("msg=\"Stopping on SIGTERM");
    assert!(TcpStream::connect(addr).is_err(), "no longer accepting");
    let answer = in_flight
        .join()
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok   app\n"));
    assert_eq!(answer.header("connection"), Some("close"));
    server
        .finish()
        .expect(143, "msg=\"Stopped by SIGTERM\" exit_code=143");
}

#[test]
fn sigint_exits_130_and_idle_connections_do_not_delay_it() {
    let db = TcpServer::start();
    let mut server = Server::start(&[&db.addr()]);
    let mut idle = Client::new(&server);
    assert_eq!(idle.get("/self").status, 200);
    server.running().signal(Signal::SIGINT);
    server.finish().expect(130, "exit_code=130");
    assert!(idle.closed());
}

fn ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn serves_on_ipv6() {
    if !ipv6_loopback() {
        common::skip("serves_on_ipv6", "no IPv6 loopback");
        return;
    }
    let db = TcpServer::start();
    let server = Server::with(Rdy::new(&serve_args("[::1]:0", &[&db.addr()])));
    assert!(server.addr.is_ipv6());
    assert_eq!(server.get("/self").status, 200);
    assert_eq!(server.get("/all").status, 200);
}

#[test]
fn the_seed_sidecars_command_line_works_on_every_interface() {
    let app = HttpServer::start(|_| Reply::status(204));
    let envoy = HttpServer::start(|_| Reply::status(200));
    let seeded = [
        "serve",
        "--listen",
        ":0",
        "--timeout",
        "3s",
        "--status",
        "200-399",
        &app.url("/health"),
        "--name",
        "app",
        &envoy.url("/healthz/ready"),
        "--name",
        "envoy",
    ];
    let mut server = Server::with(Rdy::new(&seeded));
    let port = server.addr.port();
    let on = |addr: &str| {
        let mut stream = TcpStream::connect((addr, port)).expect("connect");
        stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
        stream
            .write_all(b"GET /all HTTP/1.1\r\nHost: rdy\r\n\r\n")
            .unwrap();
        read_response(&mut BufReader::new(stream), false).unwrap()
    };
    let all = on("127.0.0.1");
    assert_eq!(
        (all.status, all.body.as_str()),
        (200, "ok   app\nok   envoy\n")
    );
    if ipv6_loopback() {
        assert!(server.addr.ip().is_unspecified() && server.addr.is_ipv6());
        assert_eq!(on("::1").status, 200);
    }
    server.running().signal(Signal::SIGTERM);
}

#[test]
fn bad_serve_options_are_exit_2_before_listening_or_probing() {
    let db = TcpServer::start();
    let t = db.addr();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["serve", "--listen", "nope", &t],
            "--listen: invalid value \"nope\"; expected an address and port",
        ),
        (
            vec!["serve", "--listen", "8081", &t],
            "--listen: invalid value \"8081\"",
        ),
        (
            vec!["serve", "--force", "maybe", &t],
            "--force: invalid value \"maybe\"; expected ready or unready",
        ),
        (
            vec!["serve", "--rate-limit", "0/1s", &t],
            "--rate-limit: invalid value \"0/1s\"",
        ),
        (
            vec!["serve", "--rate-limit", "10", &t],
            "expected a count per period such as 3600/1h",
        ),
        (
            vec!["serve", "--workers", "0", &t],
            "--workers: invalid value \"0\"; expected a whole number from 1 to 256",
        ),
        (
            vec!["serve", "--max-connections", "x", &t],
            "--max-connections: invalid value",
        ),
        (
            vec!["serve", "--idle-timeout", "0", &t],
            "--idle-timeout: invalid value \"0\"",
        ),
        (
            vec!["serve", "--client-timeout", "2x", &t],
            "--client-timeout: invalid value",
        ),
        (
            vec!["serve", "--cache-ttl", "-1s", &t],
            "--cache-ttl: invalid value",
        ),
        (
            vec!["serve", "--token-file", "/nonexistent/token", &t],
            "--token-file: invalid value \"/nonexistent/token\"; expected a readable file",
        ),
        (
            vec!["serve", &t, &t],
            "serve: two targets are named \"127.0.0.1\"",
        ),
        (
            vec!["serve", &t, "--", "/app"],
            "-- COMMAND applies to rdy wait only",
        ),
        (
            vec!["serve", "--then-post", "http://x/", &t],
            "--then-post applies to rdy wait only",
        ),
        (
            vec!["serve", "--supervise", &t],
            "--supervise applies to rdy wait only",
        ),
        (
            vec!["serve"],
            "serve: no targets given, and /api/healthz has no Kubernetes configuration",
        ),
        (
            vec!["wait", "--listen", ":8081", &t],
            "--listen applies to rdy serve only",
        ),
        (
            vec!["check", &t, "--rate-limit", "1/s"],
            "--rate-limit applies to rdy serve only",
        ),
    ];
    for (args, says) in cases {
        let out = Rdy::new(&args).run();
        out.expect(2, says);
        assert!(!out.stderr.contains("Serving"), "{args:?}");
        assert_eq!(out.lines().len(), 1, "one line: {}", out.stderr);
    }
    let env_cases = [
        ("RDY_FORCE", "maybe", "RDY_FORCE: invalid value \"maybe\""),
        ("RDY_LISTEN", ":x", "RDY_LISTEN: invalid value"),
        (
            "RATE_LIMIT",
            "many",
            "RATE_LIMIT: invalid value \"many/1h\"",
        ),
        (
            "RDY_TOKEN_FILE",
            "/nonexistent",
            "RDY_TOKEN_FILE: invalid value",
        ),
    ];
    for (var, value, says) in env_cases {
        Rdy::new(&["serve", &t])
            .env(var, value)
            .run()
            .expect(2, says);
    }
    // Serve's variables mean nothing to wait and check.
    let out = Rdy::new(&["check", &t]).env("RDY_FORCE", "maybe").run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The listener thread may not have counted it yet.
    assert!(
        eventually(|| db.accepted() == 1),
        "only the last check connected"
    );
}

#[test]
fn a_port_in_use_is_exit_2() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = Rdy::new(&["serve", "--listen", &listen, "127.0.0.1:1"]).run();
    out.expect(2, "msg=\"Cannot listen\"");
}

#[test]
fn connections_beyond_the_cap_evict_the_idlest() {
    let db = TcpServer::start();
    let server = Server::start(&["--max-connections", "4", &db.addr()]);
    let mut old: Vec<Client> = (0..4).map(|_| Client::new(&server)).collect();
    for client in &mut old {
        assert_eq!(client.get("/self").status, 200);
    }
    // Four more: each takes the place of an idle one.
    for _ in 0..4 {
        assert_eq!(server.get("/self").status, 200);
    }
    let old = std::cell::RefCell::new(old);
    let some_closed = || old.borrow_mut().iter_mut().any(Client::closed_now);
    assert!(eventually(some_closed), "an idle connection made room");
}
