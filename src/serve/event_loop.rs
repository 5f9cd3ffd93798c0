//! The event loop: one thread, epoll, non-blocking sockets.
//!
//! Why a readiness loop rather than a pool of blocking workers: a worker
//! blocked in `read` holds a thread (and its stack) per connection, so a
//! fixed pool of N workers is stopped by N idle keep-alive or slowloris
//! clients, and a thread per connection cannot hold 1,000 of them in
//! 2 MiB. One thread that waits for readiness on every socket holds any
//! number of idle connections for a few dozen bytes each, and answers
//! `/self` between two slow clients' bytes. It is still zero-async: plain
//! `epoll_wait`, `read` and `write` through nix and std, no runtime, no
//! futures.
//!
//! The loop accepts, reads into one shared buffer, parses, enforces every
//! limit (connections, head size, timeouts, token, rate) and answers
//! everything that needs no probe inline. Answers that need probe results
//! wait in the loop without a thread; the probes themselves run on the
//! worker pool (workers.rs), whose results come back over a channel and an
//! eventfd that wakes `epoll_wait`. The same eventfd carries the stop
//! request from the signal thread.
//!
//! Epoll is level-triggered: a socket that still has bytes, or a listener
//! that still has connections, is reported again, so no event is lost when
//! the loop stops early to stay fair.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::exit;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::libc;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::signal::Signal;

use super::conn::{Access, Conn, Interest, Read, Sent, State, Waiting};
use super::request::{self, Method, Parse};
use super::response::{Extra, HttpDate, Response};
use super::routes::{App, HOLD_PAUSE, OBJECT_SYNC, Reply};
use super::wake::Wake;
use crate::duration::Human;
use crate::log;

/// Epoll token of the listener.
const LISTENER: u64 = u64::MAX;
/// Epoll token of the eventfd.
const WAKER: u64 = u64::MAX - 1;
/// The shared read buffer: one request head at most (8 KiB) plus room for
/// pipelined requests behind it.
const READ_BUFFER: usize = 2 * request::MAX_HEAD;
/// Bytes all connections together may keep between events (partial heads,
/// pipelined requests). A real health check arrives in one segment and
/// never needs any. A partial head that would exceed it first makes room by
/// closing the oldest other partial heads (slowloris clients), and only
/// when there are none gets 503.
const KEPT_BUDGET: usize = 256 * 1024;
/// The share of [`KEPT_BUDGET`] that requests pipelined behind one still
/// being answered may use, so that they can never crowd out partial heads.
/// Beyond it the connection is closed after its current response, and the
/// client retries the rest (RFC 9112 §9.3.2 lets it: GET and HEAD are
/// idempotent).
const PIPELINED_BUDGET: usize = KEPT_BUDGET / 2;
/// Connections accepted per listener event before other sockets get a turn.
const ACCEPT_BATCH: usize = 64;
/// Timeouts are checked this often (and the listener resumed after running
/// out of file descriptors).
const SWEEP: Duration = Duration::from_millis(100);
/// After SIGTERM, responses in flight get this long to finish.
pub const GRACE: Duration = Duration::from_secs(5);
/// How long a closing connection may take to close its side.
const DRAIN: Duration = Duration::from_secs(1);
/// A new connection that has sent nothing yet cannot be evicted for this
/// long, so that its request is read before a newer connection could take
/// its place: otherwise a burst beyond the cap evicts each connection in
/// turn before its request is read, and nobody is served.
const FRESH: Duration = Duration::from_millis(100);

/// The limits of `rdy serve`'s options.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most, not counting those closing.
    pub max_connections: usize,
    /// Closing connections at most (each for [`DRAIN`] at most); while
    /// there are as many, no new connection is accepted.
    pub max_draining: usize,
    /// How long a keep-alive connection may sit idle.
    pub idle_timeout: Duration,
    /// How long a client may take to send a request head, or to take a
    /// response.
    pub client_timeout: Duration,
}

/// A connection slot; the generation tells a reused slot from the
/// connection an old event was about.
#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    conn: Option<Conn>,
}

/// The loop's state.
pub struct Loop {
    epoll: Epoll,
    listener: Option<TcpListener>,
    /// False while accepting is paused for want of file descriptors.
    accepting: bool,
    wake: &'static Wake,
    slots: Vec<Slot>,
    free: Vec<usize>,
    open: usize,
    /// Connections in [`State::Waiting`].
    waiting: usize,
    /// Connections in [`State::Draining`]; they do not count towards the
    /// cap.
    draining: usize,
    /// Bytes kept by all connections (`Conn::input`).
    kept: usize,
    buf: Box<[u8]>,
    out: Vec<u8>,
    date: HttpDate,
    app: App,
    limits: Limits,
    access_log: bool,
    /// The signal and the end of the grace period, once stopping.
    stopping: Option<(Signal, Instant)>,
}

/// Which connections may be closed to make room.
#[derive(Clone, Copy)]
enum Evict {
    /// For a new connection at the cap: any but one waiting for probes.
    Any,
    /// For the kept-bytes budget: only those holding a partial head.
    Partial,
}

/// Whether a connection could be closed to make room.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Room {
    /// One was.
    Made,
    /// Not yet: the only candidates are too new to tell.
    Soon,
    /// No: every connection is busy with a request.
    None,
}

/// What one parse of a connection's bytes found.
enum Step {
    Partial,
    Bad(request::Malformed),
    Request {
        reply: Reply,
        len: usize,
        head_only: bool,
        keep_alive: bool,
        access: Access,
    },
}

impl Loop {
    /// Registers the listener and the eventfd.
    pub fn new(
        listener: TcpListener,
        app: App,
        wake: &'static Wake,
        limits: Limits,
    ) -> io::Result<Loop> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(&listener, EpollEvent::new(EpollFlags::EPOLLIN, LISTENER))?;
        epoll.add(&wake.fd, EpollEvent::new(EpollFlags::EPOLLIN, WAKER))?;
        Ok(Loop {
            epoll,
            listener: Some(listener),
            accepting: true,
            wake,
            slots: Vec::new(),
            free: Vec::new(),
            open: 0,
            waiting: 0,
            draining: 0,
            kept: 0,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            out: Vec::with_capacity(1024),
            date: HttpDate::new(SystemTime::now()),
            app,
            limits,
            access_log: log::debug("").enabled(),
            stopping: None,
        })
    }

    /// Runs until stopped; then exits the process with 128+N.
    pub fn run(mut self) -> ! {
        let mut events = vec![EpollEvent::empty(); 256];
        let mut next_sweep = Instant::now() + SWEEP;
        loop {
            let wait = next_sweep.saturating_duration_since(Instant::now());
            // Rounded up, so the loop does not spin through the last
            // fraction of a millisecond.
            let millis = u16::try_from(wait.as_millis() + 1).unwrap_or(u16::MAX);
            let n = match self.epoll.wait(&mut events, millis) {
                Ok(n) => n,
                Err(Errno::EINTR) => 0,
                Err(e) => {
                    // io::Error's text comes from libc; nix's own table of
                    // errno texts would cost 3 KiB.
                    let e = io::Error::from(e);
                    log::error("epoll_wait failed")
                        .field("error", crate::os_error::words(&e))
                        .emit();
                    exit(1);
                }
            };
            let now = Instant::now();
            self.date.update(SystemTime::now());
            for event in &events[..n] {
                match event.data() {
                    LISTENER => self.accept(now),
                    WAKER => self.woken(now),
                    token => self.ready(token, event.events(), now),
                }
            }
            if now >= next_sweep {
                self.sweep(now);
                next_sweep = now + SWEEP;
            }
            if let Some((signal, until)) = self.stopping
                && (self.open == 0 || now >= until)
            {
                let code = crate::signal::exit_code(signal);
                log::warn(format_args!("Stopped by {}", signal.as_str()))
                    .field("exit_code", code)
                    .emit();
                exit(code);
            }
        }
    }

    fn conn(&mut self, idx: usize) -> Option<&mut Conn> {
        self.slots.get_mut(idx)?.conn.as_mut()
    }

    fn token(&self, idx: usize) -> u64 {
        (u64::from(self.slots[idx].generation) << 32) | idx as u64
    }

    /// Accepts new connections. At the cap, the connection that has been
    /// idle or slow the longest makes room; while the only candidates are
    /// too new to tell, new connections wait in the kernel's queue until
    /// the next sweep; only when every connection is busy with a request is
    /// a new one answered 503. So idle and slowloris clients can never keep
    /// `/self` from answering, and a burst beyond the cap is served in turn
    /// rather than each connection evicting the one before.
    fn accept(&mut self, now: Instant) {
        for _ in 0..ACCEPT_BATCH {
            if self.listener.is_none() {
                return;
            }
            if self.draining >= self.limits.max_draining {
                // No room to close a connection without a reset.
                return self.pause_accepting();
            }
            let mut refuse = false;
            if self.open - self.draining >= self.limits.max_connections {
                match self.evict_oldest(Evict::Any, usize::MAX, now) {
                    Room::Made => {}
                    Room::Soon => return self.pause_accepting(),
                    Room::None => refuse = true,
                }
            }
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => self.admit(stream, refuse, now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if out_of_resources(&e) => {
                    log::warn("Cannot accept a connection")
                        .field("error", crate::os_error::words(&e))
                        .emit();
                    return self.pause_accepting();
                }
                // The client gave up before it was accepted, or similar.
                Err(_) => {}
            }
        }
    }

    /// Stops accepting until the next sweep: a pending connection stays
    /// queued and would wake the loop at once, again and again.
    fn pause_accepting(&mut self) {
        if let Some(listener) = &self.listener {
            let mut none = EpollEvent::new(EpollFlags::empty(), LISTENER);
            let _ = self.epoll.modify(listener, &mut none);
            self.accepting = false;
        }
    }

    /// Takes a new connection; a `refuse`d one is answered 503 and drained
    /// like any other closing one, so that the answer is not destroyed by
    /// a reset.
    fn admit(&mut self, stream: TcpStream, refuse: bool, now: Instant) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        // Each response is one write; Nagle would hold it back behind the
        // client's delayed ACK of the previous one.
        let _ = stream.set_nodelay(true);
        let idx = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            self.slots.len() - 1
        });
        let token = self.token(idx);
        if self
            .epoll
            .add(&stream, EpollEvent::new(EpollFlags::EPOLLIN, token))
            .is_err()
        {
            self.free.push(idx);
            return;
        }
        // The first request head is due within the client timeout, as any
        // other; the idle timeout is for keep-alive between requests.
        self.slots[idx].conn = Some(Conn::new(stream, now + self.limits.client_timeout));
        self.open += 1;
        if refuse {
            let response = Response::text(503, "too many connections\n")
                .with(Extra::RetryAfter(1))
                .closing();
            self.send(idx, &response, false, false, now);
        }
    }

    /// Closes the connection with the oldest activity among those `which`
    /// allows, other than `except`. A request waiting for its probes is
    /// never cut, nor a connection younger than [`FRESH`] that has sent
    /// nothing yet; a connection stuck writing to a client that does not
    /// read is, like an idle or slowloris one. The write side is shut and
    /// the connection drained, so the client sees the end of the stream,
    /// not a reset.
    fn evict_oldest(&mut self, which: Evict, except: usize, now: Instant) -> Room {
        let limits = self.limits;
        let mut soon = false;
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter(|&(idx, _)| idx != except)
            .filter_map(|(idx, slot)| {
                let conn = slot.conn.as_ref()?;
                // When its current state began (a deadline before boot + 30 s
                // cannot be traced back; it counts as now).
                let began = |timeout| conn.deadline.checked_sub(timeout).unwrap_or(conn.deadline);
                let since = match (&conn.state, which) {
                    (State::Reading, _) => began(limits.client_timeout),
                    (_, Evict::Partial) | (State::Waiting(_), Evict::Any) => return None,
                    (State::Idle, Evict::Any) if conn.fresh => {
                        let began = began(limits.client_timeout);
                        if now.saturating_duration_since(began) < FRESH {
                            soon = true;
                            return None;
                        }
                        began
                    }
                    (State::Idle, Evict::Any) => began(limits.idle_timeout),
                    (State::Writing, Evict::Any) => began(limits.client_timeout),
                    // Closing already, and not counted towards the cap.
                    (State::Draining, _) => return None,
                };
                Some((since, idx))
            })
            .min();
        match oldest {
            Some((_, idx)) => {
                self.retire(idx, now);
                Room::Made
            }
            None if soon => Room::Soon,
            None => Room::None,
        }
    }

    /// Shuts the write side and drains the connection, within the room
    /// for closing connections; beyond it, closes at once.
    fn retire(&mut self, idx: usize, now: Instant) {
        if self.draining >= self.limits.max_draining {
            return self.close(idx);
        }
        if let Some(conn) = self.conn(idx) {
            if matches!(conn.state, State::Waiting(_)) {
                return self.close(idx);
            }
            conn.state = State::Writing;
        }
        self.after_response(idx, false, now);
    }

    fn close(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(conn) = slot.conn.take() else {
            return;
        };
        slot.generation = slot.generation.wrapping_add(1);
        self.kept -= conn.input.len();
        self.open -= 1;
        match conn.state {
            State::Waiting(_) => self.waiting -= 1,
            State::Draining => self.draining -= 1,
            _ => {}
        }
        self.free.push(idx);
        // Dropping the socket closes it, which also removes it from epoll.
    }

    fn set_interest(&mut self, idx: usize, interest: Interest) {
        let token = self.token(idx);
        let Some(conn) = self.slots.get_mut(idx).and_then(|s| s.conn.as_mut()) else {
            return;
        };
        if conn.interest == interest {
            return;
        }
        conn.interest = interest;
        let flags = match interest {
            Interest::Read => EpollFlags::EPOLLIN,
            Interest::Write => EpollFlags::EPOLLOUT,
            Interest::None => EpollFlags::empty(),
        };
        let mut event = EpollEvent::new(flags, token);
        if self.epoll.modify(&conn.stream, &mut event).is_err() {
            self.close(idx);
        }
    }

    /// Finished probes, and the stop request.
    fn woken(&mut self, now: Instant) {
        let _ = self.wake.fd.read();
        let mut finished = Vec::new();
        for done in self.app.pool.done.take_all() {
            let target = &self.app.targets[done.target];
            self.app.cache.finish(target, done.target, done.checked);
            finished.push(done.target);
        }
        // The watch cache wakes the loop too: a first LIST may let requests
        // for an object be answered.
        let objects_changed = self.app.objects_changed();
        if !finished.is_empty() || objects_changed {
            for idx in 0..self.slots.len() {
                let Some(Conn {
                    state: State::Waiting(waiting),
                    ..
                }) = self.slots.get_mut(idx).and_then(|s| s.conn.as_mut())
                else {
                    continue;
                };
                waiting.awaiting.retain(|t| !finished.contains(t));
                if objects_changed
                    && waiting.awaiting == [OBJECT_SYNC]
                    && self.app.object_ready(&waiting.pending)
                {
                    waiting.awaiting.clear();
                }
                if waiting.awaiting.is_empty() {
                    self.complete(idx, now);
                }
            }
        }
        if self.stopping.is_none()
            && let Some(signal) = self.wake.stopping()
        {
            self.begin_stop(signal, now);
        }
    }

    /// Stops accepting at once, closes connections that have no request
    /// in flight, and lets the others finish (then close) within
    /// [`GRACE`].
    fn begin_stop(&mut self, signal: Signal, now: Instant) {
        // Closed before the line is logged: whoever reads it may rely on
        // new connections being refused.
        self.listener = None;
        log::info(format_args!(
            "Stopping on {}: finishing responses in flight",
            signal.as_str()
        ))
        .emit();
        for idx in 0..self.slots.len() {
            let Some(conn) = self.conn(idx) else { continue };
            match conn.state {
                State::Idle | State::Reading | State::Draining => self.close(idx),
                State::Waiting(_) | State::Writing => conn.keep_alive = false,
            }
        }
        self.stopping = Some((signal, now + GRACE));
    }

    /// An event on a connection.
    fn ready(&mut self, token: u64, flags: EpollFlags, now: Instant) {
        let idx = (token & u64::from(u32::MAX)) as usize;
        let generation = (token >> 32) as u32;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        let Some(conn) = slot.conn.as_mut() else {
            return;
        };
        let failed = flags.intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP);
        match conn.state {
            State::Waiting(_) if failed => self.close(idx),
            State::Waiting(_) => {}
            State::Writing => match conn.flush() {
                Sent::Done => {
                    let keep_alive = conn.keep_alive;
                    if self.after_response(idx, keep_alive, now) {
                        self.resume(idx, now);
                    }
                }
                Sent::Pending => {}
                Sent::Failed => self.close(idx),
            },
            State::Draining => {
                if conn.discard(&mut self.buf) {
                    self.close(idx);
                }
            }
            State::Idle | State::Reading => {
                let kept = conn.input.len();
                match conn.read_into(&mut self.buf) {
                    Read::Again => {}
                    Read::Closed => self.close(idx),
                    Read::Data(len) => {
                        self.kept -= kept;
                        self.feed(idx, len, now);
                    }
                }
            }
        }
    }

    /// Handles kept input after a response, as if it had just arrived.
    fn resume(&mut self, idx: usize, now: Instant) {
        let Some(conn) = self.conn(idx) else { return };
        let input = std::mem::take(&mut conn.input);
        if input.is_empty() {
            return;
        }
        self.kept -= input.len();
        self.buf[..input.len()].copy_from_slice(&input);
        self.feed(idx, input.len(), now);
    }

    /// Handles the bytes in `buf[..len]`: every complete request in turn,
    /// until one must wait or the rest is partial.
    fn feed(&mut self, idx: usize, len: usize, now: Instant) {
        let mut start = 0;
        loop {
            let step = match request::parse(&self.buf[start..len]) {
                Parse::Partial => Step::Partial,
                Parse::Bad(malformed) => Step::Bad(malformed),
                Parse::Complete(head, n) => {
                    let reply = self.app.respond(&head, now);
                    let request = match self.access_log {
                        true => Some(Box::new((head.method_text.into(), head.path.into()))),
                        false => None,
                    };
                    Step::Request {
                        reply,
                        len: n,
                        head_only: head.method == Method::Head,
                        keep_alive: head.keep_alive,
                        access: Access {
                            request,
                            started: now,
                        },
                    }
                }
            };
            match step {
                Step::Partial => return self.keep_partial(idx, start, len, now),
                Step::Bad(malformed) => {
                    log::debug("Malformed request")
                        .field("status", malformed.status())
                        .field("error", malformed)
                        .emit();
                    let response = Response::text(malformed.status(), format!("{malformed}\n"));
                    // A HEAD is answered without a body even when refused
                    // (RFC 9110 §9.3.2), or the client would read it as the
                    // next response.
                    let head_only = self.buf[start..len].starts_with(b"HEAD ");
                    self.send(idx, &response.closing(), head_only, false, now);
                    return;
                }
                Step::Request {
                    reply,
                    len: n,
                    head_only,
                    keep_alive,
                    access,
                } => {
                    start += n;
                    let keep_alive = keep_alive && self.stopping.is_none();
                    let response = match reply {
                        Reply::Now(response) => response,
                        Reply::Later(pending) => {
                            let (awaiting, until) = self.app.start(&pending, now);
                            if awaiting.is_empty() && !self.app.holds(&pending, now) {
                                self.app.answer(&pending, &[])
                            } else if self.waiting >= self.max_waiting() {
                                // The rest of the cap stays free for
                                // requests answered at once, `/self` above
                                // all.
                                Response::text(503, "too many requests wait for probes\n")
                                    .with(Extra::RetryAfter(1))
                                    .closing()
                            } else {
                                let waiting = Waiting {
                                    pending,
                                    awaiting,
                                    head_only,
                                    access,
                                };
                                let deadline = rest_or_probe(&waiting, until, now);
                                let Some(conn) = self.conn(idx) else { return };
                                conn.state = State::Waiting(Box::new(waiting));
                                conn.keep_alive = keep_alive;
                                conn.deadline = deadline;
                                self.waiting += 1;
                                self.set_interest(idx, Interest::None);
                                return self.keep_pipelined(idx, start, len);
                            }
                        }
                    };
                    self.log_access(&access, response.status);
                    let keep_alive = keep_alive && !response.close;
                    if !self.send(idx, &response, head_only, keep_alive, now) {
                        return self.keep_pipelined(idx, start, len);
                    }
                }
            }
        }
    }

    /// Keeps a partial head (or nothing) until more bytes come.
    fn keep_partial(&mut self, idx: usize, start: usize, len: usize, now: Instant) {
        let client_timeout = self.limits.client_timeout;
        let Some(conn) = self.conn(idx) else { return };
        if start == len {
            return;
        }
        if matches!(conn.state, State::Idle) {
            // The whole head must arrive within the client timeout of its
            // first byte, however slowly it trickles in.
            conn.state = State::Reading;
            conn.deadline = now + client_timeout;
        }
        while self.kept + (len - start) > KEPT_BUDGET
            && self.evict_oldest(Evict::Partial, idx, now) == Room::Made
        {}
        if self.kept + (len - start) > KEPT_BUDGET {
            let response = Response::text(503, "server busy\n")
                .with(Extra::RetryAfter(1))
                .closing();
            self.send(idx, &response, false, false, now);
            return;
        }
        self.keep_rest(idx, start, len);
    }

    /// Keeps requests pipelined behind one that is still being answered,
    /// within [`PIPELINED_BUDGET`]; beyond it, or when the connection closes
    /// after this response anyway, they are dropped.
    fn keep_pipelined(&mut self, idx: usize, start: usize, len: usize) {
        let fits = self.kept + (len - start) <= PIPELINED_BUDGET;
        let Some(conn) = self.conn(idx) else { return };
        if !matches!(conn.state, State::Waiting(_) | State::Writing) || start == len {
            return;
        }
        if !fits {
            conn.keep_alive = false;
            return;
        }
        self.keep_rest(idx, start, len);
    }

    /// Keeps `buf[start..len]` as the connection's input.
    fn keep_rest(&mut self, idx: usize, start: usize, len: usize) {
        let rest = &self.buf[start..len];
        let Some(conn) = self.slots.get_mut(idx).and_then(|s| s.conn.as_mut()) else {
            return;
        };
        if rest.is_empty() {
            return;
        }
        conn.input = rest.to_vec();
        self.kept += rest.len();
    }

    /// Writes a response. True when it is out and the connection is ready
    /// for the next request.
    fn send(
        &mut self,
        idx: usize,
        response: &Response,
        head_only: bool,
        keep_alive: bool,
        now: Instant,
    ) -> bool {
        self.out.clear();
        response.write(&mut self.out, head_only, keep_alive, &self.date);
        let client_timeout = self.limits.client_timeout;
        let Some(conn) = self.slots.get_mut(idx).and_then(|s| s.conn.as_mut()) else {
            return false;
        };
        match conn.send(&self.out) {
            Sent::Done => self.after_response(idx, keep_alive, now),
            Sent::Pending => {
                conn.state = State::Writing;
                conn.keep_alive = keep_alive;
                conn.deadline = now + client_timeout;
                self.set_interest(idx, Interest::Write);
                false
            }
            Sent::Failed => {
                self.close(idx);
                false
            }
        }
    }

    /// After a response is out: wait for the next request, or close.
    fn after_response(&mut self, idx: usize, keep_alive: bool, now: Instant) -> bool {
        let idle_timeout = self.limits.idle_timeout;
        let Some(conn) = self.conn(idx) else {
            return false;
        };
        if keep_alive {
            conn.state = State::Idle;
            conn.deadline = now + idle_timeout;
            self.set_interest(idx, Interest::Read);
            return true;
        }
        let _ = conn.stream.shutdown(Shutdown::Write);
        conn.state = State::Draining;
        conn.deadline = now + DRAIN;
        let dropped = std::mem::take(&mut conn.input).len();
        self.kept -= dropped;
        self.draining += 1;
        self.set_interest(idx, Interest::Read);
        false
    }

    /// Answers a waiting request: its probes finished, or its deadline
    /// passed (then the targets still awaited are reported as timed out).
    fn complete(&mut self, idx: usize, now: Instant) {
        if self.hold(idx, now) {
            return;
        }
        let Some(conn) = self.conn(idx) else { return };
        let State::Waiting(waiting) = std::mem::replace(&mut conn.state, State::Writing) else {
            return;
        };
        let keep_alive = conn.keep_alive && self.stopping.is_none();
        self.waiting -= 1;
        let response = self.app.answer(&waiting.pending, &waiting.awaiting);
        self.log_access(&waiting.access, response.status);
        if self.send(idx, &response, waiting.head_only, keep_alive, now) {
            self.resume(idx, now);
        }
    }

    /// Keeps a held request (`?wait=`) waiting instead of answering it, when
    /// its targets are still not ready and its hold has time left: its
    /// probes just finished (rest [`HOLD_PAUSE`]), or its rest is over
    /// (probe again; single flight and the cache keep that to one probe per
    /// target, however many requests are held). No thread waits for it.
    fn hold(&mut self, idx: usize, now: Instant) -> bool {
        let stopping = self.stopping.is_some();
        let Some(Conn {
            state: State::Waiting(waiting),
            deadline,
            ..
        }) = self.slots.get_mut(idx).and_then(|s| s.conn.as_mut())
        else {
            return false;
        };
        if stopping || !waiting.awaiting.is_empty() || !self.app.holds(&waiting.pending, now) {
            return false;
        }
        let hold = waiting.pending.hold.unwrap_or(now);
        if now < *deadline {
            *deadline = (now + HOLD_PAUSE).min(hold);
            return true;
        }
        let (awaiting, until) = self.app.start(&waiting.pending, now);
        waiting.awaiting = awaiting;
        *deadline = rest_or_probe(waiting, until, now);
        true
    }

    fn log_access(&self, access: &Access, status: u16) {
        if let Some(request) = &access.request {
            log::debug("Request")
                .field("method", &request.0)
                .field("path", &request.1)
                .field("status", status)
                .field("duration", Human(access.started.elapsed()))
                .emit();
        }
    }

    /// Times out what has waited too long; resumes accepting.
    fn sweep(&mut self, now: Instant) {
        for idx in 0..self.slots.len() {
            let Some(conn) = self.conn(idx) else { continue };
            if now < conn.deadline {
                continue;
            }
            match conn.state {
                State::Waiting(_) => self.complete(idx, now),
                _ => self.close(idx),
            }
        }
        if !self.accepting
            && let Some(listener) = &self.listener
        {
            let mut event = EpollEvent::new(EpollFlags::EPOLLIN, LISTENER);
            self.accepting = self.epoll.modify(listener, &mut event).is_ok();
        }
    }
}

impl Loop {
    /// Requests that may wait for probes at once: all connections but a
    /// sixteenth (at least one), so that connections beyond them can still
    /// be answered at once whatever the probes do.
    fn max_waiting(&self) -> usize {
        let max = self.limits.max_connections;
        (max - (max / 16).max(1)).max(1)
    }
}

/// When a waiting request is looked at again: when its probes' deadline
/// passes (`until`), or, for a held one whose targets were all answered
/// from the cache, after a rest; never after its hold ends.
fn rest_or_probe(waiting: &Waiting, until: Instant, now: Instant) -> Instant {
    let Some(hold) = waiting.pending.hold else {
        return until;
    };
    match waiting.awaiting.is_empty() {
        true => (now + HOLD_PAUSE).min(hold),
        false => until.min(hold.max(now)),
    }
}

fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
