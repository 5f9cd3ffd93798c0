//! Issue 19 item 4: `rdy wait` with several objects of one collection
//! makes one LIST and one WATCH of the collection; a single object keeps
//! the per-object `fieldSelector` form (which RBAC `resourceNames` can
//! restrict). Against the fake API server, which counts requests.

mod common;

use common::Rdy;
use common::kube::fixtures::deployment;
use common::kube::{FakeApi, Verb, collection};

const NS: &str = "default";

/// `rdy wait --timeout 20s` for the Deployments `names`.
fn wait(api: &FakeApi, names: &[&str]) -> Rdy {
    let targets: Vec<String> = names
        .iter()
        .map(|n| format!("k8s:deployment/{n}"))
        .collect();
    let mut args = vec!["wait", "--timeout", "20s"];
    args.extend(targets.iter().map(String::as_str));
    api.kubeconfig().configure(Rdy::new(&args))
}

#[test]
fn several_objects_of_one_collection_share_one_watch() {
    let api = FakeApi::start();
    api.apply(deployment("a", NS).replicas(1));
    api.apply(deployment("b", NS).replicas(1));
    api.apply(deployment("c", NS).replicas(2).updated(1));
    let deployments = collection("Deployment", NS);
    let mut run = wait(&api, &["a", "b", "c"]).spawn();
    run.wait_for("1 out of 2 new replicas");
    api.await_watchers(&deployments, 1);
    api.apply(deployment("c", NS).replicas(2));
    run.finish().expect(0, "deployment/c is ready");
    let lists: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.verb == Verb::List && r.collection.as_deref() == Some(deployments.as_str()))
        .collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(
        lists[0].param("fieldSelector"),
        None,
        "the whole collection"
    );
    assert_eq!(api.count(Verb::Watch, &deployments), 1);
}

#[test]
fn a_single_object_keeps_the_field_selector() {
    let api = FakeApi::start();
    api.apply(deployment("a", NS).replicas(1));
    api.kubeconfig()
        .configure(Rdy::new(&["wait", "--timeout", "10s", "k8s:deployment/a"]))
        .run()
        .expect(0, "deployment/a is ready");
    let list = api
        .requests()
        .into_iter()
        .find(|r| r.verb == Verb::List)
        .expect("a LIST");
    assert_eq!(list.param("fieldSelector"), Some("metadata.name=a"));
}

/// Refused by RBAC, even object by object, the shared wait ends at once
/// (exit 3) as a wait of its own does.
#[test]
fn a_shared_wait_refused_by_rbac_ends_at_once() {
    let api = FakeApi::start();
    let deployments = collection("Deployment", NS);
    for _ in 0..4 {
        let refusal = common::kube::Canned::forbidden("list", "deployments", "apps", NS, "", "rk");
        api.fail_next_verb(Verb::List, &deployments, refusal);
    }
    let out = wait(&api, &["a", "b"]).run();
    out.expect(3, "can never become ready ✗");
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
}
