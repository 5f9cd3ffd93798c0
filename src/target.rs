//! A configured target, ready to probe, and how its address may be shown.
//! Target strings are taken apart by the scheme table (cli/scheme.rs).

use std::time::Duration;

use crate::probe::Probe;

/// A fully configured target, ready to probe.
#[derive(Debug)]
pub struct Target {
    /// Display name used in log lines (`--name`, else inferred).
    pub name: String,
    /// The target string as the user wrote it.
    pub address: String,
    /// Time between the starts of two attempts in `rdy wait`.
    pub interval: Duration,
    /// How one attempt is made.
    pub probe: Probe,
}

/// A target string as it may appear in a log line or an error: the query,
/// which may carry a token (`?token=…`), is cut off, and so is the
/// userinfo of a URL (`user:password@`, RFC 3986 §3.2.1).
pub fn redacted(address: &str) -> std::borrow::Cow<'_, str> {
    let (before, query) = match address.split_once('?') {
        Some((before, _)) => (before, "?…"),
        None => (address, ""),
    };
    let userinfo = before.split_once("://").and_then(|(scheme, rest)| {
        let authority = rest.split('/').next().unwrap_or(rest);
        let (_, host) = authority.rsplit_once('@')?;
        Some((scheme, host, &rest[authority.len()..]))
    });
    match (userinfo, query) {
        (Some((scheme, host, path)), _) => format!("{scheme}://…@{host}{path}{query}").into(),
        (None, "") => address.into(),
        (None, _) => format!("{before}{query}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_cut_from_logged_addresses() {
        assert_eq!(
            redacted("https://api/health?token=s3cret"),
            "https://api/health?…"
        );
        assert_eq!(redacted("db:5432"), "db:5432");
        assert_eq!(redacted("http://u:pw@db:80/x?t=1"), "http://…@db:80/x?…");
        assert_eq!(redacted("https://tok@db"), "https://…@db");
        assert_eq!(redacted("http://db/a@b"), "http://db/a@b");
    }
}
