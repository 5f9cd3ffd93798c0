//! gRPC health probe: `grpc.health.v1.Health/Check` over HTTP/2, over TCP
//! (`grpc://`) or TLS with ALPN `h2` (`grpcs://`). Ready when the answer is
//! SERVING; a server without the health service can never become ready.

pub mod h2;
pub mod health;
pub mod hpack;
pub mod huffman;

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::h2::{H2Error, Response};
use self::health::Serving;
use super::ProbeError;
use crate::percent;
use crate::transport::dial::{self, Bounded};
use crate::transport::error::TransportError;
use crate::transport::tls;

/// gRPC status UNIMPLEMENTED: the server has no health service.
const UNIMPLEMENTED: u32 = 12;
/// gRPC status NOT_FOUND: Check's answer for a service it does not know.
const NOT_FOUND: u32 = 5;

/// `grpc://host:port[?service=NAME]` or `grpcs://…`.
#[derive(Debug)]
pub struct Grpc {
    /// Name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The service asked about; empty means the server as a whole.
    pub service: String,
    /// TLS settings (ALPN `h2`) for `grpcs://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Budget for one attempt, connect to trailers.
    pub dial_timeout: Duration,
}

impl Grpc {
    /// Makes one health check on a new connection.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let stream = dial::connect(&self.host, self.port, deadline)?;
        let io = Bounded { stream, deadline };
        // RFC 3986 §3.2.2: an IPv6 literal in an authority is bracketed.
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let block = h2::grpc_headers(self.tls.is_some(), &authority, health::PATH);
        let first = h2::request(&block, &health::request(&self.service));
        let response = match &self.tls {
            None => exchange(&mut { io }, &first),
            Some(config) => {
                let mut stream = tls::connect(config.clone(), &self.host, io)?;
                if stream.conn.alpn_protocol() != Some(b"h2") {
                    let refused = "the server did not agree to HTTP/2 (ALPN h2)";
                    return Err(TransportError::Tls(refused.to_owned()).into());
                }
                exchange(&mut stream, &first)
            }
        }?;
        self.judge(&response)
    }

    /// Ready on SERVING; UNIMPLEMENTED is fatal; anything else says why not.
    fn judge(&self, response: &Response) -> Result<(), ProbeError> {
        let subject = match self.service.as_str() {
            "" => String::new(),
            name => format!("service {name:?}: "),
        };
        let status = response.field(":status").unwrap_or_default();
        let Some(code) = response.field("grpc-status") else {
            let status = String::from_utf8_lossy(status);
            return Err(ProbeError::NotReady(format!(
                "not a gRPC answer: HTTP status {status} without grpc-status"
            )));
        };
        let code = std::str::from_utf8(code)
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            .ok_or_else(|| ProbeError::NotReady("grpc-status is not a number".to_owned()))?;
        let message = status_message(response);
        let name = health::status_name(code);
        match code {
            0 => {}
            UNIMPLEMENTED => {
                return Err(ProbeError::Fatal(format!(
                    "no gRPC health service: {} answered grpc-status 12 UNIMPLEMENTED{message}",
                    health::PATH
                )));
            }
            NOT_FOUND => {
                return Err(ProbeError::NotReady(format!(
                    "{subject}unknown to the health service (grpc-status 5 NOT_FOUND{message})"
                )));
            }
            _ => {
                return Err(ProbeError::NotReady(format!(
                    "{subject}grpc-status {code} {name}{message}"
                )));
            }
        }
        match health::response(&response.body) {
            Ok(Serving::Serving) => Ok(()),
            Ok(other) => Err(ProbeError::NotReady(format!(
                "{subject}health status {other}"
            ))),
            Err(e) => Err(ProbeError::NotReady(e.to_string())),
        }
    }
}

fn exchange(io: &mut dyn h2::Io, first: &[u8]) -> Result<Response, ProbeError> {
    h2::exchange(io, first).map_err(|e| match e {
        H2Error::Io(e) => ProbeError::from_io(e),
        other => ProbeError::NotReady(other.to_string()),
    })
}

/// `grpc-message`, percent-decoded (gRPC over HTTP/2, "Responses"), as
/// `": text"` of at most 200 characters, or nothing.
fn status_message(response: &Response) -> String {
    let Some(raw) = response.field("grpc-message") else {
        return String::new();
    };
    let decoded = percent::decode_lenient(&String::from_utf8_lossy(raw));
    match String::from_utf8_lossy(&decoded)
        .chars()
        .take(200)
        .collect::<String>()
    {
        text if text.is_empty() => text,
        text => format!(": {text}"),
    }
}
