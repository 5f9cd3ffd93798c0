//! LIST then WATCH until a rule says ready (docs/kubernetes.md §3), the way
//! client-go's reflector and `watchtools.UntilWithSync` do it:
//!
//! 1. LIST with a field or label selector; its `resourceVersion` seeds the
//!    watch, and an empty list means "not created yet".
//! 2. WATCH from that version with bookmarks and `timeoutSeconds=290`,
//!    reading one JSON event per line; every event updates the objects and
//!    the version, and the rule is evaluated again.
//! 3. A clean end of the stream (the server's timeout) re-watches from the
//!    version; `410 Gone` (as status or as an ERROR event) lists again
//!    after the backoff, as client-go's reflector restarts ListAndWatch
//!    only through its backoff, so a server that expires every watch costs
//!    two requests per 30–60 s, not a tight loop; 429, 5xx and broken
//!    connections back off with jitter, honouring `Retry-After`; 401
//!    after a credential refresh (for a minute if the server accepted the
//!    credentials before), 403, a plain-text 404 and other 4xx end the
//!    wait.
//!
//! Each recovery (a relist, a watch open again after a failure) is a
//! debug line, and an info line when it repeats without a healthy watch
//! in between.
//!
//! One object becoming ready costs one LIST and one WATCH, however long the
//! wait; a 2 s poller makes 30 requests a minute.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::client::{Client, MAX_KEPT, StreamEnd, parsed};
use super::error::ApiError;
use super::rules::Verdict;
use crate::duration::Human;
use crate::json::stream::Keep;
use crate::json::{self, Value};
use crate::{log, percent};

/// Asked of the server for each watch; kube-rs uses the same and refuses
/// 295 s or more (kubernetes#6513).
const WATCH_SECONDS: u64 = 290;

/// Which objects of a collection are watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `fieldSelector=metadata.name=NAME`: one object. The name then also
    /// reaches the authorizer, so RBAC `resourceNames` can restrict it.
    Name(String),
    /// `labelSelector=…`.
    Labels(String),
    /// The whole collection, shared by every question about an object in
    /// it (`rdy serve`).
    All,
}

/// A collection and a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `/apis/apps/v1/namespaces/NS/deployments`.
    pub collection: String,
    /// Which objects in it.
    pub selector: Selector,
    /// What is kept of each object (`kube::fields`).
    pub keep: &'static Keep,
}

impl Query {
    fn selector_param(&self) -> String {
        match &self.selector {
            Selector::All => String::new(),
            Selector::Name(name) => format!(
                "fieldSelector={}",
                percent::encode(&format!("metadata.name={name}"))
            ),
            Selector::Labels(labels) => format!("labelSelector={}", percent::encode(labels)),
        }
    }

    /// The LIST request.
    pub fn list_path(&self) -> String {
        match self.selector {
            Selector::All => self.collection.clone(),
            _ => format!("{}?{}", self.collection, self.selector_param()),
        }
    }

    /// The query of the whole collection this one selects from, when its
    /// objects can be picked from it in memory: by name, or by labels
    /// that are all `key=value`.
    pub fn shared(&self) -> Option<Query> {
        let pickable = match &self.selector {
            Selector::Name(_) => true,
            Selector::Labels(labels) => equalities(labels).is_some(),
            Selector::All => false,
        };
        pickable.then(|| Query {
            collection: self.collection.clone(),
            selector: Selector::All,
            keep: self.keep,
        })
    }

    /// The WATCH request from `version`.
    pub fn watch_path(&self, version: &str) -> String {
        self.watch_path_for(version, WATCH_SECONDS)
    }

    /// The WATCH request from `version`, ended by the server after
    /// `seconds`.
    pub fn watch_path_for(&self, version: &str, seconds: u64) -> String {
        format!(
            "{}?{}watch=1&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds={seconds}",
            self.collection,
            match self.selector {
                Selector::All => String::new(),
                _ => self.selector_param() + "&",
            },
            percent::encode(version)
        )
    }
}

/// The objects matching a query, by namespace and name, each as the
/// compact JSON of what its query keeps; parsed when judged.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    /// Sorted by key (`namespace/name`): a sorted vector costs less code
    /// than a map, and lookups are binary searches.
    by_name: Vec<(String, Box<[u8]>)>,
    /// What they cost, as [`crate::json::stream`] counts.
    cost: usize,
}

impl Objects {
    /// The objects, by namespace and name.
    pub fn all(&self) -> Vec<Value> {
        self.by_name
            .iter()
            .filter_map(|(_, kept)| json::parse(kept).ok())
            .collect()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// What they cost in memory, about.
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// Just the object `name` of `namespace` (`""` when cluster-scoped).
    pub fn only(&self, namespace: &str, name: &str) -> Objects {
        let key = key(namespace, name);
        let mut one = Objects::default();
        if let Ok(at) = self.find(&key) {
            let kept = self.by_name[at].1.clone();
            one.cost = kept.len();
            one.by_name.push((key, kept));
        }
        one
    }

    /// The objects `selector` picks: by name (in the namespace of a
    /// namespaced collection), or by `key=value` labels.
    pub fn picked(&self, selector: &Selector) -> Objects {
        match selector {
            Selector::All => self.clone(),
            Selector::Name(name) => {
                let namespace = self.by_name.first().and_then(|(k, _)| k.split_once('/'));
                self.only(namespace.map_or("", |(ns, _)| ns), name)
            }
            Selector::Labels(labels) => {
                let wanted = equalities(labels).unwrap_or_default();
                let mut picked = Objects::default();
                for (key, kept) in &self.by_name {
                    let Ok(object) = json::parse(kept) else {
                        continue;
                    };
                    let labelled = |(k, v): &(&str, &str)| {
                        object
                            .at(&["metadata", "labels", k])
                            .and_then(Value::as_str)
                            == Some(*v)
                    };
                    if wanted.iter().all(labelled) {
                        picked.cost += kept.len();
                        picked.by_name.push((key.clone(), kept.clone()));
                    }
                }
                picked
            }
        }
    }

    /// The namespace and name of each object.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_name
            .iter()
            .map(|(k, _)| k.split_once('/').unwrap_or(("", k)))
    }

    /// Keeps `kept` (whose tree is `object`) under its namespace and name.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.by_name.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    fn upsert(&mut self, object: &Value, kept: Vec<u8>) {
        let key = key_of(object);
        self.cost += kept.len();
        let kept = kept.into_boxed_slice();
        match self.find(&key) {
            Ok(at) => self.cost -= std::mem::replace(&mut self.by_name[at].1, kept).len(),
            Err(at) => self.by_name.insert(at, (key, kept)),
        }
    }

    fn remove(&mut self, object: &Value) {
        if let Ok(at) = self.find(&key_of(object)) {
            self.cost -= self.by_name.remove(at).1.len();
        }
    }
}

/// `a=b,c=d` as pairs; `None` for any other selector (`!=`, `in`, `!a`).
fn equalities(labels: &str) -> Option<Vec<(&str, &str)>> {
    labels
        .split(',')
        .map(|term| {
            let (k, v) = term.split_once('=')?;
            let v = v.strip_prefix('=').unwrap_or(v);
            let plain = |s: &str| !s.is_empty() && !s.contains(['!', '=', '(', ' ']);
            (plain(k) && (v.is_empty() || plain(v))).then_some((k, v))
        })
        .collect()
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

fn key_of(object: &Value) -> String {
    let namespace = object
        .at(&["metadata", "namespace"])
        .and_then(Value::as_str)
        .unwrap_or("");
    key(namespace, super::rules::name_of(object))
}

/// Why a wait ended without the object being ready.
#[derive(Debug)]
pub enum WatchError {
    /// The rule says it can never become ready.
    Failed(String),
    /// The deadline passed; the last progress message.
    TimedOut(String),
    /// The API refused in a way waiting cannot fix.
    Api(ApiError),
}

/// What the watcher tells its caller along the way.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The rule's verdict changed.
    Verdict(&'a Verdict),
    /// A request failed and will be retried after the delay.
    Retrying(&'a ApiError, Duration),
}

/// LISTs once and returns the objects (for `rdy check`).
pub fn list_once(client: &Client, query: &Query, deadline: Instant) -> Result<Objects, ApiError> {
    list(client, query, deadline).map(|(objects, _)| objects)
}

fn list(client: &Client, query: &Query, deadline: Instant) -> Result<(Objects, String), ApiError> {
    let mut objects = Objects::default();
    let version = client.list(
        &query.list_path(),
        query.keep,
        MAX_KEPT,
        deadline,
        &mut |kept| {
            let object = parsed(&kept)?;
            objects.upsert(&object, kept);
            Ok(())
        },
    )?;
    Ok((objects, version))
}

/// Someone who follows the objects of a query and decides when to stop:
/// a waiter (stop when ready), or the server's watch cache (stop when
/// nobody asked for a while).
pub trait Observer {
    /// What a finished observation yields.
    type Done;

    /// Called after every LIST, after every change, and when
    /// [`Observer::wake_at`] passes on a quiet stream; `Some` stops.
    fn observe(&mut self, objects: &Objects) -> Option<Self::Done>;

    /// When to be called even if nothing changes.
    fn wake_at(&self) -> Option<Instant> {
        None
    }

    /// A watch stream is open again: the objects are current.
    fn connected(&mut self) {}

    /// A request failed; `pause` is the backoff before the retry. `Some`
    /// stops instead of retrying.
    fn failed(&mut self, error: ApiError, pause: Duration) -> Option<Self::Done>;

    /// The deadline passed.
    fn timed_out(&mut self) -> Self::Done;
}

/// Follows the objects of `query` (LIST, then WATCH, again and again)
/// until the observer is done or `deadline` passes. `watch_seconds` is the
/// server-side length of each watch.
pub fn reflect<O: Observer>(
    client: &Client,
    query: &Query,
    deadline: Option<Instant>,
    watch_seconds: u64,
    observer: &mut O,
) -> O::Done {
    let mut reflector = Reflector {
        client,
        query,
        deadline: deadline
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(10 * 365 * 86_400)),
        watch_seconds,
        backoff: Backoff::new(),
        objects: Objects::default(),
        version: String::new(),
        streak: 0,
        failing: false,
    };
    reflector.run(observer)
}

struct Reflector<'a> {
    client: &'a Client,
    query: &'a Query,
    deadline: Instant,
    watch_seconds: u64,
    backoff: Backoff,
    objects: Objects,
    version: String,
    /// Recoveries since the last healthy watch.
    streak: u32,
    /// A request failed since the last watch opened.
    failing: bool,
}

/// Where the loop goes next.
enum Next<D> {
    /// Watch again from the last version.
    Rewatch,
    /// The version expired: list again.
    Relist,
    /// The observer is done.
    Done(D),
}

impl Reflector<'_> {
    fn run<O: Observer>(&mut self, observer: &mut O) -> O::Done {
        loop {
            match list(self.client, self.query, self.deadline) {
                Ok((objects, version)) => (self.objects, self.version) = (objects, version),
                Err(e) => match self.retry(e, observer) {
                    Next::Done(done) => return done,
                    _ => continue,
                },
            }
            if let Some(done) = observer.observe(&self.objects) {
                return done;
            }
            loop {
                match self.watch(observer) {
                    Next::Rewatch => {}
                    Next::Relist => break,
                    Next::Done(done) => return done,
                }
            }
            let pause = self.backoff.next(None);
            self.recovery(
                "The watch's resource version expired: listing again",
                Some(pause),
            );
            if let Some(Next::Done(done)) = self.sleep(pause, observer) {
                return done;
            }
        }
    }

    /// Logs a recovery: at debug, and at info once it repeats without a
    /// healthy watch in between.
    fn recovery(&mut self, what: &str, pause: Option<Duration>) {
        let line = match self.streak {
            0 => log::debug(what),
            _ => log::info(what),
        };
        self.streak += 1;
        let line = line.field("query", self.query.list_path());
        match pause {
            Some(pause) => line.field("retry_in", Human(pause)).emit(),
            None => line.emit(),
        }
    }

    /// One WATCH request, read until it ends.
    fn watch<O: Observer>(&mut self, observer: &mut O) -> Next<O::Done> {
        // A look the observer asked for is due already (after a failed
        // request and its backoff): take it before a request that would
        // have no time left, or `stable=` would never be proven.
        if observer.wake_at().is_some_and(|at| Instant::now() >= at)
            && let Some(done) = observer.observe(&self.objects)
        {
            return Next::Done(done);
        }
        let read_limit = Duration::from_secs(self.watch_seconds + 30);
        let read_until = self
            .deadline
            .min(Instant::now() + read_limit)
            .min(observer.wake_at().unwrap_or(self.deadline));
        let path = self.query.watch_path_for(&self.version, self.watch_seconds);
        let mut stream = match self.client.watch(&path, read_until) {
            Ok(stream) => stream,
            Err(ApiError::Gone) => return Next::Relist,
            Err(e) => return self.retry(e, observer),
        };
        observer.connected();
        if std::mem::take(&mut self.failing) {
            self.recovery("Watching again", None);
        }
        let started = Instant::now();
        let mut events = 0;
        loop {
            let event = match stream.next_event(self.query.keep) {
                Ok(event) => event,
                Err(end) => return self.after_stream(end, events, started, observer),
            };
            events += 1;
            self.streak = 0;
            let Ok(object) = parsed(&event.object) else {
                continue;
            };
            if let Some(v) = object
                .at(&["metadata", "resourceVersion"])
                .and_then(Value::as_str)
            {
                self.version.clear();
                self.version.push_str(v);
            }
            match event.kind.as_str() {
                "ADDED" | "MODIFIED" => self.objects.upsert(&object, event.object),
                "DELETED" => self.objects.remove(&object),
                "ERROR" => return self.watch_error(&object, observer),
                // BOOKMARK (and anything new) only moves the version.
                _ => continue,
            }
            if self.objects.cost() > MAX_KEPT {
                let error = ApiError::TooLarge {
                    path: self.query.list_path(),
                    why: format!("what rdy keeps of it exceeds {} MiB", MAX_KEPT >> 20),
                };
                return self.retry(error, observer);
            }
            if let Some(done) = observer.observe(&self.objects) {
                return Next::Done(done);
            }
        }
    }

    /// The end of a stream: the observer may want a look on a quiet
    /// stream; the deadline may have passed.
    fn after_stream<O: Observer>(
        &mut self,
        end: StreamEnd,
        events: u32,
        started: Instant,
        observer: &mut O,
    ) -> Next<O::Done> {
        if observer.wake_at().is_some_and(|at| Instant::now() >= at)
            && let Some(done) = observer.observe(&self.objects)
        {
            return Next::Done(done);
        }
        if Instant::now() >= self.deadline {
            return Next::Done(observer.timed_out());
        }
        match end {
            StreamEnd::Deadline => Next::Rewatch,
            // A server that ends watches at once would be re-watched in a
            // tight loop; back off when a stream brought nothing.
            StreamEnd::Clean if events > 0 || started.elapsed() >= Duration::from_secs(1) => {
                self.streak = 0;
                Next::Rewatch
            }
            StreamEnd::Clean => {
                let pause = self.backoff.next(None);
                self.recovery("The watch ended at once: watching again", Some(pause));
                self.sleep(pause, observer).unwrap_or(Next::Rewatch)
            }
            StreamEnd::Broken(error) => self.retry(error, observer),
        }
    }

    /// An ERROR event carries a Status: 410 means list again.
    fn watch_error<O: Observer>(&mut self, status: &Value, observer: &mut O) -> Next<O::Done> {
        let code = status.get("code").and_then(Value::as_i64).unwrap_or(0);
        let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
        if code == 410 || reason == "Expired" || reason == "Gone" {
            return Next::Relist;
        }
        let message = status
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("watch error")
            .to_owned();
        let error = ApiError::Retry {
            code: u16::try_from(code).unwrap_or(0),
            message,
            after: None,
        };
        self.retry(error, observer)
    }

    /// Tells the observer about a failed request and backs off, unless it
    /// is done.
    fn retry<O: Observer>(&mut self, error: ApiError, observer: &mut O) -> Next<O::Done> {
        let retry_after = match &error {
            ApiError::Retry { after, .. } => *after,
            _ => None,
        };
        let pause = self.backoff.next(retry_after);
        self.failing = true;
        if let Some(done) = observer.failed(error, pause) {
            return Next::Done(done);
        }
        self.sleep(pause, observer).unwrap_or(Next::Rewatch)
    }

    /// Sleeps, or returns the timeout if the deadline comes first.
    fn sleep<O: Observer>(&self, pause: Duration, observer: &mut O) -> Option<Next<O::Done>> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if pause >= left {
            std::thread::sleep(left);
            return Some(Next::Done(observer.timed_out()));
        }
        std::thread::sleep(pause);
        None
    }
}

/// Ready continuously for `stable` before it counts (`?stable=`).
struct Stability {
    stable: Option<Duration>,
    since: Option<Instant>,
}

impl Stability {
    /// When a quiet stream must be interrupted to confirm stability.
    fn wake_at(&self) -> Option<Instant> {
        Some(self.since? + self.stable?)
    }

    fn proven(&self) -> bool {
        self.since.is_some() && self.wake_at().is_none_or(|at| Instant::now() >= at)
    }
}

/// Watches until the rule says ready (returning its message), it says
/// failed, the API refuses, or `deadline` passes.
pub fn watch_until(
    client: &Client,
    query: &Query,
    judge: &dyn Fn(&Objects) -> Verdict,
    deadline: Option<Instant>,
    stable: Option<Duration>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<String, WatchError> {
    let mut waiter = Waiter {
        judge,
        progress,
        last: None,
        error: None,
        stability: Stability {
            stable,
            since: None,
        },
    };
    reflect(client, query, deadline, WATCH_SECONDS, &mut waiter)
}

/// The observer of `rdy wait`: judge every change, stop when ready (and
/// stable), failed, or refused.
struct Waiter<'a> {
    judge: &'a dyn Fn(&Objects) -> Verdict,
    progress: &'a mut dyn FnMut(Progress<'_>),
    last: Option<Verdict>,
    /// The last failed request since the last answer, for the timeout's
    /// message.
    error: Option<String>,
    stability: Stability,
}

impl Observer for Waiter<'_> {
    type Done = Result<String, WatchError>;

    fn observe(&mut self, objects: &Objects) -> Option<Self::Done> {
        self.error = None;
        let verdict = (self.judge)(objects);
        if self.last.as_ref() != Some(&verdict) {
            (self.progress)(Progress::Verdict(&verdict));
        }
        let done = match &verdict {
            Verdict::Failed(message) => Some(Err(WatchError::Failed(message.clone()))),
            Verdict::Ready(message) => {
                self.stability.since.get_or_insert_with(Instant::now);
                self.stability.proven().then(|| Ok(message.clone()))
            }
            Verdict::Waiting(_) => {
                self.stability.since = None;
                None
            }
        };
        self.last = Some(verdict);
        done
    }

    fn wake_at(&self) -> Option<Instant> {
        self.stability.wake_at()
    }

    fn failed(&mut self, error: ApiError, pause: Duration) -> Option<Self::Done> {
        if error.is_fatal() {
            return Some(Err(WatchError::Api(error)));
        }
        (self.progress)(Progress::Retrying(&error, pause));
        self.error = Some(error.to_string());
        None
    }

    fn connected(&mut self) {
        self.error = None;
    }

    /// The last verdict and the last error since, whichever there are.
    fn timed_out(&mut self) -> Self::Done {
        let verdict = self.last.as_ref().map(Verdict::message);
        Err(WatchError::TimedOut(match (verdict, self.error.take()) {
            (Some(verdict), Some(error)) => format!("{verdict}; last error: {error}"),
            (Some(verdict), None) => verdict.to_owned(),
            (None, Some(error)) => error,
            (None, None) => "no answer from the API server in time".to_owned(),
        }))
    }
}

/// client-go's reflector backoff: 800 ms doubling to 30 s with full jitter,
/// reset after two quiet minutes. `default()` is at its first step.
pub struct Backoff {
    next: Duration,
    last: Option<Instant>,
    seed: u64,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new()
    }
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(800);
    const CAP: Duration = Duration::from_secs(30);
    const RESET: Duration = Duration::from_secs(120);

    fn new() -> Backoff {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 | 1);
        Backoff {
            next: Backoff::FIRST,
            last: None,
            seed,
        }
    }

    /// The next pause: `retry_after` when the server gave one, else the
    /// current step plus up to 100 % jitter.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        if self.last.is_some_and(|at| at.elapsed() > Backoff::RESET) {
            self.next = Backoff::FIRST;
        }
        self.last = Some(Instant::now());
        if let Some(after) = retry_after {
            return after.min(Backoff::CAP);
        }
        let step = self.next;
        self.next = (self.next * 2).min(Backoff::CAP);
        // xorshift64: jitter needs no cryptography.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = step.mul_f64((self.seed % 1000) as f64 / 1000.0);
        step + jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_encode_selectors() {
        let named = Query {
            collection: "/apis/apps/v1/namespaces/default/deployments".to_owned(),
            selector: Selector::Name("web".to_owned()),
            keep: &Keep::All,
        };
        assert_eq!(
            named.list_path(),
            "/apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3Dweb"
        );
        assert_eq!(
            named.watch_path("48277"),
            "/apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3Dweb&watch=1&resourceVersion=48277&allowWatchBookmarks=true&timeoutSeconds=290"
        );
        let labelled = Query {
            collection: "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices".to_owned(),
            selector: Selector::Labels("kubernetes.io/service-name=web".to_owned()),
            keep: &Keep::All,
        };
        assert!(
            labelled
                .list_path()
                .ends_with("?labelSelector=kubernetes.io%2Fservice-name%3Dweb")
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new();
        let first = b.next(None);
        assert!(
            first >= Backoff::FIRST && first <= Backoff::FIRST * 2,
            "{first:?}"
        );
        for _ in 0..10 {
            b.next(None);
        }
        let late = b.next(None);
        assert!(late >= Backoff::CAP && late <= Backoff::CAP * 2, "{late:?}");
        assert_eq!(b.next(Some(Duration::from_secs(3))), Duration::from_secs(3));
    }
}
