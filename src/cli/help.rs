//! `rdy --help`, rendered from the option table.

use std::fmt::Write as _;

use super::flags::{FLAGS, Flag, Scope};

const WIDTH: usize = 79;
const INDENT: usize = 8;

const INTRO: &str = "\
Wait until dependencies are ready, check them once, or serve their state.

Usage:
  rdy wait  [OPTIONS] TARGET [TARGET OPTIONS]... [-- COMMAND [ARGS]...]
  rdy check [OPTIONS] TARGET [TARGET OPTIONS]...
  rdy serve [--listen ADDR] [OPTIONS] TARGET [TARGET OPTIONS]...
  rdy       (with TARGET_ADDRESS set: PortPatrol-compatible wait)

Targets:
  tcp://HOST:PORT, HOST:PORT   ready when a TCP connection is accepted
  http://URL, https://URL      ready when the status is expected (200)
  icmp://HOST                  ready when an echo reply comes back
  postgres://HOST[:5432]       ready when it answers a login (pg_isready's
                               rule); ?user=U&dbname=D&sslmode=MODE
  mysql://HOST[:3306]          ready when a login is answered (OK or access
                               denied); never counts toward max_connect_errors
  redis://HOST[:6379]          ready when PING answers PONG (or NOAUTH);
  rediss://HOST[:6379]         LOADING, BUSY, MASTERDOWN are not ready;
                               password: REDISCLI_AUTH or ?password_file=FILE

Options before the first target are defaults for every target; options
after a target apply to that target only. Each option can also be set by the
environment variable in brackets; options beat variables.
";

const SERVE_TITLE: &str = "
Serve options (rdy serve only; endpoints: /self, /all, /ready/NAME, /metrics;
RDY_TOKEN sets the token without a file):
";

const OUTRO: &str = "
Exit codes:
  0 every target ready        1 not ready (check failed, wait timed out)
  2 usage or configuration    3 a target can never become ready
  128+N stopped by signal N (143 for SIGTERM)

Examples:
  rdy wait --timeout 2m db:5432 https://api/healthz --status 2xx
  rdy check --dial-timeout 500ms http://localhost:8080/ready
  rdy wait icmp://10.0.0.1 -- /app --serve
  rdy serve --listen :8081 --timeout 3s http://localhost:8080/health \\
      http://localhost:15021/healthz/ready
";

/// The full help text.
pub fn text() -> String {
    let mut out = format!("rdy {}\n{INTRO}", env!("CARGO_PKG_VERSION"));
    section(&mut out, "\nRun options:\n", |f| f.scope == Scope::Run);
    section(&mut out, "\nTarget options:\n", |f| {
        matches!(f.scope, Scope::Target(_))
    });
    section(&mut out, SERVE_TITLE, |f| f.scope == Scope::Serve);
    out.push_str(OUTRO);
    out
}

fn section(out: &mut String, title: &str, keep: impl Fn(&Flag) -> bool) {
    out.push_str(title);
    for flag in FLAGS.iter().filter(|f| keep(f)) {
        let _ = write!(out, "  {}", synopsis(flag));
        if let Some(env) = flag.env {
            let _ = write!(out, "  [{env}]");
        }
        out.push('\n');
        wrap(out, flag.help);
    }
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

fn wrap(out: &mut String, text: &str) {
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.len() > WIDTH {
            out.push('\n');
            column = 0;
        }
        if column == 0 {
            out.push_str(&" ".repeat(INDENT));
            column = INDENT;
        } else {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.chars().count();
    }
    out.push('\n');
}
