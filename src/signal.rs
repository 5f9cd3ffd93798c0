//! Signal handling that works as PID 1.
//!
//! rdy blocks its signals in the main thread before any other thread exists
//! (threads inherit the mask) and receives them synchronously with
//! `sigwait`, the way tini does. Two kernel facts make this the right shape:
//!
//! - PID 1 of a PID namespace gets no default signal action: the kernel drops
//!   a signal whose disposition is `SIG_DFL` (`sig_task_ignored`). A *blocked*
//!   signal is never dropped (`sig_ignored`: "Blocked signals are never
//!   ignored"), so it stays pending until `sigwait` takes it.
//! - A thread sitting in `sigwait` reacts at once, whatever the worker threads
//!   are blocked in (`connect`, a TLS read, a sleep), so the exit code is
//!   128+N within microseconds without making every attempt interruptible.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

/// The signals that stop rdy; each ends the process with 128+N.
pub const TERMINATING: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// A set of signals blocked in the calling thread and in every thread it
/// spawns afterwards, to be received with [`Blocked::wait`].
pub struct Blocked {
    set: SigSet,
}

impl Blocked {
    /// Blocks `signals`. Call from the main thread before spawning threads.
    pub fn block(signals: &[Signal]) -> Blocked {
        let mut set = SigSet::empty();
        for &signal in signals {
            set.add(signal);
        }
        // pthread_sigmask only fails for an invalid `how`, which is a constant.
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
        Blocked { set }
    }

    /// Blocks the [`TERMINATING`] signals.
    pub fn terminating() -> Blocked {
        Blocked::block(&TERMINATING)
    }

    /// Blocks more signals too; threads spawned afterwards inherit them.
    pub fn also(self, signals: &[Signal]) -> Blocked {
        let more = Blocked::block(signals);
        let mut set = self.set;
        for signal in more.set.iter() {
            set.add(signal);
        }
        Blocked { set }
    }

    /// Sleeps until one of the blocked signals arrives and returns it.
    pub fn wait(&self) -> Signal {
        loop {
            // sigwait only fails with EINVAL for an invalid set.
            if let Ok(signal) = self.set.wait() {
                return signal;
            }
        }
    }
}

/// Unblocks every signal in the calling thread, for a program about to be
/// exec'd: the signal mask survives `execve`, and Rust's `Command` no longer
/// resets it (since 1.83 it inherits the parent's mask on purpose).
/// `pthread_sigmask` is async-signal-safe, so this may run between `fork`
/// and `exec`.
pub fn unblock_all() -> std::io::Result<()> {
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(std::io::Error::from)
}

/// The shell convention for "killed by signal N": 128+N (143 for SIGTERM,
/// 130 for SIGINT).
pub fn exit_code(signal: Signal) -> i32 {
    128 + signal as i32
}
