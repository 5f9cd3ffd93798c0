//! examples/native-sidecar.yaml against the real API server: a server-side
//! dry run (`?dryRun=All`) validates the Deployment and its pod as a
//! cluster would — the init container's `restartPolicy: Always` (the native
//! sidecar field), its probes, and Pod Security's `restricted` profile,
//! which the test's namespace enforces — without creating anything.

mod common;

use serde_json::{Value, json};

use common::realkube::{RealKube, realkube};

const EXAMPLE: &str = include_str!("../examples/native-sidecar.yaml");

fn example() -> Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(EXAMPLE).expect("example YAML");
    serde_json::to_value(yaml).expect("example as JSON")
}

/// A namespace of this test whose pods must meet the `restricted` profile.
fn restricted_namespace(rk: &RealKube) -> String {
    let ns = rk.namespace("native-sidecar");
    let patch = json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }}});
    let response = rk.request(
        "PATCH",
        &format!("/api/v1/namespaces/{ns}"),
        Some(("application/merge-patch+json", &patch.to_string())),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    ns
}

fn dry_run(rk: &RealKube, collection: &str, object: &Value) -> (u16, Value) {
    let response = rk.request(
        "POST",
        &format!("{collection}?dryRun=All&fieldValidation=Strict"),
        Some(("application/json", &object.to_string())),
    );
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

/// The pod the Deployment would make.
fn pod_of(deployment: &Value) -> Value {
    let template = &deployment["spec"]["template"];
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "shop-dry-run", "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    })
}

#[test]
fn the_native_sidecar_example_passes_a_server_side_dry_run() {
    let Some(rk) = realkube("the_native_sidecar_example_passes_a_server_side_dry_run") else {
        return;
    };
    let ns = restricted_namespace(&rk);
    let deployment = example();

    let (status, created) = dry_run(
        &rk,
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        &deployment,
    );
    assert_eq!(status, 201, "{created}");
    // The server kept the sidecar fields: a server that did not know them
    // would have dropped them (or refused them under Strict validation).
    let sidecar = &created["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always", "{created}");
    assert_eq!(sidecar["startupProbe"]["httpGet"]["path"], "/all");
    assert_eq!(sidecar["livenessProbe"]["httpGet"]["path"], "/self");

    // The pod itself, where Pod Security is enforced, not only warned of.
    let pod = pod_of(&deployment);
    let pods = format!("/api/v1/namespaces/{ns}/pods");
    let (status, answer) = dry_run(&rk, &pods, &pod);
    assert_eq!(status, 201, "{answer}");

    // The same pod with a restart policy no sidecar may have is refused:
    // the server really validates the field this example relies on.
    let mut wrong = pod.clone();
    wrong["spec"]["initContainers"][0]["restartPolicy"] = json!("OnFailure");
    let (status, answer) = dry_run(&rk, &pods, &wrong);
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("restartPolicy"), "{answer}");

    // A dry run creates nothing.
    let after = rk.request(
        "GET",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/shop"),
        None,
    );
    assert_eq!(after.status, 404, "{}", after.body);
}
