//! Entry point: parse, dispatch, map the outcome to an exit code.
//!
//! Two threads matter. The main thread blocks the signals before anything
//! else and then only takes them with `sigwait` (see signal.rs); a worker
//! thread does the work and exits the process with its outcome. As a
//! supervisor the main thread also forwards signals and reaps children.

use std::process::exit;
use std::thread;
use std::time::Duration;

use nix::sys::signal::Signal;
use rdy::cli::{self, Command, Run};
use rdy::exec::{self, Program};
use rdy::probe::http::Http;
use rdy::signal::Blocked;
use rdy::supervise::{self, ChildSlot, Next};
use rdy::wait::{self, Outcome};
use rdy::{footprint, hooks, log};

/// The supervised child, shared by the worker and the signal thread.
static CHILD: ChildSlot = ChildSlot::new();

fn main() {
    // Before any thread exists, so every thread inherits the mask and the
    // signals reach only the `sigwait` of this thread.
    let signals = Blocked::terminating();
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
        Command::Help => print!("{}", cli::help::text()),
        Command::Version => println!("rdy {}", env!("CARGO_PKG_VERSION")),
        Command::Check(run) => check(signals, run),
        Command::Wait(run) => wait(signals, run),
        Command::Serve(run, settings) => rdy::serve::run(signals, run, *settings),
    }
}

fn check(signals: Blocked, run: Run) -> ! {
    log::init(run.log);
    let targets = leak(run.targets);
    let timeout = run.timeout;
    spawn_worker(move || exit(wait::check(targets, timeout).exit_code()));
    take_signals(&signals, &[])
}

fn wait(signals: Blocked, run: Run) -> ! {
    log::init(run.log);
    let supervising = run.program.as_ref().is_some_and(|p| p.supervise);
    let signals = match supervising {
        true => signals.also(&supervise::FORWARDED).also(&[Signal::SIGCHLD]),
        false => signals,
    };
    let targets = leak(run.targets);
    let hooks = leak(run.hooks);
    let (timeout, before, after, program) = (run.timeout, run.before, run.after, run.program);
    spawn_worker(move || {
        pause("before checking", before);
        let outcome = wait::wait(targets, timeout);
        if !matches!(outcome, Outcome::Ready) {
            hooks::post(hooks);
            exit(outcome.exit_code());
        }
        pause("after every target is ready", after);
        match program {
            None => {
                hooks::post(hooks);
                exit(0)
            }
            Some(program) => start(&program, hooks),
        }
    });
    take_signals(&signals, hooks)
}

/// Starts the program: exec, or a supervised child (the signal thread takes
/// over from here, and this thread idles).
fn start(program: &Program, hooks: &'static [Http]) -> ! {
    log::info(format_args!("Starting {}", program.name())).emit();
    if !program.supervise {
        let e = program.exec();
        cannot_start(program, &e);
        exit(exec::failure_code(&e));
    }
    CHILD.starting();
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

fn cannot_start(program: &Program, e: &std::io::Error) {
    log::error(format_args!("Cannot start {}", program.name()))
        .field("error", exec::failure_text(e))
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
                hooks::post(hooks);
                exit(code);
            }
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
