//! Entry point: parse, dispatch, map the outcome to an exit code.
//!
//! `wait` and `serve` use two threads. The main thread blocks the signals
//! before anything else and then only takes them with `sigwait` (see
//! signal.rs); a worker thread does the work and exits the process with its
//! outcome. `check` stays on the main thread and exits from a signal
//! handler. The main
//! thread also execs the program when the worker hands it over, and as a
//! supervisor forwards signals and reaps children.

use std::process::exit;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use nix::sys::pthread::{Pthread, pthread_kill, pthread_self};
use nix::sys::signal::Signal;
use rdy::cli::{self, Command, Run};
use rdy::exec::{self, Program};
use rdy::probe::http::Http;
use rdy::signal::Blocked;
use rdy::supervise::{self, ChildSlot, Next};
use rdy::wait::{self, Outcome};
use rdy::{footprint, hooks, log, termination};

/// The supervised child, shared by the worker and the signal thread.
static CHILD: ChildSlot = ChildSlot::new();

/// The program to exec, handed by the worker to the signal thread.
static EXEC: OnceLock<&'static Program> = OnceLock::new();

/// The signal thread, which the worker wakes with SIGCHLD once `EXEC` is
/// set (in exec mode rdy has no children, so SIGCHLD means only this).
/// Kept as an integer: musl's `pthread_t` is a pointer, which is not `Sync`.
static SIGNAL_THREAD: OnceLock<usize> = OnceLock::new();

fn main() {
    // Before any thread exists, so every thread inherits the mask and the
    // signals reach only the `sigwait` of this thread.
    let signals = Blocked::terminating();
    let _ = SIGNAL_THREAD.set(pthread_self() as usize);
    let args = std::env::args_os().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let command = match cli::parse(args, &env) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("rdy: {e}");
            exit(2);
        }
    };
    match command {
        Command::Help(page) => print!("{}", cli::help::text(page)),
        Command::Version => println!("rdy {}", env!("CARGO_PKG_VERSION")),
        Command::Check(run) => check(signals, run),
        Command::Wait(run) => wait(signals, run),
        Command::Serve(settings) => rdy::serve::run(signals, *settings),
    }
}

/// One attempt per target on this thread: a signal handler, not a signal
/// thread, ends a check that is stopped (see `Blocked::exit_on_terminating`).
fn check(signals: Blocked, run: Run) -> ! {
    log::init(run.log);
    signals.exit_on_terminating();
    let outcome = wait::check(leak(run.targets), run.timeout);
    termination::write(&run.termination, "check", &outcome, run.timeout);
    exit(outcome.exit_code())
}

fn wait(signals: Blocked, run: Run) -> ! {
    log::init(run.log);
    let program: Option<&'static Program> = run
        .program
        .map(|p| &*Box::leak(Box::new(supervised_as_pid_1(p))));
    let signals = match program {
        Some(p) if p.supervise => signals.also(&supervise::FORWARDED).also(&[Signal::SIGCHLD]),
        Some(_) => signals.also(&[Signal::SIGCHLD]),
        None => signals,
    };
    let targets = leak(run.targets);
    let hooks = leak(run.hooks);
    let (timeout, before, after) = (run.timeout, run.before, run.after);
    let termination = run.termination;
    spawn_worker(move || {
        pause("before checking", before);
        let outcome = wait::wait(targets, timeout);
        if !matches!(outcome, Outcome::Ready) {
            termination::write(&termination, "wait", &outcome, timeout);
            hooks::post(hooks);
            exit(outcome.exit_code());
        }
        pause("after every target is ready", after);
        match program {
            None => {
                hooks::post(hooks);
                exit(0)
            }
            Some(program) => start(program, hooks),
        }
    });
    take_signals(&signals, hooks)
}

/// As PID 1 of a PID namespace (a container's entrypoint) rdy supervises
/// the command instead of exec'ing it, as tini does: the kernel drops a
/// signal sent to PID 1 that has no handler for it, so a command exec'd as
/// PID 1 would lose a SIGTERM that arrives before it installs its own
/// handler, and nothing would reap orphans.
fn supervised_as_pid_1(mut program: Program) -> Program {
    if !program.supervise && std::process::id() == 1 {
        program.supervise = true;
        log::debug("rdy is PID 1: the command runs as a supervised child").emit();
    }
    program
}

/// Starts the program: hands it to the signal thread to exec, or starts a
/// supervised child (the signal thread takes over from here, and this
/// thread idles).
fn start(program: &'static Program, hooks: &'static [Http]) -> ! {
    if !program.supervise {
        // exec ends every other thread, and a signal that the signal thread
        // had just taken would die with it: the program would run with the
        // signal lost. The thread that takes the signals execs instead.
        let _ = EXEC.set(program);
        if let Some(&thread) = SIGNAL_THREAD.get() {
            let _ = pthread_kill(thread as Pthread, Signal::SIGCHLD);
        }
        footprint::idle()
    }
    if !CHILD.claim_start() {
        // A signal came first: the signal thread is exiting with 128+N.
        footprint::idle()
    }
    log::info(format_args!("Starting {}", program.name())).emit();
    match program.spawn() {
        Ok(child) => {
            CHILD.started(child.id());
            // The signal thread supervises from here on; this thread only
            // keeps out of the way of the footprint.
            footprint::release_code();
            footprint::idle()
        }
        Err(e) => {
            CHILD.failed();
            cannot_start(program, &e);
            hooks::post(hooks);
            exit(exec::failure_code(&e));
        }
    }
}

/// Replaces rdy with the program, or exits 126/127 when that fails.
fn exec_program(program: &Program) -> ! {
    log::info(format_args!("Starting {}", program.name())).emit();
    let e = program.exec();
    cannot_start(program, &e);
    exit(exec::failure_code(&e))
}

fn cannot_start(program: &Program, e: &std::io::Error) {
    log::error(format_args!("Cannot start {}", program.name()))
        .field("error", exec::failure_text(program, e))
        .field("exit_code", exec::failure_code(e))
        .emit();
}

fn pause(when: &str, duration: Duration) {
    if !duration.is_zero() {
        log::info(format_args!(
            "Sleeping {} {when}",
            rdy::duration::Human(duration)
        ))
        .emit();
        thread::sleep(duration);
    }
}

/// The signal thread: until the worker exits the process, stop on a
/// terminating signal, or, with a supervised child, forward and reap, and
/// post the hooks when the child is gone.
fn take_signals(signals: &Blocked, hooks: &'static [Http]) -> ! {
    loop {
        let received = signals.wait();
        if let (Signal::SIGCHLD, Some(program)) = (received, EXEC.get()) {
            exec_program(program);
        }
        match supervise::on_signal(received, &CHILD) {
            Next::Continue => {}
            Next::Stopped(code) => {
                log::warn(format_args!("Stopped by {}", received.as_str()))
                    .field("exit_code", code)
                    .emit();
                exit(code);
            }
            Next::ChildExited(code) => {
                log::info(format_args!("The command exited"))
                    .field("exit_code", code)
                    .emit();
                finish(signals, hooks, code);
            }
        }
    }
}

/// Posts the hooks on another thread and exits with the child's status when
/// they are done; a terminating signal meanwhile exits at once with the same
/// status, since the pod is being stopped and N hooks could otherwise hold
/// it up for N × `--dial-timeout`. As PID 1, orphans are still reaped.
fn finish(signals: &Blocked, hooks: &'static [Http], code: i32) -> ! {
    if hooks.is_empty() {
        exit(code);
    }
    spawn_worker(move || {
        hooks::post(hooks);
        exit(code)
    });
    loop {
        match signals.wait() {
            Signal::SIGCHLD => supervise::reap_orphans(),
            received if rdy::signal::TERMINATING.contains(&received) => {
                log::warn(format_args!(
                    "Stopped by {} while posting",
                    received.as_str()
                ))
                .field("exit_code", code)
                .emit();
                exit(code);
            }
            _ => {}
        }
    }
}

fn spawn_worker(work: impl FnOnce() + Send + 'static) {
    if let Err(e) = thread::Builder::new().spawn(work) {
        log::error("cannot start a thread").field("error", e).emit();
        exit(1);
    }
}

/// The worker and the signal thread share the run's data until the process
/// exits, so it lives for the rest of the process.
fn leak<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}
