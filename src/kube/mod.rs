//! Kubernetes targets: configuration, a blocking LIST+WATCH client, and
//! kubectl's readiness rules. `k8s-api.md` in the project docs is the
//! specification followed here; deviations are explained where they are.

pub mod cache;
pub mod client;
pub mod config;
pub mod credentials;
pub mod discovery;
pub mod error;
pub mod expect;
pub mod health;
pub mod jsonpath;
pub mod kind;
pub mod object;
pub mod rules;
pub mod target;
pub mod watch;
pub mod yaml;
