//! DNS probe: one query per attempt, asked afresh every time (nothing is
//! cached), to the nameservers of `/etc/resolv.conf` or the one `server=`
//! names. Ready when the answer holds at least one record of the type.

pub mod message;

use std::hash::BuildHasher;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use self::message::{Answer, MessageError, RecordType};
use super::ProbeError;
use crate::transport::dial::{self, Bounded};
use crate::transport::error::TransportError;

/// Where the system's nameservers are listed.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// `dns://name[?type=T][&server=IP[:PORT]]`.
#[derive(Debug)]
pub struct Dns {
    /// The name asked about, as written (absolute: no search list).
    pub name: String,
    /// The name in wire form.
    pub qname: Vec<u8>,
    /// The record type asked for.
    pub qtype: RecordType,
    /// `server=`; else the nameservers of `/etc/resolv.conf`.
    pub server: Option<SocketAddr>,
    /// Budget for one attempt, over all servers.
    pub dial_timeout: Duration,
}

/// `server=`: `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; port 53 unless
/// given. The target's other options are read by cli/scheme/dns.rs.
pub fn parse_server(text: &str) -> Option<SocketAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    if let Some(v6) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Some(SocketAddr::new(v6.parse().ok()?, 53));
    }
    text.parse::<SocketAddr>().ok().filter(|a| a.port() != 0)
}

/// The `nameserver` lines of resolv.conf(5), in order, on port 53.
pub fn nameservers(conf: &str) -> Vec<SocketAddr> {
    conf.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        // A link-local address with a %zone is skipped: std cannot parse it.
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

impl Dns {
    /// Asks each server in turn, sharing the attempt's time among those
    /// not yet asked, until one gives an answer that decides.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let servers = match self.server {
            Some(server) => vec![server],
            None => {
                let conf = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
                nameservers(&conf)
            }
        };
        if servers.is_empty() {
            return Err(ProbeError::NotReady(format!(
                "no nameserver in {RESOLV_CONF}; name one with ?server=IP"
            )));
        }
        let mut last = ProbeError::timed_out();
        for (i, server) in servers.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / (servers.len() - i) as u32;
            if share.is_zero() {
                break;
            }
            match self.ask(*server, Instant::now() + share) {
                Ok(answer) => match self.judge(&answer) {
                    Verdict::Ready => return Ok(()),
                    Verdict::Decided(e) => return Err(e),
                    Verdict::NextServer(e) => last = e,
                },
                Err(e) => last = e,
            }
        }
        Err(match last {
            ProbeError::Transport(TransportError::TimedOut) => ProbeError::NotReady(format!(
                "no DNS answer for {} within the timeout",
                self.name
            )),
            other => other,
        })
    }

    /// One query to `server`: over UDP, again over TCP when truncated.
    fn ask(&self, server: SocketAddr, deadline: Instant) -> Result<Answer, ProbeError> {
        let id = std::collections::hash_map::RandomState::new().hash_one(Instant::now()) as u16;
        let query = message::query(id, &self.qname, self.qtype);
        let answer = udp(server, &query, deadline)?;
        if !answer.truncated {
            return Ok(answer);
        }
        tcp(server, &query, deadline)
    }

    fn judge(&self, answer: &Answer) -> Verdict {
        let (name, kind) = (&self.name, self.qtype.name);
        match answer.rcode {
            0 if answer.matching > 0 => Verdict::Ready,
            0 if answer.other > 0 => Verdict::Decided(ProbeError::NotReady(format!(
                "{name} has no {kind} record (only records of other types, such as a CNAME)"
            ))),
            0 => Verdict::Decided(ProbeError::NotReady(format!(
                "{name} has no {kind} record (empty answer)"
            ))),
            3 => Verdict::Decided(ProbeError::NotReady(format!(
                "{name} does not exist (NXDOMAIN)"
            ))),
            code => Verdict::NextServer(ProbeError::NotReady(format!(
                "the DNS server answered {} ({code}) for {name}",
                message::rcode_name(code)
            ))),
        }
    }
}

/// What one server's answer means for the attempt.
enum Verdict {
    Ready,
    /// NOERROR or NXDOMAIN: the name's state, whatever other servers say.
    Decided(ProbeError),
    /// SERVFAIL, REFUSED, ...: this server cannot tell; ask the next.
    NextServer(ProbeError),
}

/// Sends `query` from a new socket (a random source port) and waits for
/// the matching answer; datagrams from elsewhere or for other queries are
/// dropped.
fn udp(server: SocketAddr, query: &[u8], deadline: Instant) -> Result<Answer, ProbeError> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => ([0u16; 8], 0).into(),
    };
    let socket = UdpSocket::bind(local).map_err(ProbeError::from_io)?;
    socket.connect(server).map_err(ProbeError::from_io)?;
    socket.send(query).map_err(ProbeError::from_io)?;
    let mut buf = [0u8; message::UDP_MAX];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ProbeError::timed_out());
        }
        socket
            .set_read_timeout(Some(dial::piece(left)))
            .map_err(ProbeError::from_io)?;
        // A connected UDP socket only receives from the server.
        let len = match socket.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if dial::is_timeout(&e) => continue,
            Err(e) => return Err(ProbeError::from_io(e)),
        };
        match message::parse(&buf[..len], query) {
            Ok(answer) => return Ok(answer),
            Err(MessageError::NotOurs) => continue,
            Err(e) => return Err(ProbeError::NotReady(e.to_string())),
        }
    }
}

/// The same query over TCP (RFC 1035 §4.2.2, RFC 7766): a two-byte length
/// before each message.
fn tcp(server: SocketAddr, query: &[u8], deadline: Instant) -> Result<Answer, ProbeError> {
    let stream = dial::connect(&server.ip().to_string(), server.port(), deadline)?;
    let mut io = Bounded { stream, deadline };
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    io.write_all(&framed).map_err(ProbeError::from_io)?;
    let mut len = [0u8; 2];
    io.read_exact(&mut len).map_err(ProbeError::from_io)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    io.read_exact(&mut msg).map_err(ProbeError::from_io)?;
    message::parse(&msg, query).map_err(|e| ProbeError::NotReady(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers() {
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(parse_server("[::1]").unwrap().port(), 53);
        for bad in ["dns.google", "1.2.3.4:0"] {
            assert!(parse_server(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn resolv_conf_nameservers() {
        let conf = "# x\nsearch svc\nnameserver 10.96.0.10\nnameserver fe80::1%eth0\n\
                    nameserver ::1\noptions ndots:5\n";
        let got: Vec<String> = nameservers(conf).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["10.96.0.10:53", "[::1]:53"]);
    }
}
