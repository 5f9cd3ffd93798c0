//! What `rdy wait` and `rdy check` run: the targets and every run-wide
//! setting, validated.

use std::sync::Arc;
use std::time::Duration;

use crate::exec::Program;
use crate::kube::client::Client;
use crate::kube::config::KubeOptions;
use crate::log;
use crate::probe::http::Http;
use crate::target::Target;

/// A wait or check, fully validated.
#[derive(Debug)]
pub struct Run {
    /// The targets, in the order given.
    pub targets: Vec<Target>,
    /// Overall limit (`--timeout`); `None` waits forever.
    pub timeout: Option<Duration>,
    /// Logger settings.
    pub log: log::Config,
    /// `--wait-before`: a pause before the first attempt.
    pub before: Duration,
    /// `--wait-after`: a pause after every target is ready.
    pub after: Duration,
    /// `-- COMMAND ARGS...` (or `WAIT_COMMAND`) to start once every target
    /// is ready.
    pub program: Option<Program>,
    /// `--then-post` requests, sent when the run ends.
    pub hooks: Vec<Http>,
    /// `--kubeconfig`, `--context`.
    pub kube: KubeOptions,
    /// The Kubernetes client, if a `k8s:` target made one.
    pub client: Option<Arc<Client>>,
    /// Where a failed wait or check writes its summary.
    pub termination: crate::termination::Destination,
}
