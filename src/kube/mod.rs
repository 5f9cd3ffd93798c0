//! Kubernetes targets: configuration, a blocking LIST+WATCH client, and
//! kubectl's readiness rules. `docs/kubernetes.md` is the
//! specification followed here; deviations are explained where they are.

pub mod cache;
pub mod client;
pub mod config;
pub mod credentials;
pub mod discovery;
pub mod error;
pub mod expect;
pub mod fields;
pub mod group;
pub mod health;
pub mod jsonpath;
pub mod kind;
pub mod object;
pub mod rules;
pub mod target;
pub mod watch;
pub mod yaml;
