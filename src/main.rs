//! Entry point: parse, dispatch, map the outcome to an exit code.

use std::process::exit;
use std::thread;

use rdy::cli::{self, Command, Run};
use rdy::signal::{self, Blocked};
use rdy::{log, wait};

fn main() {
    // Before any thread exists, so every thread inherits the mask and the
    // signals reach only the `sigwait` below (see signal.rs).
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
        Command::Wait(run) => run_until_signal(signals, run, wait::wait),
        Command::Check(run) => run_until_signal(signals, run, wait::check),
    }
}

/// Runs `work` on a worker thread, which exits the process with its
/// outcome, while this thread waits for a terminating signal and exits with
/// 128+N the moment one arrives, whatever the worker is blocked in.
fn run_until_signal(
    signals: Blocked,
    run: Run,
    work: fn(&'static [rdy::target::Target], Option<std::time::Duration>) -> wait::Outcome,
) -> ! {
    log::init(run.log);
    let targets: &'static [rdy::target::Target] = Box::leak(run.targets.into_boxed_slice());
    let timeout = run.timeout;
    let spawned = thread::Builder::new().spawn(move || {
        let outcome = work(targets, timeout);
        exit(outcome.exit_code());
    });
    if let Err(e) = spawned {
        log::error("cannot start").field("error", e).emit();
        exit(1);
    }
    let received = signals.wait();
    log::warn(format_args!("Stopped by {}", received.as_str()))
        .field("exit_code", signal::exit_code(received))
        .emit();
    exit(signal::exit_code(received));
}
