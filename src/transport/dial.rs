//! TCP connections within an attempt's deadline.

use std::fmt;
use std::io;
use std::net::TcpStream;
use std::time::Instant;

use crate::resolve::{self, ResolveError};

/// Why no connection was made.
#[derive(Debug)]
pub enum DialError {
    /// The host name did not resolve.
    Resolve(ResolveError),
    /// The first address's socket error (refused, unreachable, ...).
    Io(io::Error),
    /// The deadline passed before any address was tried to the end.
    TimedOut,
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::Resolve(e) => e.fmt(f),
            DialError::Io(e) => e.fmt(f),
            DialError::TimedOut => f.write_str("timed out"),
        }
    }
}

/// Resolves `host` and connects to each address in turn until one accepts.
/// What is left of the deadline is shared among the addresses not yet
/// tried, as Go's dialer does, so one black-holed address cannot starve the
/// rest. A caller that exchanges bytes wraps the stream in [`Bounded`].
pub fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, DialError> {
    let addrs = resolve::resolve(host, port, deadline).map_err(DialError::Resolve)?;
    let mut first_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / (addrs.len() - i) as u32;
        if share.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(addr, share) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.map_or(DialError::TimedOut, DialError::Io))
}

/// A TCP stream whose every read and write ends by one deadline: the
/// socket timeouts are set to what is left before each call, so a server
/// that trickles bytes cannot stretch an attempt.
#[derive(Debug)]
pub struct Bounded {
    /// The connection.
    pub stream: TcpStream,
    /// When the attempt ends.
    pub deadline: Instant,
}

impl Bounded {
    fn left(&self) -> io::Result<std::time::Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        Ok(left)
    }
}

impl io::Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        self.stream.read(buf)
    }
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
