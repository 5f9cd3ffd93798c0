//! `k8s:` targets against the fake API server (tests/common/kube), which
//! speaks the real wire format: HTTPS with a CA made per test, bearer
//! tokens, XList shapes, chunked watch streams, Status errors.

mod common;

use common::kube::fixtures::{self, daemonset, deployment, endpoint_slice, job, pod, statefulset};
use common::kube::{Canned, FakeApi, Verb, collection};
use common::{Rdy, temp_dir, write_file};

const NS: &str = "default";

fn deployments() -> String {
    collection("Deployment", NS)
}

/// `rdy ARGS` configured by a kubeconfig for the fake.
fn with_kubeconfig(api: &FakeApi, args: &[&str]) -> Rdy {
    api.kubeconfig().configure(Rdy::new(args))
}

#[test]
fn in_cluster_configuration_is_read_from_env_token_and_ca() {
    let api = FakeApi::start();
    api.apply(deployment("web", "apps").replicas(3));
    let sa = api.in_cluster("apps");
    // The namespace comes from the service account's namespace file.
    let out = sa
        .configure(Rdy::new(&["check", "k8s:deployment/web"]))
        .run();
    out.expect(0, "msg=\"deployment/web is ready ✓\"");
    let request = api
        .requests()
        .into_iter()
        .find(|r| r.verb == Verb::List)
        .expect("a LIST");
    assert_eq!(request.path, "/apis/apps/v1/namespaces/apps/deployments");
    assert_eq!(request.param("fieldSelector"), Some("metadata.name=web"));
    assert_eq!(request.accept.as_deref(), Some("application/json"));
    let ua = request.user_agent.as_deref().unwrap_or("");
    assert!(
        ua.starts_with(concat!("rdy/", env!("CARGO_PKG_VERSION"), " (linux/")),
        "{ua}"
    );
    assert!(
        !out.stderr.contains(&api.token()),
        "the token must never be logged"
    );
}

#[test]
fn kubeconfig_configuration_with_ca_data_or_file() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2));
    with_kubeconfig(&api, &["check", "k8s:deploy/web"])
        .run()
        .expect(0, "is ready ✓");
    api.kubeconfig()
        .ca_file()
        .configure(Rdy::new(&["check", "k8s:default/deployment/web"]))
        .run()
        .expect(0, "is ready ✓");
    let dir = temp_dir("kubeconfig-flag");
    let path = api.kubeconfig().write(&dir);
    Rdy::new(&[
        "check",
        "--kubeconfig",
        path.to_str().unwrap(),
        "k8s:deployment/web",
    ])
    .run()
    .expect(0, "is ready ✓");
}

#[test]
fn wait_watches_a_rollout_with_one_list_and_one_watch() {
    let api = FakeApi::start();
    api.apply(
        deployment("web", NS)
            .replicas(3)
            .generation(4)
            .observed(4)
            .updated(1)
            .available(1),
    );
    let mut run = with_kubeconfig(&api, &["wait", "k8s:deployment/web"]).spawn();
    run.wait_for("msg=\"Waiting for deployment \\\"web\\\" rollout to finish: 1 out of 3 new replicas have been updated...\"");
    api.await_watchers(&deployments(), 1);
    api.apply(
        deployment("web", NS)
            .replicas(3)
            .generation(4)
            .observed(4)
            .updated(3)
            .available(2),
    );
    run.wait_for("2 of 3 updated replicas are available...");
    api.apply(deployment("web", NS).replicas(3).generation(4).observed(4));
    let out = run.finish();
    out.expect(0, "msg=\"deployment/web is ready ✓\"");
    assert_eq!(api.count(Verb::List, &deployments()), 1);
    assert_eq!(api.count(Verb::Watch, &deployments()), 1);
}

#[test]
fn a_deployment_past_its_progress_deadline_is_exit_3() {
    let api = FakeApi::start();
    api.apply(
        deployment("web", NS)
            .replicas(3)
            .progress_deadline_exceeded(),
    );
    with_kubeconfig(&api, &["wait", "k8s:deployment/web"])
        .run()
        .expect(3, "deployment \\\"web\\\" exceeded its progress deadline");
}

#[test]
fn an_object_that_does_not_exist_yet_is_waited_for() {
    let api = FakeApi::start();
    let mut run = with_kubeconfig(&api, &["wait", "k8s:sts/db"]).spawn();
    run.wait_for("msg=\"waiting for statefulset/db to be created\"");
    api.await_watchers(&collection("StatefulSet", NS), 1);
    api.apply(statefulset("db", NS).replicas(3));
    run.finish().expect(0, "statefulset/db is ready ✓");
}

#[test]
fn statefulset_rules() {
    let api = FakeApi::start();
    api.apply(statefulset("db", NS).replicas(3).partition(1).updated(1));
    with_kubeconfig(&api, &["check", "k8s:statefulset/db"])
        .run()
        .expect(
            1,
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
        );
    api.apply(statefulset("on-delete", NS).replicas(1).on_delete());
    with_kubeconfig(&api, &["check", "k8s:statefulset/on-delete"])
        .run()
        .expect(
            3,
            "rollout status is only available for RollingUpdate strategy type",
        );
    api.apply(statefulset("ready", NS).replicas(2));
    with_kubeconfig(&api, &["check", "k8s:sts/ready"])
        .run()
        .expect(0, "is ready ✓");
}

#[test]
fn daemonset_rules() {
    let api = FakeApi::start();
    api.apply(
        daemonset("agent", "kube-system")
            .desired(3)
            .updated(3)
            .available(2),
    );
    with_kubeconfig(&api, &["check", "k8s:kube-system/ds/agent"])
        .run()
        .expect(1, "Waiting for daemon set \\\"agent\\\" rollout to finish: 2 of 3 updated pods are available...");
    api.apply(daemonset("agent", "kube-system").desired(3));
    with_kubeconfig(&api, &["check", "k8s:kube-system/ds/agent"])
        .run()
        .expect(0, "is ready ✓");
    api.apply(daemonset("old", "kube-system").on_delete());
    with_kubeconfig(&api, &["check", "k8s:kube-system/daemonset/old"])
        .run()
        .expect(3, "RollingUpdate");
}

#[test]
fn pod_rules_and_containers() {
    let api = FakeApi::start();
    api.apply(pod("web", NS));
    with_kubeconfig(&api, &["check", "k8s:pod/web"])
        .run()
        .expect(0, "pod/web is ready ✓");
    with_kubeconfig(&api, &["check", "k8s:po/web?container=proxy"])
        .run()
        .expect(0, "is ready ✓");
    with_kubeconfig(&api, &["check", "k8s:pod/web?container=nope"])
        .run()
        .expect(
            3,
            "pod \\\"web\\\" has no container \\\"nope\\\"; it has: migrate, proxy, app",
        );
    api.apply(pod("crashing", NS).crash_loop());
    with_kubeconfig(&api, &["check", "k8s:pod/crashing?container=app"])
        .run()
        .expect(1, "CrashLoopBackOff");
    api.apply(pod("dead", NS).failed());
    with_kubeconfig(&api, &["wait", "k8s:pod/dead"])
        .run()
        .expect(3, "pod \\\"dead\\\" failed");
}

#[test]
fn pod_self_is_the_pod_named_by_hostname() {
    let api = FakeApi::start();
    api.apply(pod("web-7c5ddbdf54-x2k9p", NS).not_ready());
    let mut run = with_kubeconfig(&api, &["wait", "k8s:pod/self"])
        .env("HOSTNAME", "web-7c5ddbdf54-x2k9p")
        .spawn();
    run.wait_for("Waiting for pod \\\"web-7c5ddbdf54-x2k9p\\\" to be ready");
    api.await_watchers(&collection("Pod", NS), 1);
    api.apply(pod("web-7c5ddbdf54-x2k9p", NS));
    run.finish()
        .expect(0, "pod/web-7c5ddbdf54-x2k9p is ready ✓");
}

/// Under `hostNetwork: true` the kubelet sets `HOSTNAME` to the node's
/// name, so `pod/self` waited for a pod that does not exist; the downward
/// API's `POD_NAME` wins, and the line says which name was taken.
#[test]
fn pod_self_prefers_the_downward_apis_pod_name_over_a_hostname_that_differs() {
    let api = FakeApi::start();
    api.apply(pod("web-0", NS));
    let out = with_kubeconfig(&api, &["check", "k8s:pod/self"])
        .env("HOSTNAME", "node-1")
        .env("POD_NAME", "web-0")
        .run();
    out.expect(0, "pod/web-0 is ready ✓");
    out.expect(0, "pod/self is POD_NAME, not HOSTNAME");
    assert!(out.stderr.contains("hostname=node-1"), "{}", out.stderr);

    let same = with_kubeconfig(&api, &["check", "k8s:pod/self"])
        .env("HOSTNAME", "web-0")
        .env("POD_NAME", "web-0")
        .run();
    same.expect(0, "pod/web-0 is ready ✓");
    assert!(!same.stderr.contains("pod/self is"), "{}", same.stderr);
    with_kubeconfig(&api, &["check", "k8s:pod/self"])
        .run()
        .expect(
            2,
            "pod/self names the pod in POD_NAME or HOSTNAME, and neither is set",
        );
}

#[test]
fn jobs_complete_or_fail_fast() {
    let api = FakeApi::start();
    api.apply(job("migrate", NS).running());
    let mut run = with_kubeconfig(&api, &["wait", "k8s:job/migrate"]).spawn();
    run.wait_for("Waiting for job \\\"migrate\\\" to complete: 1 active");
    api.await_watchers(&collection("Job", NS), 1);
    api.apply(job("migrate", NS).complete());
    run.finish().expect(0, "job/migrate is ready ✓");

    api.apply(job("broken", NS).failed());
    with_kubeconfig(&api, &["wait", "k8s:job/broken"])
        .run()
        .expect(
            3,
            "BackoffLimitExceeded: Job has reached the specified backoff limit",
        );
    api.apply(job("doomed", NS).failure_target());
    with_kubeconfig(&api, &["wait", "k8s:job/doomed"])
        .run()
        .expect(3, "failed");
}

#[test]
fn services_need_ready_endpoints() {
    let api = FakeApi::start();
    // A slice with "endpoints": null: the service exists but nothing backs it.
    api.apply(endpoint_slice("web-empty", NS, "web"));
    with_kubeconfig(&api, &["check", "k8s:svc/web"])
        .run()
        .expect(1, "0 of 0 ready");
    // Dual stack: the same two pods in an IPv4 and an IPv6 slice count once.
    api.apply(
        endpoint_slice("db-v4", NS, "db")
            .ready("10.0.0.1")
            .not_ready("10.0.0.2"),
    );
    api.apply(
        endpoint_slice("db-v6", NS, "db")
            .address_type("IPv6")
            .ready("fd00::1")
            .not_ready("fd00::2"),
    );
    with_kubeconfig(&api, &["check", "k8s:service/db?min=2"])
        .run()
        .expect(1, "1 of 2 ready");
    // A further slice with another pod: two distinct ready endpoints.
    let mut more = endpoint_slice("db-more", NS, "db").ready("10.0.0.3").json();
    fixtures::set(
        &mut more,
        "/endpoints/0/targetRef/uid",
        serde_json::json!("another-pod"),
    );
    api.apply(more);
    with_kubeconfig(&api, &["check", "k8s:service/db?min=2"])
        .run()
        .expect(0, "is ready ✓");
    with_kubeconfig(&api, &["check", "k8s:service/db?min=3"])
        .run()
        .expect(1, "2 of 3 ready");
    let list = api
        .requests()
        .into_iter()
        .find(|r| r.verb == Verb::List && r.path.ends_with("/endpointslices"))
        .unwrap();
    assert_eq!(
        list.param("labelSelector"),
        Some("kubernetes.io/service-name=web")
    );
    // The Service itself is read first, for its type (ExternalName).
    assert!(api.count(Verb::List, &collection("Service", NS)) > 0);
}

#[test]
fn services_fall_back_to_endpoints_where_slices_are_not_served() {
    let api = FakeApi::start();
    api.unserve_group("discovery.k8s.io");
    api.apply(common::kube::fixtures::endpoints(
        "web",
        NS,
        &["10.0.0.1"],
        &[],
    ));
    with_kubeconfig(&api, &["check", "k8s:svc/web"])
        .run()
        .expect(0, "is ready ✓");
    assert_eq!(api.count(Verb::List, &collection("Endpoints", NS)), 1);
}

#[test]
fn a_label_selector_waits_for_matching_pods() {
    let api = FakeApi::start();
    with_kubeconfig(&api, &["check", "k8s:pods?selector=app%3Dweb"])
        .run()
        .expect(1, "Waiting for pods matching app=web: none exist yet");
    let mut run = with_kubeconfig(&api, &["wait", "k8s:pods?selector=app=web"]).spawn();
    run.wait_for("none exist yet");
    api.await_watchers(&collection("Pod", NS), 1);
    api.apply(pod("web-1", NS).labels(&[("app", "web")]).not_ready());
    run.wait_for("0 of 1 ready (not ready: web-1)");
    api.apply(pod("web-1", NS).labels(&[("app", "web")]));
    run.finish().expect(0, "pods/app=web is ready ✓");
}

#[test]
fn a_410_in_the_middle_of_a_watch_lists_again() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2).updated(1));
    let mut run = with_kubeconfig(&api, &["wait", "k8s:deployment/web"]).spawn();
    run.wait_for("1 out of 2 new replicas");
    api.await_watchers(&deployments(), 1);
    api.expire_watches();
    api.await_count(Verb::List, &deployments(), 2);
    api.await_watchers(&deployments(), 1);
    api.apply(deployment("web", NS).replicas(2));
    run.finish().expect(0, "is ready ✓");
    assert_eq!(api.count(Verb::List, &deployments()), 2);
}

#[test]
fn a_clean_end_of_the_watch_watches_again_without_listing() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2).updated(1));
    let mut run = with_kubeconfig(&api, &["wait", "k8s:deployment/web"]).spawn();
    run.wait_for("1 out of 2 new replicas");
    api.await_watchers(&deployments(), 1);
    api.end_watches();
    api.await_count(Verb::Watch, &deployments(), 2);
    api.await_watchers(&deployments(), 1);
    api.apply(deployment("web", NS).replicas(2));
    run.finish().expect(0, "is ready ✓");
    assert_eq!(api.count(Verb::List, &deployments()), 1);
}

#[test]
fn forbidden_is_exit_3_with_the_rule_and_the_check() {
    let api = FakeApi::start();
    api.fail_next(
        &deployments(),
        Canned::forbidden(
            "list",
            "deployments",
            "apps",
            NS,
            "web",
            "system:serviceaccount:default:waiter",
        ),
    );
    let out = with_kubeconfig(&api, &["wait", "k8s:deployment/web"]).run();
    out.expect(3, "is forbidden: User \\\"system:serviceaccount:default:waiter\\\" cannot list resource \\\"deployments\\\"");
    assert!(out.stderr.contains("hint: Role rule {apiGroups: [\\\"apps\\\"], resources: [\\\"deployments\\\"], verbs: [\\\"list\\\",\\\"watch\\\"]}"), "{}", out.stderr);
    assert!(out.stderr.contains("check: kubectl auth can-i list deployments.apps -n default --as=system:serviceaccount:default:waiter"), "{}", out.stderr);
}

#[test]
fn an_api_that_is_not_served_is_exit_3() {
    let api = FakeApi::start();
    api.unserve_group("apps");
    with_kubeconfig(&api, &["wait", "k8s:deployment/web"])
        .run()
        .expect(
            3,
            "does not serve /apis/apps/v1/namespaces/default/deployments",
        );
}

#[test]
fn throttling_is_retried() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    api.fail_next(&deployments(), Canned::too_many_requests());
    let out = with_kubeconfig(&api, &["wait", "k8s:deployment/web"]).run();
    out.expect(0, "is ready ✓");
    assert!(
        out.stderr.contains("API server answered 429"),
        "{}",
        out.stderr
    );
    assert_eq!(api.count(Verb::List, &deployments()), 2);
}

#[test]
fn a_rotated_token_file_keeps_a_long_wait_alive() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(2).updated(1));
    let sa = api.in_cluster(NS);
    let mut run = sa
        .configure(Rdy::new(&["wait", "k8s:deployment/web"]))
        .spawn();
    run.wait_for("1 out of 2 new replicas");
    api.await_watchers(&deployments(), 1);
    // The kubelet rotates the token; the server stops accepting the old one.
    sa.write_token("rotated-token");
    api.set_token("rotated-token");
    api.end_watches();
    api.await_watchers(&deployments(), 1);
    api.apply(deployment("web", NS).replicas(2));
    run.finish().expect(0, "is ready ✓");
    let last = api.requests().into_iter().last().unwrap();
    assert_eq!(last.token.as_deref(), Some("rotated-token"));
    assert!(
        api.requests().iter().any(|r| r.status == 401),
        "the old token was refused once"
    );
}

#[test]
fn a_wait_that_times_out_names_kubectls_message() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(3).updated(1));
    with_kubeconfig(&api, &["wait", "--timeout", "300ms", "k8s:deployment/web"])
        .run()
        .expect(1, "msg=\"deployment/web is not ready after 300ms ✗\" error=\"Waiting for deployment \\\"web\\\" rollout to finish: 1 out of 3 new replicas have been updated...\"");
}

#[test]
fn stable_needs_the_object_to_stay_ready() {
    let api = FakeApi::start();
    api.apply(pod("web", NS));
    with_kubeconfig(&api, &["wait", "k8s:pod/web?stable=50ms"])
        .run()
        .expect(0, "is ready ✓");
    // Ready, but never for an hour: the deadline ends the wait first.
    with_kubeconfig(&api, &["wait", "-t", "300ms", "k8s:pod/web?stable=1h"])
        .run()
        .expect(1, "is not ready after 300ms");
    with_kubeconfig(&api, &["check", "k8s:pod/web?stable=1s"])
        .run()
        .expect(2, "stable= needs rdy wait");
}

#[test]
fn unusable_configuration_is_exit_2_before_any_request() {
    let api = FakeApi::start();
    let dir = temp_dir("badconfig");
    let config = api
        .kubeconfig()
        .render()
        .replace("    token:", "    auth-provider: {name: gcp}\n    token:");
    let path = write_file(&dir, "config", config.as_bytes());
    Rdy::new(&["check", "k8s:deployment/web"])
        .env("KUBECONFIG", path.to_str().unwrap())
        .run()
        .expect(2, "auth-provider is not supported");
    let yaml = write_file(&dir, "anchors", b"apiVersion: v1\nclusters: &c []\n");
    Rdy::new(&["check", "k8s:deployment/web"])
        .env("KUBECONFIG", yaml.to_str().unwrap())
        .run()
        .expect(2, "line 2: anchors (&) are not supported");
    Rdy::new(&["check", "k8s:deployment/web"])
        .env("HOME", dir.to_str().unwrap())
        .run()
        .expect(2, "no Kubernetes configuration");
    Rdy::new(&["check", "k8s:deploymnt/x"])
        .run()
        .expect(2, "unknown kind \"deploymnt\"");
    with_kubeconfig(&api, &["check", "k8s:deployment/web", "--status", "200"])
        .run()
        .expect(
            2,
            "--status applies to http:// and https:// targets, but \"k8s:deployment/web\" is a k8s target",
        );
    assert!(
        api.requests().is_empty(),
        "no request before the configuration is known good"
    );
}

#[test]
fn exec_credential_plugins_supply_the_token() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let dir = temp_dir("exec-plugin");
    let info = dir.join("exec-info.json");
    let plugin = write_file(
        &dir,
        "plugin",
        format!(
            "#!/bin/sh\nprintf '%s' \"$KUBERNETES_EXEC_INFO\" > {}\n\
             echo '{{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\
             \"status\":{{\"token\":\"{}\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}'\n",
            info.display(),
            api.token()
        )
        .as_bytes(),
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let user = format!(
        "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      \
         provideClusterInfo: true\n      interactiveMode: Never\n",
        plugin.display()
    );
    let config = api
        .kubeconfig()
        .no_user()
        .render()
        .replace("  user: {}\n", &user);
    let path = write_file(&dir, "config", config.as_bytes());
    Rdy::new(&["check", "k8s:deployment/web"])
        .env("KUBECONFIG", path.to_str().unwrap())
        .run()
        .expect(0, "is ready ✓");
    let info = std::fs::read_to_string(info).expect("the plugin ran");
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["kind"], "ExecCredential");
    assert_eq!(info["spec"]["interactive"], false);
    assert_eq!(info["spec"]["cluster"]["server"], api.url().as_str());

    let missing = config.replace(&plugin.display().to_string(), "rdy-no-such-plugin");
    let missing = missing.replace(
        "interactiveMode: Never",
        "installHint: Install rdy-no-such-plugin from the vendor.",
    );
    let path = write_file(&dir, "missing", missing.as_bytes());
    Rdy::new(&["wait", "k8s:deployment/web"])
        .env("KUBECONFIG", path.to_str().unwrap())
        .run()
        .expect(3, "credential plugin \\\"rdy-no-such-plugin\\\" not found: Install rdy-no-such-plugin from the vendor.");
}

#[test]
fn tls_server_name_is_what_the_certificate_is_checked_against() {
    // The fake's certificate names only kubernetes.default.svc; the server
    // is addressed by IP, so only tls-server-name makes it verify.
    let pki = common::pki::pki(&["kubernetes.default.svc"]);
    let api = FakeApi::start_with(pki, "token-x");
    api.apply(deployment("web", NS).replicas(1));
    let plain = api.kubeconfig().render();
    let named = plain.replace(
        "    server:",
        "    tls-server-name: kubernetes.default.svc\n    server:",
    );
    let dir = temp_dir("tls-server-name");
    for (file, config, code, says) in [
        (
            "plain",
            &plain,
            3,
            "not valid for 127.0.0.1 (it names kubernetes.default.svc)",
        ),
        ("named", &named, 0, "is ready ✓"),
    ] {
        let path = write_file(&dir, file, config.as_bytes());
        Rdy::new(&["wait", "-t", "5s", "k8s:deployment/web"])
            .env("KUBECONFIG", path.to_str().unwrap())
            .run()
            .expect(code, says);
    }
}

#[test]
fn a_rejected_static_token_is_exit_3() {
    let api = FakeApi::start();
    api.kubeconfig()
        .token("not-the-token")
        .configure(Rdy::new(&["wait", "k8s:deployment/web"]))
        .run()
        .expect(3, "Unauthorized: API server rejected the credentials");
}

#[test]
fn the_namespace_comes_from_pod_namespace_then_the_context() {
    let api = FakeApi::start();
    api.apply(deployment("web", "team-a").replicas(1));
    api.apply(deployment("web", "team-b").replicas(1));
    api.kubeconfig()
        .namespace("team-a")
        .configure(Rdy::new(&["check", "k8s:deployment/web"]))
        .run()
        .expect(0, "is ready ✓");
    api.kubeconfig()
        .namespace("team-a")
        .configure(Rdy::new(&["check", "k8s:deployment/web"]))
        .env("POD_NAMESPACE", "team-b")
        .run()
        .expect(0, "is ready ✓");
    let paths: Vec<String> = api.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/apis/apps/v1/namespaces/team-a/deployments",
            "/apis/apps/v1/namespaces/team-b/deployments"
        ]
    );
}
