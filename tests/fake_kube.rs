//! The fake Kubernetes API server (`common::kube`) against a plain blocking
//! HTTPS client written here, so the fake is known to speak the wire format
//! before rdy's tests lean on it.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

use common::kube::fixtures::{self, deployment, endpoint_slice, job, pod};
use common::kube::{Canned, FakeApi, Verb, collection};

/// Longest a test read may block.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most chunks read while looking for one event line.
const MAX_CHUNKS: usize = 1000;

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

/// One HTTP/1.1 connection over TLS, trusting only the fake's CA.
struct Conn {
    io: BufReader<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
}

/// A complete response.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Conn {
    fn open(api: &FakeApi) -> Conn {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(api.ca_pem().as_bytes()) {
            roots.add(cert.expect("CA PEM")).expect("add CA");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = ServerName::try_from("127.0.0.1").expect("IP name");
        let tls = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let tcp = TcpStream::connect(("127.0.0.1", api.port())).expect("connect");
        tcp.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
        Conn {
            io: BufReader::new(rustls::StreamOwned::new(tls, tcp)),
        }
    }

    fn send(&mut self, target: &str, token: Option<&str>) {
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fake-kube-test/1\r\nAccept: application/json\r\n"
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        let out = self.io.get_mut();
        out.write_all(request.as_bytes()).expect("send");
        out.flush().expect("flush");
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.io.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end().to_owned())
    }

    /// The status line and headers.
    fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let status_line = self.line().expect("status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        for _ in 0..100 {
            let line = self.line().expect("header");
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header colon");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        (status, headers)
    }

    /// One chunk of a chunked body; `None` for the final zero-length one.
    fn chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let size_line = self.line()?;
        let size = usize::from_str_radix(size_line.trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_line:?}"));
        let mut data = vec![0; size];
        self.io.read_exact(&mut data)?;
        let mut crlf = [0; 2];
        self.io.read_exact(&mut crlf)?;
        assert_eq!(&crlf, b"\r\n", "chunk terminator");
        Ok((size > 0).then_some(data))
    }

    /// A whole response, by Content-Length or chunked.
    fn response(&mut self) -> Response {
        let (status, headers) = self.head();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(len) = find("content-length") {
            body.resize(len.parse().expect("length"), 0);
            self.io.read_exact(&mut body).expect("body");
        } else {
            assert_eq!(find("transfer-encoding").as_deref(), Some("chunked"));
            for _ in 0..MAX_CHUNKS {
                match self.chunk().expect("chunk") {
                    Some(data) => body.extend(data),
                    None => break,
                }
            }
        }
        Response {
            status,
            headers,
            body: String::from_utf8(body).expect("utf-8 body"),
        }
    }

    fn get(&mut self, target: &str, token: Option<&str>) -> Response {
        self.send(target, token);
        self.response()
    }
}

/// GET with the accepted token on a new connection.
fn get(api: &FakeApi, target: &str) -> Response {
    Conn::open(api).get(target, Some(&api.token()))
}

/// A watch stream read as lines, keeping each chunk as received.
struct Watch {
    conn: Conn,
    chunks: Vec<Vec<u8>>,
    pending: Vec<u8>,
    /// The last event line as received, without its newline.
    last: String,
}

impl Watch {
    fn start(api: &FakeApi, target: &str) -> Watch {
        let mut conn = Conn::open(api);
        conn.send(target, Some(&api.token()));
        let (status, headers) = conn.head();
        assert_eq!(status, 200);
        assert!(headers.contains(&("Content-Type".into(), "application/json".into())));
        assert!(headers.contains(&("Transfer-Encoding".into(), "chunked".into())));
        Watch {
            conn,
            chunks: Vec::new(),
            pending: Vec::new(),
            last: String::new(),
        }
    }

    /// The next event; `Ok(None)` once the stream has ended cleanly.
    fn try_next(&mut self) -> io::Result<Option<Value>> {
        for _ in 0..MAX_CHUNKS {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                let event = serde_json::from_slice(&line).expect("event is JSON");
                self.last = String::from_utf8(line)
                    .expect("utf-8")
                    .trim_end()
                    .to_owned();
                return Ok(Some(event));
            }
            match self.conn.chunk()? {
                Some(data) => {
                    self.pending.extend(&data);
                    self.chunks.push(data);
                }
                None => {
                    assert!(self.pending.is_empty(), "stream ended mid-line");
                    return Ok(None);
                }
            }
        }
        panic!("no event line in {MAX_CHUNKS} chunks");
    }

    fn next(&mut self) -> Value {
        self.try_next().expect("read").expect("an event")
    }

    fn ends_cleanly(&mut self) {
        assert_eq!(self.try_next().expect("read"), None);
    }
}

fn watch_path(collection: &str, query: &str) -> String {
    format!("{collection}?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&{query}")
}

#[test]
fn requests_need_the_current_token() {
    let api = FakeApi::start();
    let unauthorized = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
    let none = Conn::open(&api).get(DEPLOYMENTS, None);
    assert_eq!((none.status, none.body.as_str()), (401, unauthorized));
    assert_eq!(none.header("Content-Type"), Some("application/json"));
    let wrong = Conn::open(&api).get(DEPLOYMENTS, Some("nope"));
    assert_eq!((wrong.status, wrong.body.as_str()), (401, unauthorized));
    assert_eq!(get(&api, DEPLOYMENTS).status, 200);

    api.set_token("rotated");
    let mut conn = Conn::open(&api);
    assert_eq!(conn.get(DEPLOYMENTS, Some("rdy-test-token")).status, 401);
    // Same kept-alive connection, new token.
    assert_eq!(conn.get(DEPLOYMENTS, Some("rotated")).status, 200);

    let log = api.requests();
    let tokens: Vec<Option<&str>> = log.iter().map(|r| r.token.as_deref()).collect();
    assert_eq!(
        tokens,
        [
            None,
            Some("nope"),
            Some("rdy-test-token"),
            Some("rdy-test-token"),
            Some("rotated")
        ]
    );
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 200, 401, 200]);
    assert_eq!(log[0].user_agent.as_deref(), Some("fake-kube-test/1"));
    assert_eq!(log[0].accept.as_deref(), Some("application/json"));
    assert_eq!(api.count(Verb::List, DEPLOYMENTS), 5);
}

#[test]
fn get_returns_the_object_or_a_not_found_status() {
    let api = FakeApi::start();
    let rv = api.apply(deployment("web", "default"));
    let found = get(&api, &format!("{DEPLOYMENTS}/web"));
    assert_eq!(found.status, 200);
    let object = found.json();
    assert_eq!(object["kind"], "Deployment");
    assert_eq!(object["apiVersion"], "apps/v1");
    assert_eq!(object["metadata"]["resourceVersion"], json!(rv));

    let missing = get(&api, &format!("{DEPLOYMENTS}/api"));
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"api\" not found","reason":"NotFound","details":{"name":"api","group":"apps","kind":"deployments"},"code":404}"#
    );
    let core = get(&api, &format!("{PODS}/web-1")).json();
    assert_eq!(core["message"], r#"pods "web-1" not found"#);
    assert_eq!(core["details"], json!({"name": "web-1", "kind": "pods"}));
    assert_eq!(api.count(Verb::Get, DEPLOYMENTS), 2);
}

#[test]
fn list_items_lack_kind_and_selectors_filter() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    api.apply(deployment("api", "default"));
    api.apply(deployment("web", "other"));
    let list = get(
        &api,
        &format!("{DEPLOYMENTS}?fieldSelector=metadata.name%3Dweb"),
    )
    .json();
    assert_eq!(list["kind"], "DeploymentList");
    assert_eq!(list["apiVersion"], "apps/v1");
    assert_eq!(
        list["metadata"],
        json!({"resourceVersion": api.resource_version()})
    );
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["metadata"]["name"], "web");
    assert!(items[0].get("kind").is_none() && items[0].get("apiVersion").is_none());
    assert_eq!(items[0]["status"]["readyReplicas"], 3);

    let all = get(&api, DEPLOYMENTS).json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
    let none = get(
        &api,
        &format!("{DEPLOYMENTS}?fieldSelector=metadata.name%3Dgone"),
    )
    .json();
    assert_eq!(none["items"], json!([]));

    api.apply(pod("web-1", "default"));
    api.apply(pod("db-1", "default").labels(&[("app", "db"), ("tier", "data")]));
    let names = |query: &str| -> Vec<String> {
        get(&api, &format!("{PODS}?{query}")).json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(names("labelSelector=app%3Dweb"), ["web-1"]);
    assert_eq!(names("labelSelector=app%3Ddb%2Ctier%3Ddata"), ["db-1"]);
    assert_eq!(names("labelSelector=app!%3Dweb"), ["db-1"]);
    assert_eq!(names("labelSelector=tier"), ["db-1"]);
    assert!(names("labelSelector=app%3Dweb%2Ctier%3Ddata").is_empty());

    api.apply(endpoint_slice("web-8xk2q", "default", "web").ready("10.244.1.17"));
    let slices = get(
        &api,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb",
    )
    .json();
    assert_eq!(slices["kind"], "EndpointSliceList");
    assert_eq!(
        slices["items"][0]["endpoints"][0]["addresses"],
        json!(["10.244.1.17"])
    );

    let bad = get(&api, &format!("{PODS}?labelSelector=env+in+%28a%29"));
    assert_eq!(
        (bad.status, bad.json()["reason"].clone()),
        (400, json!("BadRequest"))
    );
    assert_eq!(api.count(Verb::List, DEPLOYMENTS), 3);
}

#[test]
fn large_bodies_come_chunked_as_from_go() {
    let api = FakeApi::start();
    for i in 0..5 {
        api.apply(pod(&format!("web-{i}"), "default"));
    }
    let list = get(&api, PODS);
    assert_eq!(list.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(5));
    let small = get(&api, DEPLOYMENTS);
    assert!(small.header("Content-Length").is_some());
}

#[test]
fn a_watch_replays_changes_after_the_listed_version() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default").rolling());
    let listed = get(
        &api,
        &format!("{DEPLOYMENTS}?fieldSelector=metadata.name%3Dweb"),
    )
    .json();
    let rv = listed["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    // Changes between the LIST and the WATCH must not be lost.
    let modified = api.apply(deployment("web", "default").generation(4).observed(4));
    api.apply(deployment("api", "default"));
    let mut watch = Watch::start(
        &api,
        &watch_path(
            DEPLOYMENTS,
            &format!("fieldSelector=metadata.name%3Dweb&resourceVersion={rv}"),
        ),
    );
    let event = watch.next();
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(event["object"]["kind"], "Deployment");
    assert_eq!(event["object"]["apiVersion"], "apps/v1");
    assert_eq!(
        event["object"]["metadata"]["resourceVersion"],
        json!(modified)
    );
    assert_eq!(event["object"]["status"]["updatedReplicas"], 3);

    api.await_watchers(DEPLOYMENTS, 1);
    let deleted = api.delete("Deployment", "default", "web").expect("existed");
    let event = watch.next();
    assert_eq!(event["type"], "DELETED");
    assert_eq!(
        event["object"]["metadata"]["resourceVersion"],
        json!(deleted)
    );
    assert_eq!(api.count(Verb::Watch, DEPLOYMENTS), 1);
    let log = api.requests();
    let watch_request = log.iter().find(|r| r.verb == Verb::Watch).expect("watch");
    assert_eq!(
        watch_request.param("fieldSelector"),
        Some("metadata.name=web")
    );
    assert_eq!(watch_request.param("resourceVersion"), Some(rv.as_str()));
}

#[test]
fn a_watch_without_a_version_starts_with_the_current_objects() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    api.apply(deployment("api", "default"));
    let mut watch = Watch::start(&api, &watch_path(DEPLOYMENTS, ""));
    let names: Vec<Value> = (0..2)
        .map(|_| watch.next())
        .map(|e| {
            assert_eq!(e["type"], "ADDED");
            e["object"]["metadata"]["name"].clone()
        })
        .collect();
    assert_eq!(names, [json!("api"), json!("web")]);
}

#[test]
fn events_are_lines_whatever_the_chunks() {
    let api = FakeApi::start();
    let start = api.resource_version();
    for i in 0..5 {
        api.apply(pod(&format!("web-{i}"), "default"));
    }
    let mut watch = Watch::start(
        &api,
        &watch_path(
            PODS,
            &format!("labelSelector=app%3Dweb&resourceVersion={start}"),
        ),
    );
    let replayed: Vec<Value> = (0..5)
        .map(|_| watch.next()["object"]["metadata"]["name"].clone())
        .collect();
    assert_eq!(
        replayed,
        ["web-0", "web-1", "web-2", "web-3", "web-4"].map(|n| json!(n))
    );
    // The replay arrived as one batch: some chunk ends inside an event,
    // and some chunk holds the end of one event and the start of another.
    assert!(watch.chunks.iter().any(|c| c.last() != Some(&b'\n')));
    assert!(watch.chunks.iter().any(|c| {
        c.iter()
            .position(|&b| b == b'\n')
            .is_some_and(|i| i + 1 < c.len())
    }));

    // Live events, one at a time, split or not, decode the same. (The pod
    // starts ready, so the first change makes it not ready: re-applying an
    // identical object is a no-op with no event.)
    api.await_watchers(PODS, 1);
    for i in 0..3 {
        let ready = i % 2 == 1;
        api.apply(pod("web-0", "default").container_ready("app", ready));
        let event = watch.next();
        assert_eq!(event["type"], "MODIFIED");
        assert_eq!(
            event["object"]["status"]["containerStatuses"][0]["ready"],
            ready
        );
    }
    let before = api.resource_version();
    let same = pod("web-0", "default").container_ready("app", false);
    assert_eq!(api.apply(same), before, "an identical object is a no-op");
}

#[test]
fn a_label_change_is_deleted_or_added_for_a_selector() {
    let api = FakeApi::start();
    api.apply(pod("web-1", "default"));
    let mut watch = Watch::start(
        &api,
        &watch_path(
            PODS,
            &format!(
                "labelSelector=app%3Dweb&resourceVersion={}",
                api.resource_version()
            ),
        ),
    );
    api.await_watchers(PODS, 1);
    let moved = api.apply(pod("web-1", "default").labels(&[("app", "other")]));
    let event = watch.next();
    assert_eq!(event["type"], "DELETED");
    assert_eq!(event["object"]["metadata"]["labels"]["app"], "web");
    assert_eq!(event["object"]["metadata"]["resourceVersion"], json!(moved));
    api.apply(pod("web-1", "default"));
    assert_eq!(watch.next()["type"], "ADDED");
}

#[test]
fn bookmarks_carry_only_the_version_and_go_to_those_who_asked() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    let rv = api.resource_version();
    let mut asked = Watch::start(
        &api,
        &watch_path(DEPLOYMENTS, &format!("resourceVersion={rv}")),
    );
    let mut silent = Watch::start(
        &api,
        &format!("{DEPLOYMENTS}?watch=true&resourceVersion={rv}"),
    );
    api.await_watchers(DEPLOYMENTS, 2);
    api.bookmark();
    assert_eq!(
        asked.next(),
        json!({"type": "BOOKMARK", "object": {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"resourceVersion": rv}}})
    );
    api.apply(deployment("web", "default").not_observed());
    assert_eq!(silent.next()["type"], "MODIFIED");
    assert_eq!(asked.next()["type"], "MODIFIED");
}

#[test]
fn a_version_older_than_the_history_gets_an_expired_error_event() {
    let api = FakeApi::start();
    api.set_history_limit(2);
    let old = api.resource_version();
    for n in 1..=4 {
        api.apply(deployment("web", "default").replicas(n));
    }
    let mut watch = Watch::start(
        &api,
        &watch_path(DEPLOYMENTS, &format!("resourceVersion={old}")),
    );
    let oldest = api.resource_version().parse::<u64>().expect("number") - 2;
    assert_eq!(watch.next()["type"], "ERROR");
    assert_eq!(
        watch.last,
        format!(
            r#"{{"type":"ERROR","object":{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"too old resource version: {old} ({oldest})","reason":"Expired","code":410}}}}"#
        )
    );
    watch.ends_cleanly();
    // Within the history, the same watch works.
    let mut recent = Watch::start(
        &api,
        &watch_path(DEPLOYMENTS, &format!("resourceVersion={oldest}")),
    );
    assert_eq!(recent.next()["object"]["spec"]["replicas"], 3);
    assert_eq!(recent.next()["object"]["spec"]["replicas"], 4);
}

#[test]
fn a_version_from_the_future_gets_a_timeout_error_event() {
    let api = FakeApi::start();
    let mut watch = Watch::start(&api, &watch_path(DEPLOYMENTS, "resourceVersion=999"));
    let event = watch.next();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 504);
    assert_eq!(
        event["object"]["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    watch.ends_cleanly();
}

#[test]
fn expiring_open_watches_sends_410_and_forces_a_relist() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    let rv = api.resource_version();
    let mut watch = Watch::start(
        &api,
        &watch_path(DEPLOYMENTS, &format!("resourceVersion={rv}")),
    );
    api.await_watchers(DEPLOYMENTS, 1);
    api.apply(deployment("web", "default").rolling());
    assert_eq!(watch.next()["type"], "MODIFIED");
    api.expire_watches();
    let error = watch.next();
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    watch.ends_cleanly();
    assert_eq!(api.watchers(DEPLOYMENTS), 0);
    // Resuming from the old version fails too; from a fresh LIST it works.
    let mut again = Watch::start(
        &api,
        &watch_path(DEPLOYMENTS, &format!("resourceVersion={rv}")),
    );
    assert_eq!(again.next()["object"]["code"], 410);
    let fresh = get(&api, DEPLOYMENTS).json()["metadata"]["resourceVersion"].clone();
    let mut relisted = Watch::start(
        &api,
        &watch_path(
            DEPLOYMENTS,
            &format!("resourceVersion={}", fresh.as_str().expect("rv")),
        ),
    );
    api.await_watchers(DEPLOYMENTS, 1);
    api.apply(deployment("web", "default"));
    assert_eq!(relisted.next()["type"], "MODIFIED");
}

#[test]
fn a_watch_the_client_drops_stops_counting() {
    let api = FakeApi::start();
    let watch = Watch::start(&api, &watch_path(DEPLOYMENTS, "resourceVersion=1"));
    api.await_watchers(DEPLOYMENTS, 1);
    drop(watch);
    api.await_no_watchers(DEPLOYMENTS);
    // Changes after that go nowhere and break nothing.
    api.apply(deployment("web", "default"));
    assert_eq!(get(&api, DEPLOYMENTS).status, 200);
}

#[test]
fn the_next_watch_can_be_answered_with_http_410() {
    let api = FakeApi::start();
    api.gone_next_watch();
    let gone = get(&api, &watch_path(DEPLOYMENTS, "resourceVersion=1"));
    assert_eq!(gone.status, 410);
    assert_eq!(gone.json()["reason"], "Expired");
    assert_eq!(gone.json()["message"], "too old resource version: 1 (1)");
    let mut watch = Watch::start(&api, &watch_path(DEPLOYMENTS, "resourceVersion=1"));
    api.await_watchers(DEPLOYMENTS, 1);
    api.end_watches();
    watch.ends_cleanly();
}

#[test]
fn watches_end_cleanly_on_timeout_or_on_demand_and_the_connection_lives_on() {
    let api = FakeApi::start();
    let mut timed = Watch::start(
        &api,
        &format!("{DEPLOYMENTS}?watch=1&resourceVersion=1&timeoutSeconds=1"),
    );
    timed.ends_cleanly();

    let mut watch = Watch::start(&api, &watch_path(DEPLOYMENTS, "resourceVersion=1"));
    api.await_watchers(DEPLOYMENTS, 1);
    api.end_watches();
    watch.ends_cleanly();
    // The server kept the connection: the next request goes on it.
    let again = watch.conn.get(DEPLOYMENTS, Some(&api.token()));
    assert_eq!(again.status, 200);
}

#[test]
fn scripted_failures_come_first_and_in_order() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    let forbidden = Canned::forbidden(
        "list",
        "deployments",
        "apps",
        "default",
        "web",
        "system:serviceaccount:default:waiter",
    );
    api.fail_next(DEPLOYMENTS, forbidden);
    api.fail_next(DEPLOYMENTS, Canned::too_many_requests());
    api.fail_next(DEPLOYMENTS, Canned::not_served());
    api.fail_next(
        DEPLOYMENTS,
        Canned::internal_error("etcdserver: request timed out"),
    );
    let list = format!("{DEPLOYMENTS}?fieldSelector=metadata.name%3Dweb");

    let denied = get(&api, &list);
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"web\" is forbidden: User \"system:serviceaccount:default:waiter\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"default\"","reason":"Forbidden","details":{"name":"web","group":"apps","kind":"deployments"},"code":403}"#
    );
    let throttled = get(&api, &list);
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.header("Retry-After"), Some("1"));
    assert_eq!(throttled.json()["reason"], "TooManyRequests");
    let unserved = get(&api, &list);
    assert_eq!(unserved.status, 404);
    assert_eq!(
        unserved.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(unserved.body, "404 page not found\n");
    let broken = get(&api, &list);
    assert_eq!(broken.status, 500);
    assert_eq!(
        broken.json()["message"],
        "Internal error occurred: etcdserver: request timed out"
    );
    assert_eq!(get(&api, &list).status, 200);

    // A script for watches leaves lists alone.
    api.fail_next_verb(
        Verb::Watch,
        DEPLOYMENTS,
        Canned::service_unavailable("later"),
    );
    assert_eq!(get(&api, &list).status, 200);
    assert_eq!(get(&api, &watch_path(DEPLOYMENTS, "")).status, 503);
}

#[test]
fn forbidden_messages_follow_the_request() {
    let status =
        common::kube::Status::forbidden("watch", "pods", "", "app", "", "system:anonymous");
    assert_eq!(
        status.message,
        r#"pods is forbidden: User "system:anonymous" cannot watch resource "pods" in API group "" in the namespace "app""#
    );
    assert_eq!(
        status.to_json(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"system:anonymous\" cannot watch resource \"pods\" in API group \"\" in the namespace \"app\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#
    );
}

#[test]
fn an_unserved_group_answers_go_plain_404() {
    let api = FakeApi::start();
    api.unserve_group("discovery.k8s.io");
    let slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
    let response = get(
        &api,
        &format!("{slices}?labelSelector=kubernetes.io%2Fservice-name%3Dweb"),
    );
    assert_eq!(
        (response.status, response.body.as_str()),
        (404, "404 page not found\n")
    );
    assert_eq!(api.count(Verb::List, slices), 1);
    // Unknown paths get the same; legacy Endpoints carry the deprecation.
    assert_eq!(
        get(&api, "/apis/apps/v2/namespaces/default/deployments").status,
        404
    );
    let legacy = get(&api, "/api/v1/namespaces/default/endpoints");
    assert_eq!(legacy.status, 200);
    assert!(
        legacy
            .header("Warning")
            .is_some_and(|w| w.starts_with("299 - "))
    );
}

#[test]
fn a_paused_server_drops_streams_and_refuses_then_comes_back_on_the_same_port() {
    let api = FakeApi::start();
    api.apply(deployment("web", "default"));
    let port = api.port();
    let mut watch = Watch::start(
        &api,
        &watch_path(
            DEPLOYMENTS,
            &format!("resourceVersion={}", api.resource_version()),
        ),
    );
    api.await_watchers(DEPLOYMENTS, 1);
    api.pause();
    assert!(
        watch.try_next().is_err(),
        "a dropped stream is an error, not a clean end"
    );
    let refused = TcpStream::connect(("127.0.0.1", port)).expect_err("refused");
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);

    api.resume();
    assert_eq!(api.port(), port);
    let list = get(&api, DEPLOYMENTS).json();
    assert_eq!(
        list["items"][0]["metadata"]["name"], "web",
        "state survives"
    );
}

#[test]
fn fixtures_follow_the_documented_shapes() {
    let ready: Value = pod("web-1", "default").into();
    let condition = |p: &Value, kind: &str| {
        p["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == kind).cloned())
            .expect("condition")
    };
    assert_eq!(condition(&ready, "Ready")["status"], "True");
    assert_eq!(condition(&ready, "Ready")["lastProbeTime"], Value::Null);
    let not_ready = pod("web-1", "default").not_ready().json();
    assert_eq!(
        condition(&not_ready, "ContainersReady")["message"],
        "containers with unready status: [app]"
    );
    let crashing = pod("web-1", "default")
        .crash_loop()
        .container_ready("proxy", false)
        .json();
    assert_eq!(
        condition(&crashing, "Ready")["message"],
        "containers with unready status: [proxy app]"
    );
    assert_eq!(
        crashing["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(
        condition(&pod("p", "d").failed().json(), "Ready")["reason"],
        "PodFailed"
    );

    let rolling = deployment("web", "default").rolling().json();
    assert_eq!(
        rolling["status"],
        json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3, "unavailableReplicas": 1, "conditions": rolling["status"]["conditions"].clone()})
    );
    assert_eq!(
        rolling["status"]["conditions"][1]["reason"],
        "ReplicaSetUpdated"
    );
    let scaled_down = deployment("web", "default").replicas(0).json();
    assert_eq!(scaled_down["status"].get("replicas"), None, "omitempty");
    assert_eq!(
        deployment("web", "default")
            .progress_deadline_exceeded()
            .json()["status"]["conditions"][1]["reason"],
        "ProgressDeadlineExceeded"
    );

    let running = job("migrate", "default").running().json();
    assert!(running["status"].get("conditions").is_none());
    assert_eq!(
        (
            running["status"]["active"].clone(),
            running["status"]["ready"].clone()
        ),
        (json!(1), json!(1))
    );
    let failed = job("migrate", "default").failed().json();
    let types: Vec<&Value> = failed["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .map(|c| &c["type"])
        .collect();
    assert_eq!(types, [&json!("FailureTarget"), &json!("Failed")]);
    assert!(failed["status"].get("completionTime").is_none());

    let daemons = fixtures::daemonset("node-agent", "kube-system")
        .updating()
        .json();
    assert_eq!(daemons["status"]["numberUnavailable"], 1);
    let quiet = fixtures::daemonset("node-agent", "kube-system")
        .available(0)
        .updated(0)
        .json();
    assert!(quiet["status"].get("numberAvailable").is_none());
    assert_eq!(quiet["status"]["numberReady"], 3);

    let sts = fixtures::statefulset("db", "default").partitioned().json();
    assert_eq!(
        sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
        1
    );
    assert_ne!(
        sts["status"]["currentRevision"],
        sts["status"]["updateRevision"]
    );

    assert_eq!(
        endpoint_slice("web-abc", "default", "web").json()["endpoints"],
        Value::Null
    );

    let mut tweaked = deployment("web", "default").json();
    fixtures::set(
        &mut tweaked,
        "/metadata/annotations/example.com~1note",
        json!("x"),
    );
    assert_eq!(tweaked["metadata"]["annotations"]["example.com/note"], "x");
}

#[test]
fn client_configuration_points_at_the_fake() {
    let api = FakeApi::start();
    let sa = api.in_cluster("app");
    let read = |name: &str| std::fs::read_to_string(sa.dir.join(name)).expect("read");
    assert_eq!(read("token"), api.token());
    assert_eq!(read("namespace"), "app");
    assert_eq!(read("ca.crt"), api.ca_pem());
    sa.write_token("rotated");
    assert_eq!(read("token"), "rotated");
    assert!(
        sa.env()
            .contains(&("KUBERNETES_SERVICE_PORT".into(), api.port().to_string()))
    );

    let yaml = api.kubeconfig().namespace("app").render();
    assert!(yaml.contains(&format!("    server: https://127.0.0.1:{}\n", api.port())));
    assert!(yaml.contains(&format!(
        "    certificate-authority-data: {}\n",
        common::kube::config::base64(api.ca_pem().as_bytes())
    )));
    assert!(yaml.contains("current-context: fake\n"));
    assert!(yaml.contains("    token: rdy-test-token\n"));
    let with_file = api
        .kubeconfig()
        .ca_file()
        .token_file(&sa.token_file())
        .render();
    assert!(with_file.contains(&format!(
        "certificate-authority: {}",
        api.ca_file().display()
    )));
    assert!(with_file.contains("tokenFile: "));
    assert_eq!(common::kube::config::base64(b"ab"), "YWI=");
}

#[test]
fn collections_are_named_as_in_the_doc() {
    assert_eq!(collection("Deployment", "default"), DEPLOYMENTS);
    assert_eq!(collection("Pod", "default"), PODS);
    assert_eq!(
        collection("EndpointSlice", "x"),
        "/apis/discovery.k8s.io/v1/namespaces/x/endpointslices"
    );
    assert_eq!(collection("Job", "x"), "/apis/batch/v1/namespaces/x/jobs");
}
