//! What a `k8s:` target (or an `/api/healthz/...` request) watches and how
//! it is judged: the query behind each kind and the rule that applies.

use super::discovery::ApiResource;
use super::expect;
use super::fields;
use super::kind::{ENDPOINTS, Kind, SERVICES};
use super::rules::{self, Verdict, generic, job, pod, service, table, workload};
use super::target::ObjectRef;
use super::watch::{Objects, Query, Selector};
use crate::json::stream::Keep;

/// Where the objects are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Api {
    /// The built-in kind's resource; a Service's `discovery.k8s.io/v1`
    /// EndpointSlices.
    Slices,
    /// A Service's `v1 Endpoints`, where discovery.k8s.io is not served.
    Legacy,
    /// A resource found through API discovery ([`Kind::Other`]).
    Found(ApiResource),
}

impl ObjectRef {
    /// The object's name (`""` for a label selector).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The LIST/WATCH query in `namespace`.
    pub fn query(&self, namespace: &str, api: &Api) -> Query {
        let kind = self.kind;
        let by_name = Selector::Name(self.name().to_owned());
        let (collection, selector) = match (kind, api) {
            (_, Api::Found(resource)) => (resource.collection(namespace), by_name),
            (Kind::Pods, _) => (
                kind.resource().collection(namespace),
                Selector::Labels(self.selector.clone().unwrap_or_default()),
            ),
            // `--for` judges the Service object, not its endpoints.
            (Kind::Service, _) if !self.expect.is_empty() => {
                (SERVICES.collection(namespace), by_name)
            }
            (Kind::Service, Api::Slices) => (
                kind.resource().collection(namespace),
                Selector::Labels(format!("kubernetes.io/service-name={}", self.name())),
            ),
            (Kind::Service, Api::Legacy) => (ENDPOINTS.collection(namespace), by_name),
            _ => (kind.resource().collection(namespace), by_name),
        };
        Query {
            collection,
            selector,
            // `--for` and `--failed-if` may read any path.
            keep: keep(
                kind,
                api,
                !(self.expect.is_empty() && self.failed_if.is_empty()),
            ),
        }
    }

    /// The kind's rule (or the `--for` conditions) applied to the current
    /// objects.
    pub fn judge(&self, api: &Api, objects: &Objects) -> Verdict {
        let owned = objects.all();
        let all: Vec<&crate::json::Value> = owned.iter().collect();
        if let Some(failed) = self.failed_if_holds(&all) {
            return failed;
        }
        let name = self.name();
        let kind = self.kind;
        if !self.expect.is_empty() {
            // A Secret's values are never logged, not even in progress lines.
            let secret =
                matches!(api, Api::Found(r) if r.group.is_empty() && r.plural == "secrets");
            return expect::judge(&self.display(), &self.expect, &all, !secret);
        }
        match (kind, api) {
            (_, Api::Found(resource)) => self.judge_found(resource, all.first().copied()),
            (Kind::Pods, _) => pod::selected(self.selector.as_deref().unwrap_or(""), &all),
            (Kind::Service, Api::Slices) => service::slices(name, self.min, &all),
            (Kind::Service, Api::Legacy) => {
                service::endpoints(name, self.min, all.first().copied())
            }
            _ => {
                let Some(object) = all.first() else {
                    return rules::not_created(kind.name(), name);
                };
                match kind {
                    Kind::Pod => match &self.container {
                        Some(container) => pod::container(object, container),
                        None => pod::named(object),
                    },
                    Kind::Deployment => workload::deployment(object),
                    Kind::StatefulSet => workload::statefulset(object),
                    Kind::DaemonSet => workload::daemonset(object),
                    _ => job::job(object),
                }
            }
        }
    }

    /// `--failed-if`: the first expression that holds on any object, as a
    /// final verdict naming it and what the controller said.
    fn failed_if_holds(&self, objects: &[&crate::json::Value]) -> Option<Verdict> {
        self.failed_if.iter().find_map(|(text, expect)| {
            let object = objects
                .iter()
                .find(|o| expect.holds(Some(o), false).is_ok())?;
            Some(Verdict::Failed(format!(
                "{}: --failed-if {text} holds{}",
                self.display(),
                table::said(text, object)
            )))
        })
    }

    /// The rule for a discovered resource: Secrets and ConfigMaps by their
    /// keys, the resources of the rule table by their row, everything else
    /// by kstatus.
    fn judge_found(&self, resource: &ApiResource, object: Option<&crate::json::Value>) -> Verdict {
        let Some(object) = object else {
            return rules::not_created(&resource.singular, self.name());
        };
        let what = format!("{} {:?}", resource.singular, self.name());
        let (group, plural) = (resource.group.as_str(), resource.plural.as_str());
        if let ("", "secrets" | "configmaps") = (group, plural) {
            return generic::keyed(&what, object, self.key.as_deref());
        }
        match table::find(group, plural, object) {
            Some(rule) => table::judge(rule, &what, object),
            None => generic::kstatus(&what, object),
        }
    }
}

/// What is kept of the objects of `kind` read through `api`; `whole` (for
/// `--for` conditions) keeps everything.
fn keep(kind: Kind, api: &Api, whole: bool) -> &'static Keep {
    if whole {
        return &Keep::All;
    }
    match (kind, api) {
        (_, Api::Found(resource)) => found(resource),
        (Kind::Pod | Kind::Pods, _) => &fields::POD,
        (Kind::Service, Api::Slices) => &fields::SLICE,
        (Kind::Service, Api::Legacy) => &fields::ENDPOINTS,
        (Kind::Job, _) => &fields::JOB,
        (Kind::Deployment, _) => &fields::DEPLOYMENT,
        _ => &fields::WORKLOAD,
    }
}

fn found(resource: &ApiResource) -> &'static Keep {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "secrets" | "configmaps") => &fields::KEYED,
        _ => &fields::GENERIC,
    }
}
