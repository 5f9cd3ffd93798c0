//! `rdy rbac`: the least RBAC that `rdy wait` needs for its `k8s:` targets
//! (docs/kubernetes.md §4.1), as YAML for `kubectl apply -f -`.
//!
//! rdy lists and watches and never gets, so a target needs `list` and
//! `watch` on the resource its wait reads. The API server authorizes a LIST
//! or WATCH whose field selector is exactly `metadata.name=NAME` as a request
//! for the object NAME (kube-apiserver's RequestInfo), so `resourceNames`
//! narrows a named target to its object; label queries (pods by selector, a
//! Service's EndpointSlices) cannot be narrowed.

use std::fmt::{self, Write as _};
use std::time::Instant;

use super::client::Client;
use super::discovery::{self, ApiResource};
use super::error::ApiError;
use super::kind::{DAEMONSETS, ENDPOINT_SLICES, Kind, PODS, SERVICES};
use super::node::NODES;
use super::target::ObjectRef;

/// One permission: verbs on a resource, in a namespace or cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `None`: cluster-scoped (a ClusterRole).
    pub namespace: Option<String>,
    /// API group; `""` is the core group.
    pub group: String,
    /// Plural resource name.
    pub plural: String,
    /// The verbs, as YAML list items.
    pub verbs: &'static str,
    /// The objects it is narrowed to; `None`: every object.
    pub names: Option<Vec<String>>,
    /// The targets that need it, for the comment above it.
    pub targets: Vec<String>,
}

const LIST_WATCH: &str = r#""list", "watch""#;

/// What `rdy rbac` was asked for: each target as written with its parsed
/// form and namespace, and the service account `NAMESPACE/NAME` to bind.
#[derive(Debug)]
pub struct Request {
    /// `(as written, parsed, namespace)`; `pod/self` has the name `""`.
    pub targets: Vec<(String, ObjectRef, String)>,
    /// The service account's namespace and name.
    pub account: (String, String),
    /// For discovery; `None` with `--offline`.
    pub client: Option<Client>,
}

/// Why no manifest was made.
#[derive(Debug)]
pub enum RbacError {
    /// Discovery failed.
    Api(ApiError),
    /// A target as written, and the cluster-scoped resource it names with
    /// a namespace.
    ClusterScoped(String, String),
}

impl fmt::Display for RbacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RbacError::Api(e) => write!(f, "{e}"),
            RbacError::ClusterScoped(target, plural) => write!(
                f,
                "{target}: {plural} is cluster-scoped; write it without a namespace"
            ),
        }
    }
}

/// Resources rdy can name without discovery, beyond the built-in kinds:
/// `(group, plural, singular, short name, namespaced)`.
const OFFLINE: [(&str, &str, &str, &str, bool); 5] = [
    ("", "secrets", "secret", "", true),
    ("", "configmaps", "configmap", "cm", true),
    (
        "",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "pvc",
        true,
    ),
    ("", "nodes", "node", "no", false),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "customresourcedefinition",
        "crd",
        false,
    ),
];

/// The resource a discovered target names: from API discovery with a
/// client, else from [`OFFLINE`]. `Ok(None)`: not resolved.
fn resolve(written: &str, client: Option<&Client>) -> Result<Option<ApiResource>, ApiError> {
    if let Some(client) = client {
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        return discovery::resolve(client, written, false, deadline);
    }
    // As discovery::find: plural, singular or short name, then the group.
    let written = written.to_ascii_lowercase();
    let (name, group) = written.split_once('.').unwrap_or((&written, ""));
    let found = OFFLINE.iter().find(|(g, plural, singular, short, _)| {
        [*plural, *singular, *short].contains(&name)
            && (group.is_empty() || group == *g)
            && !name.is_empty()
    });
    Ok(found.map(|(group, plural, _, _, namespaced)| ApiResource {
        group: (*group).to_owned(),
        version: "v1".to_owned(),
        plural: (*plural).to_owned(),
        singular: String::new(),
        short: Vec::new(),
        namespaced: *namespaced,
    }))
}

/// The rules one target needs, `found` being its discovered resource.
pub fn needs(object: &ObjectRef, namespace: &str, found: Option<&ApiResource>) -> Vec<Rule> {
    let names = Some(object.name().to_owned()).filter(|n| !n.is_empty());
    let rule = |group: &str, plural: &str, names: Option<String>, namespaced: bool| Rule {
        namespace: namespaced.then(|| namespace.to_owned()),
        group: group.to_owned(),
        plural: plural.to_owned(),
        verbs: LIST_WATCH,
        names: names.map(|n| vec![n]),
        targets: Vec::new(),
    };
    let builtin = |r: super::kind::Resource, names| rule(r.group, r.plural, names, true);
    match (object.kind, found) {
        (_, Some(r)) => vec![rule(&r.group, &r.plural, names, r.namespaced)],
        (Kind::Pods, _) => vec![builtin(PODS, None)],
        // The pods on the node; the DaemonSet and the Node (whose name is
        // known only in the pod) to tell whether it can place one there.
        (Kind::DaemonSet, _) if object.node.is_some() => vec![
            builtin(PODS, None),
            builtin(DAEMONSETS, names),
            Rule {
                verbs: r#""list""#,
                ..rule(NODES.group, NODES.plural, None, false)
            },
        ],
        (Kind::Service, _) if !object.expect.is_empty() => vec![builtin(SERVICES, names)],
        (Kind::Service, _) => vec![builtin(ENDPOINT_SLICES, None)],
        (kind, _) => vec![builtin(kind.resource(), names)],
    }
}

/// Adds `rule` for `target`, merged into a rule on the same resource: the
/// names are joined, and a rule for every object takes in the named ones.
fn add(rules: &mut Vec<Rule>, mut rule: Rule, target: &str) {
    rule.targets.push(target.to_owned());
    let same = rules.iter_mut().find(|r| {
        (&r.namespace, &r.group, &r.plural, r.verbs)
            == (&rule.namespace, &rule.group, &rule.plural, rule.verbs)
    });
    let Some(found) = same else {
        rules.push(rule);
        return;
    };
    found.targets.append(&mut rule.targets);
    found.names = match (found.names.take(), rule.names) {
        (Some(mut a), Some(b)) => {
            for name in b {
                if !a.contains(&name) {
                    a.push(name);
                }
            }
            Some(a)
        }
        _ => None,
    };
}

/// The rules of every target and the targets that could not be resolved
/// (their resource is neither built in nor served), with why.
pub fn plan(request: &Request) -> Result<(Vec<Rule>, Vec<String>), RbacError> {
    let (mut rules, mut unresolved) = (Vec::new(), Vec::new());
    for (written, object, namespace) in &request.targets {
        let found = match object.kind {
            Kind::Other => {
                match resolve(&object.resource, request.client.as_ref()).map_err(RbacError::Api)? {
                    Some(found) => Some(found),
                    None => {
                        unresolved.push(match request.client {
                            None => format!(
                                "{written}: left out: {:?} is not one of rdy's built-in names; \
                             without --offline API discovery resolves it",
                                object.resource
                            ),
                            Some(_) => format!(
                                "{written}: left out: the cluster serves no resource {:?}",
                                object.resource
                            ),
                        });
                        continue;
                    }
                }
            }
            _ => None,
        };
        if let Some(r) = &found
            && !r.namespaced
            && object.namespace.is_some()
        {
            return Err(RbacError::ClusterScoped(written.clone(), r.plural.clone()));
        }
        for rule in needs(object, namespace, found.as_ref()) {
            add(&mut rules, rule, written);
        }
    }
    Ok((rules, unresolved))
}

/// The YAML: per namespace a Role and a RoleBinding, for cluster-scoped
/// resources a ClusterRole and a ClusterRoleBinding, all named
/// `rdy:NAMESPACE:ACCOUNT` after the service account they bind.
pub fn render(rules: &[Rule], account: &(String, String)) -> String {
    let (sa_ns, sa) = account;
    let name = format!("rdy:{sa_ns}:{sa}");
    let mut out = format!(
        "# rdy rbac: what rdy wait needs, for the ServiceAccount {sa_ns}/{sa}\n\
         # (which this does not create). rdy lists and watches, never gets.\n"
    );
    let mut scopes: Vec<&Option<String>> = Vec::new();
    for rule in rules {
        if !scopes.contains(&&rule.namespace) {
            scopes.push(&rule.namespace);
        }
    }
    for scope in scopes {
        let (kind, meta) = match scope {
            Some(ns) => ("Role", format!("  name: {name}\n  namespace: {ns}\n")),
            None => ("ClusterRole", format!("  name: {name}\n")),
        };
        let binding = match scope {
            Some(_) => "RoleBinding",
            None => "ClusterRoleBinding",
        };
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n{meta}rules:\n"
        );
        for rule in rules.iter().filter(|r| &r.namespace == scope) {
            let names = match &rule.names {
                Some(names) => format!("    resourceNames: [\"{}\"]\n", names.join("\", \"")),
                None => String::new(),
            };
            let _ = write!(
                out,
                "  # {}\n  - apiGroups: [\"{}\"]\n    resources: [\"{}\"]\n{names}    verbs: [{}]\n",
                rule.targets.join(", "),
                rule.group,
                rule.plural,
                rule.verbs
            );
        }
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding}\nmetadata:\n{meta}\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {kind}\n  name: {name}\n\
             subjects:\n  - kind: ServiceAccount\n    name: {sa}\n    namespace: {sa_ns}\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::target;

    fn rules_of(targets: &[&str]) -> (Vec<Rule>, Vec<String>) {
        let targets = targets
            .iter()
            .map(|t| {
                let object = target::parse(t, Some("")).unwrap();
                let ns = object.namespace.clone().unwrap_or_else(|| "app".to_owned());
                ((*t).to_owned(), object, ns)
            })
            .collect();
        let request = Request {
            targets,
            account: ("app".to_owned(), "web".to_owned()),
            client: None,
        };
        plan(&request).unwrap()
    }

    #[test]
    fn named_targets_are_narrowed_and_label_queries_are_not() {
        let (rules, unresolved) = rules_of(&[
            "deploy/api",
            "deployment/db",
            "pods?selector=a%3Db",
            "pod/x",
            "svc/cache",
            "svc/front?for=create",
            "secret/tls",
            "crd/widgets.example.com",
            "cert/web",
            "db/sts/pg",
            "ds/agent?node=self",
        ]);
        assert_eq!(unresolved.len(), 1);
        assert!(
            unresolved[0].starts_with("cert/web: left out"),
            "{unresolved:?}"
        );
        let find = |plural: &str| rules.iter().find(|r| r.plural == plural).unwrap();
        let deployments = find("deployments");
        assert_eq!(deployments.names, Some(vec!["api".into(), "db".into()]));
        assert_eq!(deployments.targets, ["deploy/api", "deployment/db"]);
        assert_eq!(find("pods").names, None);
        assert_eq!(find("endpointslices").names, None);
        assert_eq!(find("services").names, Some(vec!["front".into()]));
        assert_eq!(find("secrets").group, "");
        let crd = find("customresourcedefinitions");
        assert_eq!(
            (crd.namespace.as_deref(), crd.group.as_str()),
            (None, "apiextensions.k8s.io")
        );
        assert_eq!(find("statefulsets").namespace.as_deref(), Some("db"));
        assert_eq!(find("daemonsets").names, Some(vec!["agent".into()]));
        let nodes = find("nodes");
        assert_eq!(
            (nodes.verbs, nodes.namespace.as_deref()),
            (r#""list""#, None)
        );
        let yaml = render(&rules, &("app".into(), "web".into()));
        assert_eq!(yaml.matches("\nkind: Role\n").count(), 2, "{yaml}");
        assert_eq!(
            yaml.matches("\nkind: ClusterRoleBinding\n").count(),
            1,
            "{yaml}"
        );
        assert!(yaml.contains("resourceNames: [\"api\", \"db\"]"), "{yaml}");
    }

    #[test]
    fn pod_self_is_any_pod() {
        let (rules, _) = rules_of(&["pod/self", "pod/x"]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].names, None);
    }
}
