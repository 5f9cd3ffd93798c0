//! One line per event on stderr, as logfmt (the default, compatible with
//! PortPatrol's `slog` text output) or JSON.
//!
//! Each line is formatted into one buffer and written with a single `write`,
//! so lines from parallel probes never interleave.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::timestamp::Timestamp;

/// How lines are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `ts=… level=INFO msg="…" key=value`
    #[default]
    Logfmt,
    /// `{"ts":"…","level":"INFO","msg":"…","key":"value"}`
    Json,
}

/// Severity; lines below the configured level are dropped before formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    /// Diagnostics such as access logs and socket kinds.
    Debug,
    /// Progress a user wants to see by default.
    #[default]
    Info,
    /// A target that is not ready yet.
    Warn,
    /// The run failed; kept even with `-q`.
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Logger settings chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Line format.
    pub format: Format,
    /// Lowest level written.
    pub level: Level,
    /// Whether fields added with [`Line::extra`] are written
    /// (`LOG_EXTRA_FIELDS`, `-v`).
    pub extra_fields: bool,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Fields whose values are counts or codes: JSON lines write them as
/// numbers (`"exit_code":1`), as slog's JSON handler does for integers.
/// Durations keep their unit and stay strings (`"retry_in":"838ms"`).
const NUMBERS: [&str; 7] = [
    "exit_code",
    "status",
    "attempt",
    "targets",
    "workers",
    "max_connections",
    "open_file_limit",
];

/// Sets the process-wide logger configuration; the first call wins.
pub fn init(config: Config) {
    let _ = CONFIG.set(config);
}

fn config() -> Config {
    CONFIG.get().copied().unwrap_or_default()
}

/// Starts a debug line.
pub fn debug(msg: impl fmt::Display) -> Line {
    Line::new(Level::Debug, msg)
}

/// Starts an info line.
pub fn info(msg: impl fmt::Display) -> Line {
    Line::new(Level::Info, msg)
}

/// Starts a warning line.
pub fn warn(msg: impl fmt::Display) -> Line {
    Line::new(Level::Warn, msg)
}

/// Starts an error line.
pub fn error(msg: impl fmt::Display) -> Line {
    Line::new(Level::Error, msg)
}

/// A line being built; nothing is written until [`Line::emit`].
///
/// A line whose level is filtered out does no formatting at all, so debug
/// lines cost nothing on the hot path of `rdy check` and `rdy serve`.
#[must_use = "a log line is only written by emit()"]
pub struct Line {
    config: Config,
    enabled: bool,
    buf: String,
}

impl Line {
    fn new(level: Level, msg: impl fmt::Display) -> Line {
        let config = config();
        let enabled = level >= config.level;
        let mut line = Line {
            config,
            enabled,
            buf: String::new(),
        };
        if enabled {
            line.start(level, msg);
        }
        line
    }

    fn start(&mut self, level: Level, msg: impl fmt::Display) {
        let ts = Timestamp(SystemTime::now());
        match self.config.format {
            Format::Logfmt => {
                let _ = write!(self.buf, "ts={ts} level={}", level.name());
            }
            Format::Json => {
                let _ = write!(self.buf, "{{\"ts\":\"{ts}\",\"level\":\"{}\"", level.name());
            }
        }
        self.push("msg", msg);
    }

    /// Adds a field that is always written.
    pub fn field(mut self, key: &str, value: impl fmt::Display) -> Line {
        if self.enabled {
            self.push(key, value);
        }
        self
    }

    /// Adds a field written only when extra fields are on (`-v`,
    /// `LOG_EXTRA_FIELDS=true`).
    pub fn extra(self, key: &str, value: impl fmt::Display) -> Line {
        if self.config.extra_fields {
            self.field(key, value)
        } else {
            self
        }
    }

    /// Whether this line will be written; lets callers skip building
    /// expensive fields.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn push(&mut self, key: &str, value: impl fmt::Display) {
        let value = value.to_string();
        match self.config.format {
            Format::Logfmt => {
                self.buf.push(' ');
                self.buf.push_str(key);
                self.buf.push('=');
                write_logfmt_value(&mut self.buf, &value);
            }
            Format::Json => {
                self.buf.push(',');
                write_json_string(&mut self.buf, key);
                self.buf.push(':');
                if NUMBERS.contains(&key) && is_integer(&value) {
                    self.buf.push_str(&value);
                } else {
                    write_json_string(&mut self.buf, &value);
                }
            }
        }
    }

    /// Writes the line to stderr.
    pub fn emit(mut self) {
        if !self.enabled {
            return;
        }
        if self.config.format == Format::Json {
            self.buf.push('}');
        }
        self.buf.push('\n');
        // One write per line; stderr is unbuffered in Rust. A failed write
        // (closed stderr) must never stop a probe, so it is ignored.
        let _ = std::io::stderr().lock().write_all(self.buf.as_bytes());
    }
}

/// logfmt quotes a value when it is empty or contains a space, `=`, `"` or
/// a control character; inside quotes `"` and `\` are escaped as in Go's
/// `strconv.Quote`, which is what slog's text handler uses.
fn write_logfmt_value(out: &mut String, value: &str) {
    let needs_quotes = value.is_empty()
        || value
            .chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control());
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        escape_char(out, c);
    }
    out.push('"');
}

/// An integer as JSON writes it (RFC 8259 §6): no leading zero, no plus.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// JSON string per RFC 8259 §7.
pub fn write_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        escape_char(out, c);
    }
    out.push('"');
}

/// The escapes shared by JSON strings and quoted logfmt values.
fn escape_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quotes_only_when_needed() {
        let mut s = String::new();
        write_logfmt_value(&mut s, "refused");
        s.push(' ');
        write_logfmt_value(&mut s, "connection refused");
        s.push(' ');
        write_logfmt_value(&mut s, "say \"hi\"\n");
        s.push(' ');
        write_logfmt_value(&mut s, "");
        assert_eq!(s, r#"refused "connection refused" "say \"hi\"\n" """#);
    }

    #[test]
    fn counts_and_codes_are_json_numbers() {
        assert!(is_integer("0") && is_integer("143") && is_integer("-1"));
        assert!(!is_integer("") && !is_integer("01") && !is_integer("+1") && !is_integer("1.5"));
    }

    #[test]
    fn json_escapes_controls() {
        let mut s = String::new();
        write_json_string(&mut s, "a\"b\\c\u{1}✓");
        assert_eq!(s, r#""a\"b\\c\u0001✓""#);
    }
}
