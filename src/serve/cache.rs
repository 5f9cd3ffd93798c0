//! Probe results per target: at most one probe in flight per target
//! (single flight), and a result reused for `--cache-ttl`.
//!
//! A thousand probes a second from kubelets and load balancers must not
//! become a thousand connections to the dependency. The cache is owned by
//! the event loop thread alone, so it needs no lock: the loop decides which
//! probes to start, the workers only run them and report back.

use std::time::{Duration, Instant};

use crate::log;
use crate::target::Target;

/// The last finished check of a target.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `None` when the target was ready, else why not.
    pub error: Option<String>,
    /// The target can never become ready by itself (what makes `rdy wait`
    /// exit 3): `/all` then says so with `Rdy-Outcome: failed`.
    pub fatal: bool,
    /// When the check finished.
    pub at: Instant,
    /// How long it took.
    pub took: Duration,
}

/// One target's state.
#[derive(Debug, Default)]
pub struct Slot {
    /// The last finished check.
    pub last: Option<Checked>,
    /// The deadline of the probe in flight, if one is.
    in_flight: Option<Instant>,
    /// Checks made (cache hits are not checks).
    pub checks: u64,
    /// Checks that found the target not ready.
    pub failures: u64,
}

/// How long `last` may be reused: the TTL, or less for a not-ready result
/// when the caller asks (`retry`).
fn reuse(ttl: Duration, last: &Checked, retry: Option<Duration>) -> Duration {
    match (retry, &last.error) {
        (Some(retry), Some(_)) => ttl.min(retry),
        _ => ttl,
    }
}

/// What a request needs to do about one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A result younger than the TTL is there: use it.
    Fresh,
    /// A probe is in flight: wait for it, until this deadline.
    Join(Instant),
    /// Nothing usable: a probe must start, with this deadline.
    Start(Instant),
}

/// All targets' state.
#[derive(Debug)]
pub struct Cache {
    slots: Vec<Slot>,
    ttl: Duration,
}

impl Cache {
    /// Empty state for `count` targets.
    pub fn new(count: usize, ttl: Duration) -> Cache {
        Cache {
            slots: (0..count).map(|_| Slot::default()).collect(),
            ttl,
        }
    }

    /// One target's state.
    pub fn slot(&self, target: usize) -> &Slot {
        &self.slots[target]
    }

    /// Decides for one target; `Start` marks a probe in flight with
    /// `deadline`, and the caller must start it. `retry`: a not-ready
    /// result is reused for at most that long, for a held request
    /// (`?wait=`) that is waiting for the target to come up.
    pub fn need(
        &mut self,
        target: usize,
        now: Instant,
        deadline: Instant,
        retry: Option<Duration>,
    ) -> Need {
        let ttl = self.ttl;
        let slot = &mut self.slots[target];
        if let Some(last) = &slot.last
            && now.saturating_duration_since(last.at) < reuse(ttl, last, retry)
        {
            return Need::Fresh;
        }
        if let Some(in_flight) = slot.in_flight {
            return Need::Join(in_flight);
        }
        slot.in_flight = Some(deadline);
        Need::Start(deadline)
    }

    /// Records a finished probe, and logs when the target changes between
    /// ready and not ready (the first result counts as a change).
    pub fn finish(&mut self, target: &Target, index: usize, checked: Checked) {
        let slot = &mut self.slots[index];
        slot.in_flight = None;
        slot.checks += 1;
        slot.failures += u64::from(checked.error.is_some());
        let was_ready = slot.last.as_ref().map(|l| l.error.is_none());
        match &checked.error {
            None if was_ready != Some(true) => {
                log::info(format_args!("{} is ready ✓", target.name)).emit()
            }
            Some(e) if was_ready != Some(false) => {
                log::warn(format_args!("{} is not ready ✗", target.name))
                    .field("error", e)
                    .emit()
            }
            _ => {}
        }
        slot.last = Some(checked);
    }
}
