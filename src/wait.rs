//! `rdy wait` and `rdy check`: every target probed in parallel, each on its
//! own thread, under one optional deadline.
//!
//! Threads are detached rather than scoped: when one target can never become
//! ready (exit 3) the run must end at once, not after the other targets'
//! current attempts finish. The process exits right after, so the targets
//! are borrowed for `'static`.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::duration::Human;
use crate::kube::rules::Verdict;
use crate::kube::watch::Progress;
use crate::log;
use crate::probe::k8s::K8s;
use crate::probe::{Probe, ProbeError};
use crate::target::{self, Target};

/// Stack for probe threads: a TLS handshake needs a few tens of KiB; the
/// 2 MiB default only inflates the address space.
const PROBE_STACK: usize = 512 * 1024;

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every target is ready.
    Ready,
    /// Some targets are not ready (`check` failed, `wait` timed out), in
    /// command-line order.
    NotReady(Vec<Failure>),
    /// A target can never become ready.
    Fatal(Failure),
}

/// A target that was not ready when the run ended, and its last error:
/// what the termination message tells.
#[derive(Debug)]
pub struct Failure {
    /// The target.
    pub target: &'static Target,
    /// Its last error.
    pub error: ProbeError,
}

impl Outcome {
    /// The exit code (docs/design.md §5).
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Ready => 0,
            Outcome::NotReady(_) => 1,
            Outcome::Fatal(_) => 3,
        }
    }
}

/// What one target's thread reports.
enum Report {
    Ready,
    NotReady(ProbeError),
    Fatal(ProbeError),
}

/// Retries every target until it is ready, the deadline passes, or one
/// target can never become ready.
pub fn wait(targets: &'static [Target], timeout: Option<Duration>) -> Outcome {
    advise(targets);
    let deadline = timeout.map(|t| Instant::now() + t);
    for target in targets {
        target_line(
            log::info(format_args!(
                "Waiting for {} to become ready...",
                target.name
            )),
            target,
        )
        .field("target", target::redacted(&target.address))
        .emit();
    }
    let objects: Vec<&K8s> = targets
        .iter()
        .filter_map(|t| match &t.probe {
            Probe::K8s(object) => Some(&**object),
            _ => None,
        })
        .collect();
    K8s::plan(&objects);
    let outcome = collect(targets, move |target| retry(target, deadline));
    if let Some(timeout) = timeout {
        for Failure { target, error } in &outcome.not_ready {
            target_line(
                log::error(format_args!(
                    "{} is not ready after {} ✗",
                    target.name,
                    Human(timeout)
                )),
                target,
            )
            .field("error", error)
            .emit();
        }
    }
    outcome.into()
}

/// Makes one attempt per target.
pub fn check(targets: &'static [Target], timeout: Option<Duration>) -> Outcome {
    advise(targets);
    let deadline = timeout.map(|t| Instant::now() + t);
    let outcome = collect(targets, move |target| {
        match target.probe.attempt(attempt_deadline(target, deadline)) {
            Ok(()) => {
                ready_line(target).emit();
                Report::Ready
            }
            Err(e) if e.is_fatal() => Report::Fatal(e),
            Err(e) => {
                target_line(
                    log::error(format_args!("{} is not ready ✗", target.name)),
                    target,
                )
                .field("error", &e)
                .emit();
                Report::NotReady(e)
            }
        }
    });
    outcome.into()
}

/// The collected reports: not-ready targets in command-line order.
struct Collected {
    not_ready: Vec<Failure>,
    fatal: Option<Failure>,
}

impl From<Collected> for Outcome {
    fn from(c: Collected) -> Outcome {
        match (c.fatal, c.not_ready.is_empty()) {
            (Some(fatal), _) => Outcome::Fatal(fatal),
            (None, true) => Outcome::Ready,
            (None, false) => Outcome::NotReady(c.not_ready),
        }
    }
}

/// Runs `probe` for every target in parallel and gathers the reports. The
/// first fatal report ends the collection at once.
fn collect(
    targets: &'static [Target],
    probe: impl Fn(&'static Target) -> Report + Send + Copy + 'static,
) -> Collected {
    // The same bounded channel type as the resolver's: one monomorphised
    // channel in the binary instead of two.
    let (tx, rx) = mpsc::sync_channel(targets.len());
    // The first target runs on this thread: a single-target `check` then
    // spawns nothing.
    for (i, target) in targets.iter().enumerate().skip(1) {
        let report = tx.clone();
        let spawned = thread::Builder::new()
            .stack_size(PROBE_STACK)
            .spawn(move || {
                let _ = report.send((i, probe(target)));
            });
        if let Err(e) = spawned {
            let _ = tx.send((i, Report::NotReady(ProbeError::from_io(e))));
        }
    }
    if let Some(first) = targets.first() {
        let _ = tx.send((0, probe(first)));
    }
    drop(tx);
    // Indexed by target, so the summary keeps command-line order.
    let mut not_ready: Vec<Option<ProbeError>> = targets.iter().map(|_| None).collect();
    for (i, report) in rx.iter().take(targets.len()) {
        match report {
            Report::Ready => {}
            Report::NotReady(e) => not_ready[i] = Some(e),
            Report::Fatal(e) => {
                let target = &targets[i];
                target_line(
                    log::error(format_args!("{} can never become ready ✗", target.name)),
                    target,
                )
                .field("error", &e)
                .emit();
                return Collected {
                    not_ready: Vec::new(),
                    fatal: Some(Failure { target, error: e }),
                };
            }
        }
    }
    Collected {
        not_ready: targets
            .iter()
            .zip(not_ready)
            .filter_map(|(target, e)| Some(Failure { target, error: e? }))
            .collect(),
        fatal: None,
    }
}

/// One target's retry loop. Attempts start every `interval` (start to
/// start, so a slow failure does not stretch the cadence) until one
/// succeeds or the deadline passes.
fn retry(target: &Target, deadline: Option<Instant>) -> Report {
    if let Probe::K8s(object) = &target.probe {
        return watch_object(target, object, deadline);
    }
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let error = match target.probe.attempt(attempt_deadline(target, deadline)) {
            Ok(()) => {
                ready_line(target).extra("attempt", attempt).emit();
                return Report::Ready;
            }
            Err(e) if e.is_fatal() => return Report::Fatal(e),
            Err(e) => e,
        };
        target_line(
            log::warn(format_args!("{} is not ready ✗", target.name)),
            target,
        )
        .field("error", &error)
        .extra("attempt", attempt)
        .emit();
        let next = started + target.interval;
        let wake = deadline.map_or(next, |d| d.min(next));
        thread::sleep(wake.saturating_duration_since(Instant::now()));
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Report::NotReady(error);
        }
    }
}

/// A Kubernetes target is watched, not polled: every change of kubectl's
/// progress message is logged, and the watch ends the moment it is ready.
fn watch_object(target: &Target, object: &K8s, deadline: Option<Instant>) -> Report {
    let mut progress = |event: Progress<'_>| match event {
        // kubectl prints its completion message too ("successfully rolled
        // out"); for an ExternalName Service it says what was not waited for.
        Progress::Verdict(Verdict::Waiting(message) | Verdict::Ready(message)) => {
            target_line(log::info(message), target)
                .field("target", &target.name)
                .emit();
        }
        Progress::Verdict(_) => {}
        Progress::Retrying(error, pause) => {
            target_line(
                log::warn(format_args!("{} is not ready ✗", target.name)),
                target,
            )
            .field("error", error)
            .field("retry_in", Human(pause))
            .emit();
        }
    };
    match object.wait(deadline, &mut progress) {
        Ok(()) => {
            ready_line(target).emit();
            Report::Ready
        }
        Err(e) if e.is_fatal() => Report::Fatal(e),
        Err(e) => Report::NotReady(e),
    }
}

fn attempt_deadline(target: &Target, deadline: Option<Instant>) -> Instant {
    let own = Instant::now() + target.probe.budget();
    deadline.map_or(own, |d| d.min(own))
}

/// `X is ready ✓`, with the target's fields.
fn ready_line(target: &Target) -> log::Line {
    target_line(
        log::info(format_args!("{} is ready ✓", target.name)),
        target,
    )
}

/// Adds the fields `-v` shows on every line about a target.
/// Warns once about targets that a probe of their kind serves badly
/// (`tcp://db:3306`, see [`crate::probe::tcp::Tcp::advice`]), and says
/// which name `pod/self` took when `POD_NAME` and `HOSTNAME` differ.
pub fn advise(targets: &[Target]) {
    for target in targets {
        if let Probe::K8s(k8s) = &target.probe
            && let Some(hostname) = &k8s.other_hostname
        {
            log::info("pod/self is POD_NAME, not HOSTNAME (the node's name under hostNetwork)")
                .field("pod_name", k8s.object.name.as_deref().unwrap_or_default())
                .field("hostname", hostname)
                .emit();
        }
        if let Probe::Tcp(tcp) = &target.probe
            && let Some(advice) = tcp.advice()
        {
            log::warn(advice).field("target", &target.address).emit();
        }
    }
}

fn target_line(line: log::Line, target: &Target) -> log::Line {
    if !line.enabled() {
        return line;
    }
    line.extra("target_name", &target.name)
        .extra("target_address", target::redacted(&target.address))
        .extra("check_type", target.probe.kind())
        .extra("interval", Human(target.interval))
        .extra("dial_timeout", Human(target.probe.budget()))
        .extra("version", env!("CARGO_PKG_VERSION"))
}
