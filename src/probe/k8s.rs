//! Kubernetes objects as targets. `rdy check` LISTs once and applies the
//! kind's rule; `rdy wait` LISTs and then WATCHes (see `kube::watch`), so
//! readiness is seen the moment the API server reports it.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::ProbeError;
use crate::kube::cache::{CacheError, WatchCache};
use crate::kube::client::Client;
use crate::kube::discovery::{self, ApiResource};
use crate::kube::error::ApiError;
use crate::kube::group;
use crate::kube::kind::{ENDPOINTS, Kind, SERVICES};
use crate::kube::object::Api;
use crate::kube::rules::Verdict;
use crate::kube::target::ObjectRef;
use crate::kube::watch::{self, Backoff, Objects, Progress, WatchError};

/// A rule's verdict as a probe's result.
fn outcome(verdict: Verdict) -> Result<(), ProbeError> {
    match verdict {
        Verdict::Ready(_) => Ok(()),
        Verdict::Waiting(message) => Err(ProbeError::NotReady(message)),
        Verdict::Failed(message) => Err(ProbeError::Fatal(message)),
    }
}

/// Watches one resource, reporting progress: `K8s::wait`'s inner step.
type WatchOn<'a> = dyn FnMut(&Api, &mut dyn FnMut(Progress<'_>)) -> Result<String, WatchError> + 'a;

/// A single LIST gets at least this long, whatever `--dial-timeout` says:
/// TLS to the API server plus a credential plugin exceed a 1 s budget.
pub const MIN_BUDGET: Duration = Duration::from_secs(5);

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
    /// For `pod/self` named by `POD_NAME`: the `HOSTNAME` that differed
    /// from it, for the line that says which one rdy took.
    pub other_hostname: Option<String>,
    /// Set by `rdy serve`: attempts read its watch cache instead of
    /// listing, so HTTP requests cost the API server nothing.
    pub cache: OnceLock<Arc<WatchCache>>,
}

/// The API server itself, for `rdy serve`'s `/healthz`: ready when it
/// answers `GET /version` (which every authenticated user may read).
#[derive(Debug)]
pub struct ApiServer {
    /// The connection of the other `k8s:` targets.
    pub client: Arc<Client>,
}

impl ApiServer {
    /// One `GET /version`.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let version = self
            .client
            .get_json("/version", &crate::kube::fields::VERSION, deadline)
            .map_err(|e| match e.is_fatal() {
                true => ProbeError::Fatal(e.to_string()),
                false => ProbeError::Api(e.to_string()),
            })?;
        match version.get("gitVersion") {
            Some(_) => Ok(()),
            None => Err(ProbeError::Api(
                "GET /version answered without gitVersion".to_owned(),
            )),
        }
    }
}

impl K8s {
    /// How long one `check` attempt may take.
    pub fn budget(&self) -> Duration {
        self.dial_timeout.max(MIN_BUDGET)
    }

    /// One LIST and the rule's verdict, or under `rdy serve` the verdict
    /// on the watch cache's objects.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        if let Some(cache) = self.cache.get() {
            return self.cached_verdict(cache, deadline);
        }
        if let Some(external) = self.external_name(deadline) {
            return outcome(external);
        }
        let api = match self.object.kind {
            Kind::Other => match self.resolve(false, deadline)? {
                Some(api) => api,
                None => return Err(ProbeError::NotReady(self.not_served())),
            },
            _ => Api::Slices,
        };
        let list = |api: &Api| {
            let query = self.object.query(&self.namespace, api);
            watch::list_once(&self.client, &query, deadline).map(|o| self.object.judge(api, &o))
        };
        let (verdict, api) = match (list(&api), self.object.kind) {
            // discovery.k8s.io is not served (docs/kubernetes.md §2.7).
            (Err(ApiError::NotServed { .. }), Kind::Service) => (list(&Api::Legacy), Api::Legacy),
            // Its CRD was deleted since discovery was read.
            (Err(ApiError::NotServed { .. }), Kind::Other) => {
                return Err(ProbeError::NotReady(self.not_served()));
            }
            (other, _) => (other, api),
        };
        outcome(verdict.map_err(|e| self.api_error(e, &api))?)
    }

    fn cached_verdict(&self, cache: &Arc<WatchCache>, deadline: Instant) -> Result<(), ProbeError> {
        let first_sync = deadline.saturating_duration_since(Instant::now());
        let verdict = |api: &Api| {
            let query = self.object.query(&self.namespace, api);
            let objects = cache.objects(&query, first_sync)?;
            Ok(self.object.judge(api, &objects))
        };
        let verdict = match self.object.kind {
            Kind::Other => cache
                .resolve(&self.object.resource, first_sync)
                .and_then(|api| verdict(&api)),
            _ => match verdict(&Api::Slices) {
                Err(CacheError::NotServed(_)) if self.object.kind == Kind::Service => {
                    verdict(&Api::Legacy)
                }
                other => other,
            },
        };
        outcome(verdict.map_err(|e| ProbeError::Api(e.to_string()))?)
    }

    /// Plans a run's waits: collections that several of `targets` name
    /// are watched once for all of them (see `kube::group`).
    pub fn plan(targets: &[&K8s]) {
        let queries: Vec<_> = targets
            .iter()
            .filter(|k| k.shareable())
            .map(|k| k.object.query(&k.namespace, &Api::Slices))
            .collect();
        if let Some(first) = targets.first() {
            group::plan(&first.client, &queries);
        }
    }

    /// Whether the object can be judged from its collection's watch: a
    /// built-in kind by name, with its own rule and no `stable=`.
    fn shareable(&self) -> bool {
        let kinds = [
            Kind::Pod,
            Kind::Deployment,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::Job,
        ];
        kinds.contains(&self.object.kind)
            && self.object.expect.is_empty()
            && self.object.failed_if.is_empty()
            && self.object.stable.is_none()
    }

    /// Waits on the run's shared watch of the collection, when there is
    /// one for this object.
    fn wait_shared(
        &self,
        deadline: Option<Instant>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Option<Result<(), ProbeError>> {
        let query = self.object.query(&self.namespace, &Api::Slices);
        if !self.shareable() || !group::is_shared(&query) {
            return None;
        }
        let deadline =
            deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(315_360_000));
        let (mut last, mut error) = (None::<Verdict>, None::<String>);
        let outcome = group::until(&query, deadline, &mut |objects| {
            let objects = match objects {
                Ok(objects) => objects,
                // Refused even object by object, or not served: as fatal
                // as for a wait of its own.
                Err(e @ (CacheError::Forbidden(_) | CacheError::NotServed(_))) => {
                    return Some(Err(ProbeError::Fatal(e.to_string())));
                }
                Err(e) => {
                    error = Some(e.to_string());
                    return None;
                }
            };
            error = None;
            let verdict = self.object.judge(&Api::Slices, objects);
            if last.as_ref() != Some(&verdict) {
                progress(Progress::Verdict(&verdict));
            }
            let done = match &verdict {
                Verdict::Ready(_) => Some(Ok(())),
                Verdict::Failed(message) => Some(Err(ProbeError::Fatal(message.clone()))),
                Verdict::Waiting(_) => None,
            };
            last = Some(verdict);
            done
        });
        Some(outcome.unwrap_or_else(|| {
            let verdict = last.as_ref().map(Verdict::message);
            Err(ProbeError::NotReady(match (verdict, error) {
                (Some(v), Some(e)) => format!("{v}; last error: {e}"),
                (Some(v), None) => v.to_owned(),
                (None, Some(e)) => e,
                (None, None) => "no answer from the API server in time".to_owned(),
            }))
        }))
    }

    /// Watches until ready, failed, refused, or `deadline`. `progress`
    /// hears every change of verdict and every retried request.
    pub fn wait(
        &self,
        deadline: Option<Instant>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(), ProbeError> {
        let first = Instant::now() + self.budget();
        if let Some(external) = self.external_name(deadline.map_or(first, |d| d.min(first))) {
            progress(Progress::Verdict(&external));
            return outcome(external);
        }
        if let Some(outcome) = self.wait_shared(deadline, progress) {
            return outcome;
        }
        let mut run = |api: &Api, progress: &mut dyn FnMut(Progress<'_>)| {
            let query = self.object.query(&self.namespace, api);
            let judge = |objects: &Objects| self.object.judge(api, objects);
            watch::watch_until(
                &self.client,
                &query,
                &judge,
                deadline,
                self.object.stable,
                progress,
            )
        };
        let (result, api) = match self.object.kind {
            Kind::Other => self.wait_served(deadline, progress, &mut run),
            _ => match run(&Api::Slices, progress) {
                Err(WatchError::Api(ApiError::NotServed { .. }))
                    if self.object.kind == Kind::Service =>
                {
                    (run(&Api::Legacy, progress), Api::Legacy)
                }
                other => (other, Api::Slices),
            },
        };
        match result {
            Ok(_) => Ok(()),
            Err(WatchError::Failed(message)) => Err(ProbeError::Fatal(message)),
            Err(WatchError::TimedOut(message)) => Err(ProbeError::NotReady(message)),
            Err(WatchError::Api(e)) => Err(self.api_error(e, &api)),
        }
    }

    /// Waits for a discovered resource: while the cluster does not serve
    /// it (its CRD is not installed yet), discovery is read again with
    /// backoff; once it is, its objects are watched. Returns the outcome
    /// and the resource last watched.
    fn wait_served(
        &self,
        deadline: Option<Instant>,
        progress: &mut dyn FnMut(Progress<'_>),
        run: &mut WatchOn<'_>,
    ) -> (Result<String, WatchError>, Api) {
        let mut backoff = Backoff::default();
        let (mut refresh, mut told) = (false, false);
        let limit = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(315_360_000));
        let mut last = self.not_served();
        loop {
            let pause = backoff.next(None);
            match discovery::resolve(&self.client, &self.object.resource, refresh, limit) {
                Ok(Some(resource)) => {
                    if let Some(why) = self.misplaced(&resource) {
                        return (Err(WatchError::Failed(why)), Api::Slices);
                    }
                    let api = Api::Found(resource);
                    match run(&api, progress) {
                        // Served no more (the CRD was deleted): look again.
                        Err(WatchError::Api(ApiError::NotServed { .. })) => {}
                        other => return (other, api),
                    }
                }
                Ok(None) if !told => {
                    progress(Progress::Verdict(&Verdict::Waiting(self.not_served())));
                    told = true;
                }
                Ok(None) => {}
                Err(e) if e.is_fatal() => return (Err(WatchError::Api(e)), Api::Slices),
                Err(e) => {
                    progress(Progress::Retrying(&e, pause));
                    last = e.to_string();
                }
            }
            refresh = true;
            if Instant::now() + pause >= limit {
                std::thread::sleep(limit.saturating_duration_since(Instant::now()));
                return (Err(WatchError::TimedOut(last)), Api::Slices);
            }
            std::thread::sleep(pause);
        }
    }

    /// A Service of `type: ExternalName` is a DNS alias: it never has
    /// endpoints (core/v1 ServiceSpec), so there is nothing to wait for, and
    /// the answer says what it points at. One LIST of the Service object;
    /// when that is refused or fails (RBAC may grant EndpointSlices only),
    /// the endpoints rule decides as before.
    fn external_name(&self, deadline: Instant) -> Option<Verdict> {
        if self.object.kind != Kind::Service || !self.object.expect.is_empty() {
            return None;
        }
        let query = watch::Query {
            collection: SERVICES.collection(&self.namespace),
            selector: watch::Selector::Name(self.object.name().to_owned()),
            keep: &crate::json::stream::Keep::All,
        };
        let objects = watch::list_once(&self.client, &query, deadline).ok()?;
        let service = objects.all().into_iter().next()?;
        let spec = service.get("spec")?;
        (spec.get("type").and_then(crate::json::Value::as_str) == Some("ExternalName")).then(|| {
            let host = spec
                .get("externalName")
                .and_then(crate::json::Value::as_str);
            Verdict::Ready(format!(
                "service \"{}\" is an ExternalName for {:?}: it has no endpoints, so there is \
                 nothing to wait for (to wait for that host, use tcp://HOST:PORT)",
                self.object.name(),
                host.unwrap_or("")
            ))
        })
    }

    /// Resolves a discovered resource (`None`: not served).
    fn resolve(&self, refresh: bool, deadline: Instant) -> Result<Option<Api>, ProbeError> {
        match discovery::resolve(&self.client, &self.object.resource, refresh, deadline) {
            Ok(Some(found)) => match self.misplaced(&found) {
                Some(why) => Err(ProbeError::Fatal(why)),
                None => Ok(Some(Api::Found(found))),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(self.api_error(e, &Api::Slices)),
        }
    }

    /// A namespace written for a cluster-scoped resource would do nothing.
    fn misplaced(&self, found: &ApiResource) -> Option<String> {
        (!found.namespaced && self.object.namespace.is_some()).then(|| {
            format!(
                "{} is cluster-scoped: write k8s:{} without a namespace",
                found.plural,
                self.object.display()
            )
        })
    }

    /// `the cluster serves no resource "certificate.cert-manager.io" yet`.
    fn not_served(&self) -> String {
        format!(
            "the cluster serves no resource {:?} yet",
            self.object.resource
        )
    }

    /// An API error as the line a user reads; a 403 also says which Role
    /// rule and which `kubectl auth can-i` check would settle it.
    fn api_error(&self, error: ApiError, api: &Api) -> ProbeError {
        let fatal = error.is_fatal();
        let text = match &error {
            ApiError::Forbidden { message } => {
                // "cannot list resource" / "cannot watch resource"
                let verb = message
                    .split_once("cannot ")
                    .and_then(|(_, rest)| rest.split(' ').next())
                    .unwrap_or("list");
                let (group, plural, namespaced) = match (self.object.kind, api) {
                    (_, Api::Found(r)) => (r.group.as_str(), r.plural.as_str(), r.namespaced),
                    // Discovery itself was refused.
                    (Kind::Other, _) => {
                        return ProbeError::Fatal(format!(
                            "{message}; hint: API discovery (GET /api, /apis) is granted to \
                             every authenticated user by the ClusterRole system:discovery"
                        ));
                    }
                    (Kind::Service, _) if !self.object.expect.is_empty() => {
                        (SERVICES.group, SERVICES.plural, true)
                    }
                    (Kind::Service, _) if message.contains("\"endpoints\"") => {
                        (ENDPOINTS.group, ENDPOINTS.plural, true)
                    }
                    (kind, _) => {
                        let r = kind.resource();
                        (r.group, r.plural, true)
                    }
                };
                let namespace = namespaced.then_some(self.namespace.as_str());
                ApiError::forbidden_hint(message, verb, group, plural, namespace)
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
