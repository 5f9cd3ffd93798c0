//! The eventfd that wakes the event loop from other threads: the workers
//! when a probe finished, the signal thread when the server must stop. A
//! leaf, so the loop and the workers both use it without naming each other.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::signal::Signal;

/// Wakes the loop from other threads: finished probes and the stop signal.
#[derive(Debug)]
pub struct Wake {
    /// Registered with the loop's epoll, read when it fires.
    pub(super) fd: EventFd,
    signal: AtomicI32,
}

impl Wake {
    /// A non-blocking eventfd.
    pub fn new() -> io::Result<Wake> {
        let fd = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        Ok(Wake {
            fd,
            signal: AtomicI32::new(0),
        })
    }

    /// Makes `epoll_wait` return.
    pub fn wake(&self) {
        // EAGAIN means the counter is already non-zero: the loop will wake.
        let _ = self.fd.write(1);
    }

    /// Asks the loop to stop because of `signal`; false if it was already
    /// asked.
    pub fn stop(&self, signal: Signal) -> bool {
        let first = self
            .signal
            .compare_exchange(0, signal as i32, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        self.wake();
        first
    }

    pub fn stopping(&self) -> Option<Signal> {
        Signal::try_from(self.signal.load(Ordering::SeqCst)).ok()
    }
}
