//! LIST then WATCH until a rule says ready (k8s-api.md §3), the way
//! client-go's reflector and `watchtools.UntilWithSync` do it:
//!
//! 1. LIST with a field or label selector; its `resourceVersion` seeds the
//!    watch, and an empty list means "not created yet".
//! 2. WATCH from that version with bookmarks and `timeoutSeconds=290`,
//!    reading one JSON event per line; every event updates the objects and
//!    the version, and the rule is evaluated again.
//! 3. A clean end of the stream (the server's timeout) re-watches from the
//!    version; `410 Gone` (as status or as an ERROR event) lists again;
//!    429, 5xx and broken connections back off with jitter, honouring
//!    `Retry-After`; 401 after a credential refresh, 403, a plain-text 404
//!    and other 4xx end the wait.
//!
//! One object becoming ready costs one LIST and one WATCH, however long the
//! wait; a 2 s poller makes 30 requests a minute.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::client::{Client, StreamEnd};
use super::error::ApiError;
use super::rules::Verdict;
use crate::json::Value;
use crate::percent;

/// Asked of the server for each watch; kube-rs uses the same and refuses
/// 295 s or more (kubernetes#6513).
const WATCH_SECONDS: u64 = 290;
/// Our own read limit on a watch: the server's timeout plus a margin.
const WATCH_READ_LIMIT: Duration = Duration::from_secs(WATCH_SECONDS + 30);

/// Which objects of a collection are watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `fieldSelector=metadata.name=NAME`: one object. The name then also
    /// reaches the authorizer, so RBAC `resourceNames` can restrict it.
    Name(String),
    /// `labelSelector=…`.
    Labels(String),
}

/// A collection and a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `/apis/apps/v1/namespaces/NS/deployments`.
    pub collection: String,
    /// Which objects in it.
    pub selector: Selector,
}

impl Query {
    fn selector_param(&self) -> String {
        match &self.selector {
            Selector::Name(name) => format!(
                "fieldSelector={}",
                percent::encode(&format!("metadata.name={name}"))
            ),
            Selector::Labels(labels) => format!("labelSelector={}", percent::encode(labels)),
        }
    }

    /// The LIST request.
    pub fn list_path(&self) -> String {
        format!("{}?{}", self.collection, self.selector_param())
    }

    /// The WATCH request from `version`.
    pub fn watch_path(&self, version: &str) -> String {
        format!(
            "{}?{}&watch=1&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}",
            self.collection,
            self.selector_param(),
            percent::encode(version)
        )
    }
}

/// The objects matching a query, by name.
#[derive(Debug, Default)]
pub struct Objects(Vec<(String, Value)>);

impl Objects {
    /// The objects, in the order first seen.
    pub fn all(&self) -> Vec<&Value> {
        self.0.iter().map(|(_, v)| v).collect()
    }

    fn upsert(&mut self, object: Value) {
        let name = super::rules::name_of(&object).to_owned();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = object,
            None => self.0.push((name, object)),
        }
    }

    fn remove(&mut self, object: &Value) {
        let name = super::rules::name_of(object);
        self.0.retain(|(n, _)| n != name);
    }
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
    let list = client.get_json(&query.list_path(), deadline)?;
    let version = list
        .at(&["metadata", "resourceVersion"])
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Invalid("a list without metadata.resourceVersion".to_owned()))?
        .to_owned();
    let mut objects = Objects::default();
    for item in list.get("items").map(Value::items).unwrap_or_default() {
        objects.upsert(item.clone());
    }
    Ok((objects, version))
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
        self.wake_at().is_none_or(|at| Instant::now() >= at) && self.since.is_some()
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
    let mut run = Run {
        client,
        query,
        judge,
        deadline: deadline
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(10 * 365 * 86_400)),
        progress,
        backoff: Backoff::new(),
        last: None,
        stability: Stability {
            stable,
            since: None,
        },
    };
    run.until_ready()
}

struct Run<'a> {
    client: &'a Client,
    query: &'a Query,
    judge: &'a dyn Fn(&Objects) -> Verdict,
    deadline: Instant,
    progress: &'a mut dyn FnMut(Progress<'_>),
    backoff: Backoff,
    last: Option<Verdict>,
    stability: Stability,
}

/// What to do after one watch stream.
enum Next {
    /// Watch again from the last version.
    Rewatch,
    /// The version expired: list again.
    Relist,
    /// Ready (and stable), with the rule's message.
    Ready(String),
}

impl Run<'_> {
    fn until_ready(&mut self) -> Result<String, WatchError> {
        loop {
            let (mut objects, mut version) = match list(self.client, self.query, self.deadline) {
                Ok(listed) => listed,
                Err(e) => {
                    self.retry_or_fail(e)?;
                    continue;
                }
            };
            if let Some(message) = self.evaluate(&objects)? {
                return Ok(message);
            }
            loop {
                match self.watch(&mut objects, &mut version)? {
                    Next::Rewatch => {}
                    Next::Relist => break,
                    Next::Ready(message) => return Ok(message),
                }
            }
        }
    }

    /// One WATCH request, read until it ends.
    fn watch(&mut self, objects: &mut Objects, version: &mut String) -> Result<Next, WatchError> {
        let read_until = self
            .deadline
            .min(Instant::now() + WATCH_READ_LIMIT)
            .min(self.stability.wake_at().unwrap_or(self.deadline));
        let mut stream = match self
            .client
            .watch(&self.query.watch_path(version), read_until)
        {
            Ok(stream) => stream,
            Err(ApiError::Gone) => return Ok(Next::Relist),
            Err(e) => {
                self.retry_or_fail(e)?;
                return Ok(Next::Rewatch);
            }
        };
        let started = Instant::now();
        let mut events = 0;
        loop {
            let event = match stream.next_event() {
                Ok(event) => event,
                Err(end) => return self.after_stream(end, events, started),
            };
            events += 1;
            let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
            let Some(object) = event.get("object") else {
                continue;
            };
            if let Some(v) = object
                .at(&["metadata", "resourceVersion"])
                .and_then(Value::as_str)
            {
                version.clear();
                version.push_str(v);
            }
            match kind {
                "ADDED" | "MODIFIED" => objects.upsert(object.clone()),
                "DELETED" => objects.remove(object),
                "BOOKMARK" => continue,
                "ERROR" => return self.watch_error(object),
                _ => continue,
            }
            if let Some(message) = self.evaluate(objects)? {
                return Ok(Next::Ready(message));
            }
        }
    }

    /// Handles the end of a stream: a quiet stream may have proven
    /// stability or reached the deadline.
    fn after_stream(
        &mut self,
        end: StreamEnd,
        events: u32,
        started: Instant,
    ) -> Result<Next, WatchError> {
        if self.stability.proven() {
            let message = self
                .last
                .as_ref()
                .map(|v| v.message().to_owned())
                .unwrap_or_default();
            return Ok(Next::Ready(message));
        }
        if Instant::now() >= self.deadline {
            return Err(self.timed_out());
        }
        match end {
            StreamEnd::Deadline => Ok(Next::Rewatch),
            // A server that ends watches at once would be re-watched in a
            // tight loop; back off when a stream brought nothing.
            StreamEnd::Clean if events > 0 || started.elapsed() >= Duration::from_secs(1) => {
                Ok(Next::Rewatch)
            }
            StreamEnd::Clean => {
                let pause = self.backoff.next(None);
                self.sleep(pause)?;
                Ok(Next::Rewatch)
            }
            StreamEnd::Broken(why) => {
                self.retry_or_fail(ApiError::Invalid(why))?;
                Ok(Next::Rewatch)
            }
        }
    }

    /// An ERROR event carries a Status: 410 means list again.
    fn watch_error(&mut self, status: &Value) -> Result<Next, WatchError> {
        let code = status.get("code").and_then(Value::as_i64).unwrap_or(0);
        let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
        if code == 410 || reason == "Expired" || reason == "Gone" {
            return Ok(Next::Relist);
        }
        let message = status
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("watch error")
            .to_owned();
        self.retry_or_fail(ApiError::Retry {
            code: u16::try_from(code).unwrap_or(0),
            message,
            after: None,
        })?;
        Ok(Next::Rewatch)
    }

    /// Applies the rule; `Some(message)` when done (ready and stable).
    fn evaluate(&mut self, objects: &Objects) -> Result<Option<String>, WatchError> {
        let verdict = (self.judge)(objects);
        if self.last.as_ref() != Some(&verdict) {
            (self.progress)(Progress::Verdict(&verdict));
        }
        let result = match &verdict {
            Verdict::Failed(message) => Err(WatchError::Failed(message.clone())),
            Verdict::Ready(message) => {
                self.stability.since.get_or_insert_with(Instant::now);
                Ok(self.stability.proven().then(|| message.clone()))
            }
            Verdict::Waiting(_) => {
                self.stability.since = None;
                Ok(None)
            }
        };
        self.last = Some(verdict);
        result
    }

    /// Backs off before retrying a transient error; a fatal one ends the
    /// wait.
    fn retry_or_fail(&mut self, error: ApiError) -> Result<(), WatchError> {
        if error.is_fatal() {
            return Err(WatchError::Api(error));
        }
        let retry_after = match &error {
            ApiError::Retry { after, .. } => *after,
            _ => None,
        };
        let pause = self.backoff.next(retry_after);
        (self.progress)(Progress::Retrying(&error, pause));
        self.sleep(pause)
    }

    fn sleep(&mut self, pause: Duration) -> Result<(), WatchError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if pause >= left {
            std::thread::sleep(left);
            return Err(self.timed_out());
        }
        std::thread::sleep(pause);
        Ok(())
    }

    fn timed_out(&self) -> WatchError {
        WatchError::TimedOut(
            self.last
                .as_ref()
                .map(|v| v.message().to_owned())
                .unwrap_or_default(),
        )
    }
}

/// client-go's reflector backoff: 800 ms doubling to 30 s with full jitter,
/// reset after two quiet minutes.
struct Backoff {
    next: Duration,
    last: Option<Instant>,
    seed: u64,
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
    fn next(&mut self, retry_after: Option<Duration>) -> Duration {
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
