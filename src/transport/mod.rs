//! How rdy reaches a server: TCP dialing within a deadline, TLS trust and
//! client configuration (with the crypto provider), and the ureq agent for
//! HTTP.
//!
//! This layer sits below both the probes and the Kubernetes client, so that
//! https targets, TLS protocol probes (grpcs with ALPN `h2`) and the API
//! client verify servers with the same code and the same trust rules.

pub mod agent;
pub mod crypto;
pub mod dial;
pub mod error;
pub mod forward;
pub mod tls;
pub mod tls_error;
