//! Probes: one attempt at one target, bounded by a deadline.
//!
//! Every probe has the same shape — a configured target and a deadline in,
//! ready or a reason out — so `wait`, `check` and `serve` share them unchanged.

pub mod dns;
pub mod grpc;
pub mod http;
pub mod icmp;
pub mod k8s;
pub mod tcp;
// Database probes and their connection.
pub mod conn;
pub mod mysql;
pub mod postgres;
pub mod redis;
// The enum of them all, in its own file so that the probes, which use
// ProbeError from here, and the enum, which uses them, form no circle.
mod kind;

pub use self::kind::Probe;

use std::fmt;
use std::io;

use crate::resolve::ResolveError;
use crate::transport::dial::DialError;
use crate::transport::error::TransportError;

/// Why an attempt did not find its target ready. The `Display` text is the
/// `error=` field of the log line.
#[derive(Debug)]
pub enum ProbeError {
    /// The server could not be reached or its bytes not exchanged:
    /// resolving, connecting, TLS, a socket error, the deadline.
    Transport(TransportError),
    /// The HTTP status is not in the expected set.
    Status {
        /// What the server answered.
        got: u16,
        /// The accepted set as the user wrote it.
        expected: String,
    },
    /// The first 64 KiB of the body lack the expected text.
    BodyMismatch {
        /// The text that was looked for.
        expected: String,
    },
    /// No matching ICMP echo reply arrived in time.
    NoEchoReply,
    /// Neither an unprivileged nor a raw ICMP socket may be opened; waiting
    /// cannot fix that, so it ends the run with exit code 3.
    IcmpNotPermitted(String),
    /// Not ready in the words of a protocol: kubectl's progress message,
    /// a gRPC health status, an HTTP/2 or DNS error.
    NotReady(String),
    /// A request to the API server failed in a way that may pass.
    Api(String),
    /// A target can never become ready (a failed Job, RBAC forbids the
    /// request, ...): exit code 3.
    Fatal(String),
    /// A database server's bytes broke its protocol.
    Malformed {
        /// `PostgreSQL`, `MySQL`, `Redis`.
        protocol: &'static str,
        /// What was wrong, in words.
        problem: String,
    },
}

impl ProbeError {
    /// Whether the target can never become ready (exit code 3).
    pub fn is_fatal(&self) -> bool {
        matches!(self, ProbeError::IcmpNotPermitted(_) | ProbeError::Fatal(_))
    }

    /// The attempt's deadline passed.
    pub fn timed_out() -> ProbeError {
        ProbeError::Transport(TransportError::TimedOut)
    }

    /// This error with every occurrence of `secret` (a password or token
    /// rdy sent) cut to `…`: a server may quote what it was sent
    /// (Redis: `unknown command 'AUTH', with args beginning with: 'pw'`),
    /// and its text becomes a log line.
    pub fn without(self, secret: &str) -> ProbeError {
        let cut = |text: String| match secret.is_empty() || !text.contains(secret) {
            true => text,
            false => text.replace(secret, "…"),
        };
        match self {
            ProbeError::NotReady(t) => ProbeError::NotReady(cut(t)),
            ProbeError::Api(t) => ProbeError::Api(cut(t)),
            ProbeError::Fatal(t) => ProbeError::Fatal(cut(t)),
            ProbeError::Malformed { protocol, problem } => ProbeError::Malformed {
                protocol,
                problem: cut(problem),
            },
            ProbeError::Transport(TransportError::Protocol(t)) => {
                ProbeError::Transport(TransportError::Protocol(cut(t)))
            }
            other => other,
        }
    }

    /// Classifies a socket error the way users think about it.
    pub fn from_io(e: io::Error) -> ProbeError {
        TransportError::from_io(e).into()
    }

    /// Translates ureq's errors into the words of a log line.
    pub fn from_ureq(e: ureq::Error) -> ProbeError {
        TransportError::from_ureq(e).into()
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Transport(e) => e.fmt(f),
            ProbeError::Status { got, expected } => {
                write!(f, "status {got}, expected {expected}")
            }
            ProbeError::BodyMismatch { expected } => {
                write!(f, "body does not contain {expected:?}")
            }
            ProbeError::NoEchoReply => f.write_str("no echo reply"),
            ProbeError::IcmpNotPermitted(why)
            | ProbeError::NotReady(why)
            | ProbeError::Api(why)
            | ProbeError::Fatal(why) => f.write_str(why),
            ProbeError::Malformed { protocol, problem } => {
                write!(f, "not a {protocol} server: {problem}")
            }
        }
    }
}

impl From<DialError> for ProbeError {
    fn from(e: DialError) -> ProbeError {
        ProbeError::Transport(e.into())
    }
}

impl From<TransportError> for ProbeError {
    fn from(e: TransportError) -> ProbeError {
        ProbeError::Transport(e)
    }
}

impl From<ResolveError> for ProbeError {
    fn from(e: ResolveError) -> ProbeError {
        ProbeError::Transport(TransportError::Resolve(e))
    }
}
