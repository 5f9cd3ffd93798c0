//! Durations as users write them: `1500ms`, `2s`, `1m30s`, `1h`, `0.5s`, or a
//! bare number of seconds.
//!
//! The unit-suffixed form is Go's `time.ParseDuration` grammar (without signs),
//! because PortPatrol's `CHECK_INTERVAL`/`DIAL_TIMEOUT` values were parsed by
//! it; the bare number is what docker-compose-wait and wait-for-it users type.

use std::fmt;
use std::time::Duration;

/// What a duration value may look like; quoted in every error message.
pub const ACCEPTED: &str = "a duration such as 1500ms, 2s, 1m30s, 1h, or a number of seconds";

/// The value was not a duration; the caller names the flag or variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidDuration;

/// Parses a duration. Every unit of Go's grammar is accepted (`ns`, `us`, `µs`,
/// `ms`, `s`, `m`, `h`), as are decimal fractions (`1.5s`).
pub fn parse(text: &str) -> Result<Duration, InvalidDuration> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidDuration);
    }
    if let Some(seconds) = parse_number(text) {
        return scaled(seconds, 1_000_000_000);
    }
    let mut rest = text;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or(InvalidDuration)?;
        let number = parse_number(&rest[..digits]).ok_or(InvalidDuration)?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = unit_nanos(&rest[..unit_len]).ok_or(InvalidDuration)?;
        rest = &rest[unit_len..];
        total += to_nanos(number, nanos_per_unit).ok_or(InvalidDuration)?;
    }
    from_nanos(total)
}

/// A decimal number split into its integer part and its fraction digits.
#[derive(Debug, Clone, Copy)]
struct Number<'a> {
    whole: u64,
    fraction: &'a str,
}

fn parse_number(text: &str) -> Option<Number<'_>> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    Some(Number { whole, fraction })
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        _ => return None,
    })
}

fn to_nanos(number: Number<'_>, nanos_per_unit: u128) -> Option<u128> {
    let mut nanos = u128::from(number.whole).checked_mul(nanos_per_unit)?;
    let mut scale = nanos_per_unit;
    // Digits beyond nanosecond precision are dropped, as Go does.
    for digit in number.fraction.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        nanos += u128::from(digit - b'0') * scale;
    }
    Some(nanos)
}

fn scaled(number: Number<'_>, nanos_per_unit: u128) -> Result<Duration, InvalidDuration> {
    from_nanos(to_nanos(number, nanos_per_unit).ok_or(InvalidDuration)?)
}

fn from_nanos(nanos: u128) -> Result<Duration, InvalidDuration> {
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| InvalidDuration)?;
    // Anything near u64::MAX seconds overflows `Instant` arithmetic later.
    if secs > 100 * 365 * 86_400 {
        return Err(InvalidDuration);
    }
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// Formats a duration the way it was most likely written: `500ms`, `2s`,
/// `1.5s`, `1m30s`, `1h`.
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            return f.write_str("0s");
        }
        if d < Duration::from_secs(1) {
            let micros = d.as_micros();
            return if micros.is_multiple_of(1000) {
                write!(f, "{}ms", micros / 1000)
            } else {
                write!(f, "{micros}us")
            };
        }
        let secs = d.as_secs();
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        let millis = d.subsec_millis();
        match (s, millis) {
            (0, 0) => Ok(()),
            (s, 0) => write!(f, "{s}s"),
            (s, ms) => {
                let frac = format!("{ms:03}");
                write!(f, "{s}.{}s", frac.trim_end_matches('0'))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("1500ms"), Ok(ms(1500)));
        assert_eq!(parse("2s"), Ok(ms(2000)));
        assert_eq!(parse("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse("30"), Ok(ms(30_000)));
        assert_eq!(parse("0.5"), Ok(ms(500)));
        assert_eq!(parse("1.5s"), Ok(ms(1500)));
        assert_eq!(parse(".5s"), Ok(ms(500)));
        assert_eq!(parse("1h2m3s4ms"), Ok(ms(3_723_004)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse(" 2s "), Ok(ms(2000)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            " ",
            "s",
            "2x",
            "-1s",
            "+1s",
            "1.2.3s",
            "2 s",
            "1d",
            "ms",
            "1s2",
            ".",
            "1e3",
            "99999999999999999999h",
            "2S",
            "１s",
        ] {
            assert_eq!(parse(bad), Err(InvalidDuration), "{bad:?}");
        }
    }

    #[test]
    fn formats_as_written() {
        assert_eq!(Human(ms(500)).to_string(), "500ms");
        assert_eq!(Human(ms(2000)).to_string(), "2s");
        assert_eq!(Human(ms(1500)).to_string(), "1.5s");
        assert_eq!(Human(ms(90_000)).to_string(), "1m30s");
        assert_eq!(Human(ms(3_600_000)).to_string(), "1h");
        assert_eq!(Human(Duration::ZERO).to_string(), "0s");
        assert_eq!(Human(Duration::from_micros(1500)).to_string(), "1500us");
    }
}
