//! `grpc.health.v1.Health/Check` (the gRPC Health Checking Protocol): the
//! request and response messages in protobuf wire format, each framed as a
//! gRPC message (one flag byte, a 4-byte big-endian length, the bytes).

use std::fmt;

/// The method's path.
pub const PATH: &str = "/grpc.health.v1.Health/Check";

/// `HealthCheckResponse.ServingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// 0.
    Unknown,
    /// 1: the only ready answer.
    Serving,
    /// 2.
    NotServing,
    /// 3 (meant for Watch; Check answers NOT_FOUND instead).
    ServiceUnknown,
    /// A value this version of the protocol does not define.
    Other(u64),
}

impl fmt::Display for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serving::Unknown => f.write_str("UNKNOWN"),
            Serving::Serving => f.write_str("SERVING"),
            Serving::NotServing => f.write_str("NOT_SERVING"),
            Serving::ServiceUnknown => f.write_str("SERVICE_UNKNOWN"),
            Serving::Other(n) => write!(f, "unknown serving status {n}"),
        }
    }
}

/// A response message that does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageError {
    /// Not exactly one complete gRPC message.
    Framing,
    /// The compressed flag is set, though rdy accepts no encoding.
    Compressed,
    /// The protobuf bytes are cut short or malformed.
    Protobuf,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageError::Framing => "gRPC answer is not one length-prefixed message",
            MessageError::Compressed => "gRPC answer is compressed, though none was accepted",
            MessageError::Protobuf => "HealthCheckResponse does not decode",
        })
    }
}

/// The framed `HealthCheckRequest { string service = 1; }`.
pub fn request(service: &str) -> Vec<u8> {
    let mut message = Vec::new();
    if !service.is_empty() {
        message.push(0x0a); // field 1, wire type 2 (length-delimited)
        varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    let mut framed = vec![0];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    framed
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decodes the framed `HealthCheckResponse { ServingStatus status = 1; }`.
/// A missing field is proto3's default, UNKNOWN; unknown fields are skipped.
pub fn response(body: &[u8]) -> Result<Serving, MessageError> {
    let (&flag, rest) = body.split_first().ok_or(MessageError::Framing)?;
    let (len, message) = rest.split_at_checked(4).ok_or(MessageError::Framing)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if flag == 1 {
        return Err(MessageError::Compressed);
    }
    if flag != 0 || len != message.len() {
        return Err(MessageError::Framing);
    }
    let mut input = message;
    let mut status = 0;
    while !input.is_empty() {
        let key = read_varint(&mut input)?;
        let skip = match key & 7 {
            0 => {
                let value = read_varint(&mut input)?;
                if key >> 3 == 1 {
                    status = value;
                }
                0
            }
            1 => 8,
            2 => usize::try_from(read_varint(&mut input)?).map_err(|_| MessageError::Protobuf)?,
            5 => 4,
            _ => return Err(MessageError::Protobuf),
        };
        input = input.get(skip..).ok_or(MessageError::Protobuf)?;
    }
    Ok(match status {
        0 => Serving::Unknown,
        1 => Serving::Serving,
        2 => Serving::NotServing,
        3 => Serving::ServiceUnknown,
        n => Serving::Other(n),
    })
}

/// A base-128 varint of at most 10 bytes.
fn read_varint(input: &mut &[u8]) -> Result<u64, MessageError> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or(MessageError::Protobuf)?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(MessageError::Protobuf)
}

/// The name of a gRPC status code (as the gRPC status code list names it).
pub fn status_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(code as usize).copied().unwrap_or("unknown code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_frame_the_service_name() {
        assert_eq!(request(""), [0, 0, 0, 0, 0]);
        assert_eq!(request("a.B"), [0, 0, 0, 0, 5, 0x0a, 3, b'a', b'.', b'B']);
        let long = request(&"x".repeat(200));
        assert_eq!(&long[..8], &[0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
    }

    #[test]
    fn responses_decode_with_unknown_fields_skipped() {
        assert_eq!(response(&[0, 0, 0, 0, 2, 8, 1]), Ok(Serving::Serving));
        assert_eq!(response(&[0, 0, 0, 0, 0]), Ok(Serving::Unknown));
        assert_eq!(
            response(&[0, 0, 0, 0, 6, 0x12, 1, b'x', 8, 2, 0x10]),
            Err(MessageError::Protobuf)
        );
        assert_eq!(
            response(&[0, 0, 0, 0, 5, 0x12, 1, b'x', 8, 2]),
            Ok(Serving::NotServing)
        );
        assert_eq!(response(&[0, 0, 0, 0, 2, 8, 7]), Ok(Serving::Other(7)));
        assert_eq!(
            response(&[1, 0, 0, 0, 2, 8, 1]),
            Err(MessageError::Compressed)
        );
        assert_eq!(response(&[0, 0, 0, 0, 3, 8, 1]), Err(MessageError::Framing));
        assert_eq!(response(&[0, 0, 0]), Err(MessageError::Framing));
    }
}
