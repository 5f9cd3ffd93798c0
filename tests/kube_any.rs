//! Any served resource as a `k8s:` target (issue 11): custom resources
//! found through API discovery, kstatus readiness, CRDs, Secret keys,
//! `--for` conditions, RBAC, and `rdy serve`'s object API — against the real
//! API server (tests/common/realkube.rs), with the fake one for counting
//! requests.

mod common;

use common::eventually;
use common::kube::{Canned, FakeApi, Verb};
use common::realkube::{RealKube, realkube};
use common::serve::{Server, serve_args};
use serde_json::json;

/// A CRD of its own for one test: CRDs are cluster-wide, tests run in
/// parallel. Returns (namespace, group, short name).
fn setup(kube: &RealKube, label: &str, kind: &str) -> (String, String, String) {
    let pid = std::process::id();
    let group = format!("{label}-{pid}.example.com");
    let short = format!("{label}{pid}");
    kube.crd(&group, kind, &short);
    (kube.namespace(label), group, short)
}

/// The path of a namespaced custom object.
fn object_path(group: &str, plural: &str, ns: &str, name: &str) -> String {
    format!("/apis/{group}/v1/namespaces/{ns}/{plural}/{name}")
}

/// Creates a custom object with `status` (none if empty) as its controller
/// would write it.
fn make(kube: &RealKube, group: &str, kind: &str, ns: &str, name: &str, status: &str) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    let body = format!(
        r#"{{"apiVersion":"{group}/v1","kind":"{kind}","metadata":{{"name":"{name}"}},"spec":{{"size":1}}}}"#
    );
    kube.create(&format!("/apis/{group}/v1/namespaces/{ns}/{plural}"), &body);
    let path = object_path(group, &plural, ns, name);
    if !status.is_empty() {
        kube.patch_status(&path, status);
    }
    path
}

const NOT_READY: &str = r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"Issuing","message":"waiting for the issuer"}]}"#;
const READY: &str =
    r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Ready"}]}"#;

#[test]
fn custom_resources_by_every_kubectl_name_judged_by_kstatus() {
    let Some(kube) = realkube("custom_resources_by_every_kubectl_name_judged_by_kstatus") else {
        return;
    };
    let (ns, group, short) = setup(&kube, "names", "Widget");
    let path = make(&kube, &group, "Widget", &ns, "a", "");
    // No status at all: kstatus calls it current; rdy says its operator
    // has not reconciled it yet, under every name.
    for name in [
        format!("widget.{group}"),
        format!("widgets.{group}"),
        format!("Widget.{group}"),
        short.clone(),
        format!("{short}.{group}"),
    ] {
        let target = format!("k8s:{ns}/{name}/a");
        kube.rdy("admin", &["check", &target])
            .run()
            .expect(1, r#"widget \"a\" has no status yet"#);
    }
    let target = format!("k8s:{ns}/widget.{group}/a");
    kube.patch_status(&path, NOT_READY);
    kube.rdy("admin", &["check", &target]).run().expect(
        1,
        r#"widget \"a\" is not ready: Ready=False: Issuing: waiting for the issuer"#,
    );
    // A newer spec that the controller has not seen is not ready either.
    kube.patch_status(&path, READY);
    kube.rdy("admin", &["check", &target])
        .run()
        .expect(0, "is ready ✓");
    kube.patch(&path, r#"{"spec":{"size":2}}"#);
    kube.rdy("admin", &["check", &target])
        .run()
        .expect(1, "waiting for generation 2 to be observed (observed 1)");
    kube.patch_status(
        &path,
        r#"{"observedGeneration":2,"conditions":[{"type":"Stalled","status":"True","reason":"InvalidSpec","message":"size 2 is not allowed"}]}"#,
    );
    kube.rdy("admin", &["wait", "-t", "20s", &target])
        .run()
        .expect(3, "Stalled=True: InvalidSpec: size 2 is not allowed");
    // The CRD itself is cluster-scoped: no namespace in its path.
    let crd = format!("k8s:crd/widgets.{group}");
    kube.rdy("admin", &["check", &crd])
        .run()
        .expect(0, "is ready ✓");
    kube.rdy(
        "admin",
        &["check", &format!("k8s:{ns}/crd/widgets.{group}")],
    )
    .run()
    .expect(
        3,
        "customresourcedefinitions is cluster-scoped: write k8s:crd/",
    );
}

#[test]
fn wait_sees_the_status_flip_of_a_custom_resource() {
    let Some(kube) = realkube("wait_sees_the_status_flip_of_a_custom_resource") else {
        return;
    };
    let (ns, group, _) = setup(&kube, "flip", "Certificate");
    let path = make(&kube, &group, "Certificate", &ns, "web", NOT_READY);
    let target = format!("k8s:{ns}/certificate.{group}/web");
    let mut wait = kube.rdy("admin", &["wait", "-t", "25s", &target]).spawn();
    wait.wait_for("Ready=False: Issuing");
    kube.patch_status(&path, READY);
    wait.finish()
        .expect(0, &format!("certificate.{group}/web is ready ✓"));
}

#[test]
fn a_crd_installed_while_waiting_is_found_by_discovery_again() {
    let Some(kube) = realkube("a_crd_installed_while_waiting_is_found_by_discovery_again") else {
        return;
    };
    let pid = std::process::id();
    let group = format!("late-{pid}.example.com");
    let ns = kube.namespace("late");
    let target = format!("k8s:{ns}/gadget.{group}/g");
    kube.rdy("admin", &["check", &target]).run().expect(
        1,
        &format!(r#"the cluster serves no resource \"gadget.{group}\" yet"#),
    );
    let mut wait = kube.rdy("admin", &["wait", "-t", "28s", &target]).spawn();
    wait.wait_for("serves no resource");
    kube.crd(&group, "Gadget", &format!("gdg{pid}"));
    make(&kube, &group, "Gadget", &ns, "g", READY);
    wait.finish()
        .expect(0, &format!("gadget.{group}/g is ready ✓"));
}

#[test]
fn a_secret_key_added_while_waiting() {
    let Some(kube) = realkube("a_secret_key_added_while_waiting") else {
        return;
    };
    let ns = kube.namespace("secret");
    let secrets = format!("/api/v1/namespaces/{ns}/secrets");
    // Not there yet: waited for, not an error.
    let target = format!("k8s:{ns}/secret/tls?key=tls.key");
    kube.rdy("admin", &["check", &target])
        .run()
        .expect(1, "waiting for secret/tls to be created");
    kube.create(
        &secrets,
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"tls"},"data":{"tls.crt":"c2VjcmV0LWNlcnQ="}}"#,
    );
    kube.rdy("admin", &["check", &format!("k8s:{ns}/secrets/tls")])
        .run()
        .expect(0, "is ready ✓");
    let compare = kube
        .rdy(
            "admin",
            &[
                "check",
                &format!("k8s:{ns}/secret/tls"),
                "--for",
                r"jsonpath={.data.tls\.crt}=eA==",
            ],
        )
        .run();
    compare.expect(1, r#"{.data.tls\\.crt} does not match yet"#);
    assert!(!compare.stderr.contains("c2VjcmV0"), "{}", compare.stderr);
    let mut wait = kube.rdy("admin", &["wait", "-t", "25s", &target]).spawn();
    wait.wait_for(r#"has no key \"tls.key\" yet"#);
    kube.patch(
        &format!("{secrets}/tls"),
        r#"{"data":{"tls.key":"c2VjcmV0LWtleQ=="}}"#,
    );
    let out = wait.finish();
    out.expect(0, "secret/tls is ready ✓");
    for value in ["c2VjcmV0", "secret-key", "secret-cert"] {
        assert!(
            !out.stderr.contains(value),
            "a value was logged: {}",
            out.stderr
        );
    }
}

#[test]
fn for_conditions_hold_together_and_missing_fields_are_not_yet() {
    let Some(kube) = realkube("for_conditions_hold_together_and_missing_fields_are_not_yet") else {
        return;
    };
    let (ns, group, _) = setup(&kube, "for", "Cluster");
    let path = make(&kube, &group, "Cluster", &ns, "db", "");
    let target = format!("k8s:{ns}/cluster.{group}/db");
    let phase = "jsonpath={.status.phase}=Cluster in healthy state";
    // No status yet: a field that does not exist is "not yet".
    kube.rdy("admin", &["check", &target, "--for", phase])
        .run()
        .expect(1, "{.status.phase} does not exist yet");
    let mut wait = kube
        .rdy(
            "admin",
            &[
                "wait",
                "-t",
                "25s",
                &target,
                "--for",
                "condition=Ready",
                "--for",
                phase,
            ],
        )
        .spawn();
    wait.wait_for("no condition Ready yet");
    // Ready but the phase is not there yet: both must hold on one version.
    kube.patch_status(
        &path,
        r#"{"phase":"Setting up primary","conditions":[{"type":"Ready","status":"True"}]}"#,
    );
    wait.wait_for(r#"{.status.phase} is \"Setting up primary\""#);
    kube.patch_status(&path, r#"{"phase":"Cluster in healthy state"}"#);
    wait.finish().expect(0, "is ready ✓");
    kube.rdy(
        "admin",
        &[
            "check",
            &format!(
                "{target}?for=jsonpath%3D%7B.status.conditions%5B%3F(%40.type%3D%3D%22Ready%22)%5D.status%7D%3DTrue"
            ),
            "--for",
            "jsonpath={.status.phase}!=Failed",
        ],
    )
    .run()
    .expect(0, "is ready ✓");
    // delete: gone, or never there.
    let mut gone = kube
        .rdy("admin", &["wait", "-t", "25s", &target, "--for", "delete"])
        .spawn();
    gone.wait_for("still exists");
    kube.delete(&path);
    gone.finish().expect(0, "is ready ✓");
    kube.rdy(
        "admin",
        &["check", &format!("k8s:{ns}/svc/none"), "--for", "delete"],
    )
    .run()
    .expect(0, "is ready ✓");
    kube.rdy("admin", &["check", &target, "--for", "create"])
        .run()
        .expect(1, "does not exist yet");
}

#[test]
fn bad_expressions_and_misspelt_kinds_exit_2_before_any_request() {
    // No API server is needed: these are refused while parsing.
    for (args, says) in [
        (
            &[
                "check",
                "k8s:x.example.com/a",
                "--for",
                "jsonpath={..status}",
            ][..],
            "recursive descent",
        ),
        (
            &[
                "check",
                "k8s:x.example.com/a",
                "--for",
                "jsonpath={.a[0:2]}",
            ][..],
            "slices",
        ),
        (
            &["check", "k8s:x.example.com/a", "--for", "ready"][..],
            "expected condition=NAME",
        ),
        (
            &["check", "k8s:deploymnet/a"][..],
            r#"did you mean "deployment""#,
        ),
        (&["check", "k8s:secret/a?key="][..], "key="),
        (
            &["check", "k8s:job/a?key=x"][..],
            "key= applies to secret and configmap only",
        ),
        (
            &["check", "db:5432", "--for", "create"][..],
            "--for applies to k8s: targets",
        ),
    ] {
        let out = common::Rdy::new(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .run();
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn forbidden_names_the_resolved_resource_and_group() {
    let Some(kube) = realkube("forbidden_names_the_resolved_resource_and_group") else {
        return;
    };
    let (ns, group, short) = setup(&kube, "rbac", "Widget");
    // Discovery needs no Role (system:discovery); the LIST does.
    let target = format!("k8s:{ns}/{short}/a");
    kube.rdy("limited", &["wait", "-t", "20s", &target]).run().expect(
        3,
        &format!(
            r#"hint: Role rule {{apiGroups: [\"{group}\"], resources: [\"widgets\"], verbs: [\"list\",\"watch\"]}}; check: kubectl auth can-i list widgets.{group} -n {ns} --as=rk-limited"#
        ),
    );
    kube.rdy("limited", &["check", &format!("k8s:crd/widgets.{group}")])
        .run()
        .expect(
            3,
            "hint: ClusterRole rule {apiGroups: [\\\"apiextensions.k8s.io\\\"]",
        );
}

#[test]
fn serve_answers_for_custom_resources_within_the_exposure() {
    let Some(kube) = realkube("serve_answers_for_custom_resources_within_the_exposure") else {
        return;
    };
    let (ns, group, short) = setup(&kube, "serve", "Widget");
    let path = make(&kube, &group, "Widget", &ns, "a", NOT_READY);
    let expose = format!("{ns}/widgets.{group}");
    let target = format!("k8s:{ns}/widget.{group}/a");
    let server = Server::with(kube.rdy(
        "admin",
        &serve_args("127.0.0.1:0", &["--expose", &expose, &target]),
    ));
    assert_eq!(server.get("/all").status, 503);
    let url = |resource: &str, name: &str| format!("/api/healthz/{ns}/{resource}/{name}");
    let answer = server.get(&url(&format!("widget.{group}"), "a"));
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(
        answer.body.contains("Ready=False: Issuing"),
        "{}",
        answer.body
    );
    kube.patch_status(&path, READY);
    assert!(eventually(|| server.get(&url(&short, "a")).status == 200));
    assert!(eventually(|| server.get("/all").status == 200));
    let json = server.get(&format!("{}?format=json", url(&short, "a")));
    assert!(
        json.body
            .contains(&format!(r#""kind":"{short}","name":"a","healthy":true"#)),
        "{}",
        json.body
    );
    assert_eq!(server.get(&url(&short, "missing")).status, 404);
    // Outside the exposure: answered as missing.
    assert_eq!(server.get(&url("secret", "any")).status, 404);
    assert_eq!(
        server
            .get(&format!("/api/healthz/default/widget.{group}/a"))
            .status,
        404
    );
    kube.patch_status(
        &path,
        r#"{"conditions":[{"type":"Stalled","status":"True","reason":"Broken"}]}"#,
    );
    assert!(eventually(|| {
        let failed = server.get(&url(&short, "a"));
        failed.status == 503 && failed.header("rdy-outcome") == Some("failed")
    }));
}

/// A Widget the fake serves, with its Ready condition.
fn widget(ready: bool) -> serde_json::Value {
    let status = if ready { "True" } else { "False" };
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "a", "namespace": "default", "generation": 1},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": status}]}})
}

#[test]
fn a_ready_custom_resource_costs_at_most_four_requests_discovery_included() {
    let api = FakeApi::start();
    api.apply(widget(true));
    api.kubeconfig()
        .configure(common::Rdy::new(&[
            "wait",
            "-t",
            "20s",
            "k8s:wdg/a",
            "k8s:widgets.example.com/a",
        ]))
        .run()
        .expect(0, "wdg/a is ready ✓");
    let paths: Vec<String> = api.requests().iter().map(|r| r.path.clone()).collect();
    // Discovery once for both targets (cached per process), then one LIST
    // each.
    assert_eq!(
        paths
            .iter()
            .filter(|p| *p == "/api" || *p == "/apis")
            .count(),
        2,
        "{paths:?}"
    );
    assert_eq!(
        api.count(
            Verb::List,
            "/apis/example.com/v1/namespaces/default/widgets"
        ),
        2
    );
    assert_eq!(paths.len(), 4, "{paths:?}");
    let discovery = api
        .requests()
        .into_iter()
        .find(|r| r.path == "/apis")
        .expect("discovery");
    assert!(
        discovery
            .accept
            .as_deref()
            .unwrap_or("")
            .starts_with("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
        "{:?}",
        discovery.accept
    );
}

#[test]
fn a_change_is_seen_within_one_watch_event() {
    let api = FakeApi::start();
    api.apply(widget(false));
    let mut wait = api
        .kubeconfig()
        .configure(common::Rdy::new(&[
            "wait",
            "-t",
            "20s",
            "k8s:widget.example.com/a",
        ]))
        .spawn();
    wait.wait_for("is not ready: Ready=False");
    let collection = "/apis/example.com/v1/namespaces/default/widgets";
    api.await_watchers(collection, 1);
    api.apply(widget(true));
    wait.finish().expect(0, "is ready ✓");
    let requests = api.requests();
    assert_eq!(
        requests.len(),
        4,
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(api.count(Verb::Watch, collection), 1);
}

#[test]
fn discovery_refused_is_exit_3_and_unavailable_is_retried() {
    let api = FakeApi::start();
    api.apply(widget(true));
    api.fail_next(
        "/api",
        Canned::raw(
            403,
            "application/json",
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:serviceaccount:app:waiter\" cannot get path \"/api\"","reason":"Forbidden","details":{},"code":403}"#,
        ),
    );
    api.kubeconfig()
        .configure(common::Rdy::new(&["check", "k8s:wdg/a"]))
        .run()
        .expect(
            3,
            "granted to every authenticated user by the ClusterRole system:discovery",
        );
    api.fail_next("/api", Canned::service_unavailable("etcd is slow"));
    api.kubeconfig()
        .configure(common::Rdy::new(&["wait", "-t", "20s", "k8s:wdg/a"]))
        .run()
        .expect(0, "wdg/a is ready ✓")
        .expect(0, "etcd is slow");
}
