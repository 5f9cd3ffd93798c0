//! The watch cache of `rdy serve`: Kubernetes objects kept in memory by one
//! LIST+WATCH per collection (a resource in a namespace, or a cluster-scoped
//! resource), shared by every question about any object in it, so that any
//! number of HTTP requests cost the API server nothing more.
//!
//! The first request for a query starts a reflector thread (see
//! [`super::watch::reflect`]) and waits briefly for its first LIST; later
//! requests read the objects from memory. A reflector that nobody asked for
//! during the idle limit stops, closing its watch. The server never gives
//! up on the API server: failures are recorded, answered as errors, and
//! retried with backoff until the watch is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::client::Client;
use super::discovery;
use super::error::ApiError;
use super::object::Api;
use super::watch::{self, Objects, Observer, Query};
use crate::log;

/// Watches never last longer than this on the server, as for waiters.
const WATCH_SECONDS: u64 = 290;

/// Why the cache has no objects to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// The first LIST has not completed yet.
    Syncing,
    /// The API server refused or could not be reached; the reason.
    Api(String),
    /// The API server does not serve the resource at all (plain 404).
    NotServed(String),
    /// As many collections are watched as the limit allows.
    Full(usize),
    /// RBAC refuses the request (403); the reason.
    Forbidden(String),
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Syncing => f.write_str("the object is being read from the API server"),
            CacheError::Api(reason)
            | CacheError::NotServed(reason)
            | CacheError::Forbidden(reason) => f.write_str(reason),
            CacheError::Full(limit) => write!(
                f,
                "this server already watches as many collections as --max-watches allows \
                 ({limit}); raise --max-watches"
            ),
        }
    }
}

/// What a reflector last learnt.
#[derive(Debug)]
struct State {
    /// The objects after the last LIST or event; `None` before the first.
    objects: Option<Arc<Objects>>,
    /// The last failure since the last successful LIST or event.
    error: Option<CacheError>,
    /// When a request last asked for this query.
    last_used: Instant,
}

/// One watched query.
#[derive(Debug)]
struct Entry {
    query: Query,
    state: Mutex<State>,
    synced: Condvar,
}

impl Entry {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Called from reflector threads whenever an entry's state changes.
pub type Notify = Box<dyn Fn() + Send + Sync>;

/// Objects by query, each kept current by its own watch.
pub struct WatchCache {
    client: Arc<Client>,
    entries: Mutex<Vec<Arc<Entry>>>,
    max: usize,
    idle: Duration,
    /// Set when any entry's state changed since [`WatchCache::take_changed`].
    changed: AtomicBool,
    /// Wakes whoever waits for changes (the server's event loop).
    notify: OnceLock<Notify>,
    /// Collections RBAC refused to list, and since when: their objects are
    /// watched one by one instead, for [`FORBIDDEN_FOR`].
    forbidden: Mutex<Vec<(String, Instant)>>,
    /// The objects asked about that exist (namespace, resource as written,
    /// name), for `/metrics`; at most [`MAX_ASKED`].
    asked: Mutex<Vec<(String, String, String)>>,
}

/// Objects remembered for `/metrics` at most.
const MAX_ASKED: usize = 100_000;

/// How long a collection that RBAC refused is not asked for again.
const FORBIDDEN_FOR: Duration = Duration::from_secs(300);

/// The collection of the entry that reads API discovery instead of
/// watching: not a path any resource has.
const DISCOVERY: &str = "discovery";

impl std::fmt::Debug for WatchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WatchCache({} watched)", self.watched())
    }
}

impl WatchCache {
    /// A cache over `client` with at most `max` watched queries, each closed
    /// after `idle` without requests.
    pub fn new(client: Arc<Client>, max: usize, idle: Duration) -> Arc<WatchCache> {
        Arc::new(WatchCache {
            client,
            entries: Mutex::new(Vec::new()),
            max,
            idle,
            changed: AtomicBool::new(false),
            notify: OnceLock::new(),
            forbidden: Mutex::new(Vec::new()),
            asked: Mutex::new(Vec::new()),
        })
    }

    /// The resource `written` names, from the discovery table in memory.
    /// Without a table, or when the name is missing from one older than
    /// [`discovery::FRESH`], discovery is read by an entry of its own (a
    /// thread, like a watch) and this waits up to `first_sync` for it.
    pub fn resolve(
        self: &Arc<Self>,
        written: &str,
        first_sync: Duration,
    ) -> Result<Api, CacheError> {
        let fresh = || discovery::age().is_some_and(|age| age < discovery::FRESH);
        match discovery::cached(written) {
            Some(Some(resource)) => return Ok(Api::Found(resource)),
            Some(None) if fresh() => {}
            _ => {
                let reading = Query {
                    collection: DISCOVERY.to_owned(),
                    selector: watch::Selector::Name(String::new()),
                    keep: &crate::json::stream::Keep::All,
                };
                self.objects(&reading, first_sync)?;
            }
        }
        match discovery::cached(written) {
            Some(Some(resource)) => Ok(Api::Found(resource)),
            _ => Err(CacheError::NotServed(format!(
                "the cluster serves no resource {written:?} yet"
            ))),
        }
    }

    /// Sets what is called after every change of state (the first call
    /// wins).
    pub fn on_change(&self, notify: Notify) {
        let _ = self.notify.set(notify);
    }

    /// Whether anything changed since the last call.
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::SeqCst)
    }

    fn changed(&self) {
        self.changed.store(true, Ordering::SeqCst);
        if let Some(notify) = self.notify.get() {
            notify();
        }
    }

    /// The API server's client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How many queries may be watched at once (`--max-watches`).
    pub fn capacity(&self) -> usize {
        self.max
    }

    /// How many queries are watched now.
    pub fn watched(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current objects of `query`, picked from the watch of its whole
    /// collection (one LIST+WATCH for every object in it), or watched by
    /// themselves when the selector cannot be applied in memory or RBAC
    /// refuses to list the collection. The first request starts the watch
    /// and waits up to `first_sync` for the first LIST.
    pub fn objects(
        self: &Arc<Self>,
        query: &Query,
        first_sync: Duration,
    ) -> Result<Arc<Objects>, CacheError> {
        if let Some(shared) = query.shared().filter(|s| !self.is_forbidden(s)) {
            match self.synced(&shared, first_sync) {
                Err(CacheError::Forbidden(why)) => self.forbid(&shared, &why),
                other => return other.map(|all| Arc::new(all.picked(&query.selector))),
            }
        }
        self.synced(query, first_sync)
    }

    /// Remembers an object that was asked about and exists.
    pub fn asked(&self, namespace: &str, resource: &str, name: &str) {
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        let key = (namespace, resource, name);
        let found =
            asked.binary_search_by(|(n, r, o)| (n.as_str(), r.as_str(), o.as_str()).cmp(&key));
        if let Err(at) = found
            && asked.len() < MAX_ASKED
        {
            asked.insert(
                at,
                (namespace.to_owned(), resource.to_owned(), name.to_owned()),
            );
        }
    }

    /// The objects asked about, in order.
    pub fn asked_objects(&self) -> Vec<(String, String, String)> {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn is_forbidden(&self, shared: &Query) -> bool {
        let mut forbidden = self.forbidden.lock().unwrap_or_else(|p| p.into_inner());
        forbidden.retain(|(_, since)| since.elapsed() < FORBIDDEN_FOR);
        forbidden.iter().any(|(c, _)| *c == shared.collection)
    }

    /// Remembers that RBAC refused `shared`, and says so once.
    fn forbid(&self, shared: &Query, why: &str) {
        log::info("Listing the collection is forbidden: watching its objects one by one")
            .field("collection", &shared.collection)
            .field("error", why)
            .emit();
        let mut forbidden = self.forbidden.lock().unwrap_or_else(|p| p.into_inner());
        forbidden.push((shared.collection.clone(), Instant::now()));
    }

    /// The objects of `query`'s own watch.
    fn synced(
        self: &Arc<Self>,
        query: &Query,
        first_sync: Duration,
    ) -> Result<Arc<Objects>, CacheError> {
        let entry = self.entry(query)?;
        let mut state = entry.lock();
        state.last_used = Instant::now();
        let until = Instant::now() + first_sync;
        // Bounded by `first_sync`; spurious wake-ups loop at most until then.
        while state.objects.is_none() && state.error.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CacheError::Syncing);
            }
            state = entry
                .synced
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        match (&state.error, &state.objects) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(objects)) => Ok(objects.clone()),
            (None, None) => Err(CacheError::Syncing),
        }
    }

    /// The entry of `query`, created (with its reflector) if new.
    fn entry(self: &Arc<Self>, query: &Query) -> Result<Arc<Entry>, CacheError> {
        let mut entries = self.lock();
        if let Some(entry) = entries.iter().find(|e| e.query == *query) {
            return Ok(entry.clone());
        }
        if entries.len() >= self.max {
            return Err(CacheError::Full(self.max));
        }
        let entry = Arc::new(Entry {
            query: query.clone(),
            state: Mutex::new(State {
                objects: None,
                error: None,
                last_used: Instant::now(),
            }),
            synced: Condvar::new(),
        });
        let (cache, watched) = (self.clone(), entry.clone());
        let spawned = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || cache.follow(&watched));
        if let Err(e) = spawned {
            return Err(CacheError::Api(format!("cannot start a watch: {e}")));
        }
        entries.push(entry.clone());
        Ok(entry)
    }

    /// The reflector thread of one entry; removes it when it stops.
    fn follow(&self, entry: &Arc<Entry>) {
        if entry.query.collection == DISCOVERY {
            return self.discover(entry);
        }
        log::debug("Watching")
            .field("query", entry.query.list_path())
            .emit();
        let mut observer = Keeper {
            cache: self,
            entry,
            idle: self.idle,
        };
        watch::reflect(
            &self.client,
            &entry.query,
            None,
            WATCH_SECONDS,
            &mut observer,
        );
        self.lock().retain(|e| !Arc::ptr_eq(e, entry));
        log::debug("Stopped watching an idle collection")
            .field("query", entry.query.list_path())
            .emit();
    }
}

impl WatchCache {
    /// The discovery entry's thread: reads the table once, answers the
    /// waiters, and leaves; a failure is kept for [`discovery::FRESH`] so
    /// that requests do not each read discovery again.
    fn discover(&self, entry: &Arc<Entry>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let result = discovery::resolve(&self.client, "", true, deadline);
        let failed = result.is_err();
        let mut state = entry.lock();
        match result {
            Ok(_) => state.objects = Some(Arc::default()),
            Err(e) => state.error = Some(CacheError::Api(format!("{e}"))),
        }
        entry.synced.notify_all();
        drop(state);
        self.changed();
        if failed {
            std::thread::sleep(discovery::FRESH);
        }
        self.lock().retain(|e| !Arc::ptr_eq(e, entry));
    }
}

/// The observer that keeps an entry current and stops when it is idle.
struct Keeper<'a> {
    cache: &'a WatchCache,
    entry: &'a Entry,
    idle: Duration,
}

impl Keeper<'_> {
    fn idle(&self, state: &State) -> bool {
        state.last_used.elapsed() >= self.idle
    }
}

impl Observer for Keeper<'_> {
    type Done = ();

    fn observe(&mut self, objects: &Objects) -> Option<()> {
        let mut state = self.entry.lock();
        state.objects = Some(Arc::new(objects.clone()));
        state.error = None;
        self.entry.synced.notify_all();
        let idle = self.idle(&state);
        drop(state);
        self.cache.changed();
        idle.then_some(())
    }

    fn wake_at(&self) -> Option<Instant> {
        Some(self.entry.lock().last_used + self.idle)
    }

    fn connected(&mut self) {
        let mut state = self.entry.lock();
        if state.objects.is_some() && state.error.take().is_some() {
            self.entry.synced.notify_all();
            drop(state);
            self.cache.changed();
        }
    }

    fn failed(&mut self, error: ApiError, pause: Duration) -> Option<()> {
        let mut state = self.entry.lock();
        log::debug("Watch failed")
            .field("query", self.entry.query.list_path())
            .field("error", &error)
            .field("retry_in", crate::duration::Human(pause))
            .emit();
        state.error = Some(match error {
            ApiError::NotServed { .. } => CacheError::NotServed(error.to_string()),
            ApiError::Forbidden { .. } => CacheError::Forbidden(error.to_string()),
            _ => CacheError::Api(error.to_string()),
        });
        self.entry.synced.notify_all();
        let idle = self.idle(&state);
        drop(state);
        self.cache.changed();
        idle.then_some(())
    }

    fn timed_out(&mut self) {}
}
