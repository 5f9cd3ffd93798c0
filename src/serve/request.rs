//! Request heads: parsed with `httparse`, plus the checks it leaves to its
//! callers (bare LF line ends, size limits, `Host`, bodies).
//!
//! A head borrows the loop's shared read buffer; nothing is copied unless
//! the answer has to wait for a probe.

use std::fmt;

/// Request line and header fields together may not exceed this (431, or
/// 400 when the request line alone does).
pub const MAX_HEAD: usize = 8 * 1024;

/// Header fields beyond this many are 431.
const MAX_HEADERS: usize = 32;

/// The methods rdy serves; everything else is 405.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the same head, no body.
    Head,
    /// Any other method.
    Other,
}

/// What a request asks, borrowed from the read buffer.
#[derive(Debug)]
pub struct Head<'a> {
    /// The method.
    pub method: Method,
    /// The method as sent, for the access log.
    pub method_text: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The query after `?`, if any.
    pub query: Option<&'a str>,
    /// Whether the client wants the connection kept open afterwards.
    pub keep_alive: bool,
    /// The `Authorization` value.
    pub authorization: Option<&'a [u8]>,
    /// `Accept` names `application/json`.
    pub accepts_json: bool,
    /// `Content-Length` above 0 or any `Transfer-Encoding`.
    pub has_body: bool,
}

impl Head<'_> {
    /// The value of query parameter `name`, still percent-encoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query?
            .split('&')
            .find_map(|pair| match pair.split_once('=') {
                Some((key, value)) if key == name => Some(value),
                None if pair == name => Some(""),
                _ => None,
            })
    }
}

/// The outcome of parsing what a connection has sent so far.
#[derive(Debug)]
pub enum Parse<'a> {
    /// More bytes are needed.
    Partial,
    /// A complete head of this many bytes.
    Complete(Head<'a>, usize),
    /// Not a request rdy accepts; the connection is answered and closed.
    Bad(Malformed),
}

/// Why a request was refused before routing. The `Display` text is the
/// response body and the log's `error=` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// httparse refused it (garbage, HTTP/0.9, a bad header name...).
    Syntax(&'static str),
    /// A line ends in LF without CR; httparse would accept it, and a proxy
    /// in front that reads it differently is how requests get smuggled.
    BareLf,
    /// The request line alone exceeds [`MAX_HEAD`].
    LineTooLong,
    /// The header fields exceed [`MAX_HEAD`] or [`MAX_HEADERS`].
    HeadersTooLarge,
    /// A request target that is neither a path nor an absolute URL (`*`).
    Target,
    /// HTTP/1.1 without `Host` (RFC 9112 §3.2 says 400).
    NoHost,
    /// Two `Host`, `Authorization` or `Content-Length` fields, or a length
    /// that is not a number.
    Ambiguous(&'static str),
    /// A GET or HEAD with a body: rdy reads no bodies.
    Body,
}

impl Malformed {
    /// The response status.
    pub fn status(self) -> u16 {
        match self {
            Malformed::HeadersTooLarge => 431,
            _ => 400,
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Syntax(what) => write!(f, "malformed request: {what}"),
            Malformed::BareLf => f.write_str("malformed request: line ends without CR"),
            Malformed::LineTooLong => write!(f, "request line longer than {MAX_HEAD} bytes"),
            Malformed::HeadersTooLarge => write!(
                f,
                "request header fields larger than {MAX_HEAD} bytes or more than {MAX_HEADERS}"
            ),
            Malformed::Target => f.write_str("request target is not a path"),
            Malformed::NoHost => f.write_str("HTTP/1.1 request without Host"),
            Malformed::Ambiguous(what) => write!(f, "malformed request: {what}"),
            Malformed::Body => f.write_str("request bodies are not accepted"),
        }
    }
}

/// Parses the head at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parse<'_> {
    let window = &buf[..MAX_HEAD.min(buf.len())];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    let parsed = request.parse(window);
    // Bare LFs are looked for in this head only (httparse found its end, or
    // there is none yet): a pipelined request behind it is judged in its turn.
    let this_head = match parsed {
        Ok(httparse::Status::Complete(len)) => &window[..len],
        _ => window,
    };
    if has_bare_lf(this_head) {
        return Parse::Bad(Malformed::BareLf);
    }
    let too_long = || match window.contains(&b'\n') {
        true => Parse::Bad(Malformed::HeadersTooLarge),
        false => Parse::Bad(Malformed::LineTooLong),
    };
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return too_long(),
        Ok(httparse::Status::Partial) => return Parse::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parse::Bad(Malformed::HeadersTooLarge),
        Err(e) => return Parse::Bad(Malformed::Syntax(syntax(e))),
    };
    match head(&request) {
        Ok(head) => Parse::Complete(head, len),
        Err(bad) => Parse::Bad(bad),
    }
}

fn syntax(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::Version => "not HTTP/1.0 or HTTP/1.1",
        httparse::Error::Token => "invalid method",
        _ => "invalid request line",
    }
}

fn has_bare_lf(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
}

fn head<'a>(request: &httparse::Request<'_, 'a>) -> Result<Head<'a>, Malformed> {
    // httparse fills every field of a complete request.
    let (Some(method_text), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(Malformed::Syntax("incomplete request line"));
    };
    let target = origin_form(target).ok_or(Malformed::Target)?;
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let method = match method_text {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    let mut head = Head {
        method,
        method_text,
        path,
        query,
        keep_alive: version == 1,
        authorization: None,
        accepts_json: false,
        has_body: false,
    };
    let (mut host, mut length, mut close) = (false, None, false);
    for field in request.headers.iter() {
        let name = field.name;
        let value = field.value;
        if name.eq_ignore_ascii_case("host") {
            // RFC 9112 §3.2: more than one Host field is 400.
            if std::mem::replace(&mut host, true) {
                return Err(Malformed::Ambiguous("two Host fields"));
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(|&b| b == b',') {
                let option = option.trim_ascii();
                if option.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("authorization") {
            if head.authorization.replace(value).is_some() {
                return Err(Malformed::Ambiguous("two Authorization fields"));
            }
        } else if name.eq_ignore_ascii_case("accept") {
            head.accepts_json |= value
                .windows(16)
                .any(|w| w.eq_ignore_ascii_case(b"application/json"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(Malformed::Ambiguous("invalid Content-Length"))?;
            if length.replace(n).is_some() {
                return Err(Malformed::Ambiguous("two Content-Length fields"));
            }
            head.has_body |= n > 0;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.has_body = true;
        }
    }
    if version == 1 && !host {
        return Err(Malformed::NoHost);
    }
    // `close` wins over `keep-alive`, wherever each was written.
    head.keep_alive &= !close;
    Ok(head)
}

/// The path and query of a request target: origin form (`/all?x`) as is,
/// absolute form (`http://host/all?x`), which RFC 9112 §3.2.2 says a server
/// must accept, without its scheme and authority. `None` for the rest
/// (`*`, authority form, anything else).
fn origin_form(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let (scheme, rest) = target.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => Some(&rest[i..]),
        // `http://host?x` has an empty path, which is `/` (RFC 9110 §4.2.3);
        // the query is not needed for any path without one, so it is dropped.
        _ => Some("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(text: &str) -> Head<'_> {
        match parse(text.as_bytes()) {
            Parse::Complete(head, len) => {
                assert_eq!(len, text.len());
                head
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn bad(text: &[u8]) -> Malformed {
        match parse(text) {
            Parse::Bad(m) => m,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
        }
    }

    #[test]
    fn a_kubelet_probe() {
        let h = complete(
            "GET /ready/db?format=json&token=a%2Bb HTTP/1.1\r\nHost: 10.0.0.1:8081\r\n\
             User-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.path, "/ready/db");
        assert_eq!(h.param("format"), Some("json"));
        assert_eq!(h.param("token"), Some("a%2Bb"));
        assert_eq!(h.param("x"), None);
        assert!(!h.keep_alive && !h.accepts_json && !h.has_body);
    }

    #[test]
    fn keep_alive_and_headers() {
        let h = complete("HEAD /all HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(h.keep_alive);
        assert_eq!(h.method, Method::Head);
        let h = complete(
            "GET / HTTP/1.1\r\nhost: x\r\naccept: text/html, Application/JSON\r\n\
             authorization: Bearer t\r\ncontent-length: 0\r\n\r\n",
        );
        assert!(h.keep_alive && h.accepts_json && !h.has_body);
        assert_eq!(h.authorization, Some(&b"Bearer t"[..]));
        assert_eq!(complete("POST / HTTP/1.0\r\n\r\n").method, Method::Other);
    }

    #[test]
    fn absolute_form_and_connection_options() {
        let h = complete("GET http://rdy:8081/ready/db?format=json HTTP/1.1\r\nHost: rdy\r\n\r\n");
        assert_eq!((h.path, h.query), ("/ready/db", Some("format=json")));
        assert_eq!(complete("GET HTTPS://rdy HTTP/1.0\r\n\r\n").path, "/");
        let h = complete("GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n");
        assert!(!h.keep_alive, "close wins");
        let h = complete("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
        assert!(!h.keep_alive, "close wins");
    }

    #[test]
    fn a_bare_lf_behind_a_complete_head_is_the_next_requests_problem() {
        let two = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\nHost: x\n\n";
        assert!(matches!(parse(two), Parse::Complete(_, 27)));
        assert_eq!(bad(&two[27..]), Malformed::BareLf);
    }

    #[test]
    fn partial_until_the_blank_line() {
        assert!(matches!(parse(b""), Parse::Partial));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Parse::Partial
        ));
        let two = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /all";
        assert!(matches!(parse(two), Parse::Complete(_, 27)));
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            bad(b"\x00\x01\x02garbage\r\n\r\n"),
            Malformed::Syntax(_)
        ));
        assert!(matches!(bad(b"GET /\r\n\r\n"), Malformed::Syntax(_)));
        assert!(matches!(
            bad(b"GET / HTTP/2.0\r\n\r\n"),
            Malformed::Syntax(_)
        ));
        assert_eq!(bad(b"GET / HTTP/1.1\nHost: x\n\n"), Malformed::BareLf);
        assert_eq!(bad(b"GET / HTTP/1.1\r\n\r\n"), Malformed::NoHost);
        assert_eq!(bad(b"GET * HTTP/1.0\r\n\r\n"), Malformed::Target);
        assert_eq!(bad(b"GET x:80 HTTP/1.0\r\n\r\n"), Malformed::Target);
        assert_eq!(bad(b"GET ftp://x/ HTTP/1.0\r\n\r\n"), Malformed::Target);
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Malformed::Ambiguous("two Host fields")
        );
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(bad(long_line.as_bytes()), Malformed::LineTooLong);
        let big = format!("GET / HTTP/1.1\r\nX-A: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(bad(big.as_bytes()), Malformed::HeadersTooLarge);
        let many: String = (0..40).map(|i| format!("X-{i}: 1\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(bad(many.as_bytes()), Malformed::HeadersTooLarge);
        assert_eq!(
            bad(b"GET / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
            Malformed::Ambiguous("two Content-Length fields")
        );
        assert!(complete("GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\n").has_body);
        assert!(complete("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").has_body);
    }
}
