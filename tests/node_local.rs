//! Node-local targets (issue 18, item 5): `k8s:ds/NAME?node=self` and
//! `k8s:pods?selector=…&node=self` judge the pods on this pod's node
//! (`NODE_NAME`), against the real API server (tests/common/realkube.rs).
//!
//! There is no controller manager, scheduler or kubelet: the tests make
//! each DaemonSet pod as its controller would (owned by the DaemonSet, on
//! its node) and write its status as a kubelet would.

mod common;

use common::Rdy;
use common::realkube::{RealKube, realkube};
use serde_json::{Value, json};

/// A Node of this test run, `PREFIX-PID`, with `labels`.
fn node(kube: &RealKube, prefix: &str, labels: Value) -> String {
    let name = format!("{prefix}-{}", std::process::id());
    let node = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels}});
    kube.create("/api/v1/nodes", &node.to_string());
    name
}

/// A DaemonSet `name` whose pods tolerate every taint (a Node without a
/// kubelet is tainted not-ready), with `spec` merged into its pod spec.
fn daemonset(kube: &RealKube, ns: &str, name: &str, spec: Value) {
    let mut pod = json!({"tolerations": [{"operator": "Exists"}],
        "containers": [{"name": "c", "image": "x"}]});
    for (k, v) in spec.as_object().expect("object") {
        pod[k] = v.clone();
    }
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}});
    kube.create(
        &format!("/apis/apps/v1/namespaces/{ns}/daemonsets"),
        &ds.to_string(),
    );
}

/// Makes the DaemonSet's pod for `node` as its controller and the
/// scheduler would leave it (no controller manager runs here): labelled
/// by the template, owned by the DaemonSet (`controller: true`), bound to
/// the node. Returns its path.
fn bind(kube: &RealKube, ns: &str, ds: &str, node: &str) -> String {
    let body = kube.expect(
        &[200],
        "GET",
        &format!("/apis/apps/v1/namespaces/{ns}/daemonsets/{ds}"),
        None,
    );
    let set: Value = serde_json::from_str(&body).expect("daemonset");
    let uid = set["metadata"]["uid"].as_str().expect("uid");
    let name = format!("{ds}-{node}");
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": ds},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds,
                "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": node, "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "c", "image": "x"}]}});
    let pods = format!("/api/v1/namespaces/{ns}/pods");
    kube.create(&pods, &pod.to_string());
    format!("{pods}/{name}")
}

/// `rdy ARGS` as the admin, on `node`.
fn on(kube: &RealKube, node: &str, args: &[&str]) -> Rdy {
    kube.rdy("admin", args).env("NODE_NAME", node)
}

#[test]
fn the_daemonset_pod_on_this_node_decides() {
    let Some(kube) = realkube("the_daemonset_pod_on_this_node_decides") else {
        return;
    };
    let ns = kube.namespace("node-local");
    let (here, there) = (
        node(&kube, "here", json!({})),
        node(&kube, "there", json!({})),
    );
    daemonset(&kube, &ns, "agent", json!({}));
    let target = format!("k8s:{ns}/ds/agent?node=self");
    on(&kube, &here, &["check", &target])
        .run()
        .expect(1, r#"no pod on node \"here-"#);
    // Ready elsewhere does not count.
    let elsewhere = bind(&kube, &ns, "agent", &there);
    kube.pod_ready(&elsewhere);
    on(&kube, &here, &["check", &target])
        .run()
        .expect(1, "no pod on node");
    let selected = format!("k8s:{ns}/pods?selector=app%3Dagent&node=self");
    on(&kube, &there, &["check", &selected])
        .run()
        .expect(0, "is ready");
    on(&kube, &here, &["check", &selected])
        .run()
        .expect(1, "no pod on node");
    // Bound here, not ready yet; then ready while rdy waits.
    let mine = bind(&kube, &ns, "agent", &here);
    on(&kube, &here, &["check", &target])
        .run()
        .expect(1, "0 of 1 ready");
    let mut wait = on(&kube, &here, &["wait", "-t", "20s", &target]).spawn();
    wait.wait_for("0 of 1 ready");
    kube.pod_ready(&mine);
    wait.finish().expect(0, "is ready");
}

#[test]
fn a_daemonset_that_cannot_place_a_pod_on_this_node_is_final() {
    let Some(kube) = realkube("a_daemonset_that_cannot_place_a_pod_on_this_node_is_final") else {
        return;
    };
    let ns = kube.namespace("node-place");
    let hdd = node(&kube, "hdd", json!({"disk": "hdd"}));
    let ssd = node(&kube, "ssd", json!({"disk": "ssd", "zone": "z1"}));
    daemonset(
        &kube,
        &ns,
        "picky",
        json!({"nodeSelector": {"disk": "ssd"}}),
    );
    let zone = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z1"]}]}]}}});
    daemonset(&kube, &ns, "zonal", json!({"affinity": zone}));
    let picky = format!("k8s:{ns}/ds/picky?node=self");
    let zonal = format!("k8s:{ns}/ds/zonal?node=self");
    on(&kube, &hdd, &["check", &picky])
        .run()
        .expect(3, r#"places no pod on node \"hdd-"#);
    on(&kube, &hdd, &["wait", "-t", "20s", &picky])
        .run()
        .expect(
            3,
            "its nodeSelector disk=ssd does not match the node's labels",
        );
    on(&kube, &hdd, &["check", &zonal])
        .run()
        .expect(3, "no term of its required node affinity");
    on(&kube, &ssd, &["check", &picky])
        .run()
        .expect(1, "no pod on node");
    on(&kube, &ssd, &["check", &zonal])
        .run()
        .expect(1, "no pod on node");
}

#[test]
fn node_self_needs_node_name_from_the_downward_api() {
    let cases = [
        (
            "k8s:ds/agent?node=self",
            "NODE_NAME, which is not set; set it from the downward API",
        ),
        ("k8s:ds/agent?node=web-1", "node=\"web-1\": expected self"),
        (
            "k8s:deploy/web?node=self",
            "node= applies to daemonset and pods only",
        ),
        (
            "k8s:ds/agent?node=self&for=create",
            "cannot be combined with node=",
        ),
    ];
    for (target, says) in cases {
        let out = Rdy::new(&["check", target])
            .env("KUBECONFIG", "/nonexistent")
            .run();
        out.expect(2, says);
        assert!(out.stderr.contains("spec.nodeName") || !says.contains("downward"));
    }
}
