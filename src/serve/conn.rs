//! One client connection: its state between events and the few bytes it
//! owns.
//!
//! An idle connection is a socket, a state and a deadline — a few dozen
//! bytes — because reads go into the loop's one shared buffer. Bytes are
//! kept per connection only while a request head is incomplete (a slow or
//! slowloris client), while pipelined requests wait their turn, or while a
//! response could not be written at once.

use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Instant;

use super::routes::Pending;

/// What a connection is doing.
#[derive(Debug)]
pub enum State {
    /// Between requests (keep-alive), or before the first.
    Idle,
    /// A request head has begun and is not complete.
    Reading,
    /// A request waits for probe results; nothing is read meanwhile.
    Waiting(Box<Waiting>),
    /// A response is being written; nothing is read meanwhile.
    Writing,
    /// The last response is sent and the write side shut: input is read
    /// and discarded until the client closes, so that closing does not
    /// send a reset that could destroy the response before it is read.
    Draining,
}

/// A request whose answer waits for probes.
#[derive(Debug)]
pub struct Waiting {
    /// What to render.
    pub pending: Pending,
    /// Targets whose probe has not finished yet.
    pub awaiting: Vec<usize>,
    /// A HEAD request.
    pub head_only: bool,
    /// For the access log.
    pub access: Access,
}

/// What the access log line of a waiting request needs.
#[derive(Debug)]
pub struct Access {
    /// Method and path (without the query, which may hold the token);
    /// `None` when debug lines are off.
    pub request: Option<Box<(Box<str>, Box<str>)>>,
    /// When the head was complete.
    pub started: Instant,
}

/// Which readiness the loop waits for on this socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Readable.
    Read,
    /// Writable.
    Write,
    /// Only errors and hang-ups (which epoll always reports).
    None,
}

/// The outcome of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// This many bytes are in the buffer, kept ones first.
    Data(usize),
    /// Nothing to read now.
    Again,
    /// The client closed, or the socket failed.
    Closed,
}

/// The outcome of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Everything was written.
    Done,
    /// Some bytes wait for the socket to become writable.
    Pending,
    /// The socket failed.
    Failed,
}

/// A client connection.
#[derive(Debug)]
pub struct Conn {
    /// The socket, non-blocking.
    pub stream: TcpStream,
    /// What it is doing.
    pub state: State,
    /// When the current state times out.
    pub deadline: Instant,
    /// Received bytes not handled yet: a partial head, or pipelined
    /// requests. Usually empty, which allocates nothing.
    pub input: Vec<u8>,
    /// Response bytes the socket has not taken yet.
    output: Vec<u8>,
    /// Whether the connection stays open after the response in flight.
    pub keep_alive: bool,
    /// The readiness registered with epoll.
    pub interest: Interest,
    /// Nothing has been read from it yet.
    pub fresh: bool,
}

impl Conn {
    /// A new idle connection.
    pub fn new(stream: TcpStream, deadline: Instant) -> Conn {
        Conn {
            stream,
            state: State::Idle,
            deadline,
            input: Vec::new(),
            output: Vec::new(),
            keep_alive: true,
            interest: Interest::Read,
            fresh: true,
        }
    }

    /// Puts the kept input at the start of `buf` and reads after it. On
    /// `Data` the kept input has moved into `buf` and is freed here.
    pub fn read_into(&mut self, buf: &mut [u8]) -> Read {
        let kept = self.input.len();
        buf[..kept].copy_from_slice(&self.input);
        match (&self.stream).read(&mut buf[kept..]) {
            Ok(0) => Read::Closed,
            Ok(n) => {
                self.fresh = false;
                self.input = Vec::new();
                Read::Data(kept + n)
            }
            Err(e) if would_block(&e) => Read::Again,
            Err(_) => Read::Closed,
        }
    }

    /// Writes `bytes`, keeping what the socket does not take now.
    pub fn send(&mut self, bytes: &[u8]) -> Sent {
        let written = match write_some(&self.stream, bytes) {
            Ok(n) => n,
            Err(()) => return Sent::Failed,
        };
        match bytes.get(written..) {
            Some(rest) if !rest.is_empty() => {
                self.output = rest.to_vec();
                Sent::Pending
            }
            _ => Sent::Done,
        }
    }

    /// Writes what [`Conn::send`] kept.
    pub fn flush(&mut self) -> Sent {
        let written = match write_some(&self.stream, &self.output) {
            Ok(n) => n,
            Err(()) => return Sent::Failed,
        };
        self.output.drain(..written);
        match self.output.is_empty() {
            true => {
                self.output = Vec::new();
                Sent::Done
            }
            false => Sent::Pending,
        }
    }

    /// Reads and discards what the client still sends; true once it has
    /// closed (or the socket failed). A few reads per call, so a client
    /// that keeps sending cannot hold the loop; the deadline ends it.
    pub fn discard(&mut self, buf: &mut [u8]) -> bool {
        for _ in 0..4 {
            match (&self.stream).read(buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if would_block(&e) => return false,
                Err(_) => return true,
            }
        }
        false
    }
}

/// Writes until everything is written or the socket would block.
fn write_some(mut stream: &TcpStream, bytes: &[u8]) -> Result<usize, ()> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => return Err(()),
            Ok(n) => written += n,
            Err(e) if would_block(&e) => break,
            Err(_) => return Err(()),
        }
    }
    Ok(written)
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
