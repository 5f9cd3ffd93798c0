//! Responses: status, a few headers, a small body, serialised into the
//! loop's shared output buffer.

use std::borrow::Cow;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::probe::http::outcome;

/// The body's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// Plain text, one line per fact.
    Text,
    /// JSON (`?format=json`, `Accept: application/json`).
    Json,
    /// Prometheus text exposition format 0.0.4.
    Metrics,
}

impl ContentType {
    fn header(self) -> &'static str {
        match self {
            ContentType::Text => "text/plain; charset=utf-8",
            ContentType::Json => "application/json",
            ContentType::Metrics => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// The one header some statuses need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// Nothing more.
    None,
    /// 405: `Allow: GET, HEAD`.
    Allow,
    /// 401: `WWW-Authenticate: Bearer realm="rdy"`.
    Authenticate,
    /// 429 and 503 when busy: `Retry-After: N` (seconds).
    RetryAfter(u64),
    /// 503 for a target that can never become ready: `Rdy-Outcome: failed`,
    /// which an `rdy wait` on the other end turns into exit code 3.
    Failed,
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body's type.
    pub content_type: ContentType,
    /// The body (not sent for HEAD).
    pub body: Cow<'static, str>,
    /// A status-specific header.
    pub extra: Extra,
    /// Close the connection afterwards, whatever the client asked.
    pub close: bool,
}

impl Response {
    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<Cow<'static, str>>) -> Response {
        Response {
            status,
            content_type: ContentType::Text,
            body: body.into(),
            extra: Extra::None,
            close: false,
        }
    }

    /// A response of another type.
    pub fn typed(status: u16, content_type: ContentType, body: String) -> Response {
        Response {
            content_type,
            ..Response::text(status, body)
        }
    }

    /// Adds the status-specific header.
    pub fn with(mut self, extra: Extra) -> Response {
        self.extra = extra;
        self
    }

    /// Closes the connection after this response.
    pub fn closing(mut self) -> Response {
        self.close = true;
        self
    }

    /// Serialises the response into `out`.
    pub fn write(&self, out: &mut Vec<u8>, head_only: bool, keep_alive: bool, date: &HttpDate) {
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nDate: ",
            self.status,
            reason(self.status),
            self.content_type.header(),
            self.body.len()
        );
        out.extend_from_slice(&date.text);
        out.extend_from_slice(b"\r\n");
        let _ = match self.extra {
            Extra::None => Ok(()),
            Extra::Allow => write!(out, "Allow: GET, HEAD\r\n"),
            Extra::Authenticate => write!(out, "WWW-Authenticate: Bearer realm=\"rdy\"\r\n"),
            Extra::RetryAfter(seconds) => write!(out, "Retry-After: {seconds}\r\n"),
            Extra::Failed => write!(out, "{}: {}\r\n", outcome::HEADER, outcome::FAILED),
        };
        out.extend_from_slice(match keep_alive {
            true => b"Connection: keep-alive\r\n\r\n".as_slice(),
            false => b"Connection: close\r\n\r\n".as_slice(),
        });
        if !head_only {
            out.extend_from_slice(self.body.as_bytes());
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The `Date` header (RFC 9110 §6.6.1: an origin server with a clock sends
/// it), formatted once a second rather than per response.
pub struct HttpDate {
    secs: u64,
    text: [u8; 29],
}

impl HttpDate {
    /// The date of `now`.
    pub fn new(now: SystemTime) -> HttpDate {
        let mut date = HttpDate {
            secs: u64::MAX,
            text: [b' '; 29],
        };
        date.update(now);
        date
    }

    /// Moves to `now` if a second has passed.
    pub fn update(&mut self, now: SystemTime) {
        let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        if secs == self.secs {
            return;
        }
        self.secs = secs;
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = secs / 86_400;
        let (year, month, day) = crate::timestamp::civil_from_days(days as i64);
        let rem = secs % 86_400;
        let text = format!(
            "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
            DAYS[(days % 7) as usize],
            MONTHS[(month as usize + 11) % 12],
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        if let Ok(text) = text.as_bytes().try_into() {
            self.text = text;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn imf_fixdate() {
        let date = HttpDate::new(UNIX_EPOCH + Duration::from_secs(784_111_777));
        assert_eq!(&date.text, b"Sun, 06 Nov 1994 08:49:37 GMT");
        let date = HttpDate::new(UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(&date.text, b"Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn serialised() {
        let date = HttpDate::new(UNIX_EPOCH);
        let mut out = Vec::new();
        Response::text(405, "method not allowed\n")
            .with(Extra::Allow)
            .write(&mut out, false, true, &date);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 19\r\nCache-Control: no-store\r\n\
             Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nAllow: GET, HEAD\r\n\
             Connection: keep-alive\r\n\r\nmethod not allowed\n"
        );
        let mut out = Vec::new();
        Response::text(200, "ok\n").write(&mut out, true, false, &date);
        assert!(out.ends_with(b"Content-Length: 3\r\nCache-Control: no-store\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nConnection: close\r\n\r\n"));
    }
}
