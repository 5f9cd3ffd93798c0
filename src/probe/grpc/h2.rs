//! One HTTP/2 request on a new connection (RFC 9113), written by hand: no
//! async runtime, no `h2` crate. The client sends its preface, SETTINGS,
//! one HEADERS frame and one DATA frame on stream 1, then reads frames until
//! that stream ends, answering SETTINGS and PING as §6.5 and §6.7 require.

use std::fmt;
use std::io::{self, Read, Write};

use super::hpack::{self, Decoder, Field, HpackError};

/// The client connection preface (§3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// `SETTINGS_MAX_FRAME_SIZE`'s default (§6.5.2): rdy advertises no other,
/// so a larger frame is a FRAME_SIZE_ERROR.
pub const MAX_FRAME: usize = 16_384;

/// The most header block (HEADERS + CONTINUATION) or DATA bytes kept.
const MAX_KEPT: usize = 64 * 1024;

/// Frames read at most: SETTINGS/PING floods end the attempt.
const MAX_FRAMES: usize = 1_000;

/// The stream of the one request.
const STREAM: u32 = 1;

// Frame types (§6) and flags.
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// What the server answered on stream 1.
#[derive(Debug, Default)]
pub struct Response {
    /// The first header block (`:status`, `content-type`, ...).
    pub headers: Vec<Field>,
    /// The header block after the data, if any; a "trailers-only" answer
    /// has none and carries everything in `headers`.
    pub trailers: Vec<Field>,
    /// The DATA frames' payload, concatenated.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of a trailer, else of a header, with that name.
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.trailers
            .iter()
            .chain(&self.headers)
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }
}

/// Why the exchange failed.
#[derive(Debug)]
pub enum H2Error {
    /// Reading or writing the connection failed (or timed out).
    Io(io::Error),
    /// The server closed the connection before the stream ended.
    Closed,
    /// The server speaks HTTP/1.x.
    Http1,
    /// The server broke the framing rules.
    Protocol(&'static str),
    /// A frame longer than [`MAX_FRAME`].
    FrameSize(usize),
    /// A header block that does not decode.
    Hpack(HpackError),
    /// The server refused the stream or the connection.
    GoAway { code: u32, debug: String },
    /// The server reset the stream.
    Reset(u32),
}

impl fmt::Display for H2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            H2Error::Io(e) => e.fmt(f),
            H2Error::Closed => f.write_str("HTTP/2: connection closed before the answer ended"),
            H2Error::Http1 => {
                f.write_str("HTTP/2: the server answered in HTTP/1.x (not a gRPC port?)")
            }
            H2Error::Protocol(what) => write!(f, "HTTP/2: {what}"),
            H2Error::FrameSize(n) => {
                write!(f, "HTTP/2: frame of {n} bytes, more than {MAX_FRAME}")
            }
            H2Error::Hpack(e) => write!(f, "HTTP/2: {e}"),
            H2Error::GoAway { code, debug } if debug.is_empty() => {
                write!(f, "HTTP/2: server sent GOAWAY {}", error_name(*code))
            }
            H2Error::GoAway { code, debug } => {
                write!(
                    f,
                    "HTTP/2: server sent GOAWAY {}: {debug}",
                    error_name(*code)
                )
            }
            H2Error::Reset(code) => {
                write!(f, "HTTP/2: server reset the stream: {}", error_name(*code))
            }
        }
    }
}

impl From<io::Error> for H2Error {
    fn from(e: io::Error) -> H2Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => H2Error::Closed,
            _ => H2Error::Io(e),
        }
    }
}

/// The name of an HTTP/2 error code (§7).
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    match NAMES.get(code as usize) {
        Some(name) => (*name).to_owned(),
        None => format!("error code {code}"),
    }
}

/// A frame header (§4.1): 24-bit length, type, flags, 31-bit stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length.
    pub len: usize,
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream: u32,
}

impl FrameHeader {
    /// Parses the 9 bytes of a frame header.
    pub fn parse(b: &[u8; 9]) -> FrameHeader {
        FrameHeader {
            len: usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Appends a frame.
fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// The client's first flight: preface, SETTINGS (push disabled, §6.5.2),
/// HEADERS with `block` and DATA with `body` ending the stream. A HEADERS
/// frame holds at most [`MAX_FRAME`] bytes; rdy's blocks are far smaller.
pub fn request(block: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    // SETTINGS_ENABLE_PUSH (0x2) = 0.
    frame(&mut out, SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 0]);
    frame(&mut out, HEADERS, END_HEADERS, STREAM, block);
    frame(&mut out, DATA, END_STREAM, STREAM, body);
    out
}

/// The payload of a DATA or HEADERS frame without its padding (§6.1,
/// §6.2) and, for HEADERS, without the priority fields.
pub fn unpad<'a>(header: &FrameHeader, payload: &'a [u8]) -> Result<&'a [u8], H2Error> {
    let mut rest = payload;
    let mut pad = 0;
    if header.flags & PADDED != 0 {
        let (&n, tail) = rest
            .split_first()
            .ok_or(H2Error::Protocol("padded frame without pad length"))?;
        pad = usize::from(n);
        rest = tail;
    }
    if header.kind == HEADERS && header.flags & PRIORITY != 0 {
        rest = rest.get(5..).ok_or(H2Error::Protocol(
            "HEADERS frame shorter than its priority fields",
        ))?;
    }
    if pad > rest.len() {
        return Err(H2Error::Protocol("padding longer than the frame"));
    }
    Ok(&rest[..rest.len() - pad])
}

/// The state of stream 1 while frames arrive.
#[derive(Default)]
struct Stream {
    decoder: Decoder,
    response: Response,
    /// A header block whose CONTINUATION frames are still to come.
    block: Option<(Vec<u8>, bool)>,
    /// Whether the first header block has arrived.
    headed: bool,
    /// Whether the stream has ended.
    ended: bool,
    /// The server's preface SETTINGS came first, as §3.4 requires.
    preface_seen: bool,
}

/// A connection, plain or TLS: one trait object, so the exchange is
/// compiled once.
pub trait Io: Read + Write {}

impl<T: Read + Write> Io for T {}

/// Writes `first` (from [`request`]) and reads frames from `io` until
/// stream 1 ends. Every read and write is bounded by `io` itself.
pub fn exchange(io: &mut dyn Io, first: &[u8]) -> Result<Response, H2Error> {
    io.write_all(first)?;
    let mut stream = Stream::default();
    let mut payload = Vec::new();
    for _ in 0..MAX_FRAMES {
        let mut head = [0u8; 9];
        io.read_exact(&mut head)?;
        if !stream.preface_seen && head.starts_with(b"HTTP/") {
            return Err(H2Error::Http1);
        }
        let header = FrameHeader::parse(&head);
        if header.len > MAX_FRAME {
            return Err(H2Error::FrameSize(header.len));
        }
        payload.resize(header.len, 0);
        io.read_exact(&mut payload)?;
        if let Some(reply) = stream.frame(&header, &payload)? {
            io.write_all(&reply)?;
        }
        if stream.ended {
            return Ok(stream.response);
        }
    }
    Err(H2Error::Protocol("too many frames without an answer"))
}

impl Stream {
    /// Handles one frame; returns what must be sent back (ACKs).
    fn frame(&mut self, header: &FrameHeader, payload: &[u8]) -> Result<Option<Vec<u8>>, H2Error> {
        if !self.preface_seen {
            if header.kind != SETTINGS || header.flags & ACK != 0 {
                return Err(H2Error::Protocol(
                    "the server's first frame is not SETTINGS",
                ));
            }
            self.preface_seen = true;
        }
        if self.block.is_some() && header.kind != CONTINUATION {
            return Err(H2Error::Protocol(
                "header block interrupted before END_HEADERS",
            ));
        }
        match header.kind {
            SETTINGS => return settings(header, payload),
            PING => return ping(header, payload),
            GOAWAY => goaway(header, payload)?,
            _ if header.stream == 0 => {}
            _ if header.stream != STREAM => {
                return Err(H2Error::Protocol("frame on a stream rdy did not open"));
            }
            HEADERS => {
                let fragment = unpad(header, payload)?.to_vec();
                let end_stream = header.flags & END_STREAM != 0;
                self.block = Some((fragment, end_stream));
                self.continue_block(header)?;
            }
            CONTINUATION => {
                let (block, _) = self
                    .block
                    .as_mut()
                    .ok_or(H2Error::Protocol("CONTINUATION without HEADERS"))?;
                block.extend_from_slice(payload);
                self.continue_block(header)?;
            }
            DATA => {
                if !self.headed {
                    return Err(H2Error::Protocol("DATA before HEADERS"));
                }
                let data = unpad(header, payload)?;
                if self.response.body.len() + data.len() > MAX_KEPT {
                    return Err(H2Error::Protocol("answer body beyond 64 KiB"));
                }
                self.response.body.extend_from_slice(data);
                self.ended = header.flags & END_STREAM != 0;
            }
            RST_STREAM => {
                let code = payload.get(..4).ok_or(H2Error::FrameSize(payload.len()))?;
                return Err(H2Error::Reset(u32::from_be_bytes(
                    code.try_into().unwrap_or_default(),
                )));
            }
            PUSH_PROMISE => return Err(H2Error::Protocol("PUSH_PROMISE although push is off")),
            // WINDOW_UPDATE, PRIORITY and unknown types are ignored (§4.1,
            // §5.5): a one-message answer needs no flow control from rdy.
            _ => {}
        }
        Ok(None)
    }

    /// Decodes the header block once END_HEADERS has arrived.
    fn continue_block(&mut self, header: &FrameHeader) -> Result<(), H2Error> {
        let Some((block, end_stream)) = self.block.take() else {
            return Ok(());
        };
        if header.flags & END_HEADERS == 0 {
            if block.len() > MAX_KEPT {
                return Err(H2Error::Protocol("header block beyond 64 KiB"));
            }
            self.block = Some((block, end_stream));
            return Ok(());
        }
        let fields = self.decoder.decode(&block).map_err(H2Error::Hpack)?;
        if !self.headed {
            self.headed = true;
            self.response.headers = fields;
        } else if end_stream {
            self.response.trailers = fields;
        } else {
            return Err(H2Error::Protocol("second header block without END_STREAM"));
        }
        self.ended = end_stream;
        Ok(())
    }
}

/// SETTINGS (§6.5): six bytes a setting; acknowledged with an empty ACK.
/// rdy sends no request after the first, so the values do not matter.
fn settings(header: &FrameHeader, payload: &[u8]) -> Result<Option<Vec<u8>>, H2Error> {
    if header.stream != 0 || !payload.len().is_multiple_of(6) {
        return Err(H2Error::Protocol("malformed SETTINGS frame"));
    }
    if header.flags & ACK != 0 {
        return Ok(None);
    }
    let mut ack = Vec::with_capacity(9);
    frame(&mut ack, SETTINGS, ACK, 0, &[]);
    Ok(Some(ack))
}

/// PING (§6.7): eight bytes, echoed with ACK.
fn ping(header: &FrameHeader, payload: &[u8]) -> Result<Option<Vec<u8>>, H2Error> {
    if header.stream != 0 || payload.len() != 8 {
        return Err(H2Error::Protocol("malformed PING frame"));
    }
    if header.flags & ACK != 0 {
        return Ok(None);
    }
    let mut pong = Vec::with_capacity(17);
    frame(&mut pong, PING, ACK, 0, payload);
    Ok(Some(pong))
}

/// GOAWAY (§6.8): last stream, error code, debug data. A graceful one that
/// still covers stream 1 lets the answer finish.
fn goaway(header: &FrameHeader, payload: &[u8]) -> Result<(), H2Error> {
    if header.stream != 0 || payload.len() < 8 {
        return Err(H2Error::Protocol("malformed GOAWAY frame"));
    }
    let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7fff_ffff;
    let code = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
    if code == 0 && last >= STREAM {
        return Ok(());
    }
    let debug = String::from_utf8_lossy(&payload[8..payload.len().min(8 + 200)]);
    Err(H2Error::GoAway {
        code,
        debug: debug.trim().to_owned(),
    })
}

/// The request header block for a gRPC call of `path` on `authority`.
pub fn grpc_headers(tls: bool, authority: &str, path: &str) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", if tls { "https" } else { "http" }),
        (":path", path),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("user-agent", crate::transport::agent::USER_AGENT),
    ] {
        hpack::encode_literal(&mut block, name, value);
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server side: frames to read, and what the client wrote.
    struct Server {
        input: io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Server {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Server {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn frames(list: &[(u8, u8, u32, &[u8])]) -> Server {
        let mut input = Vec::new();
        for (kind, flags, stream, payload) in list {
            frame(&mut input, *kind, *flags, *stream, payload);
        }
        Server {
            input: io::Cursor::new(input),
            written: Vec::new(),
        }
    }

    fn literal(name: &str, value: &str) -> Vec<u8> {
        let mut block = Vec::new();
        hpack::encode_literal(&mut block, name, value);
        block
    }

    #[test]
    fn settings_and_ping_are_acked_and_trailers_kept_apart() {
        let mut headers = vec![0x88]; // :status 200, static index 8
        headers.extend(literal("content-type", "application/grpc"));
        let trailers = literal("grpc-status", "0");
        let mut server = frames(&[
            (SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]),
            (PING, 0, 0, b"12345678"),
            (HEADERS, END_HEADERS, 1, &headers),
            (DATA, 0, 1, &[0, 0, 0, 0, 2, 8, 1]),
            (HEADERS, END_HEADERS | END_STREAM, 1, &trailers),
        ]);
        let response = exchange(&mut server, b"").unwrap();
        assert_eq!(response.field(":status"), Some(&b"200"[..]));
        assert_eq!(response.field("grpc-status"), Some(&b"0"[..]));
        assert_eq!(response.body, [0, 0, 0, 0, 2, 8, 1]);
        let mut acks = Vec::new();
        frame(&mut acks, SETTINGS, ACK, 0, &[]);
        frame(&mut acks, PING, ACK, 0, b"12345678");
        assert_eq!(server.written, acks);
    }

    #[test]
    fn padded_headers_continue_across_frames() {
        let block = literal("grpc-status", "12");
        let (first, rest) = block.split_at(4);
        let mut padded = vec![3];
        padded.extend_from_slice(first);
        padded.extend_from_slice(&[0, 0, 0]);
        let mut server = frames(&[
            (SETTINGS, 0, 0, &[]),
            (HEADERS, PADDED | END_STREAM, 1, &padded),
            (CONTINUATION, END_HEADERS, 1, rest),
        ]);
        let response = exchange(&mut server, b"").unwrap();
        assert_eq!(response.field("grpc-status"), Some(&b"12"[..]));
    }

    #[test]
    fn refusals_and_resets_are_errors() {
        let goaway = [0, 0, 0, 0, 0, 0, 0, 11, b'c', b'a', b'l', b'm'];
        let mut server = frames(&[(SETTINGS, 0, 0, &[]), (GOAWAY, 0, 0, &goaway)]);
        let e = exchange(&mut server, b"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "HTTP/2: server sent GOAWAY ENHANCE_YOUR_CALM: calm"
        );
        let mut server = frames(&[(SETTINGS, 0, 0, &[]), (RST_STREAM, 0, 1, &[0, 0, 0, 7])]);
        let e = exchange(&mut server, b"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "HTTP/2: server reset the stream: REFUSED_STREAM"
        );
        let mut http1 = Server {
            input: io::Cursor::new(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
            written: Vec::new(),
        };
        assert!(matches!(exchange(&mut http1, b""), Err(H2Error::Http1)));
        let mut big = frames(&[(SETTINGS, 0, 0, &[])]);
        big.input
            .get_mut()
            .extend_from_slice(&[0, 0x40, 1, 0, 0, 0, 0, 0, 1]);
        assert!(matches!(
            exchange(&mut big, b""),
            Err(H2Error::FrameSize(16385))
        ));
        let mut cut = frames(&[(SETTINGS, 0, 0, &[])]);
        assert!(matches!(exchange(&mut cut, b""), Err(H2Error::Closed)));
    }
}
