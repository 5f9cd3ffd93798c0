//! `Rdy-Outcome: failed`: how one rdy tells another that a target has failed
//! for good.
//!
//! In the server/client split, an initContainer waits on
//! `http://rdy…/api/healthz/ns/job/migrate` instead of on the Job itself. A
//! status code alone cannot say "this Job failed and never will complete":
//! 503 also means "still running". `rdy serve` therefore marks the 503 of a
//! failed object with this header, and an HTTP probe that sees it ends the
//! wait at once with exit code 3, exactly as `k8s:job/migrate` would, rather
//! than polling a dead Job until `--timeout`.

use std::io::Read;

use ureq::Body;
use ureq::http::Response;

use super::super::ProbeError;

/// The response header's name.
pub const HEADER: &str = "Rdy-Outcome";

/// Its one value: the target can never become ready by itself.
pub const FAILED: &str = "failed";

/// Enough of the body for its first line, kubectl's message.
const REASON_LIMIT: u64 = 1024;

/// The fatal error a not-ready response marked as failed stands for, or
/// `None` when it carries no mark (an ordinary not-ready answer).
pub fn failure(response: &mut Response<Body>) -> Option<ProbeError> {
    let marked = response
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(FAILED));
    if !marked {
        return None;
    }
    let status = response.status().as_u16();
    let mut body = Vec::new();
    // A body that cannot be read still leaves the header's verdict.
    let _ = response
        .body_mut()
        .as_reader()
        .take(REASON_LIMIT)
        .read_to_end(&mut body);
    Some(ProbeError::Fatal(describe(status, &body)))
}

/// `job/migrate: job "migrate" failed: …` from rdy's text body
/// (`fail job/migrate: …`), or a generic line; the body comes from the
/// network, so only its printable first line is kept.
fn describe(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or("").trim();
    let line = line.strip_prefix("fail ").unwrap_or(line).trim();
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    match line.is_empty() {
        true => {
            format!("the server reports the target failed (status {status}, {HEADER}: {FAILED})")
        }
        false => format!("{line} (status {status}, {HEADER}: {FAILED})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_the_first_line_without_the_fail_word() {
        assert_eq!(
            describe(
                503,
                b"fail job/migrate: job \"migrate\" failed: BackoffLimitExceeded\nmore\n"
            ),
            "job/migrate: job \"migrate\" failed: BackoffLimitExceeded \
             (status 503, Rdy-Outcome: failed)"
        );
        assert_eq!(
            describe(503, b""),
            "the server reports the target failed (status 503, Rdy-Outcome: failed)"
        );
        assert_eq!(
            describe(500, b"broken\x1b[31m \xff"),
            "broken[31m \u{fffd} (status 500, Rdy-Outcome: failed)"
        );
    }
}
