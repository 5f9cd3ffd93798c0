//! PostgreSQL probe: libpq's ping rule, as `pg_isready` applies it
//! (`PQping`, fe-connect.c `internal_ping`).
//!
//! A `StartupMessage` answered by an authentication request is a server
//! that accepts connections; so is any `ErrorResponse` — a server that
//! rejects our user or database is up — except SQLSTATE 57P03
//! (`cannot_connect_now`: starting up, in recovery without hot standby,
//! shutting down). No password is ever sent.

pub mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use self::wire::Message;
use super::ProbeError;
use super::conn::Conn;

/// `cannot_connect_now`: the one error that means "not yet".
const CANNOT_CONNECT_NOW: &str = "57P03";

/// Notices and the like read past before giving up.
const MAX_MESSAGES: usize = 16;

/// Whether and how TLS is asked for, as libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No `SSLRequest`.
    Disable,
    /// `SSLRequest`; TLS if the server agrees, else go on in the clear.
    Prefer,
    /// `SSLRequest`; a server that refuses TLS is not ready.
    Require,
}

impl SslMode {
    /// What `sslmode=` accepts; quoted in errors.
    pub const ACCEPTED: &str = "disable, prefer or require";

    /// Parses an `sslmode=` value.
    pub fn parse(text: &str) -> Option<SslMode> {
        match text {
            "disable" => Some(SslMode::Disable),
            "prefer" => Some(SslMode::Prefer),
            "require" => Some(SslMode::Require),
            _ => None,
        }
    }
}

/// `postgres://host[:5432][?user=U&dbname=D&sslmode=M]`.
#[derive(Debug)]
pub struct Postgres {
    /// Name or IP literal; also the TLS server name.
    pub host: String,
    /// Port, 5432 unless given.
    pub port: u16,
    /// The user name of the `StartupMessage`.
    pub user: String,
    /// The database, if not the user's default.
    pub dbname: Option<String>,
    /// Whether to ask for TLS.
    pub sslmode: SslMode,
    /// How the server certificate is checked when TLS is used.
    pub tls: Arc<ClientConfig>,
    /// Budget for one attempt.
    pub dial_timeout: Duration,
}

impl Postgres {
    /// Connects, optionally negotiates TLS, sends a `StartupMessage` and
    /// judges the first answer by the ping rule.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let mut conn = Conn::open(&self.host, self.port, deadline)?;
        if self.sslmode != SslMode::Disable {
            conn.send(&wire::SSL_REQUEST)?;
            conn = match (conn.receive_byte()?, self.sslmode) {
                (b'S', _) => conn.start_tls(&self.host, self.tls.clone())?,
                (b'N', SslMode::Prefer) => conn,
                (b'N', _) => {
                    return Err(ProbeError::NotReady(
                        "the server does not accept TLS (sslmode=require)".into(),
                    ));
                }
                (other, _) => {
                    return Err(malformed(format!(
                        "answer 0x{other:02x} to SSLRequest, expected S or N"
                    )));
                }
            };
        }
        conn.send(&wire::startup_message(&self.user, self.dbname.as_deref()))?;
        for _ in 0..MAX_MESSAGES {
            match conn.receive(wire::parse_message, |e| malformed(e.to_string()))? {
                Message::Authentication(_) => return Ok(()),
                Message::Error(e) if e.code == CANNOT_CONNECT_NOW => {
                    let detail = e.detail.map(|d| format!(": {d}")).unwrap_or_default();
                    return Err(ProbeError::NotReady(format!(
                        "{} ({}){detail}",
                        e.message, e.code
                    )));
                }
                Message::Error(_) => return Ok(()),
                Message::Other(_) => {}
            }
        }
        Err(malformed("no authentication request or error".into()))
    }
}

fn malformed(problem: String) -> ProbeError {
    ProbeError::Malformed {
        protocol: "PostgreSQL",
        problem,
    }
}
