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
use super::kube_health::KubeHealth;
use super::metrics;
use super::rate::Bucket;
use super::report;
use super::request::{Head, Method};
use super::response::{ContentType, Extra, Response};
use super::workers::{Job, Pool};
use crate::kube::cache::CacheError;
use crate::kube::health::{self, Health};
use crate::kube::target::ObjectRef;
use crate::percent;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/self`, `/livez`: the server is up. No probe, no token, no limit.
    Live,
    /// `/all`, `/readyz`, `/ready/NAME`; `/health` too when there are
    /// targets (the health sidecar's path), and `/healthz` (the API server).
    Probe(Select),
    /// `/metrics`.
    Metrics,
    /// `/api/healthz/{namespace}/{kind}/{name}`, or without a name every
    /// object of that collection.
    Object(Box<Object>),
    /// Anything else.
    NotFound,
}

/// A Kubernetes object asked about (its namespace is always set).
pub type Object = ObjectRef;

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
/// percent-decoded. `visible` targets are the user's; with the Kubernetes
/// health API the API server is the target after them.
pub fn route(path: &str, targets: &[Target], visible: usize, kube: bool) -> Route {
    let api = Route::Probe(Select::One(visible));
    match path {
        "/self" | "/livez" => Route::Live,
        "/all" | "/readyz" => Route::Probe(Select::All),
        "/metrics" => Route::Metrics,
        // The sidecar seed's path for its pod; the heartbeat's for the API.
        "/health" if visible > 0 => Route::Probe(Select::All),
        "/health" | "/healthz" if kube => api,
        _ => {
            if let Some(rest) = path.strip_prefix("/api/healthz/") {
                let object = health::parse_path(rest).or_else(|| health::parse_collection(rest));
                return match object {
                    Some(object) if kube => Route::Object(Box::new(object)),
                    _ => Route::NotFound,
                };
            }
            let Some(name) = path.strip_prefix("/ready/") else {
                return Route::NotFound;
            };
            let name = percent::decode_lenient(name);
            match targets[..visible]
                .iter()
                .position(|t| t.name.as_bytes() == name)
            {
                Some(i) => Route::Probe(Select::One(i)),
                None => Route::NotFound,
            }
        }
    }
}

/// How a waiting answer is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The `/all` report, as text or JSON.
    Report {
        /// JSON rather than text.
        json: bool,
    },
    /// `/metrics`.
    Metrics,
    /// An object's health, once its watch has listed it.
    Object {
        /// The object.
        object: Box<Object>,
        /// JSON rather than text.
        json: bool,
        /// The caller passed the token: errors may say more.
        trusted: bool,
    },
}

/// Stands for "the object's first LIST" among the targets a request
/// awaits: no target has this index.
pub const OBJECT_SYNC: usize = usize::MAX;

/// A first request waits this long for the object's first LIST.
const FIRST_SYNC: Duration = Duration::from_secs(5);

/// The longest `?wait=` a probe endpoint holds a request for. A kubelet
/// gives an HTTP probe `timeoutSeconds` (1 by default) and the caller
/// passes a little less; a minute is far beyond any sane probe timeout
/// and keeps a forgotten client from holding a connection for longer.
pub const MAX_HOLD: Duration = Duration::from_secs(60);

/// How long a held request rests between two rounds of probes: a round
/// that found a target not ready is not repeated at once (with
/// `--cache-ttl 0` that would be a busy loop of connections), and a
/// dependency that comes up is seen within this much (plus one probe).
pub const HOLD_PAUSE: Duration = Duration::from_millis(200);

/// An answer that waits for probe results.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The targets it reports.
    pub select: Select,
    /// How it is rendered.
    pub view: View,
    /// `?wait=DUR`: until when a not-ready answer is held back, probing
    /// again, in case the targets become ready.
    pub hold: Option<Instant>,
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
    /// The targets `/all` and `/metrics` report (the user's).
    pub visible: usize,
    /// The Kubernetes health API.
    pub kube: Option<KubeHealth>,
}

impl App {
    /// Answers a request, or says what it waits for.
    pub fn respond(&mut self, head: &Head<'_>, now: Instant) -> Reply {
        let route = route(head.path, self.targets, self.visible, self.kube.is_some());
        if !matches!(route, Route::Live) {
            if let Some(refused) = self.refuse(head, now) {
                return Reply::Now(refused);
            }
            if matches!(route, Route::NotFound) {
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
        let json = match head.param("format") {
            None => head.accepts_json,
            Some("json") => true,
            Some("text") => false,
            Some(_) => return Reply::Now(Response::text(400, "format is json or text\n")),
        };
        match route {
            Route::Live => Reply::Now(Response::text(200, "ok\n")),
            Route::Object(object) => self.object(*object, json),
            Route::Metrics => Reply::Later(Pending {
                select: Select::All,
                view: View::Metrics,
                hold: None,
            }),
            Route::Probe(select) => {
                let hold = match head.param("wait").map(parse_hold) {
                    None => None,
                    Some(Ok(hold)) => Some(now + hold),
                    Some(Err(refused)) => return Reply::Now(refused),
                };
                match (select, self.force) {
                    (Select::All, Some(force)) => Reply::Now(forced(force, json)),
                    // Nothing to report is not "all ready": a load balancer
                    // pointed here would see ready forever.
                    (Select::All, None) if self.visible == 0 => Reply::Now(Response::text(
                        503,
                        "no targets: this server answers /api/healthz and /healthz only\n",
                    )),
                    _ => Reply::Later(Pending {
                        select,
                        view: View::Report { json },
                        hold,
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

    /// `/api/healthz/…`: answered at once from the watch cache, or after
    /// the object's first LIST. An object outside `--expose` is answered
    /// exactly like one that does not exist.
    fn object(&self, object: Object, json: bool) -> Reply {
        let Some(kube) = &self.kube else {
            return Reply::Now(Response::text(404, "not found\n"));
        };
        let trusted = self.token.is_some();
        match peek(kube, &object) {
            Health::Unavailable(CacheError::Syncing) => Reply::Later(Pending {
                hold: None,
                select: Select::All,
                view: View::Object {
                    object: Box::new(object),
                    json,
                    trusted,
                },
            }),
            _ if object.name.is_none() => {
                Reply::Now(collection_response(kube, &object, json, trusted))
            }
            health => Reply::Now(object_response(&object, &health, json, trusted)),
        }
    }

    /// Whether a request waiting for an object's first LIST can be
    /// answered now.
    pub fn object_ready(&self, pending: &Pending) -> bool {
        match (&pending.view, &self.kube) {
            (View::Object { object, .. }, Some(kube)) => {
                peek(kube, object) != Health::Unavailable(CacheError::Syncing)
            }
            _ => false,
        }
    }

    /// Whether the watch cache changed since the last call.
    pub fn objects_changed(&self) -> bool {
        self.kube.as_ref().is_some_and(|k| k.cache.take_changed())
    }

    /// Starts the probes a waiting answer needs. Returns the targets it
    /// must wait for (none: answer at once) and when to stop waiting.
    pub fn start(&mut self, pending: &Pending, now: Instant) -> (Vec<usize>, Instant) {
        if let View::Object { .. } = pending.view {
            return (vec![OBJECT_SYNC], now + FIRST_SYNC);
        }
        let mut awaiting = Vec::new();
        let mut until = now;
        for i in pending.select.indexes(self.visible) {
            let deadline = now + self.budget(i);
            let retry = pending.hold.map(|_| HOLD_PAUSE);
            let deadline = match self.cache.need(i, now, deadline, retry) {
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
        let json = match &pending.view {
            View::Metrics => {
                let mut body = metrics::render(&self.targets[..self.visible], &self.cache);
                if let Some(kube) = &self.kube {
                    metrics::objects(&mut body, &object_gauges(kube));
                }
                return Response::typed(200, ContentType::Metrics, body);
            }
            View::Report { json } => *json,
            View::Object {
                object,
                json,
                trusted,
            } => {
                let health = match &self.kube {
                    Some(kube) if object.name.is_none() => {
                        return collection_response(kube, object, *json, *trusted);
                    }
                    Some(kube) => peek(kube, object),
                    None => Health::Missing,
                };
                return object_response(object, &health, *json, *trusted);
            }
        };
        let entries: Vec<report::Entry<'_>> = pending
            .select
            .indexes(self.visible)
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
        let response = Response::typed(status, content_type, report::render(&entries, json));
        match self.any_failed(pending, missing) {
            true => response.with(Extra::Failed),
            false => response,
        }
    }

    /// Whether a held answer (`?wait=`) is still held back at `now`: its
    /// hold has not ended, some target it reports is not ready, and none
    /// has failed for good (that answer can never become 200).
    pub fn holds(&self, pending: &Pending, now: Instant) -> bool {
        let Some(hold) = pending.hold else {
            return false;
        };
        let not_ready = pending.select.indexes(self.visible).any(|i| {
            self.cache
                .slot(i)
                .last
                .as_ref()
                .is_none_or(|l| l.error.is_some())
        });
        now < hold && not_ready && !self.any_failed(pending, &[])
    }

    /// Whether a target of the answer has failed for good, so that the
    /// answer can never become 200.
    fn any_failed(&self, pending: &Pending, missing: &[usize]) -> bool {
        pending.select.indexes(self.visible).any(|i| {
            !missing.contains(&i) && self.cache.slot(i).last.as_ref().is_some_and(|l| l.fatal)
        })
    }
}

/// `?wait=DUR`: a duration up to [`MAX_HOLD`], else 400 saying what is
/// accepted.
fn parse_hold(text: &str) -> Result<Duration, Response> {
    match crate::duration::parse(text) {
        Ok(hold) if hold <= MAX_HOLD => Ok(hold),
        _ => Err(Response::text(
            400,
            format!(
                "wait is a duration up to {} (a little less than the probe's timeoutSeconds), e.g. wait=9s\n",
                crate::duration::Human(MAX_HOLD)
            ),
        )),
    }
}

/// `rdy_object_healthy` values: every object asked about that exists, and
/// every object of the collections `--expose NS/RESOURCE` names.
fn object_gauges(kube: &KubeHealth) -> Vec<((String, String, String), bool)> {
    let mut gauges = Vec::new();
    for collection in kube.exposure.listed() {
        let Ok(listed) = health::list(&kube.cache, &kube.exposure, &collection, Duration::ZERO)
        else {
            continue;
        };
        let namespace = collection.namespace.clone().unwrap_or_default();
        for (name, health) in listed {
            let key = (namespace.clone(), collection.kind_word().to_owned(), name);
            gauges.push((key, matches!(health, Health::Healthy(_))));
        }
    }
    for (namespace, resource, name) in kube.cache.asked_objects() {
        let Some(object) = health::parse_path(&format!("{namespace}/{resource}/{name}")) else {
            continue;
        };
        match peek(kube, &object) {
            Health::Missing | Health::Unavailable(_) => {}
            health => {
                let healthy = matches!(health, Health::Healthy(_));
                gauges.push(((namespace, resource, name), healthy));
            }
        }
    }
    // Listed and asked: once each, in order.
    gauges.sort_by(|a, b| a.0.cmp(&b.0));
    gauges.dedup_by(|a, b| a.0 == b.0);
    gauges
}

/// The object's health from memory, without waiting; a collection's is
/// `Syncing` or `Unavailable` for the whole, else the first listed.
fn peek(kube: &KubeHealth, object: &Object) -> Health {
    if object.name.is_none() {
        return match health::list(&kube.cache, &kube.exposure, object, Duration::ZERO) {
            Err(e) => Health::Unavailable(e),
            Ok(_) => Health::Missing,
        };
    }
    health::check(&kube.cache, &kube.exposure, object, Duration::ZERO)
}

/// Every object of a collection, one line (or JSON object) each: 200 when
/// all are healthy, 503 when one is not.
fn collection_response(
    kube: &KubeHealth,
    collection: &Object,
    json: bool,
    trusted: bool,
) -> Response {
    let listed = match health::list(&kube.cache, &kube.exposure, collection, Duration::ZERO) {
        Ok(listed) => listed,
        Err(e) => return object_response(collection, &Health::Unavailable(e), json, trusted),
    };
    let mut all_healthy = true;
    let mut body = String::from(if json { "{\"objects\":[" } else { "" });
    for (i, (name, health)) in listed.iter().enumerate() {
        let (healthy, message) = match health {
            Health::Healthy(m) => (true, m.as_str()),
            Health::Unhealthy(m) | Health::Failed(m) => (false, m.as_str()),
            Health::Missing => continue,
            Health::Unavailable(_) => (false, "Kubernetes API unavailable"),
        };
        all_healthy &= healthy;
        let one = Object {
            name: Some(name.clone()),
            ..collection.clone()
        };
        if json && i > 0 {
            body.push(',');
        }
        body.push_str(report::object(&one, healthy, message, json).trim_end());
        if !json {
            body.push('\n');
        }
    }
    if json {
        body.push_str("]}\n");
    }
    let content_type = if json {
        ContentType::Json
    } else {
        ContentType::Text
    };
    Response::typed(if all_healthy { 200 } else { 503 }, content_type, body)
}

/// 200 healthy, 503 not (or the API server refused or is away; failed for
/// good is marked with `Rdy-Outcome: failed`), 404 missing. Why the API is
/// unavailable is told only to callers that passed the token: an open
/// endpoint must not describe the cluster's RBAC. The server's own
/// `--max-watches` limit is no secret, and blaming the API for it would be
/// false.
fn object_response(object: &Object, health: &Health, json: bool, trusted: bool) -> Response {
    let (status, healthy, message) = match health {
        Health::Healthy(message) => (200, true, message.as_str()),
        Health::Unhealthy(message) | Health::Failed(message) => (503, false, message.as_str()),
        Health::Missing => (404, false, "not found"),
        Health::Unavailable(e @ CacheError::Full(_)) => {
            return unavailable(object, &e.to_string(), json);
        }
        Health::Unavailable(e) if trusted => return unavailable(object, &e.to_string(), json),
        Health::Unavailable(_) => return unavailable(object, "Kubernetes API unavailable", json),
    };
    let content_type = if json {
        ContentType::Json
    } else {
        ContentType::Text
    };
    let response = Response::typed(
        status,
        content_type,
        report::object(object, healthy, message, json),
    );
    match health {
        Health::Failed(_) => response.with(Extra::Failed),
        _ => response,
    }
}

fn unavailable(object: &Object, reason: &str, json: bool) -> Response {
    let content_type = if json {
        ContentType::Json
    } else {
        ContentType::Text
    };
    Response::typed(
        503,
        content_type,
        report::object(object, false, reason, json),
    )
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
