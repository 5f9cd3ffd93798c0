//! Access control: one shared token, from `--token-file` (re-read when the
//! file changes, as a rotated Kubernetes Secret does) or `RDY_TOKEN`.
//!
//! The token is accepted as `Authorization: Bearer T`, as the seed's raw
//! `Authorization: Basic T`, or as `?token=T`. It is compared in constant
//! time and never logged: the access log writes the path without its query.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::log;
use crate::percent;
use crate::{os_error, secret_file};

/// How often a token file is looked at again (one `stat`); a rotation is
/// in force at most this long after the file changes.
const RECHECK: Duration = Duration::from_secs(1);

/// Where the token comes from.
#[derive(Debug)]
pub enum Token {
    /// `RDY_TOKEN`.
    Fixed(Vec<u8>),
    /// `--token-file`.
    File(TokenFile),
}

/// A token file and the token last read from it.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    token: Vec<u8>,
    stamp: Stamp,
    checked: Instant,
}

/// What tells a changed file apart: a Secret volume swaps a symlink, so the
/// inode changes; an edit in place changes size or modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

/// Why a token file cannot be used.
#[derive(Debug)]
pub enum TokenError {
    /// It cannot be read.
    Unreadable(io::Error),
    /// It holds nothing but white space.
    Empty,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Unreadable(e) => {
                write!(f, "cannot read the token file: {}", os_error::words(e))
            }
            TokenError::Empty => f.write_str("the token file is empty"),
        }
    }
}

impl TokenFile {
    /// Reads the token; at start-up a missing or empty file is an error.
    pub fn open(path: PathBuf) -> Result<TokenFile, TokenError> {
        let (token, stamp) = read(&path)?;
        Ok(TokenFile {
            path,
            token,
            stamp,
            checked: Instant::now(),
        })
    }

    /// The current token; the file is looked at again at most every
    /// [`RECHECK`]. A file that became unreadable or empty keeps the last
    /// good token (and says so in the log): failing open would drop the
    /// protection, failing closed would take the pod out of service.
    fn current(&mut self, now: Instant) -> &[u8] {
        if now.saturating_duration_since(self.checked) >= RECHECK {
            self.checked = now;
            let changed = fs::metadata(&self.path).map(|m| stamp(&m) != self.stamp);
            if changed.unwrap_or(true) {
                match read(&self.path) {
                    Ok((token, stamp)) => {
                        self.stamp = stamp;
                        if token != self.token {
                            self.token = token;
                            log::info("Token file changed; using the new token")
                                .field("file", self.path.display())
                                .emit();
                        }
                    }
                    Err(e) => log::warn("Token file unusable; keeping the last token")
                        .field("file", self.path.display())
                        .field("error", e)
                        .emit(),
                }
            }
        }
        &self.token
    }
}

fn stamp(m: &fs::Metadata) -> Stamp {
    Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    }
}

/// The token and the stamp of the very file it was read from: one open,
/// so that a Secret's symlink swapped between reading and `stat` cannot pair
/// the old token with the new file's stamp (which would hide the rotation
/// until the next one).
fn read(path: &PathBuf) -> Result<(Vec<u8>, Stamp), TokenError> {
    let mut file = fs::File::open(path).map_err(TokenError::Unreadable)?;
    let meta = file.metadata().map_err(TokenError::Unreadable)?;
    let bytes = secret_file::read_bounded(&mut file).map_err(TokenError::Unreadable)?;
    let token = bytes.trim_ascii();
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    Ok((token.to_vec(), stamp(&meta)))
}

/// The outcome of an access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The token matched (or none is configured).
    Allowed,
    /// No credentials: 401 with `WWW-Authenticate`.
    Missing,
    /// Credentials that do not match: 403.
    Wrong,
}

/// The credentials a request carries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    /// The `Authorization` header's value.
    pub header: Option<&'a [u8]>,
    /// The raw (still percent-encoded) `token` query parameter.
    pub query: Option<&'a str>,
}

impl Token {
    /// Checks a request's credentials against the token.
    pub fn check(&mut self, credentials: Credentials<'_>, now: Instant) -> Verdict {
        let expected = match self {
            Token::Fixed(token) => token.as_slice(),
            Token::File(file) => file.current(now),
        };
        let from_header = credentials.header.and_then(scheme_token);
        let from_query = credentials.query.map(percent::decode_lenient);
        if from_header.is_none() && from_query.is_none() {
            return Verdict::Missing;
        }
        // Both are compared, so timing does not tell which one was right.
        let header_ok = from_header.is_some_and(|t| constant_time_eq(t, expected));
        let query_ok = from_query.is_some_and(|t| constant_time_eq(&t, expected));
        match header_ok | query_ok {
            true => Verdict::Allowed,
            false => Verdict::Wrong,
        }
    }
}

/// The token of `Bearer T` or `Basic T` (schemes are case-insensitive);
/// other schemes count as no credentials.
fn scheme_token(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, token) = value.split_at(space);
    let known = scheme.eq_ignore_ascii_case(b"bearer") || scheme.eq_ignore_ascii_case(b"basic");
    known.then(|| token.trim_ascii())
}

/// Compares in time that depends only on the expected token's length, so
/// an attacker cannot find the token byte by byte.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, &e) in expected.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ e);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: Option<&str>, query: Option<&str>) -> Verdict {
        let mut token = Token::Fixed(b"s3cr+t/x".to_vec());
        let credentials = Credentials {
            header: header.map(str::as_bytes),
            query,
        };
        token.check(credentials, Instant::now())
    }

    #[test]
    fn token_forms() {
        assert_eq!(check(Some("Bearer s3cr+t/x"), None), Verdict::Allowed);
        assert_eq!(check(Some("bearer  s3cr+t/x "), None), Verdict::Allowed);
        assert_eq!(check(Some("Basic s3cr+t/x"), None), Verdict::Allowed);
        assert_eq!(check(None, Some("s3cr%2Bt%2fx")), Verdict::Allowed);
        assert_eq!(check(None, Some("s3cr+t/x")), Verdict::Allowed);
        assert_eq!(
            check(Some("Bearer nope"), Some("s3cr+t/x")),
            Verdict::Allowed
        );
        assert_eq!(check(Some("Bearer s3cr+t/"), None), Verdict::Wrong);
        assert_eq!(check(Some("Bearer s3cr+t/xx"), None), Verdict::Wrong);
        assert_eq!(check(None, Some("")), Verdict::Wrong);
        assert_eq!(check(None, None), Verdict::Missing);
        assert_eq!(check(Some("Digest abc"), None), Verdict::Missing);
        assert_eq!(check(Some("Bearer"), None), Verdict::Missing);
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abd", b"abc"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}
