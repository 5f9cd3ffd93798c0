//! `rdy rbac` (issue 18): the roles it prints are applied to the real API
//! server (tests/common/realkube.rs) and bound to a fresh ServiceAccount,
//! whose token then runs `rdy wait`: the printed rules suffice, and one rule
//! less ends the wait with the 403 hint.

mod common;

use common::realkube::{RealKube, realkube};
use common::{Rdy, eventually, temp_dir, write_file};
use serde_json::{Value, json};

/// The YAML `rdy rbac` prints, as JSON objects. A reader of exactly that
/// shape: block mappings and sequences of mappings by indentation, flow
/// lists and quoted strings as JSON, plain scalars as strings.
fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---\n")
        .map(|doc| {
            let lines: Vec<(usize, String)> = doc
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(|l| (l.len() - l.trim_start().len(), l.trim_start().to_owned()))
                .collect();
            block(&lines, &mut 0)
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn block(lines: &[(usize, String)], at: &mut usize) -> Value {
    let Some((indent, first)) = lines.get(*at).cloned() else {
        return Value::Null;
    };
    if first.starts_with("- ") {
        let mut items = Vec::new();
        while let Some((i, line)) = lines.get(*at).cloned() {
            let Some(rest) = line.strip_prefix("- ").filter(|_| i == indent) else {
                break;
            };
            let mut item = lines.to_vec();
            item[*at] = (indent + 2, rest.to_owned());
            items.push(block(&item, at));
        }
        return Value::Array(items);
    }
    let mut map = serde_json::Map::new();
    while let Some((i, line)) = lines.get(*at).cloned() {
        if i != indent {
            break;
        }
        let (key, value) = line.split_once(':').expect("key: value");
        *at += 1;
        let value = match value.trim() {
            "" => block(lines, at),
            v if v.starts_with('[') || v.starts_with('"') => serde_json::from_str(v).expect(v),
            v => Value::String(v.to_owned()),
        };
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// Creates every object of `yaml` (Roles, bindings) as the admin.
fn apply(kube: &RealKube, yaml: &str) -> Vec<Value> {
    let docs = documents(yaml);
    for doc in &docs {
        let ns = doc["metadata"]["namespace"].as_str();
        let kind = doc["kind"].as_str().expect("kind");
        let path = RealKube::collection("rbac.authorization.k8s.io/v1", kind, ns);
        kube.create(&path, &doc.to_string());
    }
    docs
}

/// Whether the API server already authorizes `user` to list every object
/// `rules` name in `ns` (RBAC is read from an informer: a new binding takes
/// a moment).
fn authorized(kube: &RealKube, user: &str, ns: &str, rules: &[Value]) -> bool {
    rules.iter().all(|rule| {
        let name = rule["resourceNames"][0].as_str().unwrap_or("");
        let review = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "resourceAttributes": {
                "namespace": ns, "verb": "list", "group": rule["apiGroups"][0],
                "resource": rule["resources"][0], "name": name}}
        });
        let path = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
        let body = kube.expect(
            &[201],
            "POST",
            path,
            Some(("application/json", &review.to_string())),
        );
        let review: Value = serde_json::from_str(&body).expect("SubjectAccessReview");
        review["status"]["allowed"] == true
    })
}

/// A fresh ServiceAccount in `ns`, and a kubeconfig with a token for it
/// from the TokenRequest API.
fn account(kube: &RealKube, ns: &str, name: &str) -> std::path::PathBuf {
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}});
    kube.create(
        &format!("/api/v1/namespaces/{ns}/serviceaccounts"),
        &sa.to_string(),
    );
    let request = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600}});
    let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/{name}/token");
    let body = kube.expect(
        &[201],
        "POST",
        &path,
        Some(("application/json", &request.to_string())),
    );
    let token: Value = serde_json::from_str(&body).expect("TokenRequest");
    let config = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: sa\nclusters:\n- name: rk\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: sa\n  context:\n    cluster: rk\n    user: sa\n    namespace: {ns}\nusers:\n- name: sa\n  user:\n    token: {}\n",
        kube.server(),
        kube.dir.join("pki/ca.crt").display(),
        token["status"]["token"].as_str().expect("token")
    );
    write_file(
        &temp_dir("rbac"),
        &format!("{name}.kubeconfig"),
        config.as_bytes(),
    )
}

/// A pod that a kubelet reports ready, a Secret, a Service with a ready
/// endpoint in a slice of its own, and a custom resource whose controller
/// said `Ready`: objects that are ready without a node.
fn objects(kube: &RealKube, ns: &str, group: &str) {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "x"}]}});
    let pods = format!("/api/v1/namespaces/{ns}/pods");
    kube.create(&pods, &pod.to_string());
    kube.pod_ready(&format!("{pods}/p"));
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"k": "dg=="}});
    kube.create(
        &format!("/api/v1/namespaces/{ns}/secrets"),
        &secret.to_string(),
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
        "spec": {"ports": [{"port": 5432}]}});
    kube.create(
        &format!("/api/v1/namespaces/{ns}/services"),
        &svc.to_string(),
    );
    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "db-1", "labels": {"kubernetes.io/service-name": "db"}},
        "addressType": "IPv4", "ports": [{"port": 5432}],
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]});
    let slices = format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices");
    kube.create(&slices, &slice.to_string());
    let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Gadget",
        "metadata": {"name": "w"}, "spec": {}});
    let widgets = format!("/apis/{group}/v1/namespaces/{ns}/gadgets");
    kube.create(&widgets, &widget.to_string());
    let status = r#"{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True"}]}"#;
    kube.patch_status(&format!("{widgets}/w"), status);
}

#[test]
fn printed_roles_let_the_account_wait_and_one_rule_less_is_refused() {
    let Some(kube) = realkube("printed_roles_let_the_account_wait_and_one_rule_less_is_refused")
    else {
        return;
    };
    let group = format!("rbac-{}.example.com", std::process::id());
    kube.crd(&group, "Gadget", &format!("gdg{}", std::process::id()));
    let ns = kube.namespace("rbac");
    objects(&kube, &ns, &group);
    let targets = [
        "k8s:pod/p".to_owned(),
        "k8s:pods?selector=app%3Dp".to_owned(),
        "k8s:secret/s?key=k".to_owned(),
        "k8s:svc/db".to_owned(),
        format!("k8s:gadget.{group}/w"),
    ];
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let print = |sa: &str| {
        let who = format!("{ns}/{sa}");
        let args = [&["rbac", "--service-account", &who][..], &targets].concat();
        let out = kube.rdy("admin", &args).run();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        out.stdout
    };
    let wait = |config: &std::path::Path| {
        let args = [&["wait", "-t", "20s"][..], &targets].concat();
        Rdy::new(&args)
            .env("KUBECONFIG", config.to_str().expect("UTF-8"))
            .run()
    };

    // The printed roles, as printed.
    let yaml = print("waiter");
    assert!(yaml.contains(r#"resourceNames: ["w"]"#), "{yaml}");
    assert!(
        yaml.contains(&format!(r#"apiGroups: ["{group}"]"#)),
        "{yaml}"
    );
    let config = account(&kube, &ns, "waiter");
    let docs = apply(&kube, &yaml);
    let rules = docs[0]["rules"].as_array().expect("rules").clone();
    assert_eq!(
        rules.len(),
        4,
        "pods, secrets, endpointslices, gadgets: {yaml}"
    );
    let user = format!("system:serviceaccount:{ns}:waiter");
    assert!(eventually(|| authorized(&kube, &user, &ns, &rules)));
    wait(&config).expect(0, "is ready");

    // The same roles without the EndpointSlice rule, for another account.
    let lesser = print("lesser");
    let mut docs = documents(&lesser);
    let rules = docs[0]["rules"].as_array_mut().expect("rules");
    rules.retain(|r| r["resources"][0] != "endpointslices");
    let rules = rules.clone();
    for doc in &docs {
        let kind = doc["kind"].as_str().expect("kind");
        let path = RealKube::collection("rbac.authorization.k8s.io/v1", kind, Some(&ns));
        kube.create(&path, &doc.to_string());
    }
    let config = account(&kube, &ns, "lesser");
    let user = format!("system:serviceaccount:{ns}:lesser");
    assert!(eventually(|| authorized(&kube, &user, &ns, &rules)));
    wait(&config).expect(
        3,
        r#"hint: Role rule {apiGroups: [\"discovery.k8s.io\"], resources: [\"endpointslices\"]"#,
    );
}

#[test]
fn offline_names_what_it_cannot_resolve_and_usage_errors_are_exit_2() {
    let out = Rdy::new(&[
        "rbac",
        "--offline",
        "--service-account",
        "app/web",
        "k8s:cm/c",
        "k8s:cert/web",
    ])
    .run();
    out.expect(
        1,
        "k8s:cert/web: left out: \"cert\" is not one of rdy's built-in names",
    );
    assert!(
        out.stdout.contains("resources: [\"configmaps\"]"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("cert"), "{}", out.stdout);
    let cases: [(&[&str], &str); 5] = [
        (
            &["rbac", "k8s:deploy/x"],
            "--service-account NAMESPACE/NAME is required",
        ),
        (
            &["rbac", "--service-account", "web", "k8s:deploy/x"],
            "expected NAMESPACE/NAME",
        ),
        (
            &["rbac", "--service-account", "a/b"],
            "a k8s: target is required",
        ),
        (
            &["rbac", "--service-account", "a/b", "db:5432"],
            "takes k8s: targets only",
        ),
        (
            &["rbac", "--offline", "--service-account", "a/b", "k8s:job/j"],
            "--offline would do nothing",
        ),
    ];
    for (args, says) in cases {
        let out = Rdy::new(args).run();
        out.expect(2, says);
        assert_eq!(out.lines().len(), 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn node_self_roles_read_the_daemonset_and_the_node() {
    let Some(kube) = realkube("node_self_roles_read_the_daemonset_and_the_node") else {
        return;
    };
    let ns = kube.namespace("rbac-node");
    let node = format!("rbac-hdd-{}", std::process::id());
    let body = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node, "labels": {"disk": "hdd"}}});
    kube.create("/api/v1/nodes", &body.to_string());
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "picky"},
        "spec": {"selector": {"matchLabels": {"app": "picky"}},
            "template": {"metadata": {"labels": {"app": "picky"}},
                "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "x"}]}}}});
    kube.create(
        &format!("/apis/apps/v1/namespaces/{ns}/daemonsets"),
        &ds.to_string(),
    );
    let target = "k8s:ds/picky?node=self";
    let check = |config: &std::path::Path| {
        Rdy::new(&["check", target])
            .env("KUBECONFIG", config.to_str().expect("UTF-8"))
            .env("NODE_NAME", &node)
            .run()
    };
    for (account_name, keep_cluster_role) in [("nodes", true), ("nodeless", false)] {
        let who = format!("{ns}/{account_name}");
        let out = kube
            .rdy("admin", &["rbac", "--service-account", &who, target])
            .run();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(
            out.stdout
                .contains("resources: [\"nodes\"]\n    verbs: [\"list\"]"),
            "{}",
            out.stdout
        );
        let config = account(&kube, &ns, account_name);
        let mut docs = documents(&out.stdout);
        docs.retain(|d| {
            keep_cluster_role || !d["kind"].as_str().unwrap_or("").starts_with("Cluster")
        });
        let mut rules = Vec::new();
        for doc in &docs {
            let kind = doc["kind"].as_str().expect("kind");
            let scope = doc["metadata"]["namespace"].as_str();
            let path = RealKube::collection("rbac.authorization.k8s.io/v1", kind, scope);
            kube.create(&path, &doc.to_string());
            rules.extend(doc["rules"].as_array().cloned().unwrap_or_default());
        }
        let user = format!("system:serviceaccount:{ns}:{account_name}");
        assert!(eventually(|| authorized(&kube, &user, &ns, &rules)));
        match keep_cluster_role {
            true => check(&config).expect(3, "its nodeSelector disk=ssd does not match"),
            false => check(&config).expect(
                3,
                r#"hint: ClusterRole rule {apiGroups: [\"\"], resources: [\"nodes\"]"#,
            ),
        };
    }
}
