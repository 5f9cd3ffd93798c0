//! Ready means ready (issue 18): no "ready" for an object its controller
//! has not reconciled, the rule table's kinds (PVCs, Argo Rollouts, Flux,
//! Crossplane, cert-manager...), ExternalName Services, pods that crash or
//! cannot be scheduled, and `--failed-if` — against the real API server.
//! Status is written through the `/status` subresource, as each controller
//! writes it. The CRDs are the operators' own groups and versions, with
//! schemas trimmed to what the rules read.

mod common;

use common::Rdy;
use common::eventually;
use common::realkube::{RealKube, realkube};
use common::serve::{Server, serve_args};

/// Installs the CRD `PLURAL.GROUP` at `version` with a status subresource,
/// `status` typed as the operator's schema has it (trimmed), or finds it
/// installed by an earlier test of this run.
fn operator_crd(kube: &RealKube, group: &str, version: &str, kind: &str, status: &str) {
    let plural = format!("{}s", kind.to_lowercase());
    let name = format!("{plural}.{group}");
    let body = format!(
        r#"{{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{{"name":"{name}"}},"spec":{{"group":"{group}","scope":"Namespaced","names":{{"kind":"{kind}","plural":"{plural}","singular":"{}"}},"versions":[{{"name":"{version}","served":true,"storage":true,"subresources":{{"status":{{}}}},"schema":{{"openAPIV3Schema":{{"type":"object","properties":{{"spec":{{"type":"object","x-kubernetes-preserve-unknown-fields":true}},"status":{status}}}}}}}}}]}}}}"#,
        kind.to_lowercase()
    );
    kube.expect(
        &[201, 409],
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some(("application/json", &body)),
    );
    kube.await_body(
        &format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
        r#""type":"Established","status":"True""#,
    );
}

/// metav1.Condition as operators' CRDs declare it (type, status, reason,
/// message, observedGeneration), in a status with `observedGeneration`.
const CONDITIONS_STATUS: &str = r#"{"type":"object","properties":{"observedGeneration":{"type":"integer"},"conditions":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string"},"status":{"type":"string"},"reason":{"type":"string"},"message":{"type":"string"},"observedGeneration":{"type":"integer"},"lastTransitionTime":{"type":"string"}}}}}}"#;

/// Creates `kind` `name` (spec `{"size":1}`) at `group/version` in `ns` and
/// returns its path.
fn create(kube: &RealKube, group: &str, version: &str, kind: &str, ns: &str, name: &str) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    let collection = format!("/apis/{group}/{version}/namespaces/{ns}/{plural}");
    kube.create(
        &collection,
        &format!(
            r#"{{"apiVersion":"{group}/{version}","kind":"{kind}","metadata":{{"name":"{name}"}},"spec":{{"size":1}}}}"#
        ),
    );
    format!("{collection}/{name}")
}

fn check(kube: &RealKube, args: &[&str]) -> Rdy {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    kube.rdy("admin", &all)
}

#[test]
fn a_custom_resource_without_status_is_not_ready_until_its_operator_writes_one() {
    let Some(kube) =
        realkube("a_custom_resource_without_status_is_not_ready_until_its_operator_writes_one")
    else {
        return;
    };
    operator_crd(
        &kube,
        "cert-manager.io",
        "v1",
        "Certificate",
        CONDITIONS_STATUS,
    );
    let ns = kube.namespace("fresh");
    let path = create(
        &kube,
        "cert-manager.io",
        "v1",
        "Certificate",
        &ns,
        "api-tls",
    );
    let target = format!("k8s:{ns}/certificate.cert-manager.io/api-tls");
    check(&kube, &[&target]).run().expect(
        1,
        r#"certificate \"api-tls\" has no status yet: no controller has reconciled it"#,
    );
    // The opt-out the message names.
    check(&kube, &[&target, "--for", "create"])
        .run()
        .expect(0, "is ready ✓");
    let mut wait = kube.rdy("admin", &["wait", "-t", "30s", &target]).spawn();
    wait.wait_for("has no status yet");
    kube.patch_status(
        &path,
        r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Ready","observedGeneration":1}]}"#,
    );
    wait.finish().expect(0, "is ready ✓");
    // A new spec: the Ready condition written for generation 1 is stale.
    kube.patch(&path, r#"{"spec":{"size":2}}"#);
    check(&kube, &[&target])
        .run()
        .expect(1, "waiting for generation 2 to be observed (observed 1)");
    kube.patch_status(
        &path,
        r#"{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","reason":"Ready","observedGeneration":1}]}"#,
    );
    check(&kube, &[&target])
        .run()
        .expect(1, "condition Ready is for generation 1, not 2 yet");
}

#[test]
fn a_persistent_volume_claim_is_ready_when_bound_and_lost_is_final() {
    let Some(kube) = realkube("a_persistent_volume_claim_is_ready_when_bound_and_lost_is_final")
    else {
        return;
    };
    let ns = kube.namespace("pvc");
    let pv = format!("rdy-pv-{ns}");
    let claims = format!("/api/v1/namespaces/{ns}/persistentvolumeclaims");
    // Three claims, each in a state the binder (the controller manager,
    // when it runs) writes too, so it never undoes what the test wrote.
    let claim = |name: &str, bound_to: Option<&str>| {
        let (annotations, volume) = match bound_to {
            Some(v) => (
                r#","annotations":{"pv.kubernetes.io/bind-completed":"yes"}"#.to_owned(),
                format!(r#","volumeName":"{v}""#),
            ),
            None => (String::new(), String::new()),
        };
        kube.create(
            &claims,
            &format!(
                r#"{{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{{"name":"{name}"{annotations}}},"spec":{{"accessModes":["ReadWriteOnce"],"storageClassName":"manual-{ns}","resources":{{"requests":{{"storage":"1Gi"}}}}{volume}}}}}"#
            ),
        );
        format!("{claims}/{name}")
    };
    // No volume: Pending.
    let pending = claim("pending", None);
    kube.patch_status(&pending, r#"{"phase":"Pending"}"#);
    check(&kube, &[&format!("k8s:{ns}/pvc/pending")])
        .run()
        .expect(
            1,
            r#"persistentvolumeclaim \"pending\" is not ready: {.status.phase} is \"Pending\""#,
        );
    // A claim and a volume bound to each other (the volume's claimRef
    // names the claim's uid): Bound.
    let bound = claim("bound", Some(&pv));
    let body = kube.expect(&[200], "GET", &bound, None);
    let uid = body
        .split(r#""uid": ""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the claim's uid");
    kube.create(
        "/api/v1/persistentvolumes",
        &format!(
            r#"{{"apiVersion":"v1","kind":"PersistentVolume","metadata":{{"name":"{pv}"}},"spec":{{"capacity":{{"storage":"1Gi"}},"accessModes":["ReadWriteOnce"],"hostPath":{{"path":"/tmp/{pv}"}},"storageClassName":"manual-{ns}","claimRef":{{"namespace":"{ns}","name":"bound","uid":"{uid}"}}}}}}"#
        ),
    );
    kube.patch_status(
        &bound,
        r#"{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"1Gi"}}"#,
    );
    let bound_target = format!("k8s:{ns}/pvc/bound");
    assert!(eventually(|| check(&kube, &["-q", &bound_target])
        .run()
        .code
        == Some(0)));
    // Bound to a volume that no longer exists: Lost, for good.
    let lost = claim("lost", Some(&format!("{pv}-gone")));
    kube.patch_status(&lost, r#"{"phase":"Lost"}"#);
    kube.rdy(
        "admin",
        &["wait", "-t", "30s", &format!("k8s:{ns}/pvc/lost")],
    )
    .run()
    .expect(
        3,
        r#"persistentvolumeclaim \"lost\" is Lost: its volume no longer exists"#,
    );
}

/// Argo Rollouts' status, trimmed: `observedGeneration` is a string there.
const ROLLOUT_STATUS: &str = r#"{"type":"object","properties":{"observedGeneration":{"type":"string"},"phase":{"type":"string"},"message":{"type":"string"},"replicas":{"type":"integer"},"updatedReplicas":{"type":"integer"},"availableReplicas":{"type":"integer"},"pauseConditions":{"type":"array","items":{"type":"object","x-kubernetes-preserve-unknown-fields":true}},"conditions":{"type":"array","items":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}"#;

#[test]
fn a_paused_argo_rollout_is_not_ready_and_a_degraded_one_is_final() {
    let Some(kube) = realkube("a_paused_argo_rollout_is_not_ready_and_a_degraded_one_is_final")
    else {
        return;
    };
    operator_crd(&kube, "argoproj.io", "v1alpha1", "Rollout", ROLLOUT_STATUS);
    let ns = kube.namespace("rollout");
    let path = create(&kube, "argoproj.io", "v1alpha1", "Rollout", &ns, "web");
    kube.patch(&path, r#"{"spec":{"replicas":3}}"#);
    let target = format!("k8s:{ns}/rollout/web");
    // Mid-canary: paused at a step, one of three replicas updated.
    kube.patch_status(
        &path,
        r#"{"observedGeneration":"2","phase":"Paused","message":"CanaryPauseStep","replicas":3,"updatedReplicas":1,"availableReplicas":3,"pauseConditions":[{"reason":"CanaryPauseStep"}]}"#,
    );
    check(&kube, &[&target]).run().expect(
        1,
        r#"rollout \"web\" is not ready: {.status.phase} is \"Paused\" (CanaryPauseStep)"#,
    );
    kube.patch_status(
        &path,
        r#"{"phase":"Healthy","message":null,"updatedReplicas":3,"availableReplicas":2,"pauseConditions":null}"#,
    );
    check(&kube, &[&target])
        .run()
        .expect(1, "2 of 3 updated replicas available");
    kube.patch_status(&path, r#"{"availableReplicas":3}"#);
    check(&kube, &[&target]).run().expect(0, "is ready ✓");
    kube.patch_status(
        &path,
        r#"{"phase":"Degraded","message":"RolloutAborted: metric error-rate assessed Failed"}"#,
    );
    kube.rdy("admin", &["wait", "-t", "30s", &target])
        .run()
        .expect(
            3,
            "is Degraded (RolloutAborted: metric error-rate assessed Failed)",
        );
}

#[test]
fn a_stalled_flux_helmrelease_is_final() {
    let Some(kube) = realkube("a_stalled_flux_helmrelease_is_final") else {
        return;
    };
    operator_crd(
        &kube,
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        CONDITIONS_STATUS,
    );
    let ns = kube.namespace("flux");
    let path = create(
        &kube,
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        &ns,
        "app",
    );
    let target = format!("k8s:{ns}/helmrelease/app");
    let mut wait = kube.rdy("admin", &["wait", "-t", "30s", &target]).spawn();
    wait.wait_for("has no status yet");
    kube.patch_status(
        &path,
        r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"InstallFailed","observedGeneration":1},{"type":"Stalled","status":"True","reason":"RetriesExceeded","message":"install retries exhausted","observedGeneration":1}]}"#,
    );
    wait.finish().expect(
        3,
        "is stalled: Flux stopped retrying until its spec changes (RetriesExceeded) (install retries exhausted)",
    );
}

#[test]
fn a_crossplane_managed_resource_needs_synced_and_ready() {
    let Some(kube) = realkube("a_crossplane_managed_resource_needs_synced_and_ready") else {
        return;
    };
    operator_crd(
        &kube,
        "s3.aws.upbound.io",
        "v1beta1",
        "Bucket",
        CONDITIONS_STATUS,
    );
    let ns = kube.namespace("xp");
    let path = create(&kube, "s3.aws.upbound.io", "v1beta1", "Bucket", &ns, "logs");
    kube.patch(&path, r#"{"spec":{"forProvider":{"region":"eu-west-1"}}}"#);
    let target = format!("k8s:{ns}/bucket.s3.aws.upbound.io/logs");
    kube.patch_status(
        &path,
        r#"{"conditions":[{"type":"Ready","status":"True","reason":"Available"},{"type":"Synced","status":"False","reason":"ReconcileError","message":"cannot update bucket"}]}"#,
    );
    check(&kube, &[&target]).run().expect(
        1,
        "is not ready: condition Synced is False (ReconcileError) (cannot update bucket)",
    );
    kube.patch_status(
        &path,
        r#"{"conditions":[{"type":"Ready","status":"True","reason":"Available"},{"type":"Synced","status":"True","reason":"ReconcileSuccess"}]}"#,
    );
    check(&kube, &[&target]).run().expect(0, "is ready ✓");
}

#[test]
fn an_external_name_service_is_answered_at_once() {
    let Some(kube) = realkube("an_external_name_service_is_answered_at_once") else {
        return;
    };
    let ns = kube.namespace("extname");
    kube.create(
        &format!("/api/v1/namespaces/{ns}/services"),
        r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"billing"},"spec":{"type":"ExternalName","externalName":"billing.example.com"}}"#,
    );
    let target = format!("k8s:{ns}/svc/billing");
    // Without the rule this waits for endpoints until its timeout: a
    // 10 minute deadline would be a hang, not a wrong answer.
    kube.rdy("admin", &["wait", "-t", "10m", &target]).run().expect(
        0,
        r#"service \"billing\" is an ExternalName for \"billing.example.com\": it has no endpoints"#,
    );
}

#[test]
fn crash_looping_and_unschedulable_pods_say_why() {
    let Some(kube) = realkube("crash_looping_and_unschedulable_pods_say_why") else {
        return;
    };
    let ns = kube.namespace("whypod");
    let pods = format!("/api/v1/namespaces/{ns}/pods");
    kube.create(
        &pods,
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app"},"spec":{"containers":[{"name":"app","image":"app:1"}]}}"#,
    );
    let path = format!("{pods}/app");
    let target = format!("k8s:{ns}/pod/app");
    kube.patch_status(
        &path,
        r#"{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available: 3 Insufficient memory."}]}"#,
    );
    check(&kube, &[&target]).run().expect(
        1,
        "Unschedulable: 0/3 nodes are available: 3 Insufficient memory.",
    );
    kube.patch_status(
        &path,
        r#"{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"False","reason":"ContainersNotReady"}],"containerStatuses":[{"name":"app","image":"app:1","imageID":"","ready":false,"restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"reason":"Error","exitCode":1}}}]}"#,
    );
    check(&kube, &[&target]).run().expect(
        1,
        r#"container \"app\" is in CrashLoopBackOff (last terminated: Error, exit code 1)"#,
    );
}

#[test]
fn failed_if_ends_the_wait_with_exit_3_for_any_kind() {
    let Some(kube) = realkube("failed_if_ends_the_wait_with_exit_3_for_any_kind") else {
        return;
    };
    operator_crd(
        &kube,
        "postgresql.cnpg.io",
        "v1",
        "Cluster",
        CONDITIONS_STATUS,
    );
    let ns = kube.namespace("failedif");
    let path = create(&kube, "postgresql.cnpg.io", "v1", "Cluster", &ns, "db");
    let target = format!("k8s:{ns}/cluster.postgresql.cnpg.io/db");
    let not_ready = r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"False","reason":"Creating"}]}"#;
    kube.patch_status(&path, not_ready);
    let mut wait = kube
        .rdy(
            "admin",
            &[
                "wait",
                "-t",
                "30s",
                &target,
                "--failed-if",
                "condition=Degraded",
            ],
        )
        .spawn();
    wait.wait_for("Ready is False (Creating)");
    kube.patch_status(
        &path,
        r#"{"conditions":[{"type":"Ready","status":"False","reason":"Creating"},{"type":"Degraded","status":"True","reason":"ImagePullFailed"}]}"#,
    );
    wait.finish().expect(
        3,
        "cluster.postgresql.cnpg.io/db: --failed-if condition=Degraded holds (ImagePullFailed)",
    );
    // The same in the target string, and for a built-in kind.
    let jobs = format!("/apis/batch/v1/namespaces/{ns}/jobs");
    kube.create(
        &jobs,
        r#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"seed"},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"seed","image":"seed:1"}]}}}}"#,
    );
    let job = format!("k8s:{ns}/job/seed?failed-if=jsonpath%3D%7B.spec.suspend%7D%3Dtrue");
    kube.rdy("admin", &["wait", "-t", "30s", &job])
        .run()
        .expect(
            3,
            "job/seed: --failed-if jsonpath={.spec.suspend}=true holds",
        );
    // `rdy serve`: /all says the outcome is final.
    kube.patch_status(&path, not_ready);
    let server = Server::with(kube.rdy(
        "admin",
        &serve_args(
            "127.0.0.1:0",
            &[&format!("{target}?failed-if=condition%3DDegraded")],
        ),
    ));
    kube.patch_status(
        &path,
        r#"{"conditions":[{"type":"Degraded","status":"True","reason":"ImagePullFailed"}]}"#,
    );
    assert!(eventually(|| {
        let all = server.get("/all");
        all.status == 503 && all.header("rdy-outcome") == Some("failed")
    }));
}

#[test]
fn failed_if_refuses_what_would_do_nothing_before_any_request() {
    for (args, says) in [
        (
            vec!["check", "k8s:deploy/web", "--failed-if", "create"],
            "create and delete are not states an object can fail in",
        ),
        (
            vec!["check", "k8s:deploy/web?failed-if=delete"],
            "failed-if=\"delete\": create and delete are not states",
        ),
        (
            vec!["check", "k8s:deploy/web", "--failed-if", "ready"],
            "expected condition=NAME[=VALUE] or jsonpath=",
        ),
        (
            vec![
                "check",
                "tcp://127.0.0.1:1",
                "--failed-if",
                "condition=Failed",
            ],
            "--failed-if",
        ),
    ] {
        // No kubeconfig at all: refused while reading the command line.
        Rdy::new(&args)
            .env("KUBECONFIG", "/nonexistent")
            .run()
            .expect(2, says);
    }
}
