//! A fake Kubernetes API server on 127.0.0.1 over HTTPS, for testing rdy's
//! `k8s:` targets without a cluster.
//!
//! It speaks the real wire format (`docs/kubernetes.md` §2–§5)
//! rather than a convenient one, because the point is to catch a client that
//! only works against itself:
//! - bearer-token authentication with the real 401 body, and a token that
//!   can be rotated mid-test;
//! - GET of one object (with `kind`/`apiVersion`), LIST (`<Kind>List`, items
//!   without `kind`/`apiVersion`), equality field and label selectors;
//! - WATCH as a chunked stream of newline-terminated JSON events, replayed
//!   from a bounded history after the requested `resourceVersion`, with
//!   chunk boundaries that do not line up with events (some events split in
//!   two chunks, some chunks holding several events, deterministically);
//! - the ways a watch ends: `timeoutSeconds` (clean end), an `ERROR` event
//!   with a 410 `Expired` Status, an HTTP 410, the server going away;
//! - scripted failures (403, 429, 5xx, unserved APIs as Go's plain-text 404,
//!   hang-ups), and a log of every request for assertions.
//!
//! Deliberate simplifications, each documented where it lives: no
//! pagination (`limit`/`continue` are ignored), no namespace-less (all
//! namespaces) collections, no automatic bookmarks (call
//! [`FakeApi::bookmark`]), no generation bumps on spec changes (fixtures set
//! `generation` themselves), JSON only, keys inside objects in
//! alphabetical order (the envelopes and Status bodies are in Go's order).
//! A request without a token gets 401, as on a server without anonymous
//! auth (with anonymous auth it would be a 403 for `system:anonymous`).
//!
//! ```ignore
//! let api = FakeApi::start();
//! api.apply(fixtures::deployment("web", "default").rolling());
//! let sa = api.in_cluster("default");
//! let run = sa.configure(Rdy::new(&["wait", "k8s:deployment/web"])).spawn();
//! api.await_watchers(&collection("Deployment", "default"), 1);
//! api.apply(fixtures::deployment("web", "default").generation(4).observed(4));
//! ```

pub mod config;
pub mod fixtures;
mod select;
pub mod status;
mod wire;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socket2::{Domain, SockRef, Socket, Type};

use super::LIMIT;
use super::pki::{Pki, pki};
use select::Selector;
use wire::Head;

pub use config::{InCluster, Kubeconfig};
pub use status::{Canned, Status};

/// The token [`FakeApi::start`] accepts.
pub const DEFAULT_TOKEN: &str = "rdy-test-token";

/// How long a kept-alive connection may sit idle before the server closes it.
const IDLE: Duration = Duration::from_secs(60);

/// Requests served on one kept-alive connection at most.
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// A watch without `timeoutSeconds` lasts this long (the real server picks
/// 30–60 min).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// Changes kept for watch replay unless [`FakeApi::set_history_limit`]
/// says otherwise.
const DEFAULT_HISTORY: usize = 10_000;

/// Most queued messages a watch writes in one go.
const MAX_BATCH: usize = 1024;

/// How often an idle watch checks whether its client has gone, so a watch
/// the client dropped stops counting in [`FakeApi::watchers`].
const PEER_CHECK: Duration = Duration::from_millis(100);

/// Every third watch event (the 2nd, 5th, 8th, ... on a stream) is split
/// across two chunks; see [`chunks`].
const SPLIT_EVERY: u64 = 3;

/// A kind the fake serves, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub kind: &'static str,
    /// Empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// The plural resource in paths, RBAC and Status `details.kind`.
    pub plural: &'static str,
}

const fn resource(kind: &'static str, group: &'static str, plural: &'static str) -> Resource {
    Resource {
        kind,
        group,
        version: "v1",
        plural,
    }
}

/// The kinds of `docs/kubernetes.md` §2.0.
pub const RESOURCES: &[Resource] = &[
    resource("Pod", "", "pods"),
    resource("Service", "", "services"),
    resource("Endpoints", "", "endpoints"),
    resource("Deployment", "apps", "deployments"),
    resource("StatefulSet", "apps", "statefulsets"),
    resource("DaemonSet", "apps", "daemonsets"),
    resource("Job", "batch", "jobs"),
    resource("EndpointSlice", "discovery.k8s.io", "endpointslices"),
    // A custom resource, found only through discovery.
    resource("Widget", "example.com", "widgets"),
];

/// Aggregated discovery (`apidiscovery.k8s.io/v2`) of the core group
/// (`/api`) or of the other groups (`/apis`), as a v1.30+ server answers
/// `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.
fn discovery(core: bool) -> String {
    let mut groups: Vec<&str> = Vec::new();
    for r in RESOURCES {
        if (r.group.is_empty() == core) && !groups.contains(&r.group) {
            groups.push(r.group);
        }
    }
    let items: Vec<Value> = groups
        .iter()
        .map(|group| {
            let resources: Vec<Value> = RESOURCES
                .iter()
                .filter(|r| r.group == *group)
                .map(|r| {
                    let short: &[&str] = match r.plural {
                        "widgets" => &["wdg"],
                        "deployments" => &["deploy"],
                        _ => &[],
                    };
                    serde_json::json!({
                        "resource": r.plural,
                        "responseKind": {"group": "", "version": "", "kind": r.kind},
                        "scope": "Namespaced",
                        "singularResource": r.kind.to_lowercase(),
                        "verbs": ["get", "list", "watch"],
                        "shortNames": short,
                    })
                })
                .collect();
            let metadata = match *group {
                "" => serde_json::json!({}),
                name => serde_json::json!({"name": name}),
            };
            serde_json::json!({"metadata": metadata, "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]})
        })
        .collect();
    serde_json::json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}).to_string()
}

impl Resource {
    /// The resource of a Kind (`"Deployment"`).
    pub fn of_kind(kind: &str) -> Option<Resource> {
        RESOURCES.iter().copied().find(|r| r.kind == kind)
    }

    fn at(group: &str, version: &str, plural: &str) -> Option<Resource> {
        RESOURCES
            .iter()
            .copied()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection path in `namespace`.
    pub fn collection(&self, namespace: &str) -> String {
        if self.group.is_empty() {
            format!(
                "/api/{}/namespaces/{namespace}/{}",
                self.version, self.plural
            )
        } else {
            format!(
                "/apis/{}/{}/namespaces/{namespace}/{}",
                self.group, self.version, self.plural
            )
        }
    }
}

/// The collection path of a kind in a namespace, e.g.
/// `collection("Deployment", "default")` is
/// `/apis/apps/v1/namespaces/default/deployments`. Panics on a kind the fake
/// does not serve.
pub fn collection(kind: &str, namespace: &str) -> String {
    Resource::of_kind(kind)
        .unwrap_or_else(|| panic!("the fake does not serve kind {kind:?}"))
        .collection(namespace)
}

/// What a request asked for, by the API server's own classification
/// (`requestinfo.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `C/{name}`.
    Get,
    /// `C` without `watch`.
    List,
    /// `C?watch=1`.
    Watch,
    /// Anything else (not a namespaced resource path, or not GET).
    Other,
}

/// One request as the server received it, and the status it answered
/// (0 for a hang-up).
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The decoded query parameters, in order.
    pub params: Vec<(String, String)>,
    pub verb: Verb,
    /// The collection path (`/apis/apps/v1/namespaces/default/deployments`)
    /// when the path has that shape, served or not.
    pub collection: Option<String>,
    pub user_agent: Option<String>,
    pub accept: Option<String>,
    /// The raw `Authorization` header.
    pub authorization: Option<String>,
    /// The bearer token, when `Authorization` is `Bearer <token>`.
    pub token: Option<String>,
    pub status: u16,
}

impl Logged {
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A resource path, split up: `/api/v1/namespaces/{ns}/{plural}[/{name}]`
/// or `/apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]`.
#[derive(Debug, Clone)]
struct Route {
    group: String,
    version: String,
    plural: String,
    namespace: String,
    name: Option<String>,
    collection: String,
}

fn route(path: &str) -> Option<Route> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", rest @ ..] => ("", rest),
        ["apis", group, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let (version, namespace, plural, name) = match rest {
        [version, "namespaces", ns, plural] => (version, ns, plural, None),
        [version, "namespaces", ns, plural, name] => (version, ns, plural, Some(*name)),
        _ => return None,
    };
    let empty = [version, namespace, plural].iter().any(|s| s.is_empty());
    if empty || (parts[0] == "apis" && group.is_empty()) || name == Some("") {
        return None;
    }
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    Some(Route {
        group: group.to_owned(),
        version: version.to_string(),
        plural: plural.to_string(),
        namespace: namespace.to_string(),
        name: name.map(str::to_owned),
        collection: format!("{prefix}/namespaces/{namespace}/{plural}"),
    })
}

/// `watch=1`, `watch=true`, ... as Go's `strconv.ParseBool` reads them.
fn truthy(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    fn name(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change in the store, kept for replay.
#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    event: EventType,
    collection: String,
    kind: &'static str,
    /// The new state, or for DELETED the final state.
    object: Value,
    /// The state before a MODIFIED or DELETED.
    previous: Option<Value>,
}

/// `{"type":T,"object":O}` as one line (without the newline).
fn event_line(event: &str, object: &Value) -> String {
    format!(r#"{{"type":"{event}","object":{object}}}"#)
}

fn error_line(status: &Status) -> String {
    format!(r#"{{"type":"ERROR","object":{}}}"#, status.to_json())
}

fn set_resource_version(object: &mut Value, rv: u64) {
    object["metadata"]["resourceVersion"] = Value::String(rv.to_string());
}

/// What a watch thread is told.
enum Msg {
    /// An event line to send.
    Event(String),
    /// An ERROR event line to send, then end cleanly.
    Expire(String),
    /// End cleanly (the final zero-length chunk).
    End,
    /// Stop without another byte (the server is going away).
    Abort,
}

struct Watcher {
    id: u64,
    collection: String,
    resource: Resource,
    selector: Selector,
    bookmarks: bool,
    /// The resourceVersion of the last event sent (or the start).
    last_rv: u64,
    tx: Sender<Msg>,
}

impl Watcher {
    fn convert(&self, change: &Change) -> Option<String> {
        convert(&self.collection, &self.selector, change)
    }
}

/// The event a watch on `collection` with `selector` sees for a change, as
/// the watch cache decides it (`cache_watcher.go` `convertToWatchEvent`): an
/// object that stops matching the selector is DELETED (its previous state,
/// at the new version), one that starts matching is ADDED.
fn convert(collection: &str, selector: &Selector, change: &Change) -> Option<String> {
    if change.collection != collection {
        return None;
    }
    let kind = change.kind;
    let now = selector.matches(kind, &change.object);
    let before = change
        .previous
        .as_ref()
        .is_some_and(|p| selector.matches(kind, p));
    match change.event {
        EventType::Added | EventType::Deleted if now => {
            Some(event_line(change.event.name(), &change.object))
        }
        EventType::Modified if now && before => Some(event_line("MODIFIED", &change.object)),
        EventType::Modified if now => Some(event_line("ADDED", &change.object)),
        EventType::Modified if before => {
            let mut gone = change.previous.clone().expect("before implies previous");
            set_resource_version(&mut gone, change.rv);
            Some(event_line("DELETED", &gone))
        }
        _ => None,
    }
}

/// A scripted reply waiting for a request.
struct Script {
    prefix: String,
    verb: Option<Verb>,
    reply: Canned,
}

/// Everything behind the one lock.
struct State {
    token: String,
    rv: u64,
    /// By (collection, name), full objects with kind/apiVersion.
    objects: BTreeMap<(String, String), Value>,
    history: VecDeque<Change>,
    history_limit: usize,
    /// The oldest resourceVersion a watch can start from.
    floor: u64,
    watchers: Vec<Watcher>,
    next_watcher: u64,
    scripts: Vec<Script>,
    gone_next_watch: bool,
    /// Path prefixes answered with the plain 404.
    unserved: Vec<String>,
    log: Vec<Logged>,
    next_audit: u64,
}

impl State {
    fn record(&mut self, change: Change) {
        self.watchers.retain_mut(|w| match w.convert(&change) {
            Some(line) => {
                w.last_rv = change.rv;
                w.tx.send(Msg::Event(line)).is_ok()
            }
            None => true,
        });
        self.history.push_back(change);
        self.trim_history();
    }

    fn trim_history(&mut self) {
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
    }

    /// Tells every watcher `msg(watcher)` and forgets them all.
    fn close_watchers(&mut self, msg: impl Fn(&Watcher) -> Msg) {
        for w in self.watchers.drain(..) {
            let _ = w.tx.send(msg(&w));
        }
    }

    /// Headers every API server response carries (audit and cache
    /// filters).
    fn common_headers(&mut self) -> Vec<(String, String)> {
        self.next_audit += 1;
        vec![
            (
                "Audit-Id".into(),
                format!("6b1d3c8e-0000-4000-8000-{:012x}", self.next_audit),
            ),
            ("Cache-Control".into(), "no-cache, private".into()),
        ]
    }
}

/// How a request is answered.
enum Action {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `body`, then `repeat` until the client leaves.
    Endless {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        repeat: Vec<u8>,
    },
    HangUp,
    Watch(WatchStart),
}

impl Action {
    fn json(status: u16, body: String) -> Action {
        Action::Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into_bytes(),
        }
    }

    fn status(status: Status) -> Action {
        Action::json(status.code, status.to_json())
    }

    fn canned(canned: Canned) -> Action {
        if canned.hang_up {
            return Action::HangUp;
        }
        if let Some(repeat) = canned.endless {
            return Action::Endless {
                headers: canned.headers,
                body: canned.body,
                repeat,
            };
        }
        Action::Reply {
            status: canned.status,
            headers: canned.headers,
            body: canned.body,
        }
    }

    /// The response headers, none for a hang-up.
    fn headers_mut(&mut self) -> Option<&mut Vec<(String, String)>> {
        match self {
            Action::Reply { headers, .. } | Action::Endless { headers, .. } => Some(headers),
            Action::Watch(start) => Some(&mut start.headers),
            Action::HangUp => None,
        }
    }

    fn code(&self) -> u16 {
        match self {
            Action::Reply { status, .. } => *status,
            Action::Endless { .. } => 200,
            Action::HangUp => 0,
            Action::Watch(_) => 200,
        }
    }
}

/// A watch, set up under the lock so that no change falls between the
/// replay and the live stream.
struct WatchStart {
    headers: Vec<(String, String)>,
    /// Events for changes after the requested version (or synthetic ADDED
    /// for the current objects when none was given).
    replay: Vec<String>,
    /// An ERROR event to send instead of watching (the stream then ends).
    error: Option<String>,
    /// The registered watcher, absent with `error`.
    live: Option<(u64, Receiver<Msg>)>,
    timeout: Duration,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled on every logged request and watcher change.
    changed: Condvar,
    tls: Arc<rustls::ServerConfig>,
    /// Open connections, so the server can drop them all at once.
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shuts every open connection down (no TLS close, no final chunk) and
    /// stops every watch thread.
    fn drop_connections(&self) {
        for (_, conn) in self.conns.lock().unwrap().drain() {
            let _ = conn.shutdown(Shutdown::Both);
        }
        self.lock().close_watchers(|_| Msg::Abort);
        self.changed.notify_all();
    }

    /// Decides the answer to a request, logs it, and registers a watch.
    fn decide(&self, head: &Head) -> Action {
        let path = head.path();
        let params = wire::params(head.query());
        let route = route(path);
        let watch = param(&params, "watch").is_some_and(truthy);
        let verb = match (&route, head.method.as_str()) {
            (Some(r), "GET") if r.name.is_some() => Verb::Get,
            (Some(_), "GET") if watch => Verb::Watch,
            (Some(_), "GET") => Verb::List,
            _ => Verb::Other,
        };
        let authorization = head.header("authorization").map(str::to_owned);
        let token = authorization.as_deref().and_then(bearer).map(str::to_owned);
        let mut entry = Logged {
            method: head.method.clone(),
            path: path.to_owned(),
            query: head.query().to_owned(),
            params: params.clone(),
            verb,
            collection: route.as_ref().map(|r| r.collection.clone()),
            user_agent: head.header("user-agent").map(str::to_owned),
            accept: head.header("accept").map(str::to_owned),
            authorization,
            token,
            status: 0,
        };
        let mut st = self.lock();
        let mut action = answer(&mut st, head, &entry, route, &params);
        let common = st.common_headers();
        if let Some(headers) = action.headers_mut() {
            headers.splice(0..0, common);
        }
        entry.status = action.code();
        st.log.push(entry);
        drop(st);
        self.changed.notify_all();
        action
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive, as in the API
/// server's bearer authenticator).
fn bearer(authorization: &str) -> Option<&str> {
    let mut parts = authorization.trim().splitn(3, ' ');
    let scheme = parts.next()?;
    let token = parts.next()?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether `Accept` allows JSON (absent means anything).
fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_none_or(|a| {
        a.split(',').any(|t| {
            let t = t.split(';').next().unwrap_or("").trim();
            matches!(t, "application/json" | "application/*" | "*/*" | "")
        })
    })
}

/// `GET /version` of a v1.34 server (apimachinery `version.Info`).
const VERSION: &str = r#"{
  "major": "1",
  "minor": "34",
  "emulationMajor": "1",
  "emulationMinor": "34",
  "minCompatibilityMajor": "1",
  "minCompatibilityMinor": "33",
  "gitVersion": "v1.34.1",
  "gitCommit": "93248f9ae092f571eb870b7664c534bfc7d00f03",
  "gitTreeState": "clean",
  "buildDate": "2025-09-09T19:44:50Z",
  "goVersion": "go1.24.6",
  "compiler": "gc",
  "platform": "linux/amd64"
}"#;

/// The filter chain and handlers, in the API server's order:
/// authentication, then (here) scripted failures, then the mux (unserved
/// groups and unknown paths fall to the plain 404), then the handler.
fn answer(
    st: &mut State,
    head: &Head,
    entry: &Logged,
    route: Option<Route>,
    params: &[(String, String)],
) -> Action {
    if entry.token.as_deref() != Some(st.token.as_str()) {
        return Action::status(Status::unauthorized());
    }
    let path = entry.path.as_str();
    if let Some(i) = st
        .scripts
        .iter()
        .position(|s| path.starts_with(&s.prefix) && s.verb.is_none_or(|v| v == entry.verb))
    {
        return Action::canned(st.scripts.remove(i).reply);
    }
    if st.unserved.iter().any(|p| path.starts_with(p.as_str())) {
        return Action::canned(Canned::not_served());
    }
    // The version endpoint (`kubectl version`), readable by every
    // authenticated user through system:public-info-viewer.
    if path == "/version" {
        return Action::json(200, VERSION.to_owned());
    }
    // Discovery, readable by every authenticated user (system:discovery).
    if path == "/api" || path == "/apis" {
        return Action::json(200, discovery(path == "/api"));
    }
    let Some((route, resource)) =
        route.and_then(|r| Resource::at(&r.group, &r.version, &r.plural).map(|res| (r, res)))
    else {
        return Action::canned(Canned::not_served());
    };
    if head.method != "GET" {
        return Action::status(Status::method_not_allowed(
            resource.plural,
            resource.group,
            &head.method,
        ));
    }
    if !accepts_json(entry.accept.as_deref()) {
        return Action::status(Status::not_acceptable());
    }
    let mut action = match &route.name {
        Some(name) => get(st, &route, resource, name),
        None => match Selector::parse(
            resource.kind,
            param(params, "fieldSelector"),
            param(params, "labelSelector"),
        ) {
            Err(message) => Action::status(Status::bad_request(&message)),
            Ok(selector) if entry.verb == Verb::Watch => {
                watch(st, &route, resource, selector, params)
            }
            Ok(selector) => list(st, &route, resource, &selector),
        },
    };
    if resource.plural == "endpoints" {
        let warning = (
            "Warning".to_owned(),
            r#"299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice""#
                .to_owned(),
        );
        if let Some(headers) = action.headers_mut() {
            headers.push(warning);
        }
    }
    action
}

fn get(st: &State, route: &Route, resource: Resource, name: &str) -> Action {
    match st.objects.get(&(route.collection.clone(), name.to_owned())) {
        Some(object) => Action::json(200, object.to_string()),
        None => Action::status(Status::not_found(resource.plural, resource.group, name)),
    }
}

/// The items of a collection that pass the selector, in name order (etcd
/// key order).
fn matching<'a>(
    st: &'a State,
    route: &'a Route,
    resource: Resource,
    selector: &'a Selector,
) -> impl Iterator<Item = &'a Value> {
    st.objects
        .iter()
        .filter(move |((c, _), o)| *c == route.collection && selector.matches(resource.kind, o))
        .map(|(_, o)| o)
}

fn list(st: &State, route: &Route, resource: Resource, selector: &Selector) -> Action {
    let items: Vec<String> = matching(st, route, resource, selector)
        .map(|o| {
            // kubernetes#3030: list items carry no kind/apiVersion.
            let mut item = o.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            item.to_string()
        })
        .collect();
    Action::json(
        200,
        format!(
            r#"{{"kind":"{}List","apiVersion":"{}","metadata":{{"resourceVersion":"{}"}},"items":[{}]}}"#,
            resource.kind,
            resource.api_version(),
            st.rv,
            items.join(",")
        ),
    )
}

fn watch(
    st: &mut State,
    route: &Route,
    resource: Resource,
    selector: Selector,
    params: &[(String, String)],
) -> Action {
    let timeout = match param(params, "timeoutSeconds") {
        None | Some("") | Some("0") => DEFAULT_WATCH_TIMEOUT,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Duration::from_secs(n),
            Err(_) => {
                return Action::status(Status::bad_request(&format!(
                    "invalid timeoutSeconds: {s:?}"
                )));
            }
        },
    };
    let requested = match param(params, "resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Action::status(Status::bad_request(&format!(
                    "invalid resource version: {s:?}"
                )));
            }
        },
    };
    if std::mem::take(&mut st.gone_next_watch) {
        return Action::status(Status::expired(requested.unwrap_or(0), st.floor));
    }
    let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let error = |status: Status| {
        Action::Watch(WatchStart {
            headers: headers.clone(),
            replay: Vec::new(),
            error: Some(error_line(&status)),
            live: None,
            timeout,
        })
    };
    // After parsing, the watch cache reports errors as an ERROR event in a
    // 200 stream, not as an HTTP status (cacher.go `newErrWatcher`).
    let replay = match requested {
        // "Get State and Start at Most Recent": synthetic ADDED events.
        None => matching(st, route, resource, &selector)
            .map(|o| event_line("ADDED", o))
            .collect(),
        Some(n) if n < st.floor => return error(Status::expired(n, st.floor)),
        Some(n) if n > st.rv => return error(Status::too_large_resource_version(n, st.rv)),
        Some(n) => st
            .history
            .iter()
            .filter(|c| c.rv > n)
            .filter_map(|c| convert(&route.collection, &selector, c))
            .collect(),
    };
    let (tx, rx) = mpsc::channel();
    st.next_watcher += 1;
    let id = st.next_watcher;
    st.watchers.push(Watcher {
        id,
        collection: route.collection.clone(),
        resource,
        selector,
        bookmarks: param(params, "allowWatchBookmarks").is_some_and(truthy),
        last_rv: st.rv,
        tx,
    });
    Action::Watch(WatchStart {
        headers,
        replay,
        error: None,
        live: Some((id, rx)),
        timeout,
    })
}

/// Cuts a batch of event lines into chunks the way a real stream may
/// arrive: the events are concatenated, and every [`SPLIT_EVERY`]-th event
/// of the stream (counted by `sent`) is cut in the middle, so one chunk
/// ends inside it and the next chunk starts with its rest followed by the
/// events after it. A lone event is thus sometimes one chunk and sometimes
/// two; several events queued together share chunks.
fn chunks(lines: &[String], sent: &mut u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for line in lines {
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        if *sent % SPLIT_EVERY == 1 {
            let mid = bytes.len() / 2;
            current.extend_from_slice(&bytes[..mid]);
            out.push(std::mem::take(&mut current));
            current.extend_from_slice(&bytes[mid..]);
        } else {
            current.extend_from_slice(&bytes);
        }
        *sent += 1;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn write_events(out: &mut impl Write, lines: &[String], sent: &mut u64) -> std::io::Result<()> {
    for chunk in chunks(lines, sent) {
        wire::write_chunk(out, &chunk)?;
        out.flush()?;
    }
    Ok(())
}

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    KeepAlive,
    /// Close with a TLS close_notify.
    Close,
    /// Drop the connection without another byte.
    Abort,
}

/// Runs a watch until it times out, is ended or expired, or the server
/// drops it.
fn stream_watch(shared: &Shared, io: &mut Io, start: WatchStart) -> Next {
    let mut sent = 0;
    let out = io.get_mut();
    let head_ok = wire::write_stream_head(out, &start.headers).is_ok();
    let mut next = if head_ok && write_events(out, &start.replay, &mut sent).is_ok() {
        Next::KeepAlive
    } else {
        Next::Abort
    };
    if let Some(error) = &start.error {
        if next == Next::KeepAlive
            && write_events(out, std::slice::from_ref(error), &mut sent).is_err()
        {
            next = Next::Abort;
        }
    } else if let Some((id, rx)) = &start.live {
        if next == Next::KeepAlive {
            next = pump(io, rx, start.timeout, &mut sent);
        }
        shared.lock().watchers.retain(|w| w.id != *id);
        shared.changed.notify_all();
    }
    if next == Next::KeepAlive && wire::write_last_chunk(io.get_mut()).is_err() {
        next = Next::Abort;
    }
    next
}

/// Whether the client has closed the connection. Reads with a 1 ms
/// timeout: nothing to read means it is still there; a request it sent
/// stays buffered for the next [`wire::read_head`].
fn peer_gone(io: &mut Io) -> bool {
    let _ = io
        .get_ref()
        .sock
        .set_read_timeout(Some(Duration::from_millis(1)));
    let result = io.fill_buf().map(|b| b.is_empty());
    let _ = io.get_ref().sock.set_read_timeout(Some(IDLE));
    match result {
        Ok(eof) => eof,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// Forwards queued messages until the deadline (a clean end), an End or
/// Expire (a clean end), or an Abort, write error or departed client.
fn pump(io: &mut Io, rx: &Receiver<Msg>, timeout: Duration, sent: &mut u64) -> Next {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Next::KeepAlive;
        }
        let first = match rx.recv_timeout(left.min(PEER_CHECK)) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) if peer_gone(io) => return Next::Abort,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return Next::Abort,
        };
        let out = io.get_mut();
        let mut batch = vec![first];
        batch.extend(rx.try_iter().take(MAX_BATCH));
        let mut lines = Vec::new();
        let mut end = None;
        for msg in batch {
            match msg {
                Msg::Event(line) => lines.push(line),
                Msg::Expire(line) => {
                    lines.push(line);
                    end = Some(Next::KeepAlive);
                    break;
                }
                Msg::End => {
                    end = Some(Next::KeepAlive);
                    break;
                }
                Msg::Abort => return Next::Abort,
            }
        }
        if write_events(out, &lines, sent).is_err() {
            return Next::Abort;
        }
        if let Some(end) = end {
            return end;
        }
    }
}

/// A server-side connection.
type Io = BufReader<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>;

fn handle(shared: &Shared, head: &Head, io: &mut Io) -> Next {
    let out = io.get_mut();
    match shared.decide(head) {
        Action::HangUp => Next::Abort,
        Action::Reply {
            status,
            headers,
            body,
        } => match wire::write_response(out, status, &headers, &body) {
            Ok(()) => Next::KeepAlive,
            Err(_) => Next::Abort,
        },
        Action::Endless {
            headers,
            body,
            repeat,
        } => {
            let sent =
                wire::write_stream_head(out, &headers).and_then(|()| wire::write_chunk(out, &body));
            if sent.is_ok() {
                while wire::write_chunk(out, &repeat).is_ok() {}
            }
            Next::Abort
        }
        Action::Watch(start) => stream_watch(shared, io, start),
    }
}

/// Serves requests on one connection (HTTP/1.1 keep-alive) until the client
/// closes, goes idle, or the server drops it.
fn serve_connection(shared: Arc<Shared>, stream: TcpStream, id: u64) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    if let Ok(conn) = rustls::ServerConnection::new(shared.tls.clone()) {
        let mut io = BufReader::new(rustls::StreamOwned::new(conn, stream));
        let mut next = Next::Close;
        for _ in 0..MAX_REQUESTS_PER_CONNECTION {
            let Some(head) = wire::read_head(&mut io) else {
                next = Next::Close;
                break;
            };
            next = handle(&shared, &head, &mut io);
            if next == Next::KeepAlive && head.wants_close() {
                next = Next::Close;
            }
            if next != Next::KeepAlive {
                break;
            }
        }
        if next != Next::Abort {
            let tls = io.get_mut();
            tls.conn.send_close_notify();
            let _ = tls.flush();
            let _ = tls.sock.shutdown(Shutdown::Both);
        }
    }
    shared.conns.lock().unwrap().remove(&id);
}

/// A socket on 127.0.0.1:`port` (0: any), with `SO_REUSEADDR` so the same
/// port can be bound again while old connections sit in TIME_WAIT.
fn bind_socket(port: u16) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    Ok(socket)
}

fn accept_loop(shared: Arc<Shared>, listener: TcpListener, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            shared.conns.lock().unwrap().insert(id, clone);
        }
        let shared = shared.clone();
        thread::spawn(move || serve_connection(shared, stream, id));
    }
}

/// Whether the port accepts connections.
enum Listening {
    Up {
        stop: Arc<AtomicBool>,
        /// A handle on the listening socket, to wake the accept thread.
        listener: TcpListener,
        thread: JoinHandle<()>,
    },
    /// Bound but not listening: connections are refused, and no one else
    /// can take the port.
    Paused(Socket),
    Stopped,
}

/// The fake API server. Dropping it closes the port and every connection.
pub struct FakeApi {
    shared: Arc<Shared>,
    port: u16,
    pki: Pki,
    listening: Mutex<Listening>,
}

impl FakeApi {
    /// Starts on a free port with a fresh CA (SANs `127.0.0.1` and
    /// `localhost`), accepting [`DEFAULT_TOKEN`].
    pub fn start() -> FakeApi {
        FakeApi::start_with(pki(&["127.0.0.1", "localhost"]), DEFAULT_TOKEN)
    }

    /// Starts with a given CA/certificate and token.
    pub fn start_with(pki: Pki, token: &str) -> FakeApi {
        let socket = bind_socket(0).expect("bind 127.0.0.1:0");
        let port = socket
            .local_addr()
            .expect("local addr")
            .as_socket()
            .expect("inet")
            .port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                token: token.to_owned(),
                rv: 1,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                history_limit: DEFAULT_HISTORY,
                floor: 1,
                watchers: Vec::new(),
                next_watcher: 0,
                scripts: Vec::new(),
                gone_next_watch: false,
                unserved: Vec::new(),
                log: Vec::new(),
                next_audit: 0,
            }),
            changed: Condvar::new(),
            tls: pki.server.clone(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let api = FakeApi {
            shared,
            port,
            pki,
            listening: Mutex::new(Listening::Stopped),
        };
        *api.listening.lock().unwrap() = api.listen(socket);
        api
    }

    fn listen(&self, socket: Socket) -> Listening {
        socket.listen(128).expect("listen");
        let listener: TcpListener = socket.into();
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, accept, flag) = (
            self.shared.clone(),
            listener.try_clone().expect("clone listener"),
            stop.clone(),
        );
        let thread = thread::spawn(move || accept_loop(shared, accept, flag));
        Listening::Up {
            stop,
            listener,
            thread,
        }
    }

    /// Stops accepting: wakes the accept thread (shutting a listening socket
    /// down makes a blocked `accept` return on Linux) and waits until it has
    /// closed the listener.
    fn stop_listening(&self) -> bool {
        let mut listening = self.listening.lock().unwrap();
        match std::mem::replace(&mut *listening, Listening::Stopped) {
            Listening::Up {
                stop,
                listener,
                thread,
            } => {
                stop.store(true, Ordering::SeqCst);
                let _ = SockRef::from(&listener).shutdown(Shutdown::Both);
                drop(listener);
                let _ = thread.join();
                true
            }
            other => {
                *listening = other;
                false
            }
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the server certificate, in PEM.
    pub fn ca_pem(&self) -> &str {
        &self.pki.ca_pem
    }

    /// The CA PEM as a file.
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca_file
    }

    /// The token currently accepted.
    pub fn token(&self) -> String {
        self.shared.lock().token.clone()
    }

    /// Accepts only `token` from now on (a rotated service-account token);
    /// requests with any other get 401.
    pub fn set_token(&self, token: &str) {
        self.shared.lock().token = token.to_owned();
    }

    /// The current resourceVersion (what a LIST would return now).
    pub fn resource_version(&self) -> String {
        self.shared.lock().rv.to_string()
    }

    /// Creates or replaces an object, derived from its kind, apiVersion,
    /// `metadata.namespace` (default `default`) and `metadata.name`, and
    /// returns its new resourceVersion. Watchers see ADDED or MODIFIED. As on
    /// a real server, writing an identical object is a no-op: no new
    /// version, no event. A missing `metadata.uid` is filled in.
    pub fn apply(&self, object: impl Into<Value>) -> String {
        let mut object: Value = object.into();
        let kind = object["kind"]
            .as_str()
            .expect("object needs a kind")
            .to_owned();
        let resource = Resource::of_kind(&kind)
            .unwrap_or_else(|| panic!("the fake does not serve kind {kind:?}"));
        assert_eq!(
            object["apiVersion"].as_str(),
            Some(resource.api_version().as_str()),
            "apiVersion of {kind}"
        );
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .expect("object needs metadata.name")
            .to_owned();
        if object.pointer("/metadata/namespace").is_none() {
            object["metadata"]["namespace"] = json!("default");
        }
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .expect("namespace is a string")
            .to_owned();
        let collection = resource.collection(&namespace);
        let key = (collection.clone(), name.clone());
        let mut st = self.shared.lock();
        let previous = st.objects.get(&key).cloned();
        if object.pointer("/metadata/uid").is_none() {
            object["metadata"]["uid"] =
                match previous.as_ref().and_then(|p| p.pointer("/metadata/uid")) {
                    Some(uid) => uid.clone(),
                    None => json!(format!("00000000-0000-4000-8000-{:012x}", st.rv + 1)),
                };
        }
        if let Some(previous) = &previous {
            let mut same = object.clone();
            same["metadata"]["resourceVersion"] = previous["metadata"]["resourceVersion"].clone();
            if &same == previous {
                return st.rv.to_string();
            }
        }
        st.rv += 1;
        let rv = st.rv;
        set_resource_version(&mut object, rv);
        st.objects.insert(key, object.clone());
        let event = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        st.record(Change {
            rv,
            event,
            collection,
            kind: resource.kind,
            object,
            previous,
        });
        rv.to_string()
    }

    /// The stored object (with kind/apiVersion), to read and tweak.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let key = (collection(kind, namespace), name.to_owned());
        self.shared.lock().objects.get(&key).cloned()
    }

    /// Deletes an object; watchers see DELETED with its final state at the
    /// new resourceVersion, which is returned. `None` if it did not exist.
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) -> Option<String> {
        let resource = Resource::of_kind(kind)
            .unwrap_or_else(|| panic!("the fake does not serve kind {kind:?}"));
        let key = (resource.collection(namespace), name.to_owned());
        let mut st = self.shared.lock();
        let previous = st.objects.remove(&key)?;
        st.rv += 1;
        let rv = st.rv;
        let mut object = previous.clone();
        set_resource_version(&mut object, rv);
        st.record(Change {
            rv,
            event: EventType::Deleted,
            collection: key.0,
            kind: resource.kind,
            object,
            previous: Some(previous),
        });
        Some(rv.to_string())
    }

    /// Sends a BOOKMARK at the current resourceVersion to every watch that
    /// asked for bookmarks (`allowWatchBookmarks=true`). The object has only
    /// kind, apiVersion and `metadata.resourceVersion` (§5).
    pub fn bookmark(&self) {
        let mut st = self.shared.lock();
        let rv = st.rv;
        for w in st.watchers.iter_mut().filter(|w| w.bookmarks) {
            let object = json!({
                "kind": w.resource.kind,
                "apiVersion": w.resource.api_version(),
                "metadata": {"resourceVersion": rv.to_string()},
            });
            w.last_rv = rv;
            let _ = w.tx.send(Msg::Event(event_line("BOOKMARK", &object)));
        }
    }

    /// Every open watch gets `{"type":"ERROR","object":<410 Expired
    /// Status>}` and then a clean end. The history is compacted first (as
    /// etcd does), so re-watching from any older version gets the same
    /// error and the client has to LIST again.
    pub fn expire_watches(&self) {
        let mut st = self.shared.lock();
        st.history.clear();
        st.floor = st.rv;
        let floor = st.floor;
        st.close_watchers(|w| Msg::Expire(error_line(&Status::expired(w.last_rv, floor))));
        drop(st);
        self.shared.changed.notify_all();
    }

    /// Ends every open watch cleanly (the final zero-length chunk, no
    /// ERROR), as when the server-side timeout fires.
    pub fn end_watches(&self) {
        self.shared.lock().close_watchers(|_| Msg::End);
        self.shared.changed.notify_all();
    }

    /// Answers the next watch request with HTTP 410 and the Expired Status
    /// (instead of a 200 stream).
    pub fn gone_next_watch(&self) {
        self.shared.lock().gone_next_watch = true;
    }

    /// Forgets all history: a watch from any version before now gets the
    /// 410 ERROR event.
    pub fn compact(&self) {
        let mut st = self.shared.lock();
        st.history.clear();
        st.floor = st.rv;
    }

    /// Keeps only the last `changes` changes for replay; a watch from an
    /// older version gets the 410 ERROR event.
    pub fn set_history_limit(&self, changes: usize) {
        let mut st = self.shared.lock();
        st.history_limit = changes;
        st.trim_history();
    }

    /// Answers the next request whose path starts with `path_prefix` with
    /// `reply` (after authentication). Scripts are consumed in the order
    /// given.
    pub fn fail_next(&self, path_prefix: &str, reply: Canned) {
        self.script(None, path_prefix, reply);
    }

    /// As [`FakeApi::fail_next`], for requests of one verb only.
    pub fn fail_next_verb(&self, verb: Verb, path_prefix: &str, reply: Canned) {
        self.script(Some(verb), path_prefix, reply);
    }

    fn script(&self, verb: Option<Verb>, prefix: &str, reply: Canned) {
        self.shared.lock().scripts.push(Script {
            prefix: prefix.to_owned(),
            verb,
            reply,
        });
    }

    /// Stops serving an API group (`discovery.k8s.io`): every request under
    /// `/apis/{group}/` gets Go's plain-text `404 page not found`, as on a
    /// cluster too old to have it.
    pub fn unserve_group(&self, group: &str) {
        self.shared.lock().unserved.push(format!("/apis/{group}/"));
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.lock().log.clone()
    }

    /// Requests so far of `verb` on `collection` (see [`collection`]).
    pub fn count(&self, verb: Verb, collection: &str) -> usize {
        count(&self.shared.lock(), verb, collection)
    }

    /// Watches open now on `collection`.
    pub fn watchers(&self, collection: &str) -> usize {
        watchers(&self.shared.lock(), collection)
    }

    /// Waits (at most [`LIMIT`]) until at least `n` requests of `verb` on
    /// `collection` have arrived; panics with the request log otherwise.
    pub fn await_count(&self, verb: Verb, collection: &str, n: usize) {
        self.await_state(&format!("{n} {verb:?} on {collection}"), |st| {
            count(st, verb, collection) >= n
        });
    }

    /// Waits (at most [`LIMIT`]) until at least `n` watches are open on
    /// `collection`, so a test can change an object knowing the client is
    /// watching.
    pub fn await_watchers(&self, collection: &str, n: usize) {
        self.await_state(&format!("{n} watches on {collection}"), |st| {
            watchers(st, collection) >= n
        });
    }

    /// Waits (at most [`LIMIT`]) until no watch is open on `collection`
    /// (a client that dropped its stream is noticed within 100 ms).
    pub fn await_no_watchers(&self, collection: &str) {
        self.await_state(&format!("no watches on {collection}"), |st| {
            watchers(st, collection) == 0
        });
    }

    fn await_state(&self, what: &str, done: impl Fn(&State) -> bool) {
        let end = Instant::now() + LIMIT;
        let mut st = self.shared.lock();
        while !done(&st) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let log: Vec<String> = st
                    .log
                    .iter()
                    .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
                    .collect();
                panic!("waited {LIMIT:?} for {what}; requests:\n{}", log.join("\n"));
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The server goes away: the port refuses connections and every open
    /// connection and watch is dropped mid-stream (no final chunk, no TLS
    /// close). The port stays bound so [`FakeApi::resume`] gets it back.
    pub fn pause(&self) {
        if self.stop_listening() {
            let socket = bind_socket(self.port)
                .unwrap_or_else(|e| panic!("re-bind port {} to hold it: {e}", self.port));
            *self.listening.lock().unwrap() = Listening::Paused(socket);
        }
        self.shared.drop_connections();
    }

    /// The server comes back on the same port with the same state.
    pub fn resume(&self) {
        let mut listening = self.listening.lock().unwrap();
        if let Listening::Paused(socket) = std::mem::replace(&mut *listening, Listening::Stopped) {
            *listening = self.listen(socket);
        }
    }

    /// An in-cluster service-account layout pointing at this server.
    pub fn in_cluster(&self, namespace: &str) -> InCluster {
        InCluster::new(self, namespace)
    }

    /// A kubeconfig pointing at this server (CA inline, current token).
    pub fn kubeconfig(&self) -> Kubeconfig {
        Kubeconfig::new(self)
    }
}

fn count(st: &State, verb: Verb, collection: &str) -> usize {
    st.log
        .iter()
        .filter(|r| r.verb == verb && r.collection.as_deref() == Some(collection))
        .count()
}

fn watchers(st: &State, collection: &str) -> usize {
    st.watchers
        .iter()
        .filter(|w| w.collection == collection)
        .count()
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.stop_listening();
        *self.listening.lock().unwrap() = Listening::Stopped;
        self.shared.drop_connections();
    }
}
