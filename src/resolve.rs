//! Host name resolution bounded by a deadline.
//!
//! `getaddrinfo` has no timeout parameter, and a dead DNS server holds it for
//! the resolver's own retry schedule (musl: 5 s × 2 attempts). Every attempt
//! in rdy must end by its deadline, so a name that needs the resolver is looked
//! up on a helper thread and abandoned when the deadline passes. IP literals
//! and `localhost` never touch the resolver: an image built `FROM scratch` has
//! no `/etc/hosts` and no `/etc/resolv.conf`.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Instant;

/// Why a host name did not resolve.
#[derive(Debug)]
pub enum ResolveError {
    /// The resolver answered, with no addresses or an error.
    Failed { host: String, reason: String },
    /// The resolver did not answer before the attempt's deadline.
    TimedOut { host: String },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Failed { host, reason } => write!(f, "lookup {host}: {reason}"),
            ResolveError::TimedOut { host } => write!(f, "lookup {host}: timed out"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Resolves `host` (a name, an IPv4 literal, or an IPv6 literal without
/// brackets) to socket addresses for `port`, before `deadline`.
pub fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ResolveError> {
    if let Some(ips) = without_resolver(host) {
        return Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect());
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let query = (host.to_owned(), port);
    let spawned = std::thread::Builder::new()
        // musl's resolver runs fine in its own 128 KiB default thread stack.
        .stack_size(128 * 1024)
        .spawn(move || {
            let _ = tx.send(query.to_socket_addrs().map(Vec::from_iter));
        });
    if let Err(e) = spawned {
        return Err(failed(host, &e));
    }
    let wait = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(ResolveError::Failed {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        }),
        Ok(Err(e)) => Err(failed(host, &e)),
        Err(_) => Err(ResolveError::TimedOut {
            host: host.to_owned(),
        }),
    }
}

/// The addresses of `host` when no resolver is needed: IP literals, and
/// `localhost` (RFC 6761 §6.3 reserves it for loopback), IPv4 first.
pub fn without_resolver(host: &str) -> Option<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("localhost") {
        return Some(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]);
    }
    None
}

fn failed(host: &str, e: &io::Error) -> ResolveError {
    // std prefixes getaddrinfo's text with "failed to lookup address
    // information: "; the `lookup HOST:` prefix already says that.
    // getaddrinfo's EAI_SYSTEM reaches std as the errno: said in words.
    let text = crate::os_error::words(e).to_string();
    let reason = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    ResolveError::Failed {
        host: host.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn literals_and_localhost_skip_the_resolver() {
        let soon = Instant::now() + Duration::from_secs(1);
        let v4 = resolve("127.0.0.1", 80, soon).unwrap();
        assert_eq!(v4, vec!["127.0.0.1:80".parse().unwrap()]);
        let v6 = resolve("::1", 443, soon).unwrap();
        assert_eq!(v6, vec!["[::1]:443".parse().unwrap()]);
        let local = without_resolver("LocalHost.").unwrap();
        assert_eq!(local.len(), 2);
        assert!(local[0].is_ipv4() && local[1].is_ipv6());
        assert!(without_resolver("db.example").is_none());
    }
}
