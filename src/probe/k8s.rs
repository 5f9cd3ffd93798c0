//! Kubernetes objects as targets. `rdy check` LISTs once and applies the
//! kind's rule; `rdy wait` LISTs and then WATCHes (see `kube::watch`), so
//! readiness is seen the moment the API server reports it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ProbeError;
use crate::kube::client::Client;
use crate::kube::error::ApiError;
use crate::kube::kind::{ENDPOINTS, Kind};
use crate::kube::object::Endpoints;
use crate::kube::rules::Verdict;
use crate::kube::target::ObjectRef;
use crate::kube::watch::{self, Objects, Progress, WatchError};

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

impl K8s {
    /// How long one `check` attempt may take.
    pub fn budget(&self) -> Duration {
        self.dial_timeout.max(MIN_BUDGET)
    }

    /// One LIST and the rule's verdict.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
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
