//! TCP probe: ready when a connection is accepted.

use std::time::{Duration, Instant};

use super::ProbeError;
use crate::transport::dial;

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
        dial::connect(&self.host, self.port, deadline)?;
        Ok(())
    }
}
