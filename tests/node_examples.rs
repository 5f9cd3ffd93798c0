//! Every manifest in `examples/` applied to the real node of
//! `tests/common/realnode.rs`, changed only as `adapt_example` says (node,
//! host networking, local images, loopback listen and API addresses, one
//! replica), with the dependencies its comments name, and judged by what
//! the kubelet writes into its pods' status. Each file goes into a
//! namespace of its own, as `kubectl apply -n NS -f FILE` would put it,
//! except server-client-split.yaml, which names its two namespaces.
//!
//! The examples keep their own ports (8080, 8081, 3000, 15020, 15021,
//! 5432), which host networking puts on the machine's loopback, so they run
//! one at a time ([`one_at_a_time`]), beside the other node tests.

mod common;

use std::sync::{Mutex, MutexGuard};

use common::realnode::{
    APP_IMAGE, CONTAINER_SECURITY, Dependency, DnsStub, HttpDependency, POD_SECURITY, RealNode,
    adapt_example, condition, container, http_status, in_state, realnode, terminated,
};

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static PORTS: Mutex<()> = Mutex::new(());
    PORTS.lock().unwrap_or_else(|e| e.into_inner())
}

fn apply_example(node: &RealNode, ns: &str, file: &str) {
    node.apply_values(ns, &adapt_example(node, file));
}

/// What wait-for-dependencies.yaml, job-with-istio.yaml and
/// server-client-split.yaml wait for, made as their controllers would
/// make them: a StatefulSet `postgres` and a pod `worker-0` (stand-ins that
/// sleep), a Job `migrate` that completes (one `rdy check` of `ready`,
/// which must listen), and a Service `cache` with two ready endpoints.
/// EndpointSlices refuse loopback addresses, and hostNetwork pods here
/// have no other, so the slice is written by hand with documentation
/// addresses (RFC 5737) that nothing ever connects to: `k8s:svc/` counts
/// ready endpoints, it does not dial them.
fn app_dependencies(node: &RealNode, ns: &str, ready: &Dependency, with_job: bool) {
    let pod_spec = format!(
        "nodeName: \"{}\"\n      hostNetwork: true\n      terminationGracePeriodSeconds: 2\n      automountServiceAccountToken: false\n      securityContext: {POD_SECURITY}",
        node.name
    );
    let mut yaml = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: postgres}}\nspec:\n  serviceName: postgres\n  replicas: 1\n  selector: {{matchLabels: {{app: postgres}}}}\n  template:\n    metadata: {{labels: {{app: postgres}}}}\n    spec:\n      {pod_spec}\n      containers: [{{name: pg, image: {APP_IMAGE}, imagePullPolicy: Never, securityContext: {CONTAINER_SECURITY}}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: worker-0, labels: {{app: worker}}}}\nspec:\n  nodeName: \"{}\"\n  hostNetwork: true\n  terminationGracePeriodSeconds: 2\n  automountServiceAccountToken: false\n  securityContext: {POD_SECURITY}\n  containers: [{{name: w, image: {APP_IMAGE}, imagePullPolicy: Never, securityContext: {CONTAINER_SECURITY}}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: cache}}\nspec: {{ports: [{{port: 6379}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: cache-1, labels: {{kubernetes.io/service-name: cache}}}}\naddressType: IPv4\nports: [{{name: \"\", port: 6379, protocol: TCP}}]\nendpoints:\n- {{addresses: [\"198.51.100.1\"], conditions: {{ready: true}}}}\n- {{addresses: [\"198.51.100.2\"], conditions: {{ready: true}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: postgres}}\nspec: {{ports: [{{port: 5432}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: postgres-1, labels: {{kubernetes.io/service-name: postgres}}}}\naddressType: IPv4\nports: [{{name: \"\", port: 5432, protocol: TCP}}]\nendpoints:\n- {{addresses: [\"198.51.100.3\"], conditions: {{ready: true}}}}\n",
        node.name
    );
    if with_job {
        yaml.push_str(&format!(
            "---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: migrate}}\nspec:\n  template:\n    spec:\n      {pod_spec}\n      restartPolicy: Never\n      containers: [{{name: m, image: localhost/rdy:dev, imagePullPolicy: Never, args: [check, \"{}\"], securityContext: {CONTAINER_SECURITY}}}]\n",
            ready.url()
        ));
    }
    node.apply(ns, &yaml);
}

#[test]
fn rbac_yaml_makes_its_service_account_role_and_binding() {
    let Some(node) = realnode("rbac_yaml_makes_its_service_account_role_and_binding") else {
        return;
    };
    let ns = node.namespace("ex-rbac");
    let _gone = node.scoped(&ns);
    apply_example(&node, &ns, "rbac.yaml");
    for path in [
        format!("/api/v1/namespaces/{ns}/serviceaccounts/rdy-waiter"),
        format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/rdy-waiter"),
        format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/rdy-waiter"),
    ] {
        assert!(node.get(&path).is_some(), "{path} was not made");
    }
}

#[test]
fn wait_for_dependencies_yaml_starts_the_api_once_all_four_are_ready() {
    let Some(node) = realnode("wait_for_dependencies_yaml_starts_the_api_once_all_four_are_ready")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-deps");
    let _gone = node.scoped(&ns);
    apply_example(&node, &ns, "rbac.yaml");
    apply_example(&node, &ns, "wait-for-dependencies.yaml");
    let held = node.await_selected(&ns, "app=api", "waiting", |p| {
        in_state(p, "wait-for-dependencies", "running")
    });
    let pod = RealNode::name_of(&held);
    node.await_log(&ns, &pod, "wait-for-dependencies", "Waiting for");
    let held = node.pod(&ns, &pod).expect("pod");
    assert!(!in_state(&held, "api", "running"), "{held}");

    let mut ready = Dependency::absent();
    ready.up();
    app_dependencies(&node, &ns, &ready, true);
    let started = node.await_pod(&ns, &pod, "running the api", |p| {
        in_state(p, "api", "running")
    });
    assert_eq!(
        terminated(&started, "wait-for-dependencies")["exitCode"],
        0,
        "{started}"
    );
}

#[test]
fn job_with_istio_yaml_waits_for_the_proxy_runs_and_tells_it_to_quit() {
    let Some(node) = realnode("job_with_istio_yaml_waits_for_the_proxy_runs_and_tells_it_to_quit")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-istio");
    let _gone = node.scoped(&ns);
    apply_example(&node, &ns, "rbac.yaml");
    let ready = Dependency::absent();
    app_dependencies(&node, &ns, &ready, false);
    let proxy = HttpDependency::start(15021, 200);
    let quit = HttpDependency::start(15020, 200);
    apply_example(&node, &ns, "job-with-istio.yaml");
    // The stand-in image has /rdy but no /migrate: rdy runs it after the
    // wait, the exec fails (127, as a shell says for a missing command),
    // and the POST is sent all the same.
    let done = node.await_selected(
        &ns,
        "batch.kubernetes.io/job-name=migrate",
        "finished",
        |p| in_state(p, "migrate", "terminated"),
    );
    assert_eq!(terminated(&done, "migrate")["exitCode"], 127, "{done}");
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.starts_with("GET /healthz/ready")),
        "{:?}",
        proxy.requests()
    );
    assert!(
        quit.requests()
            .iter()
            .any(|r| r.starts_with("POST /quitquitquit")),
        "{:?}",
        quit.requests()
    );
}

#[test]
fn native_sidecar_yaml_holds_the_shop_until_postgres_and_payments_answer() {
    let Some(node) =
        realnode("native_sidecar_yaml_holds_the_shop_until_postgres_and_payments_answer")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-native");
    let _gone = node.scoped(&ns);
    let _dns = DnsStub::start();
    let mut postgres = Dependency::at(5432);
    apply_example(&node, &ns, "native-sidecar.yaml");
    let held = node.await_selected(&ns, "app=shop", "with its sidecar running", |p| {
        in_state(p, "deps", "running")
    });
    let pod = RealNode::name_of(&held);
    node.await_event(&ns, &pod, "Unhealthy", "Startup probe failed");
    let held = node.pod(&ns, &pod).expect("pod");
    assert_eq!(container(&held, "deps")["started"], false, "{held}");
    assert!(!in_state(&held, "app", "running"), "{held}");
    assert_eq!(http_status(8081, "/all"), 503);

    postgres.up();
    let _payments = HttpDependency::start(8080, 200);
    let ready = node.await_pod(&ns, &pod, "Ready", |p| {
        condition(p, "Ready").as_deref() == Some("True")
    });
    assert!(in_state(&ready, "app", "running"), "{ready}");
    assert_eq!(http_status(8081, "/all"), 200);
}

#[test]
fn object_health_api_yaml_answers_for_its_namespace_with_the_token_only() {
    let Some(node) =
        realnode("object_health_api_yaml_answers_for_its_namespace_with_the_token_only")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-health");
    let _gone = node.scoped(&ns);
    node.apply(
        &ns,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: rdy-health}\nstringData: {token: node-test-token}\n",
    );
    apply_example(&node, &ns, "object-health-api.yaml");
    node.await_selected(&ns, "app=rdy-health", "Ready", |p| {
        condition(p, "Ready").as_deref() == Some("True")
    });
    let asked = format!("/api/healthz/{ns}/deployment/rdy-health");
    let with_token = |path: &str| {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
            ])
            .args(["-H", "Authorization: Bearer node-test-token"])
            .arg(format!("http://127.0.0.1:8080{path}"))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The Deployment's own status catches up with its pod's readiness.
    let end = std::time::Instant::now() + common::realnode::NODE_LIMIT;
    while with_token(&asked) != "200" {
        assert!(std::time::Instant::now() < end, "{asked} never 200");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(http_status(8080, &asked), 401, "without the token");
    assert_eq!(
        with_token("/api/healthz/kube-system/deployment/x"),
        "404",
        "a namespace it does not expose"
    );
}

#[test]
fn pod_health_sidecar_yaml_reports_the_wireguard_containers_readiness() {
    let Some(node) = realnode("pod_health_sidecar_yaml_reports_the_wireguard_containers_readiness")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.kube.namespace_labelled(
        "ex-wireguard",
        &[("pod-security.kubernetes.io/enforce", "privileged")],
    );
    let _gone = node.scoped(&ns);
    apply_example(&node, &ns, "pod-health-sidecar.yaml");
    // The stand-in has no /bin/wg, so wireguard's own exec probe fails:
    // the pod is not ready, and rdy's /all says so for pod/self, which is
    // POD_NAME (HOSTNAME is the node's name under host networking).
    let pod = node.await_selected(&ns, "app=wireguard", "with a ready health sidecar", |p| {
        container(p, "health")["ready"] == true
    });
    assert_eq!(container(&pod, "wireguard")["ready"], false, "{pod}");
    let body = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
        .arg("http://127.0.0.1:3000/all")
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&body.stdout).into_owned();
    assert!(body.ends_with("\n503"), "{body}");
    assert!(body.contains(&RealNode::name_of(&pod)), "{body}");
    assert_eq!(http_status(3000, "/self"), 200);
}

#[test]
fn server_client_split_yaml_lets_clients_wait_through_the_server_alone() {
    let Some(node) =
        realnode("server_client_split_yaml_lets_clients_wait_through_the_server_alone")
    else {
        return;
    };
    let _ports = one_at_a_time();
    // The file names its namespaces: platform and app, made fresh.
    for ns in ["platform", "app"] {
        node.kube.delete(&format!("/api/v1/namespaces/{ns}"));
    }
    for ns in ["platform", "app"] {
        let path = format!("/api/v1/namespaces/{ns}");
        let end = std::time::Instant::now() + common::realnode::NODE_LIMIT;
        while node.get(&path).is_some() {
            assert!(std::time::Instant::now() < end, "{path} was never deleted");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        node.post(
            "/api/v1/namespaces",
            &format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#),
        );
    }
    let _gone = (node.scoped("app"), node.scoped("platform"));
    let mut ready = Dependency::absent();
    ready.up();
    app_dependencies(&node, "app", &ready, true);
    let _dns = DnsStub::start();
    apply_example(&node, "app", "server-client-split.yaml");
    node.await_selected("platform", "app=rdy", "Ready", |p| {
        condition(p, "Ready").as_deref() == Some("True")
    });
    let started = node.await_selected("app", "app=api", "running the api", |p| {
        in_state(p, "api", "running")
    });
    assert_eq!(
        terminated(&started, "wait-for-dependencies")["exitCode"],
        0,
        "{started}"
    );
    assert_eq!(http_status(8081, "/api/healthz/app/job/migrate"), 200);
}

#[test]
fn custom_resources_yaml_waits_for_crds_the_cluster_does_not_serve_yet() {
    let Some(node) =
        realnode("custom_resources_yaml_waits_for_crds_the_cluster_does_not_serve_yet")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-crds");
    let _gone = node.scoped(&ns);
    apply_example(&node, &ns, "custom-resources.yaml");
    // Neither cert-manager nor CloudNativePG is installed here: the wait
    // says so and holds the app.
    let held = node.await_selected(&ns, "app=api", "waiting", |p| {
        in_state(p, "wait-for-operators", "running")
    });
    let pod = RealNode::name_of(&held);
    node.await_log(&ns, &pod, "wait-for-operators", "serves no resource");
    let held = node.pod(&ns, &pod).expect("pod");
    assert!(!in_state(&held, "api", "running"), "{held}");
}

#[test]
fn object_health_ha_yaml_answers_for_objects_and_collections_of_its_namespace() {
    let Some(node) =
        realnode("object_health_ha_yaml_answers_for_objects_and_collections_of_its_namespace")
    else {
        return;
    };
    let _ports = one_at_a_time();
    let ns = node.namespace("ex-ha");
    let _gone = node.scoped(&ns);
    // One replica on this one node (adapt_example); the PodDisruptionBudget
    // and the spread constraint are applied as written.
    apply_example(&node, &ns, "object-health-ha.yaml");
    node.await_selected(&ns, "app=rdy-health-ha", "Ready", |p| {
        condition(p, "Ready").as_deref() == Some("True")
    });
    let get = |path: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
            .arg(format!("http://127.0.0.1:8080{path}"))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
        (code.to_owned(), body.to_owned())
    };
    // The Deployment's status catches up with its pod's readiness.
    let one = format!("/api/healthz/{ns}/deployment/rdy-health-ha");
    let end = std::time::Instant::now() + common::realnode::NODE_LIMIT;
    while get(&one).0 != "200" {
        assert!(std::time::Instant::now() < end, "{one} never 200");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (code, body) = get(&format!("/api/healthz/{ns}/deployment"));
    assert_eq!(code, "200", "the collection: {body}");
    assert!(
        body.contains("rdy-health-ha"),
        "the collection lists it: {body}"
    );
    assert_eq!(get("/api/healthz/kube-system/deployment/x").0, "404");
}

#[test]
fn every_file_in_examples_has_a_test_on_the_node() {
    let source = include_str!("node_examples.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).expect("examples/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yaml") && !source.contains(&format!("\"{name}\")")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "examples with no node test: {missing:?}"
    );
}
