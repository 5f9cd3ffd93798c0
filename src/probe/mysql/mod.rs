//! MySQL/MariaDB probe: a complete login exchange as a user that does not
//! exist, so the server never counts the probe as a connection error.
//!
//! A client that connects and drops (a bare TCP probe) or stops inside the
//! handshake counts toward `max_connect_errors`; past it the server refuses
//! the whole host (ERR 1129) until `FLUSH HOSTS`. A login that ends in an
//! `OK` or `Access denied` (ERR 1045) is a finished handshake, which the
//! host cache never counts, and proves the server answers logins.

pub mod wire;

use std::time::{Duration, Instant};

use self::wire::{Reply, ServerError};
use super::ProbeError;
use super::conn::Conn;

/// The user the probe logs in as, with an empty password.
pub const USER: &str = "rdy";

/// `ER_ACCESS_DENIED_ERROR`: the login was judged, so the server is up.
const ACCESS_DENIED: u16 = 1045;
/// `ER_CON_COUNT_ERROR`.
const TOO_MANY_CONNECTIONS: u16 = 1040;
/// `ER_HOST_IS_BLOCKED`.
const HOST_BLOCKED: u16 = 1129;

/// Auth switches and "more data" rounds followed before giving up.
const MAX_ROUNDS: usize = 4;

/// `mysql://host[:3306]`.
#[derive(Debug)]
pub struct Mysql {
    /// Name or IP literal.
    pub host: String,
    /// Port, 3306 unless given.
    pub port: u16,
    /// Budget for one attempt.
    pub dial_timeout: Duration,
}

impl Mysql {
    /// Reads the handshake, logs in as [`USER`] without a password and
    /// judges the outcome: `OK` or ERR 1045 is up.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let mut conn = Conn::open(&self.host, self.port, deadline)?;
        let greeting = receive(&mut conn)?;
        let handshake = match wire::parse_greeting(&greeting.1).map_err(malformed)? {
            Ok(handshake) => handshake,
            Err(e) => {
                return Err(ProbeError::NotReady(format!(
                    "the server refused the connection before its handshake: {}",
                    refusal(&e)
                )));
            }
        };
        let mut seq = greeting.0.wrapping_add(1);
        conn.send(&wire::packet(seq, &wire::login(&handshake, USER)))?;
        for _ in 0..MAX_ROUNDS {
            let (got, payload) = receive(&mut conn)?;
            seq = got.wrapping_add(1);
            match wire::parse_reply(&payload).map_err(malformed)? {
                Reply::Ok => {
                    let _ = conn.send(&wire::packet(0, &wire::COM_QUIT));
                    return Ok(());
                }
                Reply::Err(e) if e.code == ACCESS_DENIED => return Ok(()),
                Reply::Err(e) => return Err(ProbeError::NotReady(refusal(&e))),
                // Fast authentication succeeded: the OK follows.
                Reply::MoreData(data) if data == [3] => continue,
                // A plugin switch or full authentication: the empty password
                // is an empty response (NUL-terminated for full auth).
                Reply::MoreData(_) => conn.send(&wire::packet(seq, &[0]))?,
                Reply::AuthSwitch => conn.send(&wire::packet(seq, &[]))?,
            }
        }
        Err(malformed(wire::WireError::Unexpected(0x01)))
    }
}

/// Reads one packet: its sequence id and payload.
fn receive(conn: &mut Conn) -> Result<(u8, Vec<u8>), ProbeError> {
    conn.receive(
        |buf| {
            wire::parse_packet(buf)
                .map(|p| p.map(|(packet, used)| ((packet.seq, packet.payload.to_vec()), used)))
        },
        malformed,
    )
}

/// An error the server sent, in words, with what to do where that is known.
fn refusal(e: &ServerError) -> String {
    match e.code {
        HOST_BLOCKED => format!(
            "{} (ERR 1129; unblock it with FLUSH HOSTS on the server)",
            e.message
        ),
        TOO_MANY_CONNECTIONS => format!("too many connections (ERR 1040): {}", e.message),
        code => format!("{} (ERR {code})", e.message),
    }
}

fn malformed(e: wire::WireError) -> ProbeError {
    ProbeError::Malformed {
        protocol: "MySQL",
        problem: e.to_string(),
    }
}
