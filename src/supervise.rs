//! rdy as the parent of the application (`--supervise`), in the manner of
//! tini: signals are forwarded to the child, every zombie is reaped (as PID 1
//! rdy inherits the orphans of the whole container), and rdy exits with the
//! child's status. Being PID 1 is handled here too ([`as_pid_1`]), as tini
//! keeps it in one place.
//!
//! The signal thread (main) owns all of this; the worker thread only starts
//! the child and publishes its PID through a [`ChildSlot`], which also
//! decides the race between starting the program and stopping rdy.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::exec::Program;
use crate::{log, signal};

/// As PID 1 of a PID namespace (a container's entrypoint) rdy supervises
/// the command instead of exec'ing it, as tini does: the kernel drops a
/// signal sent to PID 1 that has no handler for it, so a command exec'd as
/// PID 1 would lose a SIGTERM that arrives before it installs its own
/// handler, and nothing would reap orphans.
pub fn as_pid_1(mut program: Program) -> Program {
    if !program.supervise && std::process::id() == 1 {
        program.supervise = true;
        log::debug("rdy is PID 1: the command runs as a supervised child").emit();
    }
    program
}

const NO_CHILD: i32 = 0;
const STARTING: i32 = -1;
const STOPPING: i32 = -2;

/// The child's state, shared by the worker that starts it and the signal
/// thread: nothing yet, being spawned, its PID, or given up because rdy is
/// stopping.
///
/// A terminating signal that arrives as the wait ends must either stop rdy
/// (and the child never starts) or reach the child; never both, never
/// neither. Both threads claim the empty slot with a compare-and-swap, and
/// the one that loses gives way. "Starting" also covers a signal, or the
/// child's exit, arriving between `fork` and the moment its PID is known.
pub struct ChildSlot(AtomicI32);

impl ChildSlot {
    /// An empty slot.
    pub const fn new() -> ChildSlot {
        ChildSlot(AtomicI32::new(NO_CHILD))
    }

    /// Claims the start of the child. False when a signal has already
    /// claimed the process for stopping: then nothing may start, and the
    /// signal thread is exiting.
    pub fn claim_start(&self) -> bool {
        self.claim(STARTING)
    }

    /// Claims the process for stopping. False when a child is being started
    /// or runs: the signal is its to receive.
    pub fn claim_stop(&self) -> bool {
        self.claim(STOPPING)
    }

    fn claim(&self, state: i32) -> bool {
        self.0
            .compare_exchange(NO_CHILD, state, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The child runs with this PID.
    pub fn started(&self, pid: u32) {
        self.0.store(pid as i32, Ordering::SeqCst);
    }

    /// Starting failed; there is no child, and a signal may stop rdy.
    pub fn failed(&self) {
        self.0.store(NO_CHILD, Ordering::SeqCst);
    }

    /// The child's PID; while it is being started, waits for it (spawning
    /// takes microseconds; the wait is capped at one second).
    pub fn pid(&self) -> Option<Pid> {
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            match self.0.load(Ordering::SeqCst) {
                STARTING if Instant::now() < until => {
                    std::thread::sleep(Duration::from_micros(100))
                }
                pid if pid > 0 => return Some(Pid::from_raw(pid)),
                _ => return None,
            }
        }
    }
}

impl Default for ChildSlot {
    fn default() -> ChildSlot {
        ChildSlot::new()
    }
}

/// What the signal thread does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep waiting for signals.
    Continue,
    /// No child (yet): rdy itself was stopped; exit with 128+N.
    Stopped(i32),
    /// The child exited with this status (128+N if a signal killed it).
    ChildExited(i32),
}

/// Handles one signal taken by `sigwait`.
pub fn on_signal(received: Signal, child: &ChildSlot) -> Next {
    if received == Signal::SIGCHLD {
        return match child.pid().and_then(reap) {
            Some(code) => Next::ChildExited(code),
            None => Next::Continue,
        };
    }
    let terminating = signal::TERMINATING.contains(&received);
    if terminating && child.claim_stop() {
        return Next::Stopped(signal::exit_code(received));
    }
    if let Some(pid) = child.pid() {
        // ESRCH: the child is gone and its SIGCHLD is on the way.
        let _ = kill(pid, received);
    }
    Next::Continue
}

/// Reaps every exited child without blocking — the application and, as
/// PID 1, any orphan reparented to rdy — and returns the application's exit
/// code if it was among them.
pub fn reap(child: Pid) -> Option<i32> {
    reap_all(Some(child))
}

/// Reaps orphans once the application is gone (rdy as PID 1).
pub fn reap_orphans() {
    reap_all(None);
}

fn reap_all(child: Option<Pid>) -> Option<i32> {
    let mut code = None;
    // Bounded: each iteration reaps one zombie, and a process has finitely
    // many; ECHILD or "none exited yet" ends it.
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return code,
            Ok(status) if child.is_some() && status.pid() == child => {
                code = exit_code(status).or(code)
            }
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(_) => return code,
        }
    }
}

/// The shell's view of a wait status: the exit code, or 128+N for a signal.
fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}
