//! Issue 19 item 8: a hostile API server (the fake, answering with bodies
//! that never end) drove rdy to hundreds of megabytes and past its
//! deadline. LIST, WATCH and discovery bodies are now read as a stream that
//! keeps only what the rules read, and a body over a bound is an error
//! that names the request. Memory and timing are benchmark figures
//! (bench/kube_hostile.sh); these tests hold the outcome: the error line
//! and the exit code.

mod common;

use common::Rdy;
use common::kube::{Canned, FakeApi, Verb, collection};

const NS: &str = "default";

fn wait(api: &FakeApi, target: &str) -> common::Finished {
    api.kubeconfig()
        .configure(Rdy::new(&["wait", "--timeout", "20s", target]))
        .run()
}

/// A LIST whose one item never closes: what is kept of it (a label) grows
/// until the bound, and the wait ends at once with the request named.
#[test]
fn an_endless_object_in_a_list_is_refused_by_name() {
    let api = FakeApi::start();
    let deployments = collection("Deployment", NS);
    let start = r#"{"kind":"DeploymentList","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"web","labels":{"a":""#;
    api.fail_next_verb(Verb::List, &deployments, Canned::endless(start, "a"));
    let out = wait(&api, "k8s:deployment/web");
    out.expect(3, "is too large: what rdy keeps of it exceeds 16 MiB");
    assert!(
        out.stderr
            .contains("answer to /apis/apps/v1/namespaces/default/deployments?fieldSelector="),
        "{}",
        out.stderr
    );
}

/// The same object endless in a field no rule reads: nothing is kept,
/// and the bound on one object's bytes ends it.
#[test]
fn an_endless_object_in_a_dropped_field_is_refused_too() {
    let api = FakeApi::start();
    let deployments = collection("Deployment", NS);
    let start = r#"{"metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"web"},"spec":{"template":""#;
    api.fail_next_verb(Verb::List, &deployments, Canned::endless(start, "x"));
    wait(&api, "k8s:deployment/web").expect(3, "is too large: one value exceeds 16 MiB");
}

/// A LIST that never ends (the same pod again and again): the items'
/// total is bounded, not only the collection kept.
#[test]
fn a_list_that_never_ends_is_refused_by_name() {
    let api = FakeApi::start();
    let pods = collection("Pod", NS);
    let start = r#"{"metadata":{"resourceVersion":"1"},"items":["#;
    let item = r#"{"metadata":{"name":"p","labels":{"app":"web"}},"status":{"phase":"Running"}},"#;
    api.fail_next_verb(Verb::List, &pods, Canned::endless(start, item));
    wait(&api, "k8s:pods?selector=app%3Dweb").expect(
        3,
        "answer to /api/v1/namespaces/default/pods?labelSelector=app%3Dweb is too large",
    );
}

/// 10^5-deep nesting is refused at rdy's nesting limit, never followed
/// down; not being JSON, it is retried until the deadline, which names it.
#[test]
fn deep_nesting_is_refused_at_the_limit() {
    let api = FakeApi::start();
    let deployments = collection("Deployment", NS);
    let deep = format!(
        r#"{{"metadata":{{"resourceVersion":"1"}},"items":[{{"spec":{}"#,
        "[".repeat(100_000)
    );
    for _ in 0..100 {
        api.fail_next_verb(
            Verb::List,
            &deployments,
            Canned::raw(200, "application/json", &deep),
        );
    }
    let out = api
        .kubeconfig()
        .configure(Rdy::new(&["wait", "--timeout", "3s", "k8s:deployment/web"]))
        .run();
    out.expect(1, "less nesting");
}

/// A discovery document without end (a 100 MB one is its first 100 MB):
/// the bound on what is kept of it ends the read, naming `/api`.
#[test]
fn an_endless_discovery_document_is_refused_by_name() {
    let api = FakeApi::start();
    let start = r#"{"kind":"APIGroupDiscoveryList","items":["#;
    let group = r#"{"metadata":{"name":"g"},"versions":[{"version":"v1","resources":[{"resource":"widgets","scope":"Namespaced"}]}]},"#;
    api.fail_next("/api", Canned::endless(start, group));
    wait(&api, "k8s:widgets.example.com/w").expect(3, "answer to /api is too large");
}

/// A watch event that never ends is a broken stream: retried after the
/// backoff, and the deadline's line names the bound.
#[test]
fn an_endless_watch_event_is_a_broken_stream() {
    let api = FakeApi::start();
    let deployments = collection("Deployment", NS);
    api.apply(
        common::kube::fixtures::deployment("web", NS)
            .replicas(2)
            .updated(1),
    );
    let start = r#"{"type":"MODIFIED","object":{"metadata":{"name":"web","labels":{"a":""#;
    for _ in 0..20 {
        api.fail_next_verb(Verb::Watch, &deployments, Canned::endless(start, "a"));
    }
    let out = api
        .kubeconfig()
        .configure(Rdy::new(&["wait", "--timeout", "4s", "k8s:deployment/web"]))
        .run();
    out.expect(1, "a watch event: one value exceeds 16 MiB");
}
