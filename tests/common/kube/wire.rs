//! HTTP/1.1 as the fake API server speaks it: request heads, query strings,
//! and responses framed the way Go's `net/http` frames them (the real API
//! server is a Go program, and clients meet its framing, not an idealised
//! one).

use std::io::{self, BufRead, Read, Write};

/// Longest request line or header line accepted, so a broken client cannot
/// make the server buffer without bound.
const MAX_LINE: u64 = 16 * 1024;

/// Most header lines read per request.
const MAX_HEADERS: usize = 100;

/// Go's `net/http` computes a `Content-Length` only when the handler's whole
/// body fits in this buffer before the handler returns; a larger body goes
/// out chunked (`bufferBeforeChunkingSize` in `net/http/server.go`).
const BUFFER_BEFORE_CHUNKING: usize = 2048;

/// A request head as received.
#[derive(Debug, Clone)]
pub(super) struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The raw query string (after `?`), empty if none.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// Whether the client asked to close the connection after this request.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Reads one line of at most [`MAX_LINE`] bytes; `None` at end of stream or
/// on any error (a timeout included).
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    let n = reader.take(MAX_LINE).read_until(b'\n', &mut line).ok()?;
    if n == 0 {
        return None;
    }
    Some(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// Reads the next request head on a kept-alive connection, and skips any
/// request body (clients of a read-only API send none, but a stray
/// `Content-Length` must not desynchronise the next request).
pub(super) fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let line = read_line(reader)?;
    let mut parts = line.splitn(3, ' ');
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    for _ in 0..MAX_HEADERS {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let head = Head {
        method,
        target,
        headers,
    };
    if let Some(len) = head.header("content-length") {
        let len: u64 = len.parse().ok()?;
        io::copy(&mut reader.take(len.min(1 << 20)), &mut io::sink()).ok()?;
    }
    Some(head)
}

/// Decodes `%XX` escapes and, as Go's `url.ParseQuery` does, `+` as a
/// space. Malformed escapes are kept literally.
pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// The decoded `name=value` pairs of a query string, in order.
pub(super) fn params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The reason phrase Go writes after a status code.
pub(super) fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn write_head(out: &mut impl Write, status: u16, headers: &[(String, String)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// Writes a complete response. As in Go, a body up to 2 KiB gets a
/// `Content-Length`; a larger one is sent chunked (in one chunk, because the
/// API server hands the whole encoded body to a single `Write`).
pub(super) fn write_response(
    out: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut all = headers.to_vec();
    if body.len() <= BUFFER_BEFORE_CHUNKING {
        all.push(("Content-Length".into(), body.len().to_string()));
        write_head(out, status, &all)?;
        out.write_all(body)?;
    } else {
        all.push(("Transfer-Encoding".into(), "chunked".into()));
        write_head(out, status, &all)?;
        write_chunk(out, body)?;
        write_last_chunk(out)?;
    }
    out.flush()
}

/// Starts a chunked streaming response (a watch).
pub(super) fn write_stream_head(
    out: &mut impl Write,
    headers: &[(String, String)],
) -> io::Result<()> {
    let mut all = headers.to_vec();
    all.push(("Transfer-Encoding".into(), "chunked".into()));
    write_head(out, 200, &all)?;
    out.flush()
}

/// Writes one chunk (never an empty one: that would end the body).
pub(super) fn write_chunk(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    out.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
    out.write_all(data)?;
    out.write_all(b"\r\n")
}

/// Ends a chunked body cleanly: the zero-length chunk and no trailers.
pub(super) fn write_last_chunk(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}
