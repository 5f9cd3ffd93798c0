//! Issue 19 items 1, 3 and 7: `rdy serve` answers every object of a
//! collection from one LIST+WATCH of that collection, against the real API
//! server (and the fake for a 410, which a real one gives only by chance):
//! the API server's own count of open watches, objects created after the
//! LIST, deleted ones, and RBAC that allows only named objects.

mod common;

use common::kube::fixtures::deployment;
use common::kube::{FakeApi, Verb, collection};
use common::realkube::{RealKube, realkube};
use common::serve::{Server, serve_args};
use common::{Rdy, eventually};

fn deployment_json(name: &str) -> String {
    format!(
        r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"{name}"}},"spec":{{"replicas":1,"selector":{{"matchLabels":{{"app":"{name}"}}}},"template":{{"metadata":{{"labels":{{"app":"{name}"}}}},"spec":{{"containers":[{{"name":"app","image":"app:1"}}]}}}}}}}}"#
    )
}

/// Namespace-scoped WATCHes of deployments open on the API server, by its
/// `apiserver_longrunning_requests` gauge (the controller manager's are
/// cluster-scoped).
fn namespaced_deployment_watches(kube: &RealKube) -> u64 {
    let metrics = kube.expect(&[200], "GET", "/metrics", None);
    metrics
        .lines()
        .filter(|l| l.starts_with("apiserver_longrunning_requests{"))
        .filter(|l| {
            l.contains(r#"resource="deployments""#)
                && l.contains(r#"scope="namespace""#)
                && l.contains(r#"verb="WATCH""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn serve(kube: &RealKube, user: &str, args: &[&str]) -> Server {
    Server::with(kube.rdy(user, &serve_args("127.0.0.1:0", args)))
}

#[test]
fn one_watch_serves_every_object_of_a_collection() {
    let Some(kube) = realkube("one_watch_serves_every_object_of_a_collection") else {
        return;
    };
    let ns = kube.namespace("shared");
    let deployments = RealKube::collection("apps/v1", "Deployment", Some(&ns));
    for i in 0..5 {
        kube.create(&deployments, &deployment_json(&format!("d{i}")));
    }
    let before = namespaced_deployment_watches(&kube);
    let server = serve(&kube, "admin", &["--expose", &ns]);
    for i in 0..5 {
        let path = format!("/api/healthz/{ns}/deployment/d{i}");
        let answer = server.get(&path);
        assert_ne!(answer.status, 404, "{path}: {}", answer.body);
    }
    assert!(
        eventually(|| namespaced_deployment_watches(&kube) == before + 1),
        "five objects, {} watches",
        namespaced_deployment_watches(&kube) - before
    );
    // An object created after the LIST is known from the watch, and a
    // deleted one is gone; neither costs a request.
    let late = format!("/api/healthz/{ns}/deployment/late");
    assert_eq!(server.get(&late).status, 404);
    kube.create(&deployments, &deployment_json("late"));
    assert!(
        eventually(|| server.get(&late).status != 404),
        "never saw late"
    );
    kube.delete(&format!("{deployments}/d0"));
    let gone = format!("/api/healthz/{ns}/deployment/d0");
    assert!(
        eventually(|| server.get(&gone).status == 404),
        "d0 still answered"
    );
    let all = server.get(&format!("/api/healthz/{ns}/deployment"));
    for name in ["d1", "d4", "late"] {
        assert!(
            all.body.contains(&format!("deployment/{name}: ")),
            "{}",
            all.body
        );
    }
    assert!(!all.body.contains("deployment/d0:"), "{}", all.body);
    assert_eq!(namespaced_deployment_watches(&kube), before + 1);
}

#[test]
fn metrics_report_each_listed_and_asked_object() {
    let Some(kube) = realkube("metrics_report_each_listed_and_asked_object") else {
        return;
    };
    let ns = kube.namespace("gauges");
    let deployments = RealKube::collection("apps/v1", "Deployment", Some(&ns));
    for name in ["a", "b"] {
        kube.create(&deployments, &deployment_json(name));
    }
    let exposed = format!("{ns}/deployment");
    let server = serve(&kube, "admin", &["--expose", &exposed]);
    let line = |name: &str| {
        format!(r#"rdy_object_healthy{{namespace="{ns}",resource="deployment",name="{name}"}} "#)
    };
    assert!(
        eventually(|| {
            let body = server.get("/metrics").body;
            body.contains(&line("a")) && body.contains(&line("b"))
        }),
        "{}",
        server.get("/metrics").body
    );
}

/// A Role that names its objects (`resourceNames`) cannot list the
/// collection: the server says so once and watches that object alone.
#[test]
fn rbac_for_named_objects_only_falls_back_to_one_watch_per_object() {
    let Some(kube) = realkube("rbac_for_named_objects_only_falls_back_to_one_watch_per_object")
    else {
        return;
    };
    let ns = kube.namespace("named");
    let deployments = RealKube::collection("apps/v1", "Deployment", Some(&ns));
    kube.create(&deployments, &deployment_json("web"));
    let role = r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"web-only"},"rules":[{"apiGroups":["apps"],"resources":["deployments"],"resourceNames":["web"],"verbs":["get","list","watch"]}]}"#;
    let binding = r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"web-only"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"web-only"},"subjects":[{"kind":"User","name":"rk-limited"}]}"#;
    kube.create(
        &RealKube::collection("rbac.authorization.k8s.io/v1", "Role", Some(&ns)),
        role,
    );
    kube.create(
        &RealKube::collection("rbac.authorization.k8s.io/v1", "RoleBinding", Some(&ns)),
        binding,
    );
    let mut server = serve(&kube, "limited", &["--expose", &ns]);
    let path = format!("/api/healthz/{ns}/deployment/web");
    assert!(
        eventually(|| server
            .get(&path)
            .body
            .starts_with("fail deployment/web: Waiting")
            || server.get(&path).status == 200),
        "{}",
        server.get(&path).body
    );
    server
        .running()
        .wait_for("Listing the collection is forbidden: watching its objects one by one");
}

/// A 410 for the collection's watch lists it again, once.
#[test]
fn a_410_relists_the_collection_once() {
    let api = FakeApi::start();
    for name in ["a", "b", "c"] {
        api.apply(deployment(name, "default").replicas(1));
    }
    let server = Server::with(
        api.kubeconfig()
            .configure(Rdy::new(&serve_args("127.0.0.1:0", &[]))),
    );
    for name in ["a", "b", "c"] {
        assert_eq!(
            server
                .get(&format!("/api/healthz/default/deployment/{name}"))
                .status,
            200
        );
    }
    let deployments = collection("Deployment", "default");
    assert_eq!(api.count(Verb::List, &deployments), 1);
    api.await_watchers(&deployments, 1);
    api.expire_watches();
    api.await_count(Verb::List, &deployments, 2);
    api.await_watchers(&deployments, 1);
    assert_eq!(api.count(Verb::List, &deployments), 2);
    assert_eq!(server.get("/api/healthz/default/deployment/b").status, 200);
}
