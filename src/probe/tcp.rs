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

/// MySQL's port.
const MYSQL_PORT: u16 = 3306;

impl Tcp {
    /// A warning for a port that a bare connect harms: MySQL counts a
    /// connection closed before the handshake toward `max_connect_errors`
    /// (100) and then refuses the host (ERROR 1129) until `FLUSH HOSTS`.
    pub fn advice(&self) -> Option<String> {
        (self.port == MYSQL_PORT).then(|| {
            format!(
                "A TCP probe of port 3306 counts as a connection error in MySQL and can \
                 get this host blocked (ERROR 1129); use mysql://{}:3306",
                if self.host.contains(':') {
                    format!("[{}]", self.host)
                } else {
                    self.host.clone()
                }
            )
        })
    }

    /// Resolves the host and connects to each address in turn until one
    /// accepts. The connection is closed at once; nothing is sent.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        dial::connect(&self.host, self.port, deadline)?;
        Ok(())
    }
}
