//! Kubernetes objects as targets. `rdy check` LISTs once and applies the
//! kind's rule; `rdy wait` LISTs and then WATCHes (see `kube::watch`), so
//! readiness is seen the moment the API server reports it.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::ProbeError;
use crate::kube::cache::{CacheError, WatchCache};
use crate::kube::client::Client;
use crate::kube::error::ApiError;
use crate::kube::kind::{ENDPOINTS, Kind};
use crate::kube::object::Endpoints;
use crate::kube::rules::Verdict;
use crate::kube::target::ObjectRef;
use crate::kube::watch::{self, Objects, Progress, WatchError};

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
        let version =
            self.client
                .get_json("/version", deadline)
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
        let run = |endpoints| {
            let objects = watch::list_once(
                &self.client,
                &self.object.query(&self.namespace, endpoints),
                deadline,
            )?;
            Ok(self.object.judge(endpoints, &objects))
        };
        let verdict = self.with_fallback(run).map_err(|e| self.api_error(e))?;
        match verdict {
            Verdict::Ready(_) => Ok(()),
            Verdict::Waiting(message) => Err(ProbeError::NotReady(message)),
            Verdict::Failed(message) => Err(ProbeError::Fatal(message)),
        }
    }

    fn cached_verdict(&self, cache: &Arc<WatchCache>, deadline: Instant) -> Result<(), ProbeError> {
        let first_sync = deadline.saturating_duration_since(Instant::now());
        let verdict = |endpoints| {
            let query = self.object.query(&self.namespace, endpoints);
            let objects = cache.objects(&query, first_sync)?;
            Ok(self.object.judge(endpoints, &objects))
        };
        let verdict = match verdict(Endpoints::Slices) {
            Err(CacheError::NotServed(_)) if self.object.kind == Kind::Service => {
                verdict(Endpoints::Legacy)
            }
            other => other,
        };
        match verdict {
            Ok(Verdict::Ready(_)) => Ok(()),
            Ok(Verdict::Waiting(message)) => Err(ProbeError::NotReady(message)),
            Ok(Verdict::Failed(message)) => Err(ProbeError::Fatal(message)),
            Err(e) => Err(ProbeError::Api(e.to_string())),
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
            let query = self.object.query(&self.namespace, endpoints);
            let judge = |objects: &Objects| self.object.judge(endpoints, objects);
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
    /// does not serve discovery.k8s.io (docs/kubernetes.md §2.7).
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
