//! HTTPS targets against a real TLS server with a CA generated per test.

mod common;

use common::Rdy;
use common::net::{HttpServer, Proxy, Reply};
use common::pki::pki;

fn tls_server(names: &[&str]) -> (HttpServer, common::pki::Pki) {
    let pki = pki(names);
    let server = HttpServer::start_tls(pki.server.clone(), |_| Reply::status(200).body("secure"));
    (server, pki)
}

#[test]
fn an_unknown_ca_fails_verification() {
    let (server, _) = tls_server(&["localhost"]);
    // Trust store: some other CA, so the result does not depend on the host.
    let other = pki(&["elsewhere"]);
    let out = Rdy::new(&["check", &format!("https://localhost:{}/", server.port)])
        .env("SSL_CERT_FILE", other.ca_file.to_str().unwrap())
        .run();
    out.expect(1, "error=\"tls:");
    assert!(server.requests().is_empty());
}

#[test]
fn the_ca_file_makes_it_trusted() {
    let (server, pki) = tls_server(&["localhost"]);
    let url = format!("https://localhost:{}/ready", server.port);
    let out = Rdy::new(&["check", "--ca-file", pki.ca_file.to_str().unwrap(), &url]).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(server.requests()[0].target, "/ready");
    let env = Rdy::new(&["check", &url])
        .env("RDY_CA_FILE", pki.ca_file.to_str().unwrap())
        .run();
    assert_eq!(env.code, Some(0), "{}", env.stderr);
}

#[test]
fn the_certificate_must_name_the_host() {
    let (server, pki) = tls_server(&["not-this-host"]);
    let url = format!("https://localhost:{}/", server.port);
    let out = Rdy::new(&["check", "--ca-file", pki.ca_file.to_str().unwrap(), &url]).run();
    // The CA is trusted, so the name is the only fault, and it is named.
    out.expect(
        1,
        "tls: the server's certificate is not valid for localhost (it names not-this-host)",
    );
    assert!(server.requests().is_empty(), "no request after a bad name");
}

#[test]
fn ip_address_certificates_work() {
    let (server, pki) = tls_server(&["127.0.0.1"]);
    let url = format!("https://127.0.0.1:{}/", server.port);
    let out = Rdy::new(&["check", "--ca-file", pki.ca_file.to_str().unwrap(), &url]).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn insecure_skips_verification() {
    let (server, _) = tls_server(&["whatever"]);
    let url = format!("https://127.0.0.1:{}/", server.port);
    for flag in ["--insecure", "-k"] {
        let out = Rdy::new(&["check", flag, &url]).run();
        assert_eq!(out.code, Some(0), "{flag}: {}", out.stderr);
    }
    let env = Rdy::new(&["check", &url])
        .env("HTTP_SKIP_TLS_VERIFY", "true")
        .run();
    assert_eq!(env.code, Some(0), "{}", env.stderr);
}

#[test]
fn https_proxy_tunnels_with_connect() {
    let (server, pki) = tls_server(&["api.example.invalid"]);
    let proxy = Proxy::start(server.port);
    let out = Rdy::new(&[
        "check",
        "--ca-file",
        pki.ca_file.to_str().unwrap(),
        "https://api.example.invalid/health",
    ])
    .env("HTTPS_PROXY", &proxy.url())
    .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = proxy.requests();
    assert_eq!(requests[0].method, "CONNECT");
    assert_eq!(requests[0].target, "api.example.invalid:443");
    assert_eq!(server.requests()[0].target, "/health");
}

#[test]
fn a_bad_ca_file_is_a_usage_error() {
    let dir = common::temp_dir("badca");
    let junk = common::write_file(&dir, "junk.pem", b"not a certificate");
    for (path, want) in [
        (junk.to_str().unwrap().to_owned(), "no PEM certificates"),
        (
            dir.join("missing.pem").to_str().unwrap().to_owned(),
            "no such file or directory",
        ),
    ] {
        let out = Rdy::new(&["check", "--ca-file", &path, "https://127.0.0.1:1/"]).run();
        out.expect(2, want);
        assert!(out.stderr.contains("--ca-file"), "{}", out.stderr);
    }
}
