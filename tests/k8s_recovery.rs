//! How a `k8s:` wait recovers from the API server's faults, against the
//! fake API server: a 410 on every watch is backed off (requests counted
//! at the server) and logged, a 401 after a success is retried with the
//! credentials read again, and a timeout names the last error in words.

mod common;

use common::kube::fixtures::deployment;
use common::kube::{Canned, FakeApi, Status, Verb, collection};
use common::net::ReservedPort;
use common::{Rdy, eventually};

const NS: &str = "default";

fn deployments() -> String {
    collection("Deployment", NS)
}

/// `rdy ARGS` configured by a kubeconfig for the fake.
fn with_kubeconfig(api: &FakeApi, args: &[&str]) -> Rdy {
    api.kubeconfig().configure(Rdy::new(args))
}

/// The `retry_in=` values of a run's lines.
fn retry_ins(stderr: &str) -> Vec<&str> {
    stderr
        .split(" retry_in=")
        .skip(1)
        .map(|rest| rest.split([' ', '\n']).next().unwrap_or_default())
        .collect()
}

/// Issue 13 items 4 and 8: a server that expires every watch was listed
/// and watched again in a tight loop (285–323 requests in 20 s), and
/// silently.
#[test]
fn a_410_on_every_watch_is_backed_off_and_logged() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2).updated(1));
    for _ in 0..200 {
        let expired = Status::expired(1, 2);
        api.fail_next_verb(Verb::Watch, &deployments(), Canned::status(expired));
    }
    let out = with_kubeconfig(&api, &["wait", "--timeout", "6s", "k8s:deployment/web"]).run();
    out.expect(1, "1 out of 2 new replicas");
    // client-go's backoff: LIST+WATCH at 0, ≥0.8, ≥2.4 and ≥5.6 s.
    let requests = api.count(Verb::List, &deployments()) + api.count(Verb::Watch, &deployments());
    assert!((4..=10).contains(&requests), "{requests} requests in 6 s");
    // The first relist is a debug line; the repeats are info lines.
    let relists: Vec<&str> = out
        .lines()
        .into_iter()
        .filter(|l| l.contains("resource version expired: listing again"))
        .collect();
    assert!(!relists.is_empty(), "{}", out.stderr);
    assert!(
        relists.iter().all(|l| l.contains("level=INFO")),
        "{relists:?}"
    );
    assert!(relists[0].contains("query=\"/apis/apps/v1/namespaces/default/deployments?"));
}

/// Issue 13 item 6: a 401 in the middle of a working wait (a token
/// rotated on the server before the file) ended the wait with exit 3.
#[test]
fn a_401_after_a_success_is_retried_with_the_credentials_read_again() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2).updated(1));
    let sa = api.in_cluster(NS);
    let mut run = sa
        .configure(Rdy::new(&[
            "wait",
            "--timeout",
            "50s",
            "k8s:deployment/web",
        ]))
        .spawn();
    run.wait_for("1 out of 2 new replicas");
    api.await_watchers(&deployments(), 1);
    // The server takes the new token before the kubelet writes it.
    api.set_token("rotated-token");
    api.end_watches();
    assert!(eventually(|| api
        .requests()
        .iter()
        .any(|r| r.status == 401)));
    run.wait_for("accepted before; reading them again");
    sa.write_token("rotated-token");
    api.await_watchers(&deployments(), 1);
    api.apply(deployment("web", NS).replicas(2));
    run.finish().expect(0, "is ready ✓");
}

/// A 401 before anything succeeded is still final: waiting cannot fix
/// credentials that never worked.
#[test]
fn a_401_at_the_start_is_still_exit_3() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let sa = api.in_cluster(NS);
    sa.write_token("wrong-token");
    sa.configure(Rdy::new(&[
        "wait",
        "--timeout",
        "30s",
        "k8s:deployment/web",
    ]))
    .run()
    .expect(3, "Unauthorized: API server rejected the credentials");
}

/// Issue 13 items 7 and 13: a wait for an API server that was never
/// reachable ended with `error=""`, retried lines said `retry_in=837600us`,
/// and a server that hung up was "an unexpected body: Peer disconnected".
#[test]
fn a_timeout_names_the_last_error_in_words() {
    let closed = ReservedPort::new();
    let api = FakeApi::start();
    let unreachable = api
        .kubeconfig()
        .server(&format!("https://127.0.0.1:{}", closed.port));
    let out = unreachable
        .configure(Rdy::new(&[
            "wait",
            "-q",
            "--timeout",
            "2s",
            "k8s:deployment/web",
        ]))
        .run();
    out.expect(1, "error=\"API server: connection refused\"");
    assert!(!out.stderr.contains("error=\"\""), "{}", out.stderr);

    for _ in 0..40 {
        api.fail_next(&deployments(), Canned::hang_up());
    }
    let out = with_kubeconfig(&api, &["wait", "--timeout", "2s", "k8s:deployment/web"]).run();
    out.expect(1, "error=\"API server: the connection closed\"");
    assert!(!out.stderr.contains("Peer disconnected"), "{}", out.stderr);
    let waits = retry_ins(&out.stderr);
    assert!(!waits.is_empty(), "{}", out.stderr);
    for wait in waits {
        let number = wait
            .strip_suffix("ms")
            .or_else(|| wait.strip_suffix('s'))
            .unwrap_or_else(|| panic!("retry_in={wait}"));
        assert!(number.parse::<f64>().is_ok(), "retry_in={wait}");
    }
}
