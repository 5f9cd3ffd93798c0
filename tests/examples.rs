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

/// Every rdy command line in a workload: containers whose command is
/// `/rdy`, containers of the rdy image, and exec probes that run `/rdy`.
fn rdy_command_lines(doc: &Value) -> Vec<Vec<String>> {
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
            if command.first().map(String::as_str) == Some("/rdy") {
                lines.push(command[1..].iter().cloned().chain(args).collect());
            } else if text(container, "image").contains("/rdy:") {
                lines.push(args);
            }
            let probe = container
                .get("readinessProbe")
                .and_then(|p| p.get("exec"))
                .map(|e| strings(e.get("command")))
                .unwrap_or_default();
            if probe.first().map(String::as_str) == Some("/rdy") {
                lines.push(probe[1..].to_vec());
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

#[test]
fn examples_parse_and_the_role_allows_what_they_wait_for() {
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig().write(&temp_dir("examples"));
    let env = |name: &str| match name {
        "KUBECONFIG" => Some(kubeconfig.to_string_lossy().into_owned()),
        _ => None,
    };
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
            for line in rdy_command_lines(&doc) {
                command_lines += 1;
                let args: Vec<OsString> = line.iter().map(OsString::from).collect();
                let parsed = cli::parse(args, &env)
                    .unwrap_or_else(|e| panic!("{}: {line:?}: {e}", file.display()));
                let (Command::Wait(run) | Command::Check(run)) = parsed else {
                    panic!("{}: {line:?} is neither wait nor check", file.display());
                };
                for target in &run.targets {
                    if let Probe::K8s(k8s) = &target.probe {
                        let resource = k8s.object.kind.resource();
                        needed.push((
                            resource.group.to_owned(),
                            resource.plural.to_owned(),
                            target.address.clone(),
                        ));
                    }
                }
            }
        }
    }
    assert!(
        command_lines >= 3,
        "found {command_lines} rdy command lines"
    );
    assert!(!needed.is_empty());
    for (group, resource, target) in needed {
        assert!(
            roles.contains(&(group.clone(), resource.clone())),
            "{target} needs list+watch on {resource} in group {group:?}; rbac.yaml's Role lacks it"
        );
    }
    assert!(api.requests().is_empty(), "parsing must not touch the API");
}
