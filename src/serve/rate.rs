//! `--rate-limit N/PERIOD`: one token bucket for the whole server.
//!
//! One bucket, not one per client address: the clients of a health sidecar
//! are a few kubelets and load balancers, often behind one address, and the
//! limit exists to protect the dependencies and the pod, not to share
//! capacity fairly. `/self` never takes a token.

use std::fmt;
use std::time::{Duration, Instant};

use crate::duration::{self, Human};

/// What `--rate-limit` accepts; quoted in error messages.
pub const ACCEPTED: &str = "a count per period such as 3600/1h, 10/s or 100/1m";

/// N requests per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period, and the burst size.
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// Parses `N/PERIOD`; a period without a number (`10/s`) means one unit.
    pub fn parse(text: &str) -> Option<Rate> {
        let (count, period) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok().filter(|&n| n > 0)?;
        let period = period.trim();
        if period.is_empty() {
            return None;
        }
        let period = match period.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            true => duration::parse(period),
            false => duration::parse(&format!("1{period}")),
        };
        let period = period.ok().filter(|p| !p.is_zero())?;
        Some(Rate { count, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, Human(self.period))
    }
}

/// A token bucket: holds up to `count` tokens and refills `count` per
/// period, continuously. Kept in integers — a token is worth `period` in
/// nanoseconds of credit, and every nanosecond adds `count` — so no
/// floating point is linked in.
#[derive(Debug)]
pub struct Bucket {
    count: u128,
    token: u128,
    credit: u128,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: Rate, now: Instant) -> Bucket {
        let count = u128::from(rate.count);
        let token = rate.period.as_nanos().max(1);
        Bucket {
            count,
            token,
            credit: count * token,
            last: now,
        }
    }

    /// Takes one token, or tells how long until one is there (the value of
    /// `Retry-After`).
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        self.last = now.max(self.last);
        let refill = elapsed.saturating_mul(self.count);
        self.credit = self
            .credit
            .saturating_add(refill)
            .min(self.count * self.token);
        if self.credit >= self.token {
            self.credit -= self.token;
            return Ok(());
        }
        let missing = (self.token - self.credit).div_ceil(self.count);
        Err(Duration::from_nanos(
            u64::try_from(missing).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts_per_period() {
        let r = Rate::parse("3600/1h").unwrap();
        assert_eq!((r.count, r.period), (3600, Duration::from_secs(3600)));
        assert_eq!(Rate::parse("10/s").unwrap().period, Duration::from_secs(1));
        assert_eq!(
            Rate::parse("5/500ms").unwrap().period,
            Duration::from_millis(500)
        );
        assert_eq!(Rate::parse("3600/1h").unwrap().to_string(), "3600/1h");
        for bad in ["", "10", "0/1s", "-1/1s", "10/0s", "10/x", "x/1s", "10/"] {
            assert_eq!(Rate::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::parse("2/1s").unwrap(), t0);
        assert!(b.take(t0).is_ok());
        assert!(b.take(t0).is_ok());
        let wait = b.take(t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(b.take(t0 + Duration::from_millis(500)).is_ok());
        assert!(b.take(t0 + Duration::from_millis(500)).is_err());
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(60);
        assert!(b.take(later).is_ok());
        assert!(b.take(later).is_ok());
        assert!(b.take(later).is_err());
    }
}
