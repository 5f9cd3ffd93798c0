//! Why reaching a server failed, in the words of a log line: what the
//! transport layer reports to the probes and to the Kubernetes client above
//! it, before any protocol of rdy's has a say.

use std::fmt;
use std::io;

use super::dial::DialError;
use crate::os_error;
use crate::resolve::ResolveError;

/// A failed connection or exchange at the transport level.
#[derive(Debug)]
pub enum TransportError {
    /// The host name did not resolve.
    Resolve(ResolveError),
    /// Nothing listens on the port (TCP RST).
    Refused,
    /// The attempt's deadline passed.
    TimedOut,
    /// No route to the network or host, or the connection closed.
    Unreachable(&'static str),
    /// Any other socket error.
    Io(io::Error),
    /// The TLS handshake failed (untrusted certificate, wrong name, ...).
    Tls(String),
    /// The server's reply was not valid HTTP.
    Protocol(String),
}

impl TransportError {
    /// Classifies a socket error the way users think about it.
    pub fn from_io(e: io::Error) -> TransportError {
        // rustls reports handshake failures through the stream's io::Error.
        if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return TransportError::Tls(super::tls_error::describe(tls));
        }
        match e.kind() {
            io::ErrorKind::ConnectionRefused => TransportError::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::TimedOut,
            io::ErrorKind::NetworkUnreachable => TransportError::Unreachable("network unreachable"),
            io::ErrorKind::HostUnreachable => TransportError::Unreachable("host unreachable"),
            // ureq's text for it is "Peer disconnected".
            io::ErrorKind::UnexpectedEof => TransportError::Unreachable("the connection closed"),
            _ => TransportError::Io(e),
        }
    }

    /// Translates ureq's errors into the words of a log line.
    pub fn from_ureq(e: ureq::Error) -> TransportError {
        match e {
            ureq::Error::Io(e) => TransportError::from_io(e),
            ureq::Error::Timeout(_) => TransportError::TimedOut,
            ureq::Error::Rustls(e) => TransportError::Tls(super::tls_error::describe(&e)),
            ureq::Error::Tls(e) => TransportError::Tls(e.to_owned()),
            other => TransportError::Protocol(other.to_string()),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Resolve(e) => e.fmt(f),
            TransportError::Refused => f.write_str("connection refused"),
            TransportError::TimedOut => f.write_str("timed out"),
            TransportError::Unreachable(what) => f.write_str(what),
            TransportError::Io(e) => os_error::words(e).fmt(f),
            TransportError::Tls(e) => write!(f, "tls: {e}"),
            TransportError::Protocol(e) => write!(f, "invalid HTTP response: {e}"),
        }
    }
}

impl From<DialError> for TransportError {
    fn from(e: DialError) -> TransportError {
        match e {
            DialError::Resolve(e) => TransportError::Resolve(e),
            DialError::Io(e) => TransportError::from_io(e),
            DialError::TimedOut => TransportError::TimedOut,
        }
    }
}
