//! HTTP targets against a real HTTP/1.x server on loopback that records
//! every request it receives.

mod common;

use common::Rdy;
use common::net::{HttpServer, Proxy, Reply};

fn ok_server() -> HttpServer {
    HttpServer::start(|_| Reply::status(200).body("fine"))
}

#[test]
fn get_by_default_with_our_user_agent() {
    let server = ok_server();
    let out = Rdy::new(&["check", &server.url("/healthz?full=1")]).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].target, "/healthz?full=1");
    let ua = requests[0].header("user-agent").unwrap();
    assert_eq!(ua, concat!("rdy/", env!("CARGO_PKG_VERSION")));
}

#[test]
fn each_method_is_sent_as_asked() {
    for method in ["HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"] {
        let server = ok_server();
        let out = Rdy::new(&["check", "-X", method, &server.url("/")]).run();
        assert_eq!(out.code, Some(0), "{method}: {}", out.stderr);
        assert_eq!(server.requests()[0].method, method.to_uppercase());
    }
}

#[test]
fn headers_arrive_as_given() {
    let server = ok_server();
    let out = Rdy::new(&[
        "check",
        "-H",
        "Authorization=Bearer abc=def",
        "--header",
        "X-One=1,X-Two=2",
        "-H",
        "Accept=text/html,application/json;q=0.9",
        "-H",
        "User-Agent=kube-probe/1.31",
        &server.url("/"),
    ])
    .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let r = &server.requests()[0];
    assert_eq!(r.header("authorization"), Some("Bearer abc=def"));
    assert_eq!(r.header("x-one"), Some("1"));
    assert_eq!(r.header("x-two"), Some("2"));
    assert_eq!(r.header("accept"), Some("text/html,application/json;q=0.9"));
    assert_eq!(r.header_values("user-agent"), vec!["kube-probe/1.31"]);
}

#[test]
fn duplicate_headers_need_permission() {
    let server = ok_server();
    let refused = Rdy::new(&["check", "-H", "X-A=1", "-H", "x-a=2", &server.url("/")]).run();
    refused.expect(2, "allow-duplicate-headers");
    assert!(server.requests().is_empty());

    let allowed = Rdy::new(&[
        "check",
        "--allow-duplicate-headers",
        "-H",
        "X-A=1",
        "-H",
        "x-a=2",
        &server.url("/"),
    ])
    .run();
    assert_eq!(allowed.code, Some(0), "{}", allowed.stderr);
    assert_eq!(server.requests()[0].header_values("x-a"), vec!["1", "2"]);
}

#[test]
fn per_target_headers_replace_defaults_of_the_same_name() {
    let a = ok_server();
    let b = ok_server();
    let out = Rdy::new(&[
        "check",
        "-H",
        "X-Token=default",
        &a.url("/"),
        &b.url("/"),
        "-H",
        "X-Token=special",
    ])
    .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(a.requests()[0].header_values("x-token"), vec!["default"]);
    assert_eq!(b.requests()[0].header_values("x-token"), vec!["special"]);
}

#[test]
fn status_lists_ranges_and_classes() {
    let cases: [(u16, &[&str], i32); 9] = [
        (200, &[], 0),
        (204, &[], 1),
        (204, &["--status", "200-299"], 0),
        (204, &["--status", "2xx"], 0),
        (301, &["--status", "200,300-302"], 0),
        (303, &["--status", "200,300-302"], 1),
        (503, &["--status", "2xx,3xx"], 1),
        (404, &["--status", "404"], 0),
        (500, &["--status", "100-599"], 0),
    ];
    for (status, flags, want) in cases {
        let server = HttpServer::start(move |_| Reply::status(status));
        let mut args = vec!["check"];
        args.extend_from_slice(flags);
        let url = server.url("/");
        args.push(&url);
        let out = Rdy::new(&args).run();
        assert_eq!(out.code, Some(want), "{status} {flags:?}: {}", out.stderr);
        if want == 1 {
            assert!(
                out.stderr.contains(&format!("status {status}, expected")),
                "{}",
                out.stderr
            );
        }
    }
}

/// `Rdy-Outcome: failed` is how `rdy serve` says a target failed for good
/// (a failed Job): the wait ends with exit 3 instead of polling on.
#[test]
fn a_not_ready_answer_marked_failed_ends_the_wait() {
    let server = HttpServer::start(|_| {
        Reply::status(503)
            .header("Rdy-Outcome", "failed")
            .body("fail job/x: job \"x\" failed: BackoffLimitExceeded\n")
    });
    Rdy::new(&["wait", "--timeout", "30s", &server.url("/")])
        .run()
        .expect(3, "BackoffLimitExceeded (status 503, Rdy-Outcome: failed)");
    assert_eq!(server.requests().len(), 1, "no second attempt");
    let ready = HttpServer::start(|_| Reply::status(200).header("Rdy-Outcome", "failed"));
    let out = Rdy::new(&["check", &ready.url("/")]).run();
    assert_eq!(
        out.code,
        Some(0),
        "only a not-ready answer is judged: {}",
        out.stderr
    );
}

#[test]
fn an_http10_server_without_content_length_works() {
    let server = HttpServer::start(|_| Reply::status(200).body("old but ready").http10());
    let out = Rdy::new(&["check", &server.url("/"), "--body-contains", "ready"]).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn the_body_check_reads_the_body() {
    let server = HttpServer::start(|_| Reply::status(200).body(r#"{"status":"DOWN"}"#));
    let fail = Rdy::new(&[
        "check",
        &server.url("/"),
        "--body-contains",
        r#""status":"UP""#,
    ])
    .run();
    fail.expect(1, "body does not contain");
    let pass = Rdy::new(&["check", &server.url("/"), "--body-contains", "DOWN"]).run();
    assert_eq!(pass.code, Some(0), "{}", pass.stderr);
}

#[test]
fn the_body_check_stops_after_64_kib() {
    let mut body = "x".repeat(64 * 1024);
    body.push_str("NEEDLE");
    let server = HttpServer::start(move |_| Reply::status(200).body(&body));
    let out = Rdy::new(&["check", &server.url("/"), "--body-contains", "NEEDLE"]).run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
}

#[test]
fn redirects_are_answers_unless_followed() {
    let server = HttpServer::start(|r| match r.target.as_str() {
        "/old" => Reply::status(302).header("Location", "/new"),
        _ => Reply::status(200),
    });
    let plain = Rdy::new(&["check", &server.url("/old")]).run();
    plain.expect(1, "status 302, expected 200");
    assert_eq!(server.requests().len(), 1);

    let as_status = Rdy::new(&["check", &server.url("/old"), "--status", "3xx"]).run();
    assert_eq!(as_status.code, Some(0), "{}", as_status.stderr);

    let followed = Rdy::new(&["check", &server.url("/old"), "--follow-redirects"]).run();
    assert_eq!(followed.code, Some(0), "{}", followed.stderr);
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["/old", "/old", "/old", "/new"]);
}

#[test]
fn http_proxy_from_the_environment_carries_the_request() {
    let proxy = Proxy::start(0);
    // The name never resolves: only the proxy can answer it.
    let out = Rdy::new(&["check", "http://backend.invalid:8080/health"])
        .env("HTTP_PROXY", &proxy.url())
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].target, "http://backend.invalid:8080/health");
}

#[test]
fn proxy_credentials_become_proxy_authorization() {
    let proxy = Proxy::start(0);
    let url = format!("http://user:secret@127.0.0.1:{}", proxy.port);
    let out = Rdy::new(&["check", "http://backend.invalid/"])
        .env("HTTP_PROXY", &url)
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let request = &proxy.requests()[0];
    // base64("user:secret")
    assert_eq!(
        request.header("proxy-authorization"),
        Some("Basic dXNlcjpzZWNyZXQ=")
    );
    assert_eq!(request.header("host"), Some("backend.invalid"));
    assert!(!out.stderr.contains("secret"), "{}", out.stderr);
}

#[test]
fn loopback_targets_bypass_the_proxy() {
    let proxy = Proxy::start(0);
    let server = ok_server();
    let out = Rdy::new(&["check", &server.url("/")])
        .env("http_proxy", &proxy.url())
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(server.requests().len(), 1);
    assert!(proxy.requests().is_empty());
}

#[test]
fn type_http_turns_host_port_into_a_url() {
    let server = ok_server();
    let out = Rdy::new(&[
        "check",
        "--type",
        "http",
        &format!("127.0.0.1:{}", server.port),
    ])
    .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(server.requests()[0].target, "/");
}
