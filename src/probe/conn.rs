//! A client connection for the protocol probes (PostgreSQL, MySQL, Redis):
//! TCP to the first address that accepts, TLS on top when asked, and every
//! read and write bounded by the attempt's deadline.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::ProbeError;
use crate::transport::dial;

/// At most this much is buffered while waiting for one reply.
const MAX_BUFFER: usize = 64 * 1024;

/// An open connection and the deadline of its attempt.
pub struct Conn {
    stream: Stream,
    deadline: Instant,
    /// Bytes received and not yet consumed by a parser.
    buf: Vec<u8>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Conn {
    /// Connects to `host:port` as the TCP probe does.
    pub fn open(host: &str, port: u16, deadline: Instant) -> Result<Conn, ProbeError> {
        let tcp = dial::connect(host, port, deadline)?;
        let _ = tcp.set_nodelay(true);
        Ok(Conn {
            stream: Stream::Plain(tcp),
            deadline,
            buf: Vec::new(),
        })
    }

    /// Runs a TLS handshake on the connection, verifying the server as
    /// `host` by `config`. Bytes already received are a protocol error
    /// (a server must not send before the handshake: CVE-2021-23214).
    pub fn start_tls(self, host: &str, config: Arc<ClientConfig>) -> Result<Conn, ProbeError> {
        let Stream::Plain(tcp) = self.stream else {
            return Ok(self);
        };
        if !self.buf.is_empty() {
            return Err(ProbeError::Tls(
                "server sent data before the handshake".into(),
            ));
        }
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ProbeError::Tls(format!("{host:?} is not a valid TLS server name")))?;
        let tls =
            ClientConnection::new(config, name).map_err(|e| ProbeError::Tls(e.to_string()))?;
        let mut conn = Conn {
            stream: Stream::Tls(Box::new(StreamOwned::new(tls, tcp))),
            deadline: self.deadline,
            buf: Vec::new(),
        };
        conn.arm()?;
        if let Stream::Tls(s) = &mut conn.stream {
            while s.conn.is_handshaking() {
                s.conn.complete_io(&mut s.sock).map_err(from_io)?;
            }
        }
        Ok(conn)
    }

    /// Sends all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        self.arm()?;
        let result = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Stream::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        };
        result.map_err(from_io)
    }

    /// Reads until `parse` finds a whole message at the front of what was
    /// received, and consumes it. `parse` returns `Ok(None)` while it needs
    /// more bytes. The server closing first is `closed`.
    pub fn receive<T, E>(
        &mut self,
        mut parse: impl FnMut(&[u8]) -> Result<Option<(T, usize)>, E>,
        malformed: impl Fn(E) -> ProbeError,
    ) -> Result<T, ProbeError> {
        loop {
            if let Some((value, used)) = parse(&self.buf).map_err(&malformed)? {
                self.buf.drain(..used);
                return Ok(value);
            }
            if self.buf.len() >= MAX_BUFFER {
                return Err(ProbeError::NotReady("reply too long".into()));
            }
            self.fill()?;
        }
    }

    /// Reads what the server sent next; the server closing is an error.
    fn fill(&mut self) -> Result<(), ProbeError> {
        self.arm()?;
        let mut chunk = [0; 4096];
        let n = match &mut self.stream {
            Stream::Plain(s) => s.read(&mut chunk),
            Stream::Tls(s) => s.read(&mut chunk),
        }
        .map_err(from_io)?;
        if n == 0 {
            return Err(ProbeError::NotReady(
                "the server closed the connection without answering".into(),
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Reads exactly one byte (the answer to PostgreSQL's `SSLRequest`).
    pub fn receive_byte(&mut self) -> Result<u8, ProbeError> {
        self.receive(
            |buf| Ok::<_, ProbeError>(buf.first().map(|&b| (b, 1))),
            |e| e,
        )
    }

    /// Sets the socket's timeouts to what is left of the deadline.
    fn arm(&self) -> Result<(), ProbeError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ProbeError::TimedOut);
        }
        let tcp = match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        };
        tcp.set_read_timeout(Some(left))
            .and_then(|()| tcp.set_write_timeout(Some(left)))
            .map_err(ProbeError::from_io)
    }
}

/// A socket error, or a TLS failure that rustls reports through one.
fn from_io(e: io::Error) -> ProbeError {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => ProbeError::Tls(tls.to_string()),
        None => ProbeError::from_io(e),
    }
}
