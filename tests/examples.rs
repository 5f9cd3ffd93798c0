//! The manifests in examples/ are what users copy, so they are checked: each
//! document is well formed, every rdy command line in them is accepted by
//! rdy's own parser, and the Role of rbac.yaml allows every Kubernetes
//! target they wait for.

mod common;

use std::ffi::OsString;
use std::path::Path;

use serde_yaml::Value;

use common::kube::FakeApi;
use common::temp_dir;
use rdy::cli::{self, Command};
use rdy::kube::kind::Kind;
use rdy::probe::Probe;

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read example");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde_yaml::with::singleton_map_recursive::deserialize(doc).expect("YAML"))
        .collect()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A container's environment as the test can know it: literal values, a
/// namespace for the downward API's `metadata.namespace`, and a placeholder
/// for values from Secrets and the rest of the downward API.
fn container_env(container: &Value) -> Vec<(String, String)> {
    container
        .get("env")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|e| {
            let field = e
                .get("valueFrom")
                .and_then(|v| v.get("fieldRef"))
                .map(|f| text(f, "fieldPath"));
            let value = match (e.get("value").and_then(Value::as_str), field) {
                (Some(value), _) => value,
                (None, Some("metadata.namespace")) => "a-namespace",
                (None, _) => "from-a-secret",
            };
            (text(e, "name").to_owned(), value.to_owned())
        })
        .collect()
}

/// Expands `$(VAR)` in an argument from the container's environment, as
/// the kubelet does for `command` and `args`.
fn expand(arg: &str, env: &[(String, String)]) -> String {
    env.iter().fold(arg.to_owned(), |arg, (name, value)| {
        arg.replace(&format!("$({name})"), value)
    })
}

/// One rdy invocation found in a manifest: its argv and its container's env.
type CommandLine = (Vec<String>, Vec<(String, String)>);

/// Every rdy command line in a workload, with its container's environment:
/// containers whose command is `/rdy`, containers of the rdy image, and
/// exec probes that run `/rdy`.
fn rdy_command_lines(doc: &Value) -> Vec<CommandLine> {
    let spec = doc
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"))
        .or_else(|| doc.get("spec"));
    let Some(spec) = spec else { return Vec::new() };
    let mut lines = Vec::new();
    for list in ["initContainers", "containers"] {
        for container in spec
            .get(list)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let command = strings(container.get("command"));
            let args = strings(container.get("args"));
            let env = container_env(container);
            let args: Vec<String> = args.iter().map(|a| expand(a, &env)).collect();
            if command.first().map(String::as_str) == Some("/rdy") {
                lines.push((command[1..].iter().cloned().chain(args).collect(), env));
            } else if text(container, "image").contains("/rdy:") {
                lines.push((args, env));
            }
            let probe = container
                .get("readinessProbe")
                .and_then(|p| p.get("exec"))
                .map(|e| strings(e.get("command")))
                .unwrap_or_default();
            if probe.first().map(String::as_str) == Some("/rdy") {
                lines.push((probe[1..].to_vec(), container_env(container)));
            }
        }
    }
    lines
}

/// `(apiGroup, resource)` pairs the Role grants both list and watch on.
fn granted(role: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in role
        .get("rules")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let verbs = strings(rule.get("verbs"));
        if !(verbs.iter().any(|v| v == "list") && verbs.iter().any(|v| v == "watch")) {
            continue;
        }
        for group in strings(rule.get("apiGroups")) {
            for resource in strings(rule.get("resources")) {
                out.push((group.clone(), resource));
            }
        }
    }
    out
}

/// What `--expose NS[/KIND]` lets the server be asked about: that kind,
/// or every kind of the health API.
fn exposed_resources(line: &[String]) -> Vec<(String, String)> {
    let all = [
        "deployment",
        "statefulset",
        "daemonset",
        "job",
        "service",
        "pod",
    ];
    let mut out = Vec::new();
    for pair in line.windows(2).filter(|w| w[0] == "--expose") {
        let kinds: Vec<&str> = match pair[1].split_once('/') {
            Some((_, kind)) => vec![kind],
            None => all.to_vec(),
        };
        for kind in kinds {
            let resource = rdy::kube::kind::Kind::parse(kind)
                .expect("a kind")
                .resource();
            out.push((resource.group.to_owned(), resource.plural.to_owned()));
        }
    }
    out
}

/// The group and plural a resource written as `SINGULAR[.GROUP]` will be
/// discovered as (the examples write singular names).
fn discovered(written: &str) -> (String, String) {
    let (name, group) = written.split_once('.').unwrap_or((written, ""));
    (group.to_owned(), format!("{name}s"))
}

#[test]
fn examples_parse_and_the_role_allows_what_they_wait_for() {
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig().write(&temp_dir("examples"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");

    let mut needed = Vec::new();
    let mut roles = Vec::new();
    let mut command_lines = 0;
    for file in &files {
        for doc in documents(file) {
            for key in ["apiVersion", "kind"] {
                assert!(
                    !text(&doc, key).is_empty(),
                    "{}: a document without {key}",
                    file.display()
                );
            }
            assert!(!text(doc.get("metadata").unwrap_or(&Value::Null), "name").is_empty());
            if text(&doc, "kind") == "Role" {
                roles.extend(granted(&doc));
            }
            for (line, container_env) in rdy_command_lines(&doc) {
                command_lines += 1;
                let env = |name: &str| match name {
                    "KUBECONFIG" => Some(kubeconfig.to_string_lossy().into_owned()),
                    "HOSTNAME" => Some("a-pod".to_owned()),
                    _ => container_env
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone()),
                };
                let args: Vec<OsString> = line.iter().map(OsString::from).collect();
                let parsed = cli::parse(args, &env)
                    .unwrap_or_else(|e| panic!("{}: {line:?}: {e}", file.display()));
                let targets = match parsed {
                    Command::Wait(run) | Command::Check(run) => run.targets,
                    Command::Serve(settings) => settings.targets,
                    _ => panic!("{}: {line:?} is not wait, check or serve", file.display()),
                };
                for (group, plural) in exposed_resources(&line) {
                    needed.push((group, plural, format!("--expose in {}", file.display())));
                }
                for target in &targets {
                    if let Probe::K8s(k8s) = &target.probe {
                        let (group, plural) = match k8s.object.kind {
                            Kind::Other => discovered(&k8s.object.resource),
                            kind => {
                                let r = kind.resource();
                                (r.group.to_owned(), r.plural.to_owned())
                            }
                        };
                        needed.push((group, plural, target.address.clone()));
                    }
                }
            }
        }
    }
    assert!(
        command_lines >= 7,
        "found {command_lines} rdy command lines"
    );
    assert!(!needed.is_empty());
    for (group, resource, target) in needed {
        assert!(
            roles.contains(&(group.clone(), resource.clone())),
            "{target} needs list+watch on {resource} in group {group:?}; no Role in examples/ grants it"
        );
    }
    assert!(api.requests().is_empty(), "parsing must not touch the API");
}

/// `kubectl apply -n mine -f examples/X.yaml` works for every file that
/// does not say otherwise: no object names a namespace of its own, and a
/// file that needs more says so in its first comment lines (another
/// namespace, rbac.yaml's ServiceAccount, a Pod Security label).
#[test]
fn every_example_applies_in_any_namespace_or_says_what_it_needs() {
    for file in example_files() {
        let source = std::fs::read_to_string(&file).unwrap();
        let head: String = source
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let docs = documents(&file);
        let pinned = docs.iter().any(|d| {
            d.get("metadata").and_then(|m| m.get("namespace")).is_some()
                || d.get("subjects")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .any(|s| s.get("namespace").is_some())
        });
        let says = head.contains("Applies in any namespace");
        assert!(
            pinned != says,
            "{}: either no namespace in the objects and \"Applies in any namespace\" in the first lines, or the namespaces it needs said there",
            file.display()
        );
        if pinned {
            assert!(
                head.contains("Needs "),
                "{}: say what it needs",
                file.display()
            );
        }
        let defined: Vec<&str> = docs
            .iter()
            .filter(|d| text(d, "kind") == "ServiceAccount")
            .map(|d| d.get("metadata").map_or("", |m| text(m, "name")))
            .collect();
        for doc in &docs {
            let spec = doc
                .get("spec")
                .and_then(|s| s.get("template"))
                .and_then(|t| t.get("spec"));
            let Some(account) = spec
                .and_then(|s| s.get("serviceAccountName"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            assert!(
                defined.contains(&account)
                    || head.contains("Needs rbac.yaml") && head.contains(account),
                "{}: uses ServiceAccount {account}, which it neither defines nor names in its first lines",
                file.display()
            );
        }
    }
}

// Pod Security: every example passes "restricted" on a real API server,
// except where a container needs more by its nature and the file says so.

/// All example manifests.
fn example_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The Pod Security level a file declares with `# pod-security: LEVEL —
/// why`, else `restricted`. A file that asks for more must say why.
fn declared_level(path: &Path) -> &'static str {
    let text = std::fs::read_to_string(path).unwrap();
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("# pod-security:")) else {
        return "restricted";
    };
    let (level, why) = line.split_once('—').unwrap_or((line, ""));
    assert!(
        why.trim().len() > 20,
        "{}: say why the example needs more than restricted",
        path.display()
    );
    match level.trim() {
        "baseline" => "baseline",
        "privileged" => "privileged",
        other => panic!("{}: unknown Pod Security level {other:?}", path.display()),
    }
}

/// A workload's pod template spec (Deployment, Job, ...) or a Pod's spec.
fn pod_spec(doc: &serde_json::Value) -> Option<&serde_json::Value> {
    match doc["kind"].as_str()? {
        "Pod" => doc.get("spec"),
        _ => doc.get("spec")?.get("template")?.get("spec"),
    }
}

/// Whether a container is rdy: the rdy image, or `/rdy` as its command.
fn is_rdy(container: &serde_json::Value) -> bool {
    container["image"].as_str().unwrap_or("").contains("/rdy:")
        || container["command"][0].as_str() == Some("/rdy")
}

/// Every container of a pod spec, init containers first.
fn containers(spec: &serde_json::Value) -> Vec<&serde_json::Value> {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|list| spec[list].as_array())
        .flatten()
        .collect()
}

/// A Pod object with this spec: Pod Security is enforced on pods, not on
/// the workloads that make them (those only warn).
fn pod(name: &str, namespace: &str, spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    })
}

fn create_service_account(kube: &common::realkube::RealKube, namespace: &str, name: &str) {
    let collection =
        common::realkube::RealKube::collection("v1", "ServiceAccount", Some(namespace));
    let body = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}});
    let response = kube.request(
        "POST",
        &collection,
        Some(("application/json", &body.to_string())),
    );
    assert!(matches!(response.status, 201 | 409), "{}", response.body);
}

/// Dry-runs one object into `namespace` and asserts the server accepts it.
fn accepted(
    kube: &common::realkube::RealKube,
    namespace: &str,
    mut object: serde_json::Value,
    what: &str,
) {
    let cluster_wide = ["Namespace", "ClusterRole", "ClusterRoleBinding"];
    let kind = object["kind"].as_str().unwrap_or("").to_owned();
    let scope = (!cluster_wide.contains(&kind.as_str())).then_some(namespace);
    if scope.is_some() {
        object["metadata"]["namespace"] = namespace.into();
    }
    let api_version = object["apiVersion"].as_str().unwrap_or("").to_owned();
    if let Some(spec) = pod_spec(&object)
        && let Some(account) = spec["serviceAccountName"].as_str()
    {
        // The ServiceAccount admission plugin refuses pods whose account
        // does not exist, and a dry run creates nothing.
        create_service_account(kube, namespace, account);
    }
    let collection = common::realkube::RealKube::collection(&api_version, &kind, scope);
    let response = kube.dry_run(&collection, &object.to_string());
    // 409: an account this test created for a pod listed before it.
    let made_here = kind == "ServiceAccount" && response.status == 409;
    assert!(
        matches!(response.status, 200 | 201) || made_here,
        "{what}: {} {}",
        response.status,
        response.body
    );
}

#[test]
fn examples_pass_pod_security_restricted_on_a_real_api_server() {
    let test = "examples_pass_pod_security_restricted_on_a_real_api_server";
    let Some(kube) = common::realkube::realkube(test) else {
        return;
    };
    const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
    let restricted = kube.namespace_labelled("ex-restricted", &[(ENFORCE, "restricted")]);
    // The check bites: a pod without a seccomp profile is refused.
    let bare = pod(
        "bare",
        &restricted,
        serde_json::json!({"containers": [{"name": "c", "image": "x"}]}),
    );
    let collection = common::realkube::RealKube::collection("v1", "Pod", Some(&restricted));
    let refused = kube.dry_run(&collection, &bare.to_string());
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("violates PodSecurity \\\"restricted"),
        "{}",
        refused.body
    );

    let mut pods = 0;
    for (i, file) in example_files().iter().enumerate() {
        let level = declared_level(file);
        let namespace = kube.namespace_labelled(&format!("ex{i}-{level}"), &[(ENFORCE, level)]);
        for doc in documents(file) {
            let doc = serde_json::to_value(&doc).expect("YAML as JSON");
            let name = doc["metadata"]["name"].as_str().unwrap_or("x").to_owned();
            let what = format!("{} {} {name}", file.display(), doc["kind"]);
            accepted(&kube, &namespace, doc.clone(), &what);
            let Some(spec) = pod_spec(&doc) else { continue };
            pods += 1;
            accepted(
                &kube,
                &namespace,
                pod(&name, &namespace, spec.clone()),
                &format!("{what}: its pod"),
            );
            // rdy's own containers never need more than restricted.
            let mut own = spec.clone();
            for list in ["initContainers", "containers"] {
                if let Some(items) = own[list].as_array_mut() {
                    items.retain(is_rdy);
                }
            }
            if own["containers"].as_array().is_none_or(|c| c.is_empty()) {
                own["containers"] = own["initContainers"].take();
            }
            if containers(&own).is_empty() {
                continue;
            }
            accepted(
                &kube,
                &restricted,
                pod(&name, &restricted, own),
                &format!("{what}: its rdy containers"),
            );
        }
    }
    assert!(pods >= 5, "{pods} pod templates");
}

#[test]
fn examples_give_rdy_containers_limits_and_keep_readiness_local() {
    for file in example_files() {
        for doc in documents(&file) {
            let doc = serde_json::to_value(&doc).expect("YAML as JSON");
            let Some(spec) = pod_spec(&doc) else { continue };
            for container in containers(spec) {
                let what = format!("{}: container {}", file.display(), container["name"]);
                if is_rdy(container) {
                    let context = &container["securityContext"];
                    assert_eq!(context["allowPrivilegeEscalation"], false, "{what}");
                    assert_eq!(context["capabilities"]["drop"][0], "ALL", "{what}");
                }
                if is_rdy(container) && container["command"][0] != "/rdy" {
                    assert!(
                        container["resources"]["limits"]["memory"].is_string(),
                        "{what}: no memory limit"
                    );
                    assert!(
                        container["resources"]["requests"]["cpu"].is_string(),
                        "{what}: no cpu request"
                    );
                }
                // A readiness probe that checks a shared dependency makes
                // every replica unready at once when it blips.
                let probe = &container["readinessProbe"]["exec"]["command"];
                if probe[0] == "/rdy" {
                    for target in probe
                        .as_array()
                        .unwrap()
                        .iter()
                        .skip(2)
                        .filter_map(|a| a.as_str())
                    {
                        if target.starts_with('-') || !target.contains(':') {
                            continue;
                        }
                        let local = ["localhost", "127.0.0.1", "[::1]"]
                            .iter()
                            .any(|h| target.contains(h));
                        assert!(
                            local,
                            "{what}: readiness probe checks {target}, a shared dependency"
                        );
                    }
                }
            }
        }
    }
}
