//! A client connection for the protocol probes (PostgreSQL, MySQL, Redis):
//! TCP to the first address that accepts, TLS on top when asked, and every
//! read and write bounded by the attempt's deadline.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use rustls::ClientConfig;

use super::ProbeError;
use crate::transport::dial::{self, Bounded};
use crate::transport::error::TransportError;
use crate::transport::tls::{self, TlsStream};

/// At most this much is buffered while waiting for one reply.
const MAX_BUFFER: usize = 64 * 1024;

/// An open connection of one attempt.
pub struct Conn {
    stream: Stream,
    /// Bytes received and not yet consumed by a parser.
    buf: Vec<u8>,
}

/// Plain or TLS, each over a stream bounded by the attempt's deadline.
enum Stream {
    Plain(Bounded),
    Tls(Box<TlsStream<Bounded>>),
}

impl Conn {
    /// Connects to `host:port` as the TCP probe does.
    pub fn open(host: &str, port: u16, deadline: Instant) -> Result<Conn, ProbeError> {
        let stream = dial::connect(host, port, deadline)?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream: Stream::Plain(Bounded { stream, deadline }),
            buf: Vec::new(),
        })
    }

    /// Runs a TLS handshake on the connection, verifying the server as
    /// `host` by `config`, as every TLS target does ([`tls::connect`]).
    /// Bytes already received are a protocol error (a server must not send
    /// before the handshake: CVE-2021-23214).
    pub fn start_tls(self, host: &str, config: Arc<ClientConfig>) -> Result<Conn, ProbeError> {
        let Stream::Plain(io) = self.stream else {
            return Ok(self);
        };
        if !self.buf.is_empty() {
            return Err(TransportError::Tls("server sent data before the handshake".into()).into());
        }
        Ok(Conn {
            stream: Stream::Tls(Box::new(tls::connect(config, host, io)?)),
            buf: Vec::new(),
        })
    }

    /// Sends all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        let result = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Stream::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        };
        result.map_err(ProbeError::from_io)
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
        let mut chunk = [0; 4096];
        let n = match &mut self.stream {
            Stream::Plain(s) => s.read(&mut chunk),
            Stream::Tls(s) => s.read(&mut chunk),
        }
        .map_err(ProbeError::from_io)?;
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
}
