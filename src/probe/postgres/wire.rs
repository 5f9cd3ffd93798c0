//! The few PostgreSQL frontend/backend protocol 3.0 messages a ping needs
//! (PostgreSQL docs, "Frontend/Backend Protocol", "Message Formats").
//!
//! Every backend message after the startup is a type byte, an Int32 length
//! that counts itself but not the type byte, and the body.

use std::fmt;

/// `SSLRequest`: Int32 length 8, Int32 code 80877103 (1234 << 16 | 5679).
/// The server answers with one byte: `S` (go on with TLS) or `N`.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Protocol version 3.0 (`196608`), the first field of a `StartupMessage`.
const PROTOCOL_3_0: u32 = 3 << 16;

/// Longer backend messages are refused: a ping reads an authentication
/// request or one error, both far shorter.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// A `StartupMessage`: Int32 length, Int32 version, then `name\0value\0`
/// pairs and a final `\0`. `user` is the only required pair; without
/// `database` the server uses the user name. `user` and `database` must not
/// contain NUL (checked when the target is parsed).
pub fn startup_message(user: &str, database: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    let mut pair = |name: &str, value: &str| {
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    };
    pair("user", user);
    if let Some(database) = database {
        pair("database", database);
    }
    pair("application_name", "rdy");
    body.push(0);
    let mut message = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message
}

/// A backend message, as far as a ping cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `R`: an authentication request (Int32 0 is `AuthenticationOk`).
    Authentication(u32),
    /// `E`: `ErrorResponse`.
    Error(ErrorFields),
    /// `N` (`NoticeResponse`), `v` (`NegotiateProtocolVersion`) or anything
    /// else a ping reads past.
    Other(u8),
}

/// The fields of an `ErrorResponse` a log line needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// `C`: the SQLSTATE, e.g. `57P03`.
    pub code: String,
    /// `M`: the primary message.
    pub message: String,
    /// `D`: the detail, e.g. `Hot standby mode is disabled.`
    pub detail: Option<String>,
}

/// Bytes the server sent that are not a protocol 3.0 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The length field is below 4 or above [`MAX_MESSAGE`].
    BadLength(u32),
    /// An `R` message shorter than its Int32 code.
    ShortAuthentication,
    /// An `ErrorResponse` field without its terminating NUL.
    UnterminatedField,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadLength(n) => write!(f, "message length {n} out of range"),
            WireError::ShortAuthentication => f.write_str("truncated authentication request"),
            WireError::UnterminatedField => f.write_str("error field without its NUL"),
        }
    }
}

/// Reads one backend message from the front of `buf`: `Ok(None)` when more
/// bytes are needed, else the message and how many bytes it took.
pub fn parse_message(buf: &[u8]) -> Result<Option<(Message, usize)>, WireError> {
    let Some((&kind, rest)) = buf.split_first() else {
        return Ok(None);
    };
    let Some(length) = rest.get(..4) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
    if !(4..=MAX_MESSAGE as u32).contains(&length) {
        return Err(WireError::BadLength(length));
    }
    let Some(body) = rest.get(4..length as usize) else {
        return Ok(None);
    };
    let message = match kind {
        b'R' => match body.get(..4) {
            Some(code) => {
                Message::Authentication(u32::from_be_bytes([code[0], code[1], code[2], code[3]]))
            }
            None => return Err(WireError::ShortAuthentication),
        },
        b'E' => Message::Error(error_fields(body)?),
        other => Message::Other(other),
    };
    Ok(Some((message, 1 + length as usize)))
}

/// `ErrorResponse` body: fields of a type byte and a NUL-terminated string,
/// ended by a zero type byte.
fn error_fields(mut body: &[u8]) -> Result<ErrorFields, WireError> {
    let mut fields = ErrorFields::default();
    while let Some((&kind, rest)) = body.split_first() {
        if kind == 0 {
            break;
        }
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WireError::UnterminatedField)?;
        let value = String::from_utf8_lossy(&rest[..end]).into_owned();
        match kind {
            b'C' => fields.code = value,
            b'M' => fields.message = value,
            b'D' => fields.detail = Some(value),
            _ => {}
        }
        body = &rest[end + 1..];
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn startup_message_layout() {
        let m = startup_message("u", Some("d"));
        assert_eq!(&m[..4], &(m.len() as u32).to_be_bytes());
        assert_eq!(&m[4..8], &[0, 3, 0, 0]);
        assert_eq!(&m[8..], b"user\0u\0database\0d\0application_name\0rdy\0\0");
    }

    #[test]
    fn authentication_and_errors() {
        let auth = message(b'R', &10u32.to_be_bytes());
        assert_eq!(
            parse_message(&auth),
            Ok(Some((Message::Authentication(10), auth.len())))
        );
        let err = message(
            b'E',
            b"SFATAL\0C57P03\0Mthe database system is starting up\0Dwait\0\0",
        );
        let Ok(Some((Message::Error(fields), _))) = parse_message(&err) else {
            panic!("not an error")
        };
        assert_eq!(fields.code, "57P03");
        assert_eq!(fields.message, "the database system is starting up");
        assert_eq!(fields.detail.as_deref(), Some("wait"));
    }

    #[test]
    fn partial_and_broken_input() {
        let auth = message(b'R', &0u32.to_be_bytes());
        for cut in 0..auth.len() {
            assert_eq!(parse_message(&auth[..cut]), Ok(None), "{cut}");
        }
        assert_eq!(parse_message(b"E\0\0\0\x02"), Err(WireError::BadLength(2)));
        assert_eq!(
            parse_message(&message(b'R', b"\0")),
            Err(WireError::ShortAuthentication)
        );
        assert_eq!(
            parse_message(&message(b'E', b"Cxx")),
            Err(WireError::UnterminatedField)
        );
        assert_eq!(
            parse_message(&message(b'N', b"")),
            Ok(Some((Message::Other(b'N'), 5)))
        );
    }
}
