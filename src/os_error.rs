//! An operating-system error in the words of a log line. std prints the
//! C library's text and the errno (`Connection reset by peer (os error
//! 104)`; musl says `Address in use` where glibc says `Address already in
//! use`): the number means nothing to a reader, and the text depends on the
//! libc rdy was linked with. Errors that rdy itself or a library made keep
//! their own text.

use std::fmt;
use std::io::{self, ErrorKind};

/// `e` in words; see [`words`].
pub struct Words<'a>(&'a io::Error);

/// `e` as a log line says it: a phrase for the errors users meet, the C
/// library's text without `(os error N)` for the rest.
pub fn words(e: &io::Error) -> Words<'_> {
    Words(e)
}

/// The phrase of an errno's kind, for the kinds a probe or a file meets.
fn phrase(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset by peer",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::BrokenPipe => "broken pipe (the peer closed the connection)",
        ErrorKind::NotConnected => "not connected",
        ErrorKind::AddrInUse => "address already in use",
        ErrorKind::AddrNotAvailable => "address not available on this host",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkDown => "network is down",
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out",
        ErrorKind::NotFound => "no such file or directory",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::IsADirectory => "is a directory",
        ErrorKind::NotADirectory => "not a directory",
        ErrorKind::ReadOnlyFilesystem => "read-only file system",
        ErrorKind::StorageFull => "no space left on device",
        ErrorKind::OutOfMemory => "out of memory",
        ErrorKind::InvalidInput => "invalid argument",
        _ => return None,
    })
}

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if e.raw_os_error().is_none() {
            return e.fmt(f);
        }
        if let Some(phrase) = phrase(e.kind()) {
            return f.write_str(phrase);
        }
        let text = e.to_string();
        let text = match text.rfind(" (os error ") {
            Some(at) => &text[..at],
            None => &text,
        };
        let mut chars = text.chars();
        if let Some(first) = chars.next() {
            write!(f, "{}", first.to_ascii_lowercase())?;
        }
        f.write_str(chars.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos_are_words_without_their_number() {
        let say = |code| words(&io::Error::from_raw_os_error(code)).to_string();
        assert_eq!(say(104), "connection reset by peer");
        assert_eq!(say(98), "address already in use");
        // ENOTSOCK has no phrase: the libc's text, without the number.
        let other = say(88);
        assert!(!other.contains("os error") && !other.is_empty(), "{other}");
        assert!(other.starts_with(|c: char| c.is_lowercase()), "{other}");
        let own = io::Error::other("the server closed the connection");
        assert_eq!(words(&own).to_string(), "the server closed the connection");
    }
}
