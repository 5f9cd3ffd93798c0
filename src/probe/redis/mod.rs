//! Redis probe: `PING`, judged more strictly than `redis-cli ping`, which
//! exits 0 on any reply.
//!
//! `+PONG` is ready; `-NOAUTH` and `-WRONGPASS` are a server that is up and
//! wants a password. Any other error is not ready: `-LOADING` (the dataset
//! is being loaded), `-BUSY` (a script runs), `-MASTERDOWN` (a replica that
//! lost its master), and whatever else the server says. With a password
//! (`REDISCLI_AUTH` or `password_file=`) the probe sends `AUTH` first, so
//! a server that requires one still tells `LOADING` from ready.

pub mod resp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use self::resp::Reply;
use super::ProbeError;
use super::conn::Conn;

/// Error kinds of a server that is up but wants credentials.
const NEEDS_PASSWORD: [&str; 2] = ["NOAUTH", "WRONGPASS"];

/// `redis://host[:6379]` or `rediss://` (TLS).
pub struct Redis {
    /// Name or IP literal; also the TLS server name.
    pub host: String,
    /// Port, 6379 unless given.
    pub port: u16,
    /// For `rediss://`: how the server certificate is checked.
    pub tls: Option<Arc<ClientConfig>>,
    /// ACL user name for `AUTH` (`user=`); `default` when absent.
    pub user: Option<String>,
    /// The password for `AUTH`, never logged.
    pub password: Option<String>,
    /// Budget for one attempt.
    pub dial_timeout: Duration,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Redis {
    /// Whether the target is `rediss://`.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Connects (with TLS for `rediss://`), sends `AUTH` when a password is
    /// configured and `PING`, and judges the reply to `PING`. The password
    /// never reaches a log line, even when the server quotes it back.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let result = self.exchange(deadline);
        match &self.password {
            Some(password) => result.map_err(|e| e.without(password)),
            None => result,
        }
    }

    fn exchange(&self, deadline: Instant) -> Result<(), ProbeError> {
        let mut conn = Conn::open(&self.host, self.port, deadline)?;
        if let Some(tls) = &self.tls {
            conn = conn.start_tls(&self.host, tls.clone())?;
        }
        // AUTH and PING in one write; the reply to AUTH only matters
        // through the PING after it (a wrong password leaves NOAUTH).
        let mut request = match (&self.user, &self.password) {
            (Some(user), Some(pass)) => resp::command(&[b"AUTH", user.as_bytes(), pass.as_bytes()]),
            (None, Some(pass)) => resp::command(&[b"AUTH", pass.as_bytes()]),
            _ => Vec::new(),
        };
        request.extend_from_slice(&resp::command(&[b"PING"]));
        conn.send(&request)?;
        let auth = match self.password {
            Some(_) => Some(receive(&mut conn)?),
            None => None,
        };
        match (receive(&mut conn), auth) {
            (Ok(reply), _) => judge(reply),
            // A server refusing on connect (max clients, protected mode)
            // sends one error and closes: that error is the reason.
            (Err(_), Some(Reply::Error(first))) => Err(ProbeError::NotReady(first)),
            (Err(e), _) => Err(e),
        }
    }
}

fn receive(conn: &mut Conn) -> Result<Reply, ProbeError> {
    conn.receive(resp::parse_reply, |e| ProbeError::Malformed {
        protocol: "Redis",
        problem: e.to_string(),
    })
}

/// The ready rule applied to the reply to `PING`.
fn judge(reply: Reply) -> Result<(), ProbeError> {
    match reply {
        Reply::Simple(s) if s == "PONG" => Ok(()),
        Reply::Error(e) if NEEDS_PASSWORD.iter().any(|k| e.starts_with(k)) => Ok(()),
        Reply::Error(e) => Err(ProbeError::NotReady(e)),
        Reply::Simple(s) => Err(ProbeError::NotReady(format!("PING answered {s:?}"))),
        Reply::Other(kind) => Err(ProbeError::Malformed {
            protocol: "Redis",
            problem: format!("PING answered a reply of type {:?}", kind as char),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_rule() {
        let simple = |s: &str| Reply::Simple(s.into());
        let error = |s: &str| Reply::Error(s.into());
        assert!(judge(simple("PONG")).is_ok());
        assert!(judge(error("NOAUTH Authentication required.")).is_ok());
        assert!(judge(error("WRONGPASS invalid username-password pair")).is_ok());
        for not_ready in [
            "LOADING Redis is loading the dataset in memory",
            "BUSY Redis is busy running a script.",
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            "ERR max number of clients reached",
        ] {
            let e = judge(error(not_ready)).unwrap_err();
            assert_eq!(e.to_string(), not_ready);
        }
        assert!(judge(simple("OK")).is_err());
        assert!(judge(Reply::Other(b'$')).is_err());
    }
}
