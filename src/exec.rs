//! Starting the application once every target is ready: `exec` by default,
//! so the application keeps rdy's PID and receives signals directly, or a
//! child process under `--supervise`.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

use crate::signal;
use crate::signal::FORWARDED;

/// The command after `--` (or in `WAIT_COMMAND`).
#[derive(Debug, Clone)]
pub struct Program {
    /// Program and arguments; never empty.
    pub argv: Vec<OsString>,
    /// Run as a child instead of replacing rdy.
    pub supervise: bool,
}

impl Program {
    /// The program as named on the command line, for log lines. Arguments
    /// are never logged: they may carry secrets.
    pub fn name(&self) -> Cow<'_, str> {
        self.argv
            .first()
            .map_or(Cow::Borrowed(""), |a| a.to_string_lossy())
    }

    fn command(&self) -> Command {
        // `PATH` lookup is execvp's, as a shell does it. std resets only
        // SIGPIPE; the signal mask is inherited, hence `unblock_all`.
        let (program, args) = match self.argv.split_first() {
            Some((program, args)) => (program.as_os_str(), args),
            None => ("".as_ref(), &[][..]),
        };
        let mut command = Command::new(program);
        command.args(args);
        command
    }

    /// Replaces rdy with the program; returns only if that failed.
    ///
    /// rdy blocks its signals (see signal.rs) and the mask survives exec,
    /// so it is cleared first; a signal pending at that moment then ends
    /// rdy by its default action, and the program never starts. Called on
    /// the thread that takes the signals, so that none is taken and then
    /// lost as exec ends the other threads.
    pub fn exec(&self) -> io::Error {
        if let Err(e) = signal::unblock_all() {
            return e;
        }
        self.command().exec()
    }

    /// Starts the program as a child with an empty signal mask and the
    /// signals rdy forwards at their default action (see
    /// [`signal::default_actions`]). Both are set in the child only: the
    /// calling thread must keep the signals blocked, or one could end rdy
    /// instead of being forwarded.
    pub fn spawn(&self) -> io::Result<Child> {
        let mut command = self.command();
        // SAFETY: the closure only calls sigaction and pthread_sigmask,
        // which are async-signal-safe, as code between fork and exec must be.
        unsafe {
            command.pre_exec(|| {
                signal::default_actions(&FORWARDED)?;
                signal::unblock_all()
            });
        }
        command.spawn()
    }
}

/// The exit code a shell gives a command it cannot run: 127 when it does
/// not exist, 126 when it exists but cannot be executed.
pub fn failure_code(e: &io::Error) -> i32 {
    match e.kind() {
        io::ErrorKind::NotFound => 127,
        _ => 126,
    }
}

/// How a failure to start is described, in a shell's words. `execve`
/// reports ENOENT also for a file that exists when its interpreter does not
/// (the ELF loader of a dynamically linked program in a `FROM scratch`
/// image, or a `#!` line), so a path that exists gets that explanation.
pub fn failure_text(program: &Program, e: &io::Error) -> String {
    let path = program.argv.first().map(Path::new);
    let exists = path.is_some_and(|p| p.components().count() > 1 && p.is_file());
    match e.kind() {
        io::ErrorKind::NotFound if exists => {
            "required file not found: its interpreter (ELF loader or #! line) is missing".to_owned()
        }
        io::ErrorKind::NotFound => "command not found".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => crate::os_error::words(e).to_string(),
    }
}
