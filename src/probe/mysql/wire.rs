//! The MySQL/MariaDB client/server protocol as far as a login exchange
//! goes (MySQL source docs, "Client/Server Protocol": "MySQL Packets",
//! "Protocol::HandshakeV10", "Protocol::HandshakeResponse41",
//! "OK_Packet", "ERR_Packet", "Protocol::AuthSwitchRequest").
//!
//! Every packet is a 3-byte little-endian payload length, a 1-byte sequence
//! id that counts up within one exchange, and the payload.

use std::fmt;

/// Longer packets are refused; a handshake or an error is a few hundred
/// bytes (the protocol allows 16 MiB).
pub const MAX_PAYLOAD: usize = 16 * 1024;

/// Capability flags (`CLIENT_*`) the login uses.
const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;

/// `utf8mb4_general_ci`, the character set of the login.
const CHARSET: u8 = 45;

/// A packet's sequence id and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Sequence id; the reply to id `n` is `n + 1`.
    pub seq: u8,
    /// The payload.
    pub payload: &'a [u8],
}

/// Reads one packet from the front of `buf`: `Ok(None)` when more bytes
/// are needed, else the packet and how many bytes it took.
pub fn parse_packet(buf: &[u8]) -> Result<Option<(Packet<'_>, usize)>, WireError> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let length =
        usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    if length > MAX_PAYLOAD {
        return Err(WireError::TooLong(length));
    }
    match buf.get(4..4 + length) {
        Some(payload) => Ok(Some((
            Packet {
                seq: header[3],
                payload,
            },
            4 + length,
        ))),
        None => Ok(None),
    }
}

/// Frames `payload` as a packet with sequence id `seq`.
pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let length = payload.len() as u32;
    let mut out = length.to_le_bytes()[..3].to_vec();
    out.push(seq);
    out.extend_from_slice(payload);
    out
}

/// What the server's initial handshake says, as far as the login needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `server_version`, e.g. `11.8.3-MariaDB-0+deb13u1`.
    pub version: String,
    /// The server's capability flags (both halves).
    pub capabilities: u32,
    /// `auth_plugin_name`, empty for servers without `CLIENT_PLUGIN_AUTH`.
    pub auth_plugin: String,
}

/// A packet the server answers a login step with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK_Packet` (header 0x00): logged in.
    Ok,
    /// `ERR_Packet` (0xFF).
    Err(ServerError),
    /// `AuthSwitchRequest` (0xFE): answer again for this plugin.
    AuthSwitch,
    /// `AuthMoreData` (0x01) with its data (`caching_sha2_password` sends
    /// 0x03 "fast auth succeeded" or 0x04 "full authentication needed").
    MoreData(Vec<u8>),
}

/// An `ERR_Packet`: 0xFF, Int2 error code, optionally `#` and a 5-byte
/// SQL state, then the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The error number, e.g. 1045.
    pub code: u16,
    /// The human-readable message.
    pub message: String,
}

/// Bytes that are not what the protocol says comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// A packet above [`MAX_PAYLOAD`].
    TooLong(usize),
    /// An empty packet where one with a header byte belongs.
    Empty,
    /// A handshake of another protocol version than 10.
    Protocol(u8),
    /// The handshake ends early.
    ShortHandshake,
    /// The server does not speak the 4.1 protocol.
    No41,
    /// An `ERR_Packet` shorter than its code.
    ShortError,
    /// A header byte no login step answers with.
    Unexpected(u8),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLong(n) => write!(f, "packet of {n} bytes is too long"),
            WireError::Empty => f.write_str("empty packet"),
            WireError::Protocol(v) => write!(f, "handshake protocol {v}, expected 10"),
            WireError::ShortHandshake => f.write_str("truncated handshake"),
            WireError::No41 => f.write_str("server lacks the 4.1 protocol (CLIENT_PROTOCOL_41)"),
            WireError::ShortError => f.write_str("truncated error packet"),
            WireError::Unexpected(b) => write!(f, "unexpected packet header 0x{b:02x}"),
        }
    }
}

/// The server's first packet: a `HandshakeV10`, or an `ERR_Packet` when it
/// refuses the connection outright (too many connections, host blocked).
pub fn parse_greeting(payload: &[u8]) -> Result<Result<Handshake, ServerError>, WireError> {
    match payload.first() {
        None => Err(WireError::Empty),
        Some(0xff) => parse_error(payload).map(Err),
        Some(10) => parse_handshake(&payload[1..]).map(Ok),
        Some(&v) => Err(WireError::Protocol(v)),
    }
}

/// `HandshakeV10` after the protocol byte.
fn parse_handshake(body: &[u8]) -> Result<Handshake, WireError> {
    let mut r = Reader(body);
    let version = r.cstring()?;
    r.skip(4)?; // connection id
    r.skip(8 + 1)?; // auth-plugin-data-part-1, filler
    let low = u32::from(r.u16()?);
    if low & CLIENT_PROTOCOL_41 == 0 {
        return Err(WireError::No41);
    }
    let mut handshake = Handshake {
        version,
        capabilities: low,
        auth_plugin: String::new(),
    };
    if r.0.is_empty() {
        return Ok(handshake);
    }
    r.skip(1 + 2)?; // character set, status flags
    handshake.capabilities |= u32::from(r.u16()?) << 16;
    let data_len = usize::from(r.u8()?);
    r.skip(10)?; // reserved
    if handshake.capabilities & CLIENT_SECURE_CONNECTION != 0 {
        r.skip(data_len.saturating_sub(8).max(13))?;
    }
    if handshake.capabilities & CLIENT_PLUGIN_AUTH != 0 {
        // Some servers omit the final NUL (MySQL bug #59453).
        handshake.auth_plugin = r.cstring().unwrap_or_else(|_| lossy(r.0));
    }
    Ok(handshake)
}

/// A `HandshakeResponse41` logging in as `user` with an empty password: the
/// auth response is empty whatever the plugin, so no scramble is needed.
pub fn login(handshake: &Handshake, user: &str) -> Vec<u8> {
    let wanted =
        CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    let capabilities = wanted & (handshake.capabilities | CLIENT_PROTOCOL_41);
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&capabilities.to_le_bytes());
    out.extend_from_slice(&(1u32 << 24).to_le_bytes()); // max packet size
    out.push(CHARSET);
    out.extend_from_slice(&[0; 23]);
    out.extend_from_slice(user.as_bytes());
    out.push(0);
    // The empty auth response: length 0 (CLIENT_SECURE_CONNECTION) or an
    // empty NUL-terminated string, the same byte either way.
    out.push(0);
    if capabilities & CLIENT_PLUGIN_AUTH != 0 {
        out.extend_from_slice(handshake.auth_plugin.as_bytes());
        out.push(0);
    }
    out
}

/// `COM_QUIT`: ends a session politely.
pub const COM_QUIT: [u8; 1] = [0x01];

/// The server's answer to a login step.
pub fn parse_reply(payload: &[u8]) -> Result<Reply, WireError> {
    match payload.first() {
        None => Err(WireError::Empty),
        Some(0x00) => Ok(Reply::Ok),
        Some(0xff) => parse_error(payload).map(Reply::Err),
        Some(0xfe) => Ok(Reply::AuthSwitch),
        Some(0x01) => Ok(Reply::MoreData(payload[1..].to_vec())),
        Some(&b) => Err(WireError::Unexpected(b)),
    }
}

/// `ERR_Packet`, including the header byte.
fn parse_error(payload: &[u8]) -> Result<ServerError, WireError> {
    let Some(&[lo, hi]) = payload.get(1..3) else {
        return Err(WireError::ShortError);
    };
    let mut message = &payload[3..];
    if message.first() == Some(&b'#') && message.len() >= 6 {
        message = &message[6..];
    }
    Ok(ServerError {
        code: u16::from_le_bytes([lo, hi]),
        message: lossy(message),
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A cursor over a handshake.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn skip(&mut self, n: usize) -> Result<(), WireError> {
        self.0 = self.0.get(n..).ok_or(WireError::ShortHandshake)?;
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        let (&b, rest) = self.0.split_first().ok_or(WireError::ShortHandshake)?;
        self.0 = rest;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from(self.u8()?) | u16::from(self.u8()?) << 8)
    }

    fn cstring(&mut self) -> Result<String, WireError> {
        let end = self
            .0
            .iter()
            .position(|&b| b == 0)
            .ok_or(WireError::ShortHandshake)?;
        let text = lossy(&self.0[..end]);
        self.0 = &self.0[end + 1..];
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MariaDB 11 greeting as captured on the wire (scramble zeroed).
    fn mariadb_greeting() -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(b"5.5.5-11.8.3-MariaDB\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(&[0; 8]);
        p.push(0);
        p.extend_from_slice(&0xf7feu16.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&0x81ffu16.to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(&[0; 13]);
        p.extend_from_slice(b"mysql_native_password\0");
        p
    }

    #[test]
    fn greeting_and_login() {
        let h = parse_greeting(&mariadb_greeting()).unwrap().unwrap();
        assert_eq!(h.version, "5.5.5-11.8.3-MariaDB");
        assert_eq!(h.auth_plugin, "mysql_native_password");
        let login = login(&h, "rdy");
        let caps = u32::from_le_bytes(login[..4].try_into().unwrap());
        assert_eq!(
            caps, 0x8_8200,
            "CLIENT_LONG_PASSWORD only if the server has it"
        );
        assert!(login.ends_with(b"rdy\0\0mysql_native_password\0"));
    }

    #[test]
    fn errors_before_the_handshake() {
        let mut blocked = vec![0xff, 0x69, 0x04];
        blocked.extend_from_slice(b"Host '10.0.0.2' is blocked");
        assert_eq!(
            parse_greeting(&blocked),
            Ok(Err(ServerError {
                code: 1129,
                message: "Host '10.0.0.2' is blocked".into()
            }))
        );
        let denied = b"\xff\x15\x04#28000Access denied";
        assert_eq!(
            parse_reply(denied),
            Ok(Reply::Err(ServerError {
                code: 1045,
                message: "Access denied".into()
            }))
        );
    }

    #[test]
    fn broken_input() {
        assert_eq!(parse_greeting(&[]), Err(WireError::Empty));
        assert_eq!(parse_greeting(&[9, 0]), Err(WireError::Protocol(9)));
        let g = mariadb_greeting();
        for cut in 1..30 {
            assert!(parse_greeting(&g[..cut]).is_err(), "{cut}");
        }
        assert_eq!(parse_reply(&[0xff, 1]), Err(WireError::ShortError));
        assert_eq!(parse_reply(&[0x42]), Err(WireError::Unexpected(0x42)));
        assert_eq!(parse_packet(&[1, 0, 0]), Ok(None));
        assert_eq!(
            parse_packet(&[1, 0, 0, 3, 9]),
            Ok(Some((
                Packet {
                    seq: 3,
                    payload: &[9]
                },
                5
            )))
        );
        assert_eq!(parse_packet(&[0, 0, 1, 0]), Err(WireError::TooLong(65536)));
    }
}
