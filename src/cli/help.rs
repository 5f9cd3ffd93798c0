//! `rdy --help` and each command's own page (`rdy wait --help`), rendered
//! from the option table: a page lists exactly the options its command takes.

use std::fmt::Write as _;

use super::flags::{FLAGS, Flag, Id, Kinds, NOT_SERVE, Scope, WAIT_ONLY};
use super::scheme;

const WIDTH: usize = 79;
const INDENT: usize = 8;

/// Which help text to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `rdy --help`: the commands, targets and exit codes.
    Overview,
    /// `rdy wait --help`.
    Wait,
    /// `rdy check --help`.
    Check,
    /// `rdy serve --help`.
    Serve,
}

const OVERVIEW: &str = "\
Wait until dependencies are ready, check them once, or serve their state.

Usage:
  rdy wait  [OPTIONS] TARGET [TARGET OPTIONS]... [-- COMMAND [ARGS]...]
  rdy check [OPTIONS] TARGET [TARGET OPTIONS]...
  rdy serve [--listen ADDR] [OPTIONS] [TARGET [TARGET OPTIONS]...]
  rdy       (with TARGET_ADDRESS or WAIT_HOSTS set: rdy wait)

Options follow the command. rdy wait --help, rdy check --help and
rdy serve --help list the options of each command.
";

const WAIT: &str = "\
Wait until every target is ready, then exit 0 or start COMMAND.

Usage:
  rdy wait [OPTIONS] TARGET [TARGET OPTIONS]... [-- COMMAND [ARGS]...]

Without --supervise rdy execs COMMAND, which keeps rdy's PID and gets its
signals. If the wait fails, COMMAND never runs.
";

const CHECK: &str = "\
Probe every target once and exit 0 if all are ready, else 1.

Usage:
  rdy check [OPTIONS] TARGET [TARGET OPTIONS]...
";

const SERVE: &str = "\
Serve the targets' readiness over HTTP: /self (liveness, never probes),
/all (every target; /all?wait=9s holds a not-ready answer up to 9s),
/ready/NAME, /metrics, and with a Kubernetes configuration
/api/healthz/NS/KIND/NAME and /healthz.

Usage:
  rdy serve [--listen ADDR] [OPTIONS] [TARGET [TARGET OPTIONS]...]
";

const LAYERS: &str = "
Options before the first target are defaults for every target; options
after a target apply to that target only. Each option can also be set by the
environment variable in brackets; options beat variables.
";

const SERVE_TITLE: &str = "
Serve options (RDY_TOKEN sets the token without a file):
";

const EXIT_WAIT: &str = "
Exit codes:
  0 every target ready        1 not ready (--timeout reached)
  2 usage or configuration    3 a target can never become ready
  126 COMMAND cannot be run   127 COMMAND not found
  128+N stopped by signal N (143 for SIGTERM)
  with -- COMMAND: the command's own exit status
";

const EXIT_CHECK: &str = "
Exit codes:
  0 every target ready        1 a target is not ready
  2 usage or configuration    3 a target can never become ready
  128+N stopped by signal N (143 for SIGTERM)
";

const EXIT_SERVE: &str = "
Exit codes:
  2 usage or configuration, or the address cannot be bound
  128+N stopped by signal N (143 for SIGTERM)
";

const EXIT_ALL: &str = "
Exit codes:
  0 every target ready        1 not ready (check failed, wait timed out)
  2 usage or configuration    3 a target can never become ready
  126 COMMAND cannot be run   127 COMMAND not found (rdy wait -- COMMAND)
  128+N stopped by signal N (143 for SIGTERM)
";

const EXAMPLES_WAIT: &str = "
Examples:
  rdy wait --timeout 2m db:5432 https://api/healthz --status 2xx
  rdy wait icmp://10.0.0.1 k8s:deployment/api -- /app --serve
";

const EXAMPLES_CHECK: &str = "
Examples:
  rdy check --dial-timeout 500ms http://localhost:8080/ready
  rdy check -q localhost:5432 k8s:pod/self?container=app
";

const EXAMPLES_SERVE: &str = "
Examples:
  rdy serve --listen :8081 --timeout 3s http://localhost:8080/health \\
      http://localhost:15021/healthz/ready
";

/// The text of one help page.
pub fn text(page: Page) -> String {
    let mut out = format!("rdy {}\n", env!("CARGO_PKG_VERSION"));
    let (intro, exit, examples) = match page {
        Page::Overview => {
            out.push_str(OVERVIEW);
            scheme::targets_help(&mut out, wrap);
            out.push_str(EXIT_ALL);
            return out;
        }
        Page::Wait => (WAIT, EXIT_WAIT, EXAMPLES_WAIT),
        Page::Check => (CHECK, EXIT_CHECK, EXAMPLES_CHECK),
        Page::Serve => (SERVE, EXIT_SERVE, EXAMPLES_SERVE),
    };
    out.push_str(intro);
    scheme::targets_help(&mut out, wrap);
    out.push_str(LAYERS);
    let run = |f: &Flag| f.scope == Scope::Run && takes(page, f.id);
    section(&mut out, "\nRun options:\n", run);
    section(&mut out, "\nTarget options:\n", |f| {
        matches!(f.scope, Scope::Target(_)) && takes(page, f.id)
    });
    if page == Page::Serve {
        section(&mut out, SERVE_TITLE, |f| f.scope == Scope::Serve);
    }
    out.push_str(exit);
    out.push_str(examples);
    out
}

/// Whether the command of `page` takes an option.
fn takes(page: Page, id: Id) -> bool {
    match page {
        Page::Wait | Page::Overview => true,
        Page::Check => !WAIT_ONLY.contains(&id),
        Page::Serve => !WAIT_ONLY.contains(&id) && !NOT_SERVE.contains(&id),
    }
}

fn section(out: &mut String, title: &str, keep: impl Fn(&Flag) -> bool) {
    out.push_str(title);
    for flag in FLAGS.iter().filter(|f| keep(f)) {
        let _ = write!(out, "  {}", synopsis(flag));
        if let Some(env) = flag.env {
            let _ = write!(out, "  [{env}]");
        }
        out.push('\n');
        wrap(out, &help_of(flag), INDENT);
    }
}

/// An option's help with the scheme table's lists filled in.
pub fn help_of(flag: &Flag) -> String {
    flag.help
        .replace("{types}", &scheme::check_types())
        .replace("{tls}", &scheme::applies_to(Kinds::Tls))
}

/// `-i, --interval DUR` as written in help and in the README.
pub fn synopsis(flag: &Flag) -> String {
    let mut s = match flag.short {
        Some(c) => format!("-{c}, --{}", flag.long),
        None => format!("    --{}", flag.long),
    };
    if let Some(value) = flag.value {
        s.push(' ');
        s.push_str(value);
    }
    s
}

/// Appends `text` wrapped at [`WIDTH`], every line indented by `indent`.
fn wrap(out: &mut String, text: &str, indent: usize) {
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.len() > WIDTH {
            out.push('\n');
            column = 0;
        }
        if column == 0 {
            out.push_str(&" ".repeat(indent));
            column = indent;
        } else {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.chars().count();
    }
    out.push('\n');
}
