//! rdy under a real kubelet: each role it plays in a pod, run on the real
//! node of `tests/common/realnode.rs`, judged by what the kubelet writes
//! into the pod's status. Every pod carries Pod Security `restricted`
//! settings (non-root, read-only root, no capabilities, `RuntimeDefault`
//! seccomp), and each test checks that `restricted` objects to nothing but
//! the `hostNetwork` this node needs. Dependencies are listeners of the test
//! process on 127.0.0.1, which `hostNetwork` pods share. Assertions are on
//! states and their order, never on how long anything took.

mod common;

use serde_json::Value;

use common::realnode::{
    APP_IMAGE, CONTAINER_SECURITY, Dependency, PROBE_IMAGE, RDY_IMAGE, RealNode,
    assert_only_host_network_warned, condition, container, free_port, http_status, in_state,
    realnode, terminated,
};

const NEVER: &str = "imagePullPolicy: Never";

fn ready(pod: &Value, name: &str) -> bool {
    container(pod, name)["ready"] == true
}

/// Applies one pod and checks what Pod Security said of it.
fn apply(node: &RealNode, namespace: &str, yaml: &str) {
    assert_only_host_network_warned(&node.apply(namespace, yaml));
}

#[test]
fn an_init_container_wait_holds_the_app_until_its_tcp_dependency_listens() {
    let Some(node) =
        realnode("an_init_container_wait_holds_the_app_until_its_tcp_dependency_listens")
    else {
        return;
    };
    let ns = node.namespace("node-init");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    let pod = format!(
        "{}  initContainers:\n  - {{name: wait, image: {RDY_IMAGE}, {NEVER}, args: [wait, --interval, 1s, \"{}\"], securityContext: {CONTAINER_SECURITY}}}\n  containers:\n  - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.pod_head(&ns, "wait-tcp", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    // The wait has tried and failed at least once: only then does "not
    // started yet" say anything.
    node.await_log(&ns, "wait-tcp", "wait", "is not ready");
    let held = node.await_pod(&ns, "wait-tcp", "with its wait running", |p| {
        in_state(p, "wait", "running")
    });
    assert!(!in_state(&held, "app", "running"), "{held}");
    assert_eq!(held["status"]["phase"], "Pending");

    dep.up();
    let started = node.await_pod(&ns, "wait-tcp", "running its app", |p| {
        in_state(p, "app", "running")
    });
    let wait = terminated(&started, "wait");
    assert_eq!(wait["exitCode"], 0, "{started}");
    assert!(
        wait["finishedAt"].as_str() <= started_at(&started, "app"),
        "the app started before the wait ended: {started}"
    );
}

fn started_at<'a>(pod: &'a Value, name: &str) -> Option<&'a str> {
    container(pod, name)["state"]["running"]["startedAt"].as_str()
}

#[test]
fn an_exec_readiness_probe_flips_ready_both_ways() {
    let Some(node) = realnode("an_exec_readiness_probe_flips_ready_both_ways") else {
        return;
    };
    let ns = node.namespace("node-exec");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    let pod = format!(
        "{}  containers:\n  - name: app\n    image: {PROBE_IMAGE}\n    {NEVER}\n    command: [/pause]\n    securityContext: {CONTAINER_SECURITY}\n    readinessProbe:\n      exec: {{command: [/rdy, check, \"{}\"]}}\n      periodSeconds: 1\n      failureThreshold: 1\n",
        node.pod_head(&ns, "probe-exec", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    // The kubelet records the failed probe with rdy's line.
    node.await_event(&ns, "probe-exec", "Unhealthy", "connection refused");
    let before = node.pod(&ns, "probe-exec").expect("pod");
    assert!(!ready(&before, "app"), "{before}");

    dep.up();
    node.await_pod(&ns, "probe-exec", "Ready", |p| {
        ready(p, "app") && condition(p, "Ready").as_deref() == Some("True")
    });
    dep.down();
    let after = node.await_pod(&ns, "probe-exec", "not Ready again", |p| {
        !ready(p, "app") && condition(p, "Ready").as_deref() == Some("False")
    });
    assert_eq!(container(&after, "app")["restartCount"], 0, "{after}");
}

#[test]
fn a_serve_sidecar_gates_the_app_through_all_and_answers_its_own_probe_on_self() {
    let Some(node) =
        realnode("a_serve_sidecar_gates_the_app_through_all_and_answers_its_own_probe_on_self")
    else {
        return;
    };
    let ns = node.namespace("node-serve");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    let port = free_port();
    let pod = format!(
        "{}  containers:\n  - name: app\n    image: {APP_IMAGE}\n    {NEVER}\n    securityContext: {CONTAINER_SECURITY}\n    readinessProbe: {{httpGet: {{path: /all, port: {port}}}, periodSeconds: 1, failureThreshold: 1}}\n  - name: rdy\n    image: {RDY_IMAGE}\n    {NEVER}\n    args: [serve, --listen, \"127.0.0.1:{port}\", \"{}\", --name, dep]\n    securityContext: {CONTAINER_SECURITY}\n    readinessProbe: {{httpGet: {{path: /self, port: {port}}}, periodSeconds: 1}}\n    livenessProbe: {{httpGet: {{path: /self, port: {port}}}, periodSeconds: 5}}\n",
        node.pod_head(&ns, "serve-sidecar", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    let first = node.await_pod(&ns, "serve-sidecar", "with a ready sidecar", |p| {
        ready(p, "rdy")
    });
    node.await_event(&ns, "serve-sidecar", "Unhealthy", "503");
    assert!(!ready(&first, "app"), "{first}");
    assert_eq!(http_status(port, "/all"), 503);

    dep.up();
    node.await_pod(&ns, "serve-sidecar", "with a ready app", |p| {
        ready(p, "app")
    });
    assert_eq!(http_status(port, "/all"), 200);
    dep.down();
    let after = node.await_pod(&ns, "serve-sidecar", "with the app unready again", |p| {
        !ready(p, "app")
    });
    assert!(
        ready(&after, "rdy"),
        "the sidecar itself stays ready: {after}"
    );
    assert_eq!(container(&after, "rdy")["restartCount"], 0, "{after}");
}

#[test]
fn a_failing_wait_exits_1_with_its_summary_in_the_termination_message() {
    let Some(node) = realnode("a_failing_wait_exits_1_with_its_summary_in_the_termination_message")
    else {
        return;
    };
    let ns = node.namespace("node-fail");
    let _gone = node.scoped(&ns);
    let dep = Dependency::absent();
    let pod = format!(
        "{}  restartPolicy: Never\n  initContainers:\n  - {{name: wait, image: {RDY_IMAGE}, {NEVER}, args: [wait, --timeout, 2s, \"{}\"], securityContext: {CONTAINER_SECURITY}}}\n  containers:\n  - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.pod_head(&ns, "wait-fails", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    let failed = node.await_pod(&ns, "wait-fails", "Failed", |p| {
        p["status"]["phase"] == "Failed"
    });
    let wait = terminated(&failed, "wait");
    assert_eq!(wait["exitCode"], 1, "{failed}");
    let message = wait["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("rdy wait: 1 target not ready after 2s"),
        "{message:?}"
    );
    assert!(message.contains("connection refused"), "{message:?}");
    assert!(!in_state(&failed, "app", "running"), "{failed}");
}

#[test]
fn a_failing_wait_names_its_target_with_the_port_in_the_termination_message() {
    let Some(node) =
        realnode("a_failing_wait_names_its_target_with_the_port_in_the_termination_message")
    else {
        return;
    };
    let ns = node.namespace("node-port");
    let _gone = node.scoped(&ns);
    let dep = Dependency::absent();
    let pod = format!(
        "{}  restartPolicy: Never\n  containers:\n  - {{name: wait, image: {RDY_IMAGE}, {NEVER}, args: [wait, --timeout, 1s, \"{}\"], securityContext: {CONTAINER_SECURITY}}}\n",
        node.pod_head(&ns, "wait-port", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    let failed = node.await_pod(&ns, "wait-port", "Failed", |p| {
        p["status"]["phase"] == "Failed"
    });
    let message = terminated(&failed, "wait")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let target = format!("127.0.0.1:{}", dep.port);
    assert!(
        message.lines().nth(1).is_some_and(|l| l.contains(&target)),
        "the second line should name {target}: {message:?}"
    );
}

#[test]
fn a_native_sidecar_starts_before_the_app_and_holds_it_until_ready() {
    let Some(node) = realnode("a_native_sidecar_starts_before_the_app_and_holds_it_until_ready")
    else {
        return;
    };
    let ns = node.namespace("node-native");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    let port = free_port();
    let pod = format!(
        "{}  initContainers:\n  - name: deps\n    image: {RDY_IMAGE}\n    {NEVER}\n    restartPolicy: Always\n    args: [serve, --listen, \"127.0.0.1:{port}\", \"{}\", --name, dep]\n    securityContext: {CONTAINER_SECURITY}\n    startupProbe: {{httpGet: {{path: /all, port: {port}}}, periodSeconds: 1, failureThreshold: 300}}\n    livenessProbe: {{httpGet: {{path: /self, port: {port}}}, periodSeconds: 10}}\n  containers:\n  - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.pod_head(&ns, "native", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    node.await_event(&ns, "native", "Unhealthy", "Startup probe failed");
    let held = node.await_pod(&ns, "native", "with its sidecar running", |p| {
        in_state(p, "deps", "running")
    });
    assert_eq!(container(&held, "deps")["started"], false, "{held}");
    assert!(!in_state(&held, "app", "running"), "{held}");

    dep.up();
    let started = node.await_pod(&ns, "native", "running its app", |p| {
        in_state(p, "app", "running")
    });
    assert_eq!(container(&started, "deps")["started"], true, "{started}");
    assert!(
        started_at(&started, "deps") <= started_at(&started, "app"),
        "{started}"
    );
}

/// Runs `args` as PID 1 of a pod held by a finalizer, deletes the pod with
/// a grace period far longer than the test's own limit, and returns the
/// container's last state and its log from `started` on: a process that
/// ignored SIGTERM would be killed only after the grace period (exit 137),
/// too late for the test.
fn delete_and_read(
    node: &RealNode,
    ns: &str,
    name: &str,
    args: &str,
    started: &str,
) -> (Value, String) {
    let head = node.pod_head(ns, name, 600).replacen(
        "}\nspec:",
        ", finalizers: [rdy.test/hold]}\nspec:",
        1,
    );
    let pod = format!(
        "{head}  containers:\n  - {{name: main, image: {PROBE_IMAGE}, {NEVER}, command: [/rdy], args: {args}, securityContext: {CONTAINER_SECURITY}}}\n"
    );
    apply(node, ns, &pod);
    node.await_pod(ns, name, "running", |p| in_state(p, "main", "running"));
    let log = node.follow_log(ns, name, "main");
    log.await_text(started);
    node.delete_pod(ns, name);
    let gone = node.await_pod(ns, name, "terminated after deletion", |p| {
        in_state(p, "main", "terminated")
    });
    node.release(ns, name);
    (terminated(&gone, "main").clone(), log.text())
}

#[test]
fn deleting_the_pod_ends_a_pid_1_wait_with_143_at_once() {
    let Some(node) = realnode("deleting_the_pod_ends_a_pid_1_wait_with_143_at_once") else {
        return;
    };
    let ns = node.namespace("node-pid1");
    let _gone = node.scoped(&ns);
    let dep = Dependency::absent();
    let args = format!("[wait, \"{}\"]", dep.url());
    let (state, _) = delete_and_read(&node, &ns, "pid1", &args, "is not ready");
    assert_eq!(state["exitCode"], 143, "{state}");
}

#[test]
fn deleting_the_pod_sends_sigterm_to_the_supervised_command_whose_status_is_the_containers() {
    let Some(node) = realnode(
        "deleting_the_pod_sends_sigterm_to_the_supervised_command_whose_status_is_the_containers",
    ) else {
        return;
    };
    let ns = node.namespace("node-super");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    dep.up();
    let args = format!("[wait, --supervise, \"{}\", --, /pause]", dep.url());
    let (state, log) = delete_and_read(&node, &ns, "supervise", &args, "is ready");
    // /pause exits 0 only on SIGTERM or SIGINT, and says which; rdy
    // itself would have exited 143.
    assert_eq!(state["exitCode"], 0, "{state}");
    assert!(log.contains("rn-pause: got SIGTERM"), "{log}");
}

#[test]
fn an_in_cluster_k8s_wait_uses_the_service_account_token() {
    let Some(node) = realnode("an_in_cluster_k8s_wait_uses_the_service_account_token") else {
        return;
    };
    let ns = node.namespace("node-incluster");
    let _gone = node.scoped(&ns);
    let rbac = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: waiter}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: waiter}}\nrules:\n- {{apiGroups: [apps], resources: [deployments], verbs: [get, list, watch]}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: waiter}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: waiter}}\nsubjects: [{{kind: ServiceAccount, name: waiter, namespace: {ns}}}]\n"
    );
    node.apply(&ns, &rbac);
    let head = node.pod_head(&ns, "waiter", 5).replace(
        "automountServiceAccountToken: false",
        "automountServiceAccountToken: true\n  serviceAccountName: waiter",
    );
    let pod = format!(
        "{head}  initContainers:\n  - {{name: wait, image: {RDY_IMAGE}, {NEVER}, args: [wait, --timeout, 80s, \"k8s:deployment/web\"], env: {}, securityContext: {CONTAINER_SECURITY}}}\n  containers:\n  - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.api_env()
    );
    apply(&node, &ns, &pod);
    // The wait reads the Deployment with the pod's token: "not found" is
    // an answer of the API server, so the token and the CA worked.
    node.await_log(&ns, "waiter", "wait", "web");
    node.await_pod(&ns, "waiter", "with its wait running", |p| {
        in_state(p, "wait", "running")
    });

    let deployment = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      nodeName: \"{}\"\n      hostNetwork: true\n      enableServiceLinks: false\n      automountServiceAccountToken: false\n      terminationGracePeriodSeconds: 2\n      securityContext: {}\n      containers:\n      - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.name,
        common::realnode::POD_SECURITY
    );
    apply(&node, &ns, &deployment);
    let started = node.await_pod(&ns, "waiter", "running its app", |p| {
        in_state(p, "app", "running")
    });
    assert_eq!(terminated(&started, "wait")["exitCode"], 0, "{started}");
    let log = node.log(&ns, "waiter", "wait");
    assert!(log.contains("is ready"), "{log}");
}

/// `/all?wait=` as the startupProbe of a native sidecar: the kubelet waits
/// for the held answer (a 503 when the hold ends, never a timeout of its
/// own, since the hold is below `timeoutSeconds`), and takes the 200 that
/// comes the moment the dependency is up.
#[test]
fn a_held_startup_probe_is_answered_within_the_kubelets_timeout_and_releases_the_app() {
    let Some(node) = realnode(
        "a_held_startup_probe_is_answered_within_the_kubelets_timeout_and_releases_the_app",
    ) else {
        return;
    };
    let ns = node.namespace("node-hold");
    let _gone = node.scoped(&ns);
    let mut dep = Dependency::absent();
    let port = free_port();
    let pod = format!(
        "{}  initContainers:\n  - name: deps\n    image: {RDY_IMAGE}\n    {NEVER}\n    restartPolicy: Always\n    args: [serve, --listen, \"127.0.0.1:{port}\", \"{}\", --name, dep]\n    securityContext: {CONTAINER_SECURITY}\n    startupProbe: {{httpGet: {{path: \"/all?wait=3s\", port: {port}}}, timeoutSeconds: 5, periodSeconds: 5, failureThreshold: 60}}\n  containers:\n  - {{name: app, image: {APP_IMAGE}, {NEVER}, securityContext: {CONTAINER_SECURITY}}}\n",
        node.pod_head(&ns, "held", 5),
        dep.url()
    );
    apply(&node, &ns, &pod);
    // A held round ended with rdy's 503, which the kubelet took as the
    // probe's answer.
    node.await_event(&ns, "held", "Unhealthy", "statuscode: 503");
    let held = node.pod(&ns, "held").expect("pod");
    assert!(!in_state(&held, "app", "running"), "{held}");

    dep.up();
    let up = std::time::Instant::now();
    let started = node.await_pod(&ns, "held", "running its app", |p| {
        in_state(p, "app", "running")
    });
    eprintln!(
        "dependency up -> app seen running: {:?} (not asserted)",
        up.elapsed()
    );
    assert_eq!(container(&started, "deps")["started"], true, "{started}");
    let events = node
        .get(&format!("/api/v1/namespaces/{ns}/events"))
        .unwrap_or_default();
    for event in events["items"].as_array().into_iter().flatten() {
        let message = event["message"].as_str().unwrap_or("");
        assert!(
            !message.contains("Timeout") && !message.contains("deadline exceeded"),
            "the kubelet timed out on a held request: {message}"
        );
    }
}
