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

/// A container's environment as the test can know it: literal values, and
/// a placeholder for values from Secrets and the downward API.
fn container_env(container: &Value) -> Vec<(String, String)> {
    container
        .get("env")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|e| {
            let value = e
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("from-a-secret");
            (text(e, "name").to_owned(), value.to_owned())
        })
        .collect()
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
                let run = match parsed {
                    Command::Wait(run) | Command::Check(run) | Command::Serve(run, _) => run,
                    _ => panic!("{}: {line:?} is not wait, check or serve", file.display()),
                };
                for (group, plural) in exposed_resources(&line) {
                    needed.push((group, plural, format!("--expose in {}", file.display())));
                }
                for target in &run.targets {
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
