//! One line per event on stderr, as logfmt (the default, compatible with
//! PortPatrol's `slog` text output) or JSON.
//!
//! Each line is formatted into one buffer and written with a single `write`,
//! so lines from parallel probes never interleave.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::json::write as json;
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
        let _ = write_head(&mut self.buf, self.config.format, level);
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
        let _ = write_field(&mut self.buf, self.config.format, key, &value);
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

/// Writes a line from a signal handler, where nothing may allocate or take
/// a lock: the line is rendered into a buffer on the stack (core::fmt
/// neither allocates nor locks) and written with one `write(2)`, which is
/// async-signal-safe. Fields are integers, the only values such a line
/// needs; a line longer than the buffer is dropped.
pub fn emit_from_signal_handler(level: Level, msg: &str, key: &str, value: i32) {
    let config = config();
    if level < config.level {
        return;
    }
    let mut line = StackLine {
        buf: [0; 256],
        len: 0,
    };
    let mut number = StackLine {
        buf: [0; 256],
        len: 0,
    };
    let rendered = write_head(&mut line, config.format, level)
        .and_then(|()| write_field(&mut line, config.format, "msg", msg))
        .and_then(|()| write!(number, "{value}"))
        .and_then(|()| write_field(&mut line, config.format, key, number.text()))
        .and_then(|()| match config.format {
            Format::Logfmt => line.write_str("\n"),
            Format::Json => line.write_str("}\n"),
        });
    if rendered.is_ok() {
        // SAFETY: the pointer and length describe the rendered part of
        // `line.buf`.
        unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
    }
}

/// A fixed buffer for [`emit_from_signal_handler`].
struct StackLine {
    buf: [u8; 256],
    len: usize,
}

impl StackLine {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackLine {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The start of every line: time and level.
fn write_head(out: &mut impl fmt::Write, format: Format, level: Level) -> fmt::Result {
    let ts = Timestamp(SystemTime::now());
    match format {
        Format::Logfmt => write!(out, "ts={ts} level={}", level.name()),
        Format::Json => write!(out, "{{\"ts\":\"{ts}\",\"level\":\"{}\"", level.name()),
    }
}

/// One `key=value` (logfmt) or `,"key":"value"` (JSON) field.
fn write_field(out: &mut impl fmt::Write, format: Format, key: &str, value: &str) -> fmt::Result {
    match format {
        Format::Logfmt => {
            write!(out, " {key}=")?;
            write_logfmt_value(out, value)
        }
        Format::Json => {
            out.write_char(',')?;
            json::string(out, key)?;
            out.write_char(':')?;
            if NUMBERS.contains(&key) && is_integer(value) {
                out.write_str(value)
            } else {
                json::string(out, value)
            }
        }
    }
}

/// logfmt quotes a value when it is empty or contains a space, `=`, `"` or
/// a control character; inside quotes `"` and `\` are escaped as in Go's
/// `strconv.Quote`, which is what slog's text handler uses.
fn write_logfmt_value(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    let needs_quotes = value.is_empty()
        || value
            .chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control());
    if !needs_quotes {
        return out.write_str(value);
    }
    out.write_char('"')?;
    for c in value.chars() {
        json::escape_char(out, c)?;
    }
    out.write_char('"')
}

/// An integer as JSON writes it (RFC 8259 §6): no leading zero, no plus.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `text` with its control characters (and `\\`, so an escape reads back
/// as one) escaped as in a log line: for text from a server that goes
/// somewhere other than a log line (the termination message).
pub fn escape_controls(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            c if c == '\\' || c.is_control() => json::escape_char(out, c)?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quotes_only_when_needed() {
        let mut s = String::new();
        for value in ["refused", "connection refused", "say \"hi\"\n", ""] {
            write_logfmt_value(&mut s, value).unwrap();
            s.push(' ');
        }
        s.pop();
        assert_eq!(s, r#"refused "connection refused" "say \"hi\"\n" """#);
    }

    #[test]
    fn counts_and_codes_are_json_numbers() {
        assert!(is_integer("0") && is_integer("143") && is_integer("-1"));
        assert!(!is_integer("") && !is_integer("01") && !is_integer("+1") && !is_integer("1.5"));
    }
}
