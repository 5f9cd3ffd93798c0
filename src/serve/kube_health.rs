//! The Kubernetes side of `rdy serve`, as the routes see it: the watch
//! cache and what may be asked about. Its own file so that the routes and
//! the server's settings share it without importing each other.

use std::sync::Arc;

use crate::kube::cache::WatchCache;
use crate::kube::health::Exposure;

/// `/api/healthz/{namespace}/{kind}/{name}` and `/healthz`: Kubernetes
/// objects answered from a watch cache.
#[derive(Debug)]
pub struct KubeHealth {
    /// The objects, one watch per object asked about.
    pub cache: Arc<WatchCache>,
    /// What may be asked about.
    pub exposure: Exposure,
    /// The targets `/all` and `/metrics` report: every target but the last,
    /// which is the API server itself (`/healthz`).
    pub visible: usize,
}
