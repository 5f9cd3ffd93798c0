//! `--listen`: where `rdy serve` accepts connections, and the listening
//! socket itself.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// Connections the kernel queues before the loop accepts them. std's
/// `TcpListener::bind` uses 128, and a burst of a thousand clients (a load
/// balancer fleet, a benchmark) would then see SYNs dropped and retried a
/// second later. The kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// What `--listen` accepts; quoted in error messages.
pub const ACCEPTED: &str =
    "an address and port such as 0.0.0.0:8081, [::]:8081, 127.0.0.1:0 or :8081";

/// Where to listen. One rule: an address without a host is every
/// interface, IPv6 and IPv4; an address is exactly that address (so
/// `0.0.0.0` is IPv4 only, and `[::]` is dual-stack like Go's `:PORT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// An explicit address: `0.0.0.0:8081`, `[::]:8081`, `[::1]:0`.
    Addr(SocketAddr),
    /// `:PORT`, Go's spelling used by the seed sidecar: every interface,
    /// IPv6 and IPv4 alike.
    Any(u16),
}

/// The default: `:8081`, every interface as the seed sidecar's `:PORT`.
pub const DEFAULT: Listen = Listen::Any(8081);

impl Listen {
    /// Parses `ADDR:PORT`, `[V6]:PORT` or `:PORT`; port 0 lets the kernel
    /// choose (the bound address is logged).
    pub fn parse(text: &str) -> Option<Listen> {
        let text = text.trim();
        match text.strip_prefix(':') {
            Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => {
                port.parse().ok().map(Listen::Any)
            }
            Some(_) => None,
            None => text.parse().ok().map(Listen::Addr),
        }
    }

    /// Binds a non-blocking listener. `:PORT` binds `[::]` as a dual-stack
    /// socket and falls back to `0.0.0.0` where the kernel has no IPv6.
    pub fn bind(self) -> io::Result<TcpListener> {
        match self {
            Listen::Addr(addr) => bind(addr),
            Listen::Any(port) => match bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))) {
                Err(e) if e.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => {
                    bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
                }
                other => other,
            },
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Addr(addr) => addr.fmt(f),
            Listen::Any(port) => write!(f, ":{port}"),
        }
    }
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // A restarted sidecar must not wait out TIME_WAIT of its last run.
    socket.set_reuse_address(true)?;
    if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        // `[::]` means every address, IPv4 too, whatever
        // net.ipv6.bindv6only says.
        socket.set_only_v6(false)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(Listen::parse(":8081"), Some(Listen::Any(8081)));
        assert_eq!(Listen::parse(":8081"), Some(DEFAULT));
        assert_eq!(
            Listen::parse("0.0.0.0:8081"),
            Some(Listen::Addr("0.0.0.0:8081".parse().unwrap()))
        );
        assert_eq!(
            Listen::parse("[::1]:0"),
            Some(Listen::Addr("[::1]:0".parse().unwrap()))
        );
        for bad in [
            "",
            "8081",
            ":",
            ":x",
            ":+1",
            ":70000",
            "localhost:80",
            "[::1]",
        ] {
            assert_eq!(Listen::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Listen::Any(80).to_string(), ":80");
    }
}
