//! JSON text out (RFC 8259 §7): the strings of log lines, `rdy serve`'s
//! bodies and the cluster of an exec credential plugin. The reader is in
//! json.rs; log.rs only lays out lines.

use std::fmt;

/// Appends `value` as a JSON string.
pub fn write_string(out: &mut String, value: &str) {
    // Writing to a String cannot fail.
    let _ = string(out, value);
}

/// Writes `value` as a JSON string.
pub fn string(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in value.chars() {
        escape_char(out, c)?;
    }
    out.write_char('"')
}

/// The escapes shared by JSON strings and quoted logfmt values.
pub fn escape_char(out: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '"' => out.write_str("\\\""),
        '\\' => out.write_str("\\\\"),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if c.is_control() => write!(out, "\\u{:04x}", c as u32),
        c => out.write_char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_controls() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\u{1}✓");
        assert_eq!(s, r#""a\"b\\c\u0001✓""#);
    }
}
