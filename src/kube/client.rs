//! Blocking requests to the API server over the core's ureq + rustls agent:
//! a LIST returns one JSON document, a WATCH a stream of JSON lines
//! (docs/kubernetes.md §3), both bounded by a deadline.
//!
//! Every request carries `Accept: application/json` and
//! `User-Agent: rdy/<version> (linux/<arch>)`, so the audit log names the
//! tool; the bearer token goes only in the `Authorization` header, never in a
//! log line or an error.

use std::io::{self, Read};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::{Request, Response, Uri};
use ureq::{Agent, Body};

use super::config::{self, ClusterConfig};
use super::credentials::Auth;
use super::error::ApiError;
use super::fields;
use crate::json::stream::{Keep, Stream, StreamError};
use crate::json::{self, Value};
use crate::transport::agent::{self, AgentOptions};
use crate::transport::error::TransportError;
use crate::transport::tls::Trust;

/// Non-watch requests get about 30 s, as client-go's.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A document other than a LIST (discovery) longer than this is refused.
const MAX_BODY: usize = 64 << 20;
/// One object (a LIST item, a watch event) longer than this is refused;
/// etcd caps objects at 1.5 MiB.
const MAX_EVENT: u64 = 16 << 20;
/// What rdy keeps of one response (of a LIST, all its items), in the
/// cost [`Stream`] counts: about the memory the kept fields take.
pub const MAX_KEPT: usize = 16 << 20;
/// After rdy has once been authorized, 401s are retried (with backoff,
/// the credentials read again each time) for this long before they are
/// final: a token rotation or an authenticating webhook's outage passes.
/// A 401 before any success is final at once.
pub const REAUTH_GRACE: Duration = Duration::from_secs(60);

/// A connection to one API server.
#[derive(Debug)]
pub struct Client {
    /// Base URL of requests; its host is the TLS name.
    base: String,
    /// The real host and port, when the TLS name differs.
    connect_to: Option<(String, u16)>,
    trust: Trust,
    static_cert: Option<ureq::tls::ClientCert>,
    auth: Auth,
    /// The agent and the plugin-supplied certificate it was built with.
    agent: Mutex<(Option<(String, String)>, Agent)>,
    user_agent: String,
    /// Whether a request ever succeeded, and since when the server has
    /// answered 401 without a success in between.
    authorized: Mutex<(bool, Option<Instant>)>,
    /// The namespace of targets that name none.
    pub namespace: String,
}

impl Client {
    /// A client for the configured server. Nothing is sent yet.
    pub fn new(config: ClusterConfig) -> Result<Client, String> {
        let (base, connect_to) = match &config.tls_server_name {
            Some(name) => retarget(&config.server, name)?,
            None => (config.server.clone(), None),
        };
        let agent = build_agent(
            &config.trust,
            connect_to.clone(),
            config.client_cert.clone(),
        )?;
        Ok(Client {
            base,
            connect_to,
            trust: config.trust,
            static_cert: config.client_cert,
            auth: Auth::new(config.credentials),
            agent: Mutex::new((None, agent)),
            user_agent: user_agent(),
            authorized: Mutex::new((false, None)),
            namespace: config.namespace,
        })
    }

    /// GET `path` (with query) and parse what `keep` keeps of the body.
    pub fn get_json(&self, path: &str, keep: &Keep, deadline: Instant) -> Result<Value, ApiError> {
        self.get_json_accept(path, "application/json", keep, deadline)
    }

    /// GET `path` asking for the media types in `accept` (aggregated
    /// discovery), and parse what `keep` keeps of the body, which may be
    /// [`MAX_BODY`] long and keep [`MAX_KEPT`].
    pub fn get_json_accept(
        &self,
        path: &str,
        accept: &str,
        keep: &Keep,
        deadline: Instant,
    ) -> Result<Value, ApiError> {
        let cap = deadline.min(Instant::now() + REQUEST_TIMEOUT);
        let response = self.send(path, accept, cap)?;
        let mut stream = Stream::new(response.into_body().into_reader());
        stream.limit(MAX_BODY, MAX_KEPT);
        let mut kept = Vec::new();
        stream
            .value(Some(keep), &mut kept)
            .and_then(|_| parsed(&kept))
            .map_err(|e| stream_error(e, path))
    }

    /// LISTs `path`: each item, as `keep` keeps it, goes to `item` as
    /// compact JSON with its cost; all of them may cost `budget`. Returns
    /// the list's `metadata.resourceVersion`.
    pub fn list(
        &self,
        path: &str,
        keep: &Keep,
        budget: usize,
        deadline: Instant,
        item: &mut dyn FnMut(Vec<u8>) -> Result<(), StreamError>,
    ) -> Result<String, ApiError> {
        let cap = deadline.min(Instant::now() + REQUEST_TIMEOUT);
        let response = self.send(path, "application/json", cap)?;
        let mut stream = Stream::new(response.into_body().into_reader());
        let mut version = None;
        let mut left = budget;
        let read = stream.members(&mut |s, key| match key {
            b"items" => s.items(&mut |s| {
                s.limit(MAX_EVENT as usize, left);
                let mut kept = Vec::new();
                left -= s.value(Some(keep), &mut kept)?;
                item(kept)
            }),
            b"metadata" => {
                s.limit(MAX_EVENT as usize, 4096);
                let mut kept = Vec::new();
                s.value(fields::LIST.member(key), &mut kept)?;
                version = parsed(&kept)?
                    .get("resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(())
            }
            _ => {
                s.limit(MAX_EVENT as usize, 0);
                s.value(None, &mut Vec::new()).map(drop)
            }
        });
        read.map_err(|e| stream_error(e, path))?;
        version
            .ok_or_else(|| ApiError::Invalid("a list without metadata.resourceVersion".to_owned()))
    }

    /// Starts a WATCH of `path`; the stream's reads end by `deadline`.
    pub fn watch(&self, path: &str, deadline: Instant) -> Result<WatchStream<'static>, ApiError> {
        let response = self.send(path, "application/json", deadline)?;
        Ok(WatchStream::new(response.into_body().into_reader()))
    }

    /// Sends a GET; after a 401 the credentials are fetched again and the
    /// request is retried once (docs/kubernetes.md §1.2).
    fn send(
        &self,
        path: &str,
        accept: &str,
        deadline: Instant,
    ) -> Result<Response<Body>, ApiError> {
        for retry in [false, true] {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ApiError::Transport(TransportError::TimedOut));
            }
            let agent = self.current_agent()?;
            let mut request = Request::get(format!("{}{path}", self.base))
                .header("Accept", accept)
                .header("User-Agent", self.user_agent.as_str());
            if let Some(token) = self.auth.token()? {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let request = request
                .body(())
                .map_err(|e| ApiError::Invalid(e.to_string()))?;
            let request = agent
                .configure_request(request)
                .timeout_global(Some(left))
                // ureq's 128 KiB each way is per connection, and `serve`
                // holds one per watched collection: the API server's
                // headers fit in 16 KiB, a GET's request in 4.
                .input_buffer_size(16 << 10)
                .output_buffer_size(4 << 10)
                .build();
            let response = agent
                .run(request)
                .map_err(|e| ApiError::Transport(TransportError::from_ureq(e)))?;
            let code = response.status().as_u16();
            if code == 401 && !retry && self.auth.refreshable() {
                crate::log::debug("API server refused the credentials (401): reading them again")
                    .emit();
                self.auth.invalidate();
                continue;
            }
            if (200..300).contains(&code) {
                *self.authorized() = (true, None);
                return Ok(response);
            }
            return Err(match error_from(response, path) {
                ApiError::Unauthorized => self.unauthorized(),
                other => other,
            });
        }
        Err(self.unauthorized())
    }

    fn authorized(&self) -> std::sync::MutexGuard<'_, (bool, Option<Instant>)> {
        self.authorized.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A 401 after rdy was once authorized is retried for
    /// [`REAUTH_GRACE`]; the credentials are read again before each retry.
    fn unauthorized(&self) -> ApiError {
        let mut state = self.authorized();
        let since = *state.1.get_or_insert_with(Instant::now);
        if !state.0 || since.elapsed() >= REAUTH_GRACE {
            return ApiError::Unauthorized;
        }
        self.auth.invalidate();
        ApiError::Reauthorizing
    }

    /// The agent, rebuilt when a credential plugin hands out a different
    /// client certificate.
    fn current_agent(&self) -> Result<Agent, ApiError> {
        let plugin_cert = self.auth.client_cert()?;
        let mut slot = self.agent.lock().unwrap_or_else(|p| p.into_inner());
        if slot.0 != plugin_cert {
            let cert = match &plugin_cert {
                Some((cert, key)) => Some(
                    config::client_cert(cert.as_bytes(), key.as_bytes())
                        .map_err(|e| ApiError::Credentials(format!("credential plugin: {e}")))?,
                ),
                None => self.static_cert.clone(),
            };
            let agent = build_agent(&self.trust, self.connect_to.clone(), cert)
                .map_err(ApiError::Invalid)?;
            *slot = (plugin_cert, agent);
        }
        Ok(slot.1.clone())
    }
}

fn build_agent(
    trust: &Trust,
    connect_to: Option<(String, u16)>,
    client_cert: Option<ureq::tls::ClientCert>,
) -> Result<Agent, String> {
    agent::build(&AgentOptions {
        trust: trust.clone(),
        proxy: None,
        https: true,
        max_redirects: 0,
        connect_to,
        client_cert,
    })
    .map_err(|e| e.to_string())
}

/// `https://10.0.0.1:6443/prefix` with TLS name `api.internal` becomes
/// requests to `https://api.internal:6443/prefix` that connect to
/// 10.0.0.1:6443: SNI and certificate verification use the name, as
/// kubeconfig's `tls-server-name` asks. (The API server ignores `Host`.)
fn retarget(server: &str, tls_name: &str) -> Result<(String, Option<(String, u16)>), String> {
    let uri: Uri = server
        .parse()
        .map_err(|e| format!("server {server:?}: {e}"))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("server {server:?} has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(443);
    let prefix = uri.path().trim_end_matches('/');
    Ok((
        format!("https://{tls_name}:{port}{prefix}"),
        Some((host, port)),
    ))
}

fn error_from(response: Response<Body>, path: &str) -> ApiError {
    let code = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (retry_after, content_type) = (
        header("retry-after"),
        header("content-type").unwrap_or_default(),
    );
    let mut body = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(64 << 10)
        .read_to_end(&mut body);
    ApiError::from_response(code, retry_after.as_deref(), &content_type, &body, path)
}

/// `rdy/<version> (linux/<arch>)`, with Go's architecture names.
fn user_agent() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        other => other,
    };
    format!("{} (linux/{arch})", agent::USER_AGENT)
}

/// A failed read of a response body in the words of a log line: ureq
/// wraps its own errors (a timeout) in `io::Error`.
fn read_error(e: io::Error) -> TransportError {
    TransportError::from_ureq(ureq::Error::from(e))
}

/// How a watch stream stopped.
#[derive(Debug)]
pub enum StreamEnd {
    /// The server closed it cleanly (its `timeoutSeconds` ran out).
    Clean,
    /// The read deadline passed.
    Deadline,
    /// The connection broke or sent garbage.
    Broken(ApiError),
}

/// One watch event: its `type`, and what the query keeps of its object
/// as compact JSON (of an `ERROR` event, the `Status`'s code, reason and
/// message too).
#[derive(Debug)]
pub struct Event {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`.
    pub kind: String,
    /// The object, `{}` when the event had none.
    pub object: Vec<u8>,
}

/// The events of one WATCH request: JSON documents one after the other
/// (one per line, though a line is not needed to tell them apart). Generic
/// over the reader so that the fuzz target can feed it bytes; rdy itself
/// reads a response body.
pub struct WatchStream<'r> {
    stream: Stream<'r>,
}

impl<'r> WatchStream<'r> {
    /// Reads events from `body`.
    pub fn new(body: impl Read + 'r) -> WatchStream<'r> {
        WatchStream {
            stream: Stream::new(body),
        }
    }

    /// The next event, keeping what `keep` keeps of its object: one event
    /// may read [`MAX_EVENT`] bytes and keep [`MAX_KEPT`].
    pub fn next_event(&mut self, keep: &Keep) -> Result<Event, StreamEnd> {
        let stream = &mut self.stream;
        match stream.at_end() {
            Ok(true) => return Err(StreamEnd::Clean),
            Ok(false) => {}
            Err(e) => return Err(stream_end(e)),
        }
        stream.limit(MAX_EVENT as usize, MAX_KEPT);
        let (mut kind, mut object) = (Vec::new(), Vec::new());
        let lookup = |key: &[u8]| fields::STATUS.member(key).or_else(|| keep.member(key));
        let read = stream.members(&mut |s, key| match key {
            // A repeated member replaces the first, as in `json::parse`'s
            // readers (serde's last-wins would do the same).
            b"type" => {
                kind.clear();
                s.value(Some(&Keep::All), &mut kind).map(drop)
            }
            b"object" => {
                object.clear();
                s.object(Some(&lookup), &mut object, 1)
            }
            _ => s.value(None, &mut Vec::new()).map(drop),
        });
        read.map_err(stream_end)?;
        if object.is_empty() {
            object.extend_from_slice(b"{}");
        }
        let kind = parsed(&kind).map_err(stream_end)?;
        Ok(Event {
            kind: kind.as_str().unwrap_or("").to_owned(),
            object,
        })
    }
}

/// Compact JSON that the stream kept, as a tree.
pub fn parsed(kept: &[u8]) -> Result<Value, StreamError> {
    if kept.is_empty() {
        return Ok(Value::Null);
    }
    json::parse(kept).map_err(StreamError::Json)
}

/// A stream's failure in the API's terms: a timeout or broken connection,
/// bytes that are not JSON, or a response over a bound, named by `path`.
fn stream_error(e: StreamError, path: &str) -> ApiError {
    match e {
        StreamError::Io(e) => ApiError::Transport(read_error(e)),
        StreamError::Json(e) => ApiError::Invalid(e.to_string()),
        too_large => ApiError::TooLarge {
            path: path.to_owned(),
            why: too_large.to_string(),
        },
    }
}

fn stream_end(e: StreamError) -> StreamEnd {
    match e {
        StreamError::Io(e) => match read_error(e) {
            TransportError::TimedOut => StreamEnd::Deadline,
            other => StreamEnd::Broken(ApiError::Transport(other)),
        },
        StreamError::Json(e) => StreamEnd::Broken(ApiError::Invalid(e.to_string())),
        too_large => StreamEnd::Broken(ApiError::Invalid(format!("a watch event: {too_large}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_server_name_keeps_the_address_and_prefix() {
        let (base, to) = retarget("https://10.0.0.1:6443/k8s/", "api.internal").unwrap();
        assert_eq!(base, "https://api.internal:6443/k8s");
        assert_eq!(to, Some(("10.0.0.1".to_owned(), 6443)));
        let (base, to) = retarget("https://[fd00::1]", "api").unwrap();
        assert_eq!(base, "https://api:443");
        assert_eq!(to, Some(("fd00::1".to_owned(), 443)));
    }

    /// Found by the watch_stream fuzz target: a repeated `object` was
    /// kept twice, which is not JSON.
    #[test]
    fn a_repeated_event_member_replaces_the_first() {
        let body = br#"{"type":"ADDED","object":{"a":1},"object":{"b":2},"type":"MODIFIED"}"#;
        let event = WatchStream::new(&body[..]).next_event(&Keep::All).unwrap();
        assert_eq!(event.kind, "MODIFIED");
        assert_eq!(event.object, br#"{"b":2}"#);
    }

    #[test]
    fn user_agent_names_the_tool_and_platform() {
        let ua = user_agent();
        assert!(ua.starts_with("rdy/") && ua.contains(" (linux/"), "{ua}");
    }
}
