//! What a `k8s:` target (or an `/api/healthz/...` request) watches and how
//! it is judged: the query behind each kind and the rule that applies.

use super::kind::{ENDPOINTS, Kind};
use super::rules::{self, Verdict, job, pod, service, workload};
use super::target::ObjectRef;
use super::watch::{Objects, Query, Selector};

/// Which API a Service's endpoints are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoints {
    /// `discovery.k8s.io/v1` EndpointSlices.
    Slices,
    /// `v1 Endpoints`, where discovery.k8s.io is not served.
    Legacy,
}

impl ObjectRef {
    /// The object's name (`""` for a label selector).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The LIST/WATCH query in `namespace`.
    pub fn query(&self, namespace: &str, endpoints: Endpoints) -> Query {
        let kind = self.kind;
        let (resource, selector) = match (kind, endpoints) {
            (Kind::Pods, _) => (
                kind.resource(),
                Selector::Labels(self.selector.clone().unwrap_or_default()),
            ),
            (Kind::Service, Endpoints::Slices) => (
                kind.resource(),
                Selector::Labels(format!("kubernetes.io/service-name={}", self.name())),
            ),
            (Kind::Service, Endpoints::Legacy) => {
                (ENDPOINTS, Selector::Name(self.name().to_owned()))
            }
            _ => (kind.resource(), Selector::Name(self.name().to_owned())),
        };
        Query {
            collection: resource.collection(namespace),
            selector,
        }
    }

    /// The kind's rule applied to the current objects.
    pub fn judge(&self, endpoints: Endpoints, objects: &Objects) -> Verdict {
        let all = objects.all();
        let name = self.name();
        let kind = self.kind;
        match (kind, endpoints) {
            (Kind::Pods, _) => pod::selected(self.selector.as_deref().unwrap_or(""), &all),
            (Kind::Service, Endpoints::Slices) => service::slices(name, self.min, &all),
            (Kind::Service, Endpoints::Legacy) => {
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
}
