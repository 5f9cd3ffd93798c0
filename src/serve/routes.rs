//! Routing: which endpoint a path names, who may call it, and its answer.
//!
//! Every endpoint is one arm of [`Route`]: a new one (issue 5's
//! `/api/healthz/{ns}/{kind}/{name}` and `/health`, answered from a
//! Kubernetes watch cache) is a variant, a line in [`route`] and an arm in
//! [`App::respond`]. Cheap answers are [`Reply::Now`]; answers that need
//! probe results are [`Reply::Later`] and wait in the event loop, holding
//! no thread, until [`App::answer`] can render them.

use std::ops::Range;
use std::time::{Duration, Instant};

use super::auth::{Credentials, Token, Verdict};
use super::cache::{Cache, Need};
use super::metrics;
use super::rate::Bucket;
use super::report;
use super::request::{Head, Method, percent_decode};
use super::response::{ContentType, Extra, Response};
use super::workers::{Job, Pool};
use crate::target::Target;

/// A probe's result may arrive this much after its deadline (the worker's
/// hand-off through the channel) before a waiting request gives up on it.
const SLACK: Duration = Duration::from_secs(1);

/// `--force`: the answer of `/all` regardless of the targets, for
/// maintenance (the seed sidecar's state override).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// Always 200.
    Ready,
    /// Always 503.
    Unready,
}

/// What `--force` accepts; quoted in error messages.
pub const FORCE_VALUES: &str = "ready or unready";

impl Force {
    /// Parses `ready` or `unready`, case-insensitively.
    pub fn parse(text: &str) -> Option<Force> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ready" => Some(Force::Ready),
            "unready" => Some(Force::Unready),
            _ => None,
        }
    }
}

/// An endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/self`, `/livez`: the server is up. No probe, no token, no limit.
    Live,
    /// `/all`, `/readyz`, `/ready/NAME`.
    Probe(Select),
    /// `/metrics`.
    Metrics,
    /// Anything else.
    NotFound,
}

/// Which targets a probe endpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// Every target.
    All,
    /// One target, by index.
    One(usize),
}

impl Select {
    fn indexes(self, count: usize) -> Range<usize> {
        match self {
            Select::All => 0..count,
            Select::One(i) => i..i + 1,
        }
    }
}

/// Finds the endpoint of a path; `/ready/NAME` takes the display name,
/// percent-decoded.
pub fn route(path: &str, targets: &[Target]) -> Route {
    match path {
        "/self" | "/livez" => Route::Live,
        "/all" | "/readyz" => Route::Probe(Select::All),
        "/metrics" => Route::Metrics,
        _ => {
            let Some(name) = path.strip_prefix("/ready/") else {
                return Route::NotFound;
            };
            let name = percent_decode(name);
            match targets.iter().position(|t| t.name.as_bytes() == name) {
                Some(i) => Route::Probe(Select::One(i)),
                None => Route::NotFound,
            }
        }
    }
}

/// How a waiting answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The `/all` report, as text or JSON.
    Report {
        /// JSON rather than text.
        json: bool,
    },
    /// `/metrics`.
    Metrics,
}

/// An answer that waits for probe results.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    /// The targets it reports.
    pub select: Select,
    /// How it is rendered.
    pub view: View,
}

/// What a request gets.
#[derive(Debug)]
pub enum Reply {
    /// An answer at once.
    Now(Response),
    /// An answer once the probes it needs have finished.
    Later(Pending),
}

/// The application behind the routes: targets, results, access control.
/// Owned by the event loop thread.
#[derive(Debug)]
pub struct App {
    /// The targets, in command-line order.
    pub targets: &'static [Target],
    /// Their results.
    pub cache: Cache,
    /// The token every endpoint but `/self` requires.
    pub token: Option<Token>,
    /// The rate limit of every endpoint but `/self`.
    pub rate: Option<Bucket>,
    /// `--force`.
    pub force: Option<Force>,
    /// `--timeout`: the bound of one round of probes.
    pub round: Option<Duration>,
    /// The workers' queues.
    pub pool: &'static Pool,
}

impl App {
    /// Answers a request, or says what it waits for.
    pub fn respond(&mut self, head: &Head<'_>, now: Instant) -> Reply {
        let route = route(head.path, self.targets);
        if route != Route::Live {
            if let Some(refused) = self.refuse(head, now) {
                return Reply::Now(refused);
            }
            if route == Route::NotFound {
                return Reply::Now(Response::text(404, "not found\n"));
            }
        }
        if head.method == Method::Other {
            let response = Response::text(405, "method not allowed\n").with(Extra::Allow);
            // A body would be read as the next request: close instead.
            return Reply::Now(match head.has_body {
                true => response.closing(),
                false => response,
            });
        }
        if head.has_body {
            return Reply::Now(Response::text(400, "request bodies are not accepted\n").closing());
        }
        match route {
            Route::Live => Reply::Now(Response::text(200, "ok\n")),
            Route::Metrics => Reply::Later(Pending {
                select: Select::All,
                view: View::Metrics,
            }),
            Route::Probe(select) => {
                let json = match head.param("format") {
                    None => head.accepts_json,
                    Some("json") => true,
                    Some("text") => false,
                    Some(_) => {
                        return Reply::Now(Response::text(400, "format is json or text\n"));
                    }
                };
                match (select, self.force) {
                    (Select::All, Some(force)) => Reply::Now(forced(force, json)),
                    _ => Reply::Later(Pending {
                        select,
                        view: View::Report { json },
                    }),
                }
            }
            Route::NotFound => Reply::Now(Response::text(404, "not found\n")),
        }
    }

    /// 401, 403 or 429 when the token or the rate limit refuses the
    /// request. The limit counts only requests that passed the token check,
    /// so clients without the token cannot use up the budget of those with
    /// it.
    fn refuse(&mut self, head: &Head<'_>, now: Instant) -> Option<Response> {
        if let Some(token) = &mut self.token {
            let credentials = Credentials {
                header: head.authorization,
                query: head.param("token"),
            };
            match token.check(credentials, now) {
                Verdict::Allowed => {}
                Verdict::Missing => {
                    return Some(Response::text(401, "token required\n").with(Extra::Authenticate));
                }
                Verdict::Wrong => return Some(Response::text(403, "wrong token\n")),
            }
        }
        let wait = self.rate.as_mut()?.take(now).err()?;
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Some(Response::text(429, "too many requests\n").with(Extra::RetryAfter(seconds)))
    }

    /// Starts the probes a waiting answer needs. Returns the targets it
    /// must wait for (none: answer at once) and when to stop waiting.
    pub fn start(&mut self, pending: &Pending, now: Instant) -> (Vec<usize>, Instant) {
        let mut awaiting = Vec::new();
        let mut until = now;
        for i in pending.select.indexes(self.targets.len()) {
            let deadline = now + self.budget(i);
            let deadline = match self.cache.need(i, now, deadline) {
                Need::Fresh => continue,
                Need::Join(deadline) => deadline,
                Need::Start(deadline) => {
                    self.pool.jobs.push(Job {
                        target: i,
                        deadline,
                    });
                    deadline
                }
            };
            awaiting.push(i);
            until = until.max(deadline);
        }
        (awaiting, until + SLACK)
    }

    /// One probe's budget: its own (`--dial-timeout`, plus the read timeout
    /// for ICMP), bounded by `--timeout`.
    fn budget(&self, i: usize) -> Duration {
        let own = self.targets[i].probe.budget();
        self.round.map_or(own, |round| own.min(round))
    }

    /// Renders a waiting answer; `missing` are the targets whose probe did
    /// not finish in time.
    pub fn answer(&self, pending: &Pending, missing: &[usize]) -> Response {
        let json = match pending.view {
            View::Metrics => {
                let body = metrics::render(self.targets, &self.cache);
                return Response::typed(200, ContentType::Metrics, body);
            }
            View::Report { json } => json,
        };
        let entries: Vec<report::Entry<'_>> = pending
            .select
            .indexes(self.targets.len())
            .map(|i| {
                let error = match self.cache.slot(i).last.as_ref() {
                    _ if missing.contains(&i) => Some("timed out"),
                    Some(last) => last.error.as_deref(),
                    None => Some("not checked yet"),
                };
                (self.targets[i].name.as_str(), error)
            })
            .collect();
        let status = if report::all_ready(&entries) {
            200
        } else {
            503
        };
        let content_type = if json {
            ContentType::Json
        } else {
            ContentType::Text
        };
        Response::typed(status, content_type, report::render(&entries, json))
    }
}

fn forced(force: Force, json: bool) -> Response {
    let ready = force == Force::Ready;
    let content_type = if json {
        ContentType::Json
    } else {
        ContentType::Text
    };
    let status = if ready { 200 } else { 503 };
    Response::typed(status, content_type, report::forced(ready, json))
}
