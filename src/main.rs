//! Entry point: parse, dispatch, map the outcome to an exit code.
//!
//! `wait` and `serve` use two threads. The main thread blocks the signals
//! before anything else and then only takes them with `sigwait` (see
//! signal.rs); a worker thread does the work and exits the process with its
//! outcome. `check` stays on the main thread and exits from a signal
//! handler. The main
//! thread also execs the program when the worker hands it over, and as a
//! supervisor forwards signals and reaps children.

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::exit;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use nix::sys::pthread::{Pthread, pthread_kill, pthread_self};
use nix::sys::signal::Signal;
use rdy::cli::{self, Command, Run};
use rdy::exec::{self, Program};
use rdy::probe::http::Http;
use rdy::signal::{Blocked, FORWARDED};
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

/// The process entry point, called by musl's `__libc_start_main` in place of
/// std's `lang_start`. rdy does itself the two things of `lang_start` it
/// needs (ignore SIGPIPE; make sure fds 0–2 are open) and leaves out the
/// third: an alternate signal stack and SIGSEGV handler that only word a
/// stack overflow, nine system calls and a mapping on every start of a
/// one-millisecond check. Without `lang_start` std has no arguments on musl,
/// so they are taken from `argv` here.
#[unsafe(no_mangle)]
extern "C" fn main(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> libc::c_int {
    // SAFETY: the C runtime passes `argc` NUL-terminated strings in `argv`,
    // and the environment block, which nothing in rdy changes, in `envp`.
    let (args, environment) = unsafe { (arguments(argc, argv), Environment::split(envp)) };
    rdy::signal::ignore_sigpipe();
    keep_standard_fds_open();
    run(args, &environment)
}

/// The environment, split once into names and values. The option table asks
/// for some fifty variables, and musl's `getenv` calls `strncmp` on every
/// entry for each: half the instructions of a TCP check went there. Here a
/// lookup compares lengths first, which rules out almost every entry. The
/// entries are borrowed from the process's environment block, which rdy
/// never changes, so nothing is copied.
struct Environment(Vec<(&'static [u8], &'static [u8])>);

impl Environment {
    /// Splits `envp`, the NULL-terminated array of `NAME=value` strings the
    /// C runtime passes to `main`.
    ///
    /// # Safety
    /// `envp` must be the process's environment block, unchanged for the
    /// rest of the process.
    unsafe fn split(envp: *const *const libc::c_char) -> Environment {
        let mut entries = Vec::with_capacity(64);
        for i in 0.. {
            // SAFETY: the array ends with a NULL entry (see above).
            let entry = unsafe { *envp.add(i) };
            if entry.is_null() {
                break;
            }
            // SAFETY: each entry is a NUL-terminated string that lives as
            // long as the process.
            let bytes = unsafe { std::ffi::CStr::from_ptr(entry) }.to_bytes();
            if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
                entries.push((&bytes[..eq], &bytes[eq + 1..]));
            }
        }
        Environment(entries)
    }

    /// A variable's value, the first entry of that name as with `getenv`;
    /// unset and non-UTF-8 are `None`, as with `std::env::var(name).ok()`.
    fn get(&self, name: &str) -> Option<String> {
        let (_, value) = self.0.iter().find(|(key, _)| *key == name.as_bytes())?;
        std::str::from_utf8(value).ok().map(str::to_owned)
    }
}

/// `argv[1..]` as OS strings.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings.
unsafe fn arguments(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    (1..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: i < argc, and each entry is a C string (see above).
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect()
}

/// Opens /dev/null on fds 0–2 if any is closed, as std's start-up does: a
/// socket must never become fd 2 and receive the log lines.
fn keep_standard_fds_open() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pollfd in fds {
        if pollfd.revents & libc::POLLNVAL != 0 {
            // SAFETY: a constant path; the new fd takes the lowest free
            // number, the closed standard one.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

fn run(args: Vec<OsString>, environment: &Environment) -> ! {
    // Before any thread exists, so every thread inherits the mask and the
    // signals reach only the `sigwait` of this thread.
    let signals = Blocked::terminating();
    let _ = SIGNAL_THREAD.set(pthread_self() as usize);
    let env = |name: &str| environment.get(name);
    let command = match cli::parse(args, &env) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("rdy: {e}");
            exit(2);
        }
    };
    match command {
        Command::Help(page) => {
            print!("{}", cli::help::text(page));
            exit(0)
        }
        Command::Version => {
            println!("rdy {}", env!("CARGO_PKG_VERSION"));
            exit(0)
        }
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
        .map(|p| &*Box::leak(Box::new(supervise::as_pid_1(p))));
    let signals = match program {
        Some(p) if p.supervise => signals.also(&FORWARDED).also(&[Signal::SIGCHLD]),
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
