//! ICMP echo probe over `socket2`, without root where the kernel allows it.
//!
//! Linux offers two sockets for ping:
//!
//! - an unprivileged datagram socket (`SOCK_DGRAM`, `IPPROTO_ICMP[V6]`), open
//!   to processes whose group is inside `net.ipv4.ping_group_range` (the one
//!   sysctl governs IPv6 too). The kernel owns the identifier (it rewrites it
//!   to the socket's "port") and delivers only replies to this socket.
//! - a raw socket (`SOCK_RAW`), which needs `CAP_NET_RAW` and sees every ICMP
//!   packet of the network namespace — on loopback including our own echo
//!   request — so replies must be matched by identifier, sequence, payload and
//!   source address.
//!
//! The datagram socket is tried first; a raw socket is the fallback.

pub mod packet;

use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use self::packet::{Echo, Family};
use super::ProbeError;
use crate::transport::dial;
use crate::{log, resolve};

/// `icmp://host`.
#[derive(Debug, Clone)]
pub struct Icmp {
    /// Name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Budget for resolving the host and sending the request.
    pub dial_timeout: Duration,
    /// How long to wait for the reply (`ICMP_READ_TIMEOUT`).
    pub read_timeout: Duration,
}

/// An open ICMP socket and how it behaves.
struct IcmpSocket {
    socket: Socket,
    /// Raw sockets see every packet and keep our identifier.
    raw: bool,
    family: Family,
}

impl Icmp {
    /// Sends one echo request and waits for its reply from the target.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let dial_deadline = deadline.min(Instant::now() + self.dial_timeout);
        let ip = resolve::resolve(&self.host, 0, dial_deadline)?[0].ip();
        let sock = IcmpSocket::open(ip)?;
        log::debug("ICMP socket opened")
            .field("target", ip)
            .field("socket", if sock.raw { "raw" } else { "datagram" })
            .emit();
        let nonce = Nonce::next();
        let request = Echo {
            ident: nonce.ident,
            seq: nonce.seq,
            payload: &nonce.payload,
        };
        let target = SockAddr::from(SocketAddr::new(ip, 0));
        sock.socket
            .send_to(&packet::encode_request(sock.family, &request), &target)
            .map_err(ProbeError::from_io)?;
        let read_deadline = deadline.min(Instant::now() + self.read_timeout);
        sock.await_reply(ip, &request, read_deadline)
    }
}

impl IcmpSocket {
    fn open(ip: IpAddr) -> Result<IcmpSocket, ProbeError> {
        let (domain, protocol, family) = match ip {
            IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4, Family::V4),
            IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6, Family::V6),
        };
        let dgram_error = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(socket) => {
                return Ok(IcmpSocket {
                    socket,
                    raw: false,
                    family,
                });
            }
            Err(e) => e,
        };
        match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(socket) => Ok(IcmpSocket {
                socket,
                raw: true,
                family,
            }),
            Err(raw_error) if is_permission(&raw_error) && is_permission(&dgram_error) => {
                Err(ProbeError::IcmpNotPermitted(not_permitted_message()))
            }
            Err(raw_error) => Err(ProbeError::from_io(raw_error)),
        }
    }

    /// Reads until the reply to `request` arrives from `from`, skipping every
    /// other packet, or until `deadline`.
    fn await_reply(
        &self,
        from: IpAddr,
        request: &Echo<'_>,
        deadline: Instant,
    ) -> Result<(), ProbeError> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ProbeError::NoEchoReply);
            }
            // A zero timeout would mean "block forever" to setsockopt; a
            // long one would end late (see `dial::SLICE`).
            self.socket
                .set_read_timeout(Some(dial::piece(left)))
                .map_err(ProbeError::from_io)?;
            let (len, source) = match self.socket.recv_from(&mut buf) {
                Ok(received) => received,
                Err(e) if dial::is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                    continue;
                }
                Err(e) => return Err(ProbeError::from_io(e)),
            };
            // SAFETY: recv_from initialised the first `len` bytes.
            let data = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) };
            if source.as_socket().map(|s| s.ip()) != Some(from) {
                continue;
            }
            let ip_header = self.raw && self.family == Family::V4;
            if let Ok(reply) = packet::parse_reply(data, self.family, ip_header)
                && self.matches(request, &reply)
            {
                return Ok(());
            }
        }
    }

    fn matches(&self, request: &Echo<'_>, reply: &Echo<'_>) -> bool {
        // On datagram sockets the kernel rewrote the identifier.
        (!self.raw || reply.ident == request.ident)
            && reply.seq == request.seq
            && reply.payload == request.payload
    }
}

fn is_permission(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}

fn not_permitted_message() -> String {
    let gid = nix::unistd::getegid();
    format!(
        "ICMP not permitted: grant the container CAP_NET_RAW, or set sysctl \
         net.ipv4.ping_group_range to a range that includes group {gid} \
         (e.g. \"0 2147483647\")"
    )
}

/// Identifier, sequence and payload of one echo request.
///
/// Every container of a pod may run rdy as PID 1 in its own PID namespace
/// while sharing one network namespace, so the identifier cannot be the PID
/// (as `ping` does): it is drawn once per process from the clock. The payload
/// carries a per-request nonce so a stale or foreign reply never matches.
struct Nonce {
    ident: u16,
    seq: u16,
    payload: [u8; 16],
}

impl Nonce {
    fn next() -> Nonce {
        static IDENT: OnceLock<u16> = OnceLock::new();
        static SEQ: AtomicU16 = AtomicU16::new(0);
        let seed = clock_seed();
        let ident =
            *IDENT.get_or_init(|| (seed ^ (seed >> 16) ^ u64::from(std::process::id())) as u16);
        let seq = SEQ
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(seed as u16);
        let mut payload = *b"rdy-____________";
        payload[4..12].copy_from_slice(&seed.to_be_bytes());
        payload[12..14].copy_from_slice(&seq.to_be_bytes());
        payload[14..16].copy_from_slice(&ident.to_be_bytes());
        Nonce {
            ident,
            seq,
            payload,
        }
    }
}

fn clock_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    // splitmix64 finaliser: spreads the low-entropy clock bits over the word.
    let mut z = nanos.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
