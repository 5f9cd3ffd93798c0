//! TCP probe: ready when a connection is accepted.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::ProbeError;
use crate::resolve;

/// `tcp://host:port` or `host:port`.
#[derive(Debug, Clone)]
pub struct Tcp {
    /// Name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port, never 0.
    pub port: u16,
    /// Budget for resolving and connecting in one attempt.
    pub dial_timeout: Duration,
}

impl Tcp {
    /// Resolves the host and connects to each address in turn until one
    /// accepts. The connection is closed at once; nothing is sent.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        connect(&self.host, self.port, deadline).map(drop)
    }
}

/// Resolves `host` and connects to each address in turn until one accepts;
/// the protocol probes start their conversation on the connection.
pub fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, ProbeError> {
    let addrs = resolve::resolve(host, port, deadline)?;
    let mut first_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        // Share what is left among the addresses not yet tried, as Go's
        // dialer does, so one black-holed address cannot starve the rest.
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / (addrs.len() - i) as u32;
        if share.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(addr, share) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.map_or(ProbeError::TimedOut, ProbeError::from_io))
}
