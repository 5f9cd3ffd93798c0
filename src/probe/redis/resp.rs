//! The Redis serialization protocol (RESP, redis.io/docs/reference/protocol-spec)
//! as far as `AUTH` and `PING` go: commands out as arrays of bulk strings,
//! replies in as simple strings (`+PONG`) or errors (`-LOADING ...`).

use std::fmt;

/// Longer reply lines are refused: `+PONG` and error messages are short.
pub const MAX_LINE: usize = 4 * 1024;

/// A command as a RESP array of bulk strings: `*N\r\n` then `$LEN\r\nARG\r\n`
/// for each argument, so arguments may hold any bytes.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One reply, as far as a ping cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+TEXT`.
    Simple(String),
    /// `-TEXT`: the first word is the error kind (`LOADING`, `NOAUTH`).
    Error(String),
    /// Any other type (`:`, `$`, `*`, RESP3 types), named by its first byte.
    Other(u8),
}

/// Bytes that are not a RESP reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespError {
    /// No `\r\n` within [`MAX_LINE`] bytes.
    TooLong,
    /// A line ended by a bare `\n`, or a `\r` inside it.
    BadLineEnd,
    /// A line of no bytes: not even a type.
    Empty,
}

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespError::TooLong => write!(f, "reply line longer than {MAX_LINE} bytes"),
            RespError::BadLineEnd => f.write_str("reply line not ended by CRLF"),
            RespError::Empty => f.write_str("empty reply line"),
        }
    }
}

/// Reads the first line of one reply from the front of `buf`: `Ok(None)`
/// when more bytes are needed, else the reply and how many bytes its first
/// line took. Only simple strings and errors are single lines; a ping reads
/// no further after any other type.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, RespError> {
    let window = &buf[..buf.len().min(MAX_LINE)];
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        return match buf.len() >= MAX_LINE {
            true => Err(RespError::TooLong),
            false => Ok(None),
        };
    };
    let line = match window[..lf].strip_suffix(b"\r") {
        Some(line) if !line.contains(&b'\r') => line,
        _ => return Err(RespError::BadLineEnd),
    };
    let (&kind, text) = line.split_first().ok_or(RespError::Empty)?;
    let text = String::from_utf8_lossy(text).into_owned();
    let reply = match kind {
        b'+' => Reply::Simple(text),
        b'-' => Reply::Error(text),
        other => Reply::Other(other),
    };
    Ok(Some((reply, lf + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(command(&[b"PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            command(&[b"AUTH", b"p w\r\n"]),
            b"*2\r\n$4\r\nAUTH\r\n$5\r\np w\r\n\r\n"
        );
    }

    #[test]
    fn replies() {
        assert_eq!(
            parse_reply(b"+PONG\r\n+OK"),
            Ok(Some((Reply::Simple("PONG".into()), 7)))
        );
        assert_eq!(
            parse_reply(b"-LOADING Redis is loading the dataset in memory\r\n"),
            Ok(Some((
                Reply::Error("LOADING Redis is loading the dataset in memory".into()),
                49
            )))
        );
        assert_eq!(
            parse_reply(b"$4\r\nPONG\r\n"),
            Ok(Some((Reply::Other(b'$'), 4)))
        );
        assert_eq!(parse_reply(b"+PO"), Ok(None));
        assert_eq!(parse_reply(b"+PONG\n"), Err(RespError::BadLineEnd));
        assert_eq!(parse_reply(b"+P\rONG\r\n"), Err(RespError::BadLineEnd));
        assert_eq!(parse_reply(b"\r\n"), Err(RespError::Empty));
        assert_eq!(parse_reply(&[b'+'; MAX_LINE]), Err(RespError::TooLong));
    }
}
