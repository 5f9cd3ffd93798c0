//! [`Probe`]: every probe kind as one type that `wait`, `check` and
//! `serve` hold, with the attempt, budget and name of each.

use std::time::{Duration, Instant};

use super::ProbeError;
use super::{dns, grpc, http, icmp, k8s, mysql, postgres, redis, tcp};

/// A configured probe of one kind.
#[derive(Debug)]
pub enum Probe {
    /// TCP connect.
    Tcp(tcp::Tcp),
    /// One HTTP(S) request.
    Http(Box<http::Http>),
    /// ICMP echo.
    Icmp(icmp::Icmp),
    /// A Kubernetes object.
    K8s(Box<k8s::K8s>),
    /// The Kubernetes API server itself (`rdy serve`'s `/healthz`).
    K8sApi(k8s::ApiServer),
    /// gRPC health check.
    Grpc(Box<grpc::Grpc>),
    /// DNS query.
    Dns(dns::Dns),
    /// PostgreSQL: libpq's ping rule.
    Postgres(Box<postgres::Postgres>),
    /// MySQL/MariaDB: a login exchange as a user that does not exist.
    Mysql(mysql::Mysql),
    /// Redis: `PING`.
    Redis(Box<redis::Redis>),
}

impl Probe {
    /// Makes one attempt that ends by `deadline`.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        match self {
            Probe::Tcp(p) => p.attempt(deadline),
            Probe::Http(p) => p.attempt(deadline),
            Probe::Icmp(p) => p.attempt(deadline),
            Probe::K8s(p) => p.attempt(deadline),
            Probe::K8sApi(p) => p.attempt(deadline),
            Probe::Grpc(p) => p.attempt(deadline),
            Probe::Dns(p) => p.attempt(deadline),
            Probe::Postgres(p) => p.attempt(deadline),
            Probe::Mysql(p) => p.attempt(deadline),
            Probe::Redis(p) => p.attempt(deadline),
        }
    }

    /// The longest one attempt may take; the wait loop gives each attempt
    /// `min(now + budget, overall deadline)`.
    pub fn budget(&self) -> Duration {
        match self {
            Probe::Tcp(p) => p.dial_timeout,
            Probe::Http(p) => p.dial_timeout,
            Probe::Icmp(p) => p.dial_timeout + p.read_timeout,
            Probe::K8s(p) => p.budget(),
            Probe::K8sApi(_) => k8s::MIN_BUDGET,
            Probe::Grpc(p) => p.dial_timeout,
            Probe::Dns(p) => p.dial_timeout,
            Probe::Postgres(p) => p.dial_timeout,
            Probe::Mysql(p) => p.dial_timeout,
            Probe::Redis(p) => p.dial_timeout,
        }
    }

    /// The check type as PortPatrol's `TARGET_CHECK_TYPE` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "tcp",
            Probe::Http(p) if p.is_https() => "https",
            Probe::Http(_) => "http",
            Probe::Icmp(_) => "icmp",
            Probe::K8s(_) | Probe::K8sApi(_) => "k8s",
            Probe::Grpc(p) if p.tls.is_some() => "grpcs",
            Probe::Grpc(_) => "grpc",
            Probe::Dns(_) => "dns",
            Probe::Postgres(_) => "postgres",
            Probe::Mysql(_) => "mysql",
            Probe::Redis(p) if p.is_tls() => "rediss",
            Probe::Redis(_) => "redis",
        }
    }
}
