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

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, pthread_sigmask, sigaction,
};

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

impl Blocked {
    /// Turns the blocked [`TERMINATING`] signals into an immediate exit with
    /// 128+N, for a run that stays on one thread (`rdy check`): a handler
    /// replaces the `sigwait` thread, whose start (a 2 MiB stack mapped,
    /// `clone`, its page faults) would cost a one-shot check more than the
    /// check itself. A handler is not `SIG_DFL`, so the kernel delivers the
    /// signal to PID 1 too; one already pending is delivered as the mask
    /// is lifted.
    pub fn exit_on_terminating(self) {
        for signal in TERMINATING {
            let action = SigAction::new(
                SigHandler::Handler(stop_now),
                SaFlags::empty(),
                SigSet::all(),
            );
            // SAFETY: `stop_now` only calls async-signal-safe functions
            // (clock_gettime, write, _exit) and formats into its own stack.
            let _ = unsafe { sigaction(signal, &action) };
        }
        let mut set = SigSet::empty();
        for signal in TERMINATING {
            set.add(signal);
        }
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    }
}

/// The handler of [`Blocked::exit_on_terminating`]: logs `Stopped by SIGx`
/// as the `sigwait` thread would, and exits 128+N without running any
/// destructor or `atexit` handler (`_exit`).
extern "C" fn stop_now(signal: libc::c_int) {
    let name = Signal::try_from(signal).map_or("a signal", Signal::as_str);
    let code = 128 + signal;
    let mut msg = [0u8; 32];
    let text = stop_message(&mut msg, name);
    crate::log::emit_from_signal_handler(crate::log::Level::Warn, text, "exit_code", code);
    // SAFETY: _exit is async-signal-safe and ends the process.
    unsafe { libc::_exit(code) }
}

/// `Stopped by SIGTERM`, assembled in `buf` without allocating.
fn stop_message<'a>(buf: &'a mut [u8; 32], name: &str) -> &'a str {
    let prefix = b"Stopped by ";
    let len = (prefix.len() + name.len()).min(buf.len());
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..len].copy_from_slice(&name.as_bytes()[..len - prefix.len()]);
    std::str::from_utf8(&buf[..len]).unwrap_or("Stopped")
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

/// Gives `signals` their default action in the calling process, for a
/// child about to be exec'd that rdy forwards them to: an action of
/// "ignore" survives `execve` (only handlers are reset), so a signal
/// ignored when rdy started (under `nohup`, or a runner that ignores
/// SIGHUP) would be forwarded to a child that cannot even trap it (POSIX:
/// a non-interactive shell cannot trap a signal ignored on entry). rdy
/// itself never honoured that ignore: it takes these signals with
/// `sigwait`. `sigaction` is async-signal-safe, so this may run between
/// `fork` and `exec`.
pub fn default_actions(signals: &[Signal]) -> std::io::Result<()> {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for &signal in signals {
        // SAFETY: installing SIG_DFL runs no code of ours.
        unsafe { sigaction(signal, &action) }.map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// Ignores SIGPIPE, as std's start-up does for a Rust `main`: a write to
/// a closed pipe or socket is then an `EPIPE` error, not the end of rdy.
pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN runs no code of ours.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

/// The shell convention for "killed by signal N": 128+N (143 for SIGTERM,
/// 130 for SIGINT).
pub fn exit_code(signal: Signal) -> i32 {
    128 + signal as i32
}

/// Signals passed on to the child. SIGCHLD is handled, not forwarded.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];
