//! `rdy serve`: HTTP endpoints that tell kubelets, load balancers and
//! status pages whether the targets are ready.
//!
//! Three kinds of threads:
//!
//! - the main thread takes the signals with `sigwait`, as in every mode
//!   (signal.rs), and asks the loop to stop through its eventfd;
//! - one event-loop thread owns every socket and all state — connections,
//!   the result cache, the token, the rate limit (event_loop.rs explains
//!   why a readiness loop);
//! - a fixed pool of workers runs probes, one target at a time
//!   (workers.rs), and never touches a client socket.
//!
//! The probes are the ones `wait` and `check` use, unchanged.

pub mod auth;
pub mod cache;
pub mod conn;
pub mod event_loop;
pub mod kube_health;
pub mod listen;
pub mod metrics;
pub mod rate;
pub mod report;
pub mod request;
pub mod response;
pub mod routes;
pub mod wake;
pub mod workers;

use std::process::exit;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::resource::{Resource, getrlimit, setrlimit};

use self::auth::Token;
use self::cache::Cache;
use self::event_loop::{Limits, Loop};
pub use self::kube_health::KubeHealth;
use self::listen::Listen;
use self::rate::{Bucket, Rate};
use self::routes::{App, Force};
use self::wake::Wake;

use crate::log;
use crate::signal::{self, Blocked};

/// Workers when `--workers` is not given: one per target, so `/all` probes
/// every target at once, up to this many.
pub const MAX_DEFAULT_WORKERS: usize = 16;

/// File descriptors kept for everything but client connections and
/// probes: stdio, the listener, epoll, the eventfd, and slack for the
/// odd file (a token file, a CA bundle, a credential plugin's pipes).
const RESERVED_FDS: u64 = 16;

/// `rdy serve`'s own settings, fully validated: everything the server
/// needs, so that it depends on no command-line type.
#[derive(Debug)]
pub struct Settings {
    /// The targets `/all`, `/ready/NAME` and `/metrics` report.
    pub targets: Vec<crate::target::Target>,
    /// `--timeout`: how long one round of probes may take.
    pub round: Option<Duration>,
    /// Logger settings.
    pub log: log::Config,
    /// `--listen`.
    pub listen: Listen,
    /// `--cache-ttl`: how long a probe result is reused.
    pub cache_ttl: Duration,
    /// `--workers`; `None` picks one per target.
    pub workers: Option<usize>,
    /// `--max-connections`.
    pub max_connections: usize,
    /// `--idle-timeout`.
    pub idle_timeout: Duration,
    /// `--client-timeout`.
    pub client_timeout: Duration,
    /// `--force`.
    pub force: Option<Force>,
    /// `--token-file` or `RDY_TOKEN`.
    pub token: Option<Token>,
    /// `--rate-limit`.
    pub rate_limit: Option<Rate>,
    /// The Kubernetes health API, when there is a configuration.
    pub kube: Option<KubeHealth>,
}

/// Serves until a terminating signal; exits with 128+N.
pub fn run(signals: Blocked, settings: Settings) -> ! {
    log::init(settings.log);
    let listener = match settings.listen.bind() {
        Ok(listener) => listener,
        Err(e) => {
            log::error("Cannot listen")
                .field("listen", settings.listen)
                .field("error", crate::os_error::words(&e))
                .field("exit_code", 2)
                .emit();
            exit(2);
        }
    };
    let targets: &'static [crate::target::Target] = Box::leak(settings.targets.into_boxed_slice());
    crate::wait::advise(targets);
    let kube = settings.kube;
    if let Some(kube) = &kube {
        // k8s: targets answer from the watch cache, not a LIST per probe.
        for target in targets {
            if let crate::probe::Probe::K8s(object) = &target.probe {
                let _ = object.cache.set(kube.cache.clone());
            }
        }
    }
    let visible = kube.as_ref().map_or(targets.len(), |k| k.visible);
    let workers = settings
        .workers
        .unwrap_or_else(|| targets.len().clamp(1, MAX_DEFAULT_WORKERS));
    // A probe holds a socket, a name lookup another; a watch holds one.
    let others = 2 * workers + kube.as_ref().map_or(0, |k| k.cache.capacity() + 1);
    let (max_connections, max_draining) = connection_caps(settings.max_connections, others);
    // Said at start-up, so an empty or forgotten token is not silent.
    let token = match settings.token {
        Some(_) => "required",
        None => "none",
    };
    let started = Wake::new().and_then(|wake| {
        let wake: &'static Wake = Box::leak(Box::new(wake));
        if let Some(kube) = &kube {
            kube.cache.on_change(Box::new(move || wake.wake()));
        }
        let pool = workers::start(workers, targets, wake)?;
        let app = App {
            targets,
            cache: Cache::new(targets.len(), settings.cache_ttl),
            token: settings.token,
            rate: settings.rate_limit.map(|r| Bucket::new(r, Instant::now())),
            force: settings.force,
            round: settings.round,
            pool,
            visible,
            kube,
        };
        let limits = Limits {
            max_connections,
            max_draining,
            idle_timeout: settings.idle_timeout,
            client_timeout: settings.client_timeout,
        };
        let address = listener.local_addr()?;
        let event_loop = Loop::new(listener, app, wake, limits)?;
        log::info("Serving")
            .field("listen", address)
            .field("targets", visible)
            .field("workers", workers)
            .field("token", token)
            .emit();
        thread::Builder::new()
            .name("serve".to_owned())
            .spawn(move || event_loop.run())?;
        Ok(wake)
    });
    let wake = match started {
        Ok(wake) => wake,
        Err(e) => {
            log::error("Cannot start serving")
                .field("error", crate::os_error::words(&e))
                .emit();
            exit(1);
        }
    };
    loop {
        let received = signals.wait();
        // The first signal lets responses in flight finish; a second one
        // ends the process at once.
        if !wake.stop(received) {
            exit(signal::exit_code(received));
        }
    }
}

/// Raises the soft limit on open files to the hard limit (as Go does at
/// start-up): the usual soft limit of 1024 would cap the connections below
/// the default `--max-connections`. Of the descriptors left after the
/// reserved ones and `others` (probes, watches), three quarters at most
/// hold open connections and the rest closing ones. Returns both caps.
fn connection_caps(wanted: usize, others: usize) -> (usize, usize) {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return (wanted, wanted);
    };
    let limit = match soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        true => hard,
        false => soft,
    };
    let spare = limit.saturating_sub(RESERVED_FDS + others as u64);
    let spare = usize::try_from(spare).unwrap_or(usize::MAX);
    let open = wanted.min(spare / 4 * 3).max(1);
    if open < wanted {
        log::warn("Fewer connections than asked: the open-file limit is too low")
            .field("max_connections", open)
            .field("open_file_limit", limit)
            .emit();
    }
    (open, spare.saturating_sub(open).max(1))
}
