//! The set of HTTP status codes that count as ready: `200`, `200,300-302`,
//! `2xx,3xx`.

use std::fmt;

/// What a status list may look like; quoted in error messages.
pub const ACCEPTED: &str = "status codes 100-599 as a comma list of codes, \
                            ranges and classes, e.g. 200 or 200,300-302 or 2xx,3xx";

/// Accepted status codes as a bitmap over 100..=599, with the text the user
/// wrote kept for messages (`status 503, expected 2xx`).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet {
    bits: [u64; 8],
    text: String,
}

/// The list was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStatus;

impl StatusSet {
    /// Parses a comma list of codes (`204`), inclusive ranges (`300-302`) and
    /// classes (`2xx`). Blanks around items are ignored; empty items are not.
    pub fn parse(text: &str) -> Result<StatusSet, InvalidStatus> {
        let mut set = StatusSet {
            bits: [0; 8],
            text: text.trim().to_owned(),
        };
        for item in text.split(',') {
            let (low, high) = parse_item(item.trim())?;
            for code in low..=high {
                set.insert(code);
            }
        }
        Ok(set)
    }

    /// Whether `code` is accepted.
    pub fn contains(&self, code: u16) -> bool {
        match code.checked_sub(100) {
            Some(i) if i < 500 => self.bits[usize::from(i / 64)] & (1 << (i % 64)) != 0,
            _ => false,
        }
    }

    fn insert(&mut self, code: u16) {
        let i = code - 100;
        self.bits[usize::from(i / 64)] |= 1 << (i % 64);
    }
}

impl Default for StatusSet {
    /// `200`, PortPatrol's default.
    fn default() -> StatusSet {
        StatusSet::parse("200").unwrap_or_else(|_| unreachable!("200 is a valid status list"))
    }
}

fn parse_item(item: &str) -> Result<(u16, u16), InvalidStatus> {
    if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
        let digit = match class.as_bytes() {
            [d @ b'1'..=b'5'] => u16::from(d - b'0'),
            _ => return Err(InvalidStatus),
        };
        return Ok((digit * 100, digit * 100 + 99));
    }
    let (low, high) = match item.split_once('-') {
        Some((low, high)) => (code(low.trim())?, code(high.trim())?),
        None => {
            let c = code(item)?;
            (c, c)
        }
    };
    if low > high {
        return Err(InvalidStatus);
    }
    Ok((low, high))
}

fn code(text: &str) -> Result<u16, InvalidStatus> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidStatus);
    }
    match text.parse() {
        Ok(c @ 100..=599) => Ok(c),
        _ => Err(InvalidStatus),
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusSet({:?})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_ranges_and_classes() {
        let set = StatusSet::parse("200, 300-302,4xx").unwrap();
        for ok in [200, 300, 301, 302, 400, 451, 499] {
            assert!(set.contains(ok), "{ok}");
        }
        for no in [0, 99, 100, 201, 299, 303, 500, 599, 600, 65535] {
            assert!(!set.contains(no), "{no}");
        }
        assert!(StatusSet::default().contains(200));
        assert!(!StatusSet::default().contains(204));
        let all = StatusSet::parse("100-599").unwrap();
        assert!(all.contains(100) && all.contains(599));
    }

    #[test]
    fn rejects_malformed_lists() {
        for bad in [
            "",
            "2",
            "20",
            "2000",
            "600",
            "099",
            "abc",
            "200,",
            ",200",
            "302-300",
            "6xx",
            "0xx",
            "2x",
            "200-",
            "-200",
            "200-300-400",
            "+200",
            "２00",
        ] {
            assert_eq!(StatusSet::parse(bad), Err(InvalidStatus), "{bad:?}");
        }
    }
}
