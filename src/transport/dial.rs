//! TCP connections within an attempt's deadline.

use std::fmt;
use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

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
            DialError::Io(e) => crate::os_error::words(e).fmt(f),
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

/// Linux keeps `SO_RCVTIMEO` and `SO_SNDTIMEO` in its timer wheel, whose
/// granularity grows with the timeout, up to 1/8 of it (256 ms steps from
/// about 2 s at HZ=250): one long socket wait held an attempt up to 0.26 s
/// past its deadline. So a wait is at most 8/9 of the time left (which the
/// wheel ends by the deadline), then again on what is left, and the last
/// quarter second in one piece, where the wheel's steps are a few ms: a
/// handful of wake-ups even for a 5-minute watch.
pub const SLICE: Duration = Duration::from_millis(250);

/// The longest single socket wait when `left` remains (see [`SLICE`]).
pub fn piece(left: Duration) -> Duration {
    match left > SLICE {
        true => (left / 9 * 8).max(SLICE),
        false => left,
    }
}

/// Whether a socket call ended because its timeout passed.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A TCP stream whose every read and write ends by one deadline: the
/// socket timeout is set to a [`piece`] of what is left before each wait,
/// so a server that trickles bytes cannot stretch an attempt, and the last
/// wait ends on time. Every probe that speaks over TCP itself (TLS
/// handshakes included) reads and writes through one.
#[derive(Debug)]
pub struct Bounded {
    /// The connection.
    pub stream: TcpStream,
    /// When the attempt ends.
    pub deadline: Instant,
}

impl Bounded {
    /// Runs `call` in pieces until it does something or the deadline passes.
    fn wait<T>(
        &mut self,
        arm: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
        mut call: impl FnMut(&mut TcpStream) -> io::Result<T>,
    ) -> io::Result<T> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            arm(&self.stream, Some(piece(left)))?;
            match call(&mut self.stream) {
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

impl io::Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait(TcpStream::set_read_timeout, |s| s.read(buf))
    }
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.wait(TcpStream::set_write_timeout, |s| s.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
