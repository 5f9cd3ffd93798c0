//! Secrets never in a line rdy prints: not when the user mistypes the
//! header or the proxy URL that holds them, not when a hostile server
//! quotes them back in its error.

mod common;

use common::Rdy;
use common::net::{HttpServer, Reply, answering_server};

const SECRET: &str = "s3cretT0ken";

/// Asserts that a finished run printed `says` and never the secret.
#[track_caller]
fn hides_the_secret(out: &common::Finished, code: i32, says: &str) {
    out.expect(code, says);
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    assert!(!out.stdout.contains(SECRET), "{}", out.stdout);
}

#[test]
fn an_invalid_header_names_only_the_header() {
    // `NAME: VALUE` where rdy reads `NAME=VALUE`, on the line and in
    // PortPatrol's variable.
    let header = format!("Authorization: Bearer {SECRET}");
    let out = Rdy::new(&["check", "-H", &header, "http://127.0.0.1:1/"]).run();
    hides_the_secret(&out, 2, "-H: header \"Authorization\"");
    let out = Rdy::new(&["check", "http://127.0.0.1:1/"])
        .env("HTTP_HEADERS", &format!("{header}="))
        .run();
    hides_the_secret(&out, 2, "HTTP_HEADERS: header name \"Authorization\"");
}

#[test]
fn an_invalid_proxy_url_hides_its_password() {
    for (var, value, target) in [
        (
            "HTTP_PROXY",
            format!("socks5://user:{SECRET}@proxy:1080"),
            "http://example.invalid/",
        ),
        (
            "HTTPS_PROXY",
            format!("us er:{SECRET}@proxy:3128"),
            "https://example.invalid/",
        ),
    ] {
        let out = Rdy::new(&["check", "-k", target]).env(var, &value).run();
        hides_the_secret(&out, 2, &format!("{var}: invalid value"));
        assert!(out.stderr.contains("…@proxy"), "{}", out.stderr);
    }
}

#[test]
fn a_password_the_redis_server_quotes_back_is_cut() {
    // A server without AUTH quotes its arguments, then hangs up before PING.
    let reply = format!("-ERR unknown command 'AUTH', with args beginning with: '{SECRET}'\r\n");
    let port = answering_server(reply.into_bytes(), false);
    let target = format!("redis://127.0.0.1:{port}");
    let out = Rdy::new(&["check", &target])
        .env("REDISCLI_AUTH", SECRET)
        .run();
    hides_the_secret(
        &out,
        1,
        "unknown command 'AUTH', with args beginning with: '…'",
    );
}

#[test]
fn a_header_the_http_server_quotes_back_is_cut() {
    let server = HttpServer::start(|request| {
        let token = request.header("authorization").unwrap_or_default();
        Reply::status(503)
            .header("Rdy-Outcome", "failed")
            .body(&format!("fail you sent {token}\n"))
    });
    let header = format!("Authorization=Bearer {SECRET}");
    let out = Rdy::new(&["check", "-H", &header, &server.url("/")]).run();
    hides_the_secret(&out, 3, "you sent …");
}
