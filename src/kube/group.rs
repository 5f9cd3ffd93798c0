//! `rdy wait` with several objects of one collection (`k8s:deploy/a
//! k8s:deploy/b …` in one namespace): one LIST+WATCH of the collection,
//! shared by their waits, instead of one per object (issue 19 item 4). A
//! collection asked about by one target keeps the per-object
//! `fieldSelector` form, which RBAC `resourceNames` can restrict; the
//! shared form needs `list` and `watch` on the collection, and where RBAC
//! refuses it the cache falls back to the per-object form and says so.
//!
//! The shared watch is [`WatchCache`]'s, as in `rdy serve`; a waiter judges
//! the objects after every change the cache signals.

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::cache::{CacheError, WatchCache};
use super::client::Client;
use super::watch::Query;

/// A wait's watches are never idle for longer than the wait.
const IDLE: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The collections of this run's targets that several targets share, and
/// the cache that watches them.
struct Group {
    shared: Vec<Query>,
    cache: Arc<WatchCache>,
    /// Bumped (and waiters woken) on every change of the cache.
    changes: Arc<(Mutex<u64>, Condvar)>,
}

static GROUP: OnceLock<Group> = OnceLock::new();

/// Plans the run: the collections (of `queries`, one per target that can
/// share) named more than once are watched once. Call before any wait.
pub fn plan(client: &Arc<Client>, queries: &[Query]) {
    let collections: Vec<Query> = queries.iter().filter_map(Query::shared).collect();
    let mut shared: Vec<Query> = Vec::new();
    for c in &collections {
        if collections.iter().filter(|o| *o == c).count() > 1 && !shared.contains(c) {
            shared.push(c.clone());
        }
    }
    if shared.is_empty() {
        return;
    }
    // Room for each collection and, should RBAC refuse one, each object.
    let cache = WatchCache::new(client.clone(), shared.len() + queries.len(), IDLE);
    let changes = Arc::new((Mutex::new(0u64), Condvar::new()));
    let signal = changes.clone();
    cache.on_change(Box::new(move || {
        let (count, woken) = &*signal;
        *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        woken.notify_all();
    }));
    let _ = GROUP.set(Group {
        shared,
        cache,
        changes,
    });
}

/// Whether `query`'s collection is watched for several targets.
pub fn is_shared(query: &Query) -> bool {
    let group = GROUP.get();
    query
        .shared()
        .is_some_and(|c| group.is_some_and(|g| g.shared.contains(&c)))
}

/// Judges `query`'s objects from the shared watch after every change
/// until `decide` returns `Some` or `deadline` passes (`None`).
pub fn until<T>(
    query: &Query,
    deadline: Instant,
    decide: &mut dyn FnMut(Result<&super::watch::Objects, &CacheError>) -> Option<T>,
) -> Option<T> {
    let group = GROUP.get()?;
    let (count, woken) = &*group.changes;
    loop {
        let seen = *count.lock().unwrap_or_else(|p| p.into_inner());
        let left = deadline.saturating_duration_since(Instant::now());
        let answer = match group.cache.objects(query, left) {
            Ok(objects) => decide(Ok(&objects)),
            Err(CacheError::Syncing) => None,
            Err(e) => decide(Err(&e)),
        };
        if answer.is_some() {
            return answer;
        }
        let mut now = count.lock().unwrap_or_else(|p| p.into_inner());
        while *now == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            now = woken
                .wait_timeout(now, left)
                .map(|(n, _)| n)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}
