//! HTTP(S) probe: one request; ready when the status is in the expected set
//! and, optionally, the body contains a text.

pub mod header;
pub mod outcome;
pub mod proxy;
pub mod status;

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::http::{Method, Request, Response, Uri};
use ureq::{Agent, Body};

use self::header::Header;
use self::status::StatusSet;
use super::ProbeError;
use crate::kube::expect::Expect;
use crate::transport::error::TransportError;

/// At most this much of a body is read for `--body-contains`.
pub const BODY_LIMIT: u64 = 64 * 1024;

/// Methods a probe may use; quoted in error messages.
pub const METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// Parses a method name case-insensitively. Only the methods of RFC 9110
/// (and PATCH) that make sense without a request body are accepted.
pub fn parse_method(text: &str) -> Option<Method> {
    let upper = text.trim().to_ascii_uppercase();
    match upper.as_str() {
        "GET" => Some(Method::GET),
        "HEAD" => Some(Method::HEAD),
        "POST" => Some(Method::POST),
        "PUT" => Some(Method::PUT),
        "PATCH" => Some(Method::PATCH),
        "DELETE" => Some(Method::DELETE),
        "OPTIONS" => Some(Method::OPTIONS),
        _ => None,
    }
}

/// An `http://` or `https://` target with its request settings.
#[derive(Debug)]
pub struct Http {
    /// The URL requested.
    pub uri: Uri,
    /// Request method.
    pub method: Method,
    /// Extra request headers, in order.
    pub headers: Vec<Header>,
    /// Statuses that count as ready.
    pub status: StatusSet,
    /// Text the first [`BODY_LIMIT`] bytes must contain.
    pub body_contains: Option<String>,
    /// A JSONPath the first [`BODY_LIMIT`] bytes, as JSON, must meet.
    pub body_json: Option<Expect>,
    /// Budget for the whole request, connect to last body byte.
    pub dial_timeout: Duration,
    /// Connection, TLS and proxy settings.
    pub agent: Agent,
}

impl Http {
    /// Whether the target is `https://`.
    pub fn is_https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
    }

    /// Sends the request and judges the response. A not-ready answer that
    /// another rdy marked as failed for good is fatal (see [`outcome`]).
    /// No header value (a token) reaches a log line, even when the server
    /// quotes it back.
    pub fn attempt(&self, deadline: Instant) -> Result<(), ProbeError> {
        let result = self.judge(deadline);
        self.headers
            .iter()
            .fold(result, |result, h| result.map_err(|e| e.without(&h.value)))
    }

    fn judge(&self, deadline: Instant) -> Result<(), ProbeError> {
        let mut response = self.send(deadline)?;
        let got = response.status().as_u16();
        if !self.status.contains(got) {
            if let Some(fatal) = outcome::failure(&mut response) {
                return Err(fatal);
            }
            return Err(ProbeError::Status {
                got,
                expected: self.status.to_string(),
            });
        }
        if self.body_contains.is_none() && self.body_json.is_none() {
            return Ok(());
        }
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(BODY_LIMIT)
            .read_to_end(&mut body)
            .map_err(ProbeError::from_io)?;
        if let Some(needle) = &self.body_contains
            && !contains(&body, needle.as_bytes())
        {
            return Err(ProbeError::BodyMismatch {
                expected: needle.clone(),
            });
        }
        match &self.body_json {
            Some(expect) => body_json(expect, &body),
            None => Ok(()),
        }
    }

    /// Sends the request; any response is returned, unjudged.
    pub fn send(&self, deadline: Instant) -> Result<Response<Body>, ProbeError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ProbeError::timed_out());
        }
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(self.uri.clone());
        for header in &self.headers {
            request = request.header(header.name.as_str(), header.value.as_str());
        }
        let request = request
            .body(())
            .map_err(|e| ProbeError::Transport(TransportError::Protocol(e.to_string())))?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(left))
            .build();
        self.agent.run(request).map_err(ProbeError::from_ureq)
    }
}

/// `--body-json`: the body parsed as JSON (a body cut at [`BODY_LIMIT`]
/// is not JSON) and the JSONPath judged on it; the not-ready line quotes
/// the value seen, which comes from the body only, never from a header.
fn body_json(expect: &Expect, body: &[u8]) -> Result<(), ProbeError> {
    let value = crate::json::parse(body)
        .map_err(|e| ProbeError::NotReady(format!("the body is not JSON: {e}")))?;
    expect
        .holds(Some(&value), true)
        .map_err(|why| ProbeError::NotReady(format!("body: {why}")))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_insensitive_and_limited() {
        assert_eq!(parse_method("get"), Some(Method::GET));
        assert_eq!(parse_method("Head"), Some(Method::HEAD));
        assert_eq!(parse_method("CONNECT"), None);
        assert_eq!(parse_method("FETCH"), None);
        assert_eq!(parse_method(""), None);
    }

    #[test]
    fn body_search() {
        assert!(contains(b"status: ok", b"ok"));
        assert!(!contains(b"status: fail", b"ok"));
        assert!(!contains(b"o", b"ok"));
        assert!(contains(b"", b""));
    }
}
