//! Kubernetes objects as targets. `rdy check` LISTs once and applies the
//! kind's rule; `rdy wait` LISTs and then WATCHes (see `kube::watch`), so
//! readiness is seen the moment the API server reports it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ProbeError;
use crate::kube::client::Client;
use crate::kube::error::ApiError;
use crate::kube::kind::{ENDPOINTS, Kind};
use crate::kube::rules::{self, Verdict, job, pod, service, workload};
use crate::kube::target::ObjectRef;
use crate::kube::watch::{self, Objects, Progress, Query, Selector, WatchError};

/// A single LIST gets at least this long, whatever `--dial-timeout` says:
/// TLS to the API server plus a credential plugin exceed a 1 s budget.
const MIN_BUDGET: Duration = Duration::from_secs(5);

/// A `k8s:` target.
#[derive(Debug)]
pub struct K8s {
    /// What is waited for.
    pub object: ObjectRef,
    /// The namespace, resolved.
    pub namespace: String,
    /// The API server connection, shared by all targets of a run.
    pub client: Arc<Client>,
    /// `--dial-timeout`.
    pub dial_timeout: Duration,
}

/// Which API a Service's endpoints are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoints {
    Slices,
    /// `v1 Endpoints`, where discovery.k8s.io is not served.
    Legacy,
}

impl K8s {
    /// How long one `check` attempt may take.
    pub fn budget(&self) -> Duration {
        self.dial_timeout.max(MIN_BUDGET)
    }

    /// One LIST and the rule's verdict.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let run = |endpoints| {
            let objects = watch::list_once(&self.client, &self.query(endpoints), deadline)?;
            Ok(self.judge(endpoints, &objects))
        };
        let verdict = self.with_fallback(run).map_err(|e| self.api_error(e))?;
        match verdict {
            Verdict::Ready(_) => Ok(()),
            Verdict::Waiting(message) => Err(ProbeError::NotReady(message)),
            Verdict::Failed(message) => Err(ProbeError::Fatal(message)),
        }
    }

    /// Watches until ready, failed, refused, or `deadline`. `progress`
    /// hears every change of verdict and every retried request.
    pub fn wait(
        &self,
        deadline: Option<Instant>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(), ProbeError> {
        let mut run = |endpoints| {
            let query = self.query(endpoints);
            let judge = |objects: &Objects| self.judge(endpoints, objects);
            watch::watch_until(
                &self.client,
                &query,
                &judge,
                deadline,
                self.object.stable,
                progress,
            )
        };
        let result = match run(Endpoints::Slices) {
            Err(WatchError::Api(ApiError::NotServed { .. }))
                if self.object.kind == Kind::Service =>
            {
                run(Endpoints::Legacy)
            }
            other => other,
        };
        match result {
            Ok(_) => Ok(()),
            Err(WatchError::Failed(message)) => Err(ProbeError::Fatal(message)),
            Err(WatchError::TimedOut(message)) => Err(ProbeError::NotReady(message)),
            Err(WatchError::Api(e)) => Err(self.api_error(e)),
        }
    }

    /// Runs `op` on EndpointSlices, and on legacy Endpoints if this server
    /// does not serve discovery.k8s.io (k8s-api.md §2.7 Rec.).
    fn with_fallback<T>(
        &self,
        op: impl Fn(Endpoints) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        match op(Endpoints::Slices) {
            Err(ApiError::NotServed { .. }) if self.object.kind == Kind::Service => {
                op(Endpoints::Legacy)
            }
            other => other,
        }
    }

    fn name(&self) -> &str {
        self.object.name.as_deref().unwrap_or("")
    }

    fn query(&self, endpoints: Endpoints) -> Query {
        let kind = self.object.kind;
        let (resource, selector) = match (kind, endpoints) {
            (Kind::Pods, _) => (
                kind.resource(),
                Selector::Labels(self.object.selector.clone().unwrap_or_default()),
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
            collection: resource.collection(&self.namespace),
            selector,
        }
    }

    fn judge(&self, endpoints: Endpoints, objects: &Objects) -> Verdict {
        let all = objects.all();
        let name = self.name();
        let kind = self.object.kind;
        match (kind, endpoints) {
            (Kind::Pods, _) => pod::selected(self.object.selector.as_deref().unwrap_or(""), &all),
            (Kind::Service, Endpoints::Slices) => service::slices(name, self.object.min, &all),
            (Kind::Service, Endpoints::Legacy) => {
                service::endpoints(name, self.object.min, all.first().copied())
            }
            _ => {
                let Some(object) = all.first() else {
                    return rules::not_created(kind.name(), name);
                };
                match kind {
                    Kind::Pod => match &self.object.container {
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

    /// An API error as the line a user reads; a 403 also says which Role
    /// rule and which `kubectl auth can-i` check would settle it.
    fn api_error(&self, error: ApiError) -> ProbeError {
        let fatal = error.is_fatal();
        let text = match &error {
            ApiError::Forbidden { message } => {
                // "cannot list resource" / "cannot watch resource"
                let verb = message
                    .split_once("cannot ")
                    .and_then(|(_, rest)| rest.split(' ').next())
                    .unwrap_or("list");
                let resource = match self.object.kind {
                    Kind::Service if message.contains("\"endpoints\"") => ENDPOINTS,
                    kind => kind.resource(),
                };
                ApiError::forbidden_hint(message, verb, resource, &self.namespace)
            }
            other => other.to_string(),
        };
        if fatal {
            ProbeError::Fatal(text)
        } else {
            ProbeError::Api(text)
        }
    }
}
