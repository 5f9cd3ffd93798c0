//! `--body-json` (issue 20): a JSONPath on the body of an HTTP answer, in
//! `--for jsonpath=`'s subset and operators — Elasticsearch's
//! `_cluster/health`, Spring Boot's `{"status":"UP"}`, etcd's `/health`.

mod common;

use common::Rdy;
use common::net::{HttpServer, Reply};

fn check(url: &str, expr: &str) -> common::Finished {
    Rdy::new(&["check", url, "--body-json", expr]).run()
}

#[test]
fn body_json_reads_cluster_health_with_a_set_and_quotes_the_value_seen() {
    let server = HttpServer::start(|request| {
        let status = request.target.trim_start_matches('/').to_owned();
        Reply::status(200)
            .header("X-Status", "green")
            .body(&format!(
                r#"{{"cluster_name":"logs","status":"{status}","number_of_nodes":3}}"#
            ))
    });
    let health = |colour: &str| server.url(&format!("/{colour}"));
    check(&health("green"), "{.status} in (green,yellow)").expect(0, "is ready ✓");
    check(&health("yellow"), "{.status} in (green, yellow)").expect(0, "is ready ✓");
    // The value seen is the body's, never the header's.
    check(&health("red"), "{.status} in (green,yellow)").expect(1, r#"body: {.status} is \"red\""#);
    check(&health("red"), "{.status}!=red").expect(1, r#"{.status} is \"red\""#);
    check(&health("green"), "{.number_of_nodes}=3").expect(0, "is ready ✓");
    check(&health("green"), "{.missing}").expect(1, "body: {.missing} does not exist yet");
}

#[test]
fn body_json_that_is_not_json_is_not_ready() {
    let server = HttpServer::start(|_| Reply::status(200).body("UP"));
    check(&server.url("/"), "{.status}=UP").expect(1, "the body is not JSON");
    // A JSON body cut at 64 KiB is not JSON either.
    let long = format!(r#"{{"pad":"{}","status":"UP"}}"#, "x".repeat(64 * 1024));
    let big = HttpServer::start(move |_| Reply::status(200).body(&long));
    check(&big.url("/"), "{.status}=UP").expect(1, "the body is not JSON");
}

#[test]
fn body_json_refuses_bad_expressions_and_other_targets_before_any_request() {
    for (args, says) in [
        (
            vec!["check", "http://127.0.0.1:1/", "--body-json", "{.status}="],
            "--body-json: invalid value \"{.status}=\"",
        ),
        (
            vec![
                "check",
                "http://127.0.0.1:1/",
                "--body-json",
                "{..status}=UP",
            ],
            "recursive descent",
        ),
        (
            vec![
                "check",
                "http://127.0.0.1:1/",
                "--body-json",
                "{.status} in ()",
            ],
            "--body-json: invalid value",
        ),
        (
            vec!["check", "tcp://127.0.0.1:1", "--body-json", "{.status}=UP"],
            "--body-json",
        ),
    ] {
        Rdy::new(&args).run().expect(2, says);
    }
}
