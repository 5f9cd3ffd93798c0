//! `metav1.Status` error bodies, byte for byte as the API server writes them,
//! and canned replies for scripting failures.
//!
//! Each constructor follows the apimachinery function named in its doc
//! (`pkg/api/errors/errors.go` unless said otherwise). Fields come out in
//! the Go struct order (`kind`, `apiVersion`, `metadata`, `status`,
//! `message`, `reason`, `details`, `code`), with Go's `omitempty` rules, so a
//! test may compare a body with a string copied from a real cluster.

/// One `details.causes[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// `reason` (Go's `StatusCause.Type`), omitted when empty.
    pub reason: String,
    /// `message`, omitted when empty.
    pub message: String,
}

/// `details`: present (possibly as `{}`) when `Some` in [`Status::details`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub name: String,
    /// Omitted for the core group.
    pub group: String,
    /// The plural resource (`deployments`), not the Kind.
    pub kind: String,
    pub causes: Vec<Cause>,
    /// Omitted when 0.
    pub retry_after_seconds: u32,
}

impl Details {
    /// The object a refusal is about: its name, API group and resource.
    pub fn of(resource: &str, group: &str, name: &str) -> Details {
        Details {
            name: name.to_owned(),
            group: group.to_owned(),
            kind: resource.to_owned(),
            ..Details::default()
        }
    }
}

/// A `metav1.Status` with `status: "Failure"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// HTTP status and the `code` field.
    pub code: u16,
    /// `reason` (`NotFound`, `Forbidden`, `Expired`, ...).
    pub reason: String,
    pub message: String,
    pub details: Option<Details>,
}

/// Go's `%q` for the plain strings that appear in these messages.
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// `resource.group`, or just `resource` for the core group
/// (`schema.GroupResource.String`).
fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

impl Status {
    fn new(code: u16, reason: &str, message: impl Into<String>) -> Status {
        Status {
            code,
            reason: reason.to_owned(),
            message: message.into(),
            details: None,
        }
    }

    /// The 401 of `filters/authentication.go` (bad, expired or missing
    /// token).
    pub fn unauthorized() -> Status {
        Status::new(401, "Unauthorized", "Unauthorized")
    }

    /// `NewNotFound`: `deployments.apps "web" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Status {
        let mut status = Status::new(
            404,
            "NotFound",
            format!("{} {} not found", qualified(resource, group), quote(name)),
        );
        status.details = Some(Details::of(resource, group, name));
        status
    }

    /// The RBAC denial (`responsewriters.ForbiddenStatusError` +
    /// `NewForbidden`). `verb` is `get`, `list` or `watch`; an empty `name`
    /// (a list without a `metadata.name` field selector) drops the quoted
    /// name, and an empty `namespace` says "at the cluster scope".
    pub fn forbidden(
        verb: &str,
        resource: &str,
        group: &str,
        namespace: &str,
        name: &str,
        user: &str,
    ) -> Status {
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_owned()
        } else {
            format!("in the namespace {}", quote(namespace))
        };
        let why = format!(
            "User {} cannot {verb} resource {} in API group {} {scope}",
            quote(user),
            quote(resource),
            quote(group)
        );
        let subject = if name.is_empty() {
            qualified(resource, group)
        } else {
            format!("{} {}", qualified(resource, group), quote(name))
        };
        let mut status = Status::new(403, "Forbidden", format!("{subject} is forbidden: {why}"));
        status.details = Some(Details::of(resource, group, name));
        status
    }

    /// `NewResourceExpired` as the watch cache words it
    /// (`watch_cache.go`): `too old resource version: 41000 (47000)`, the
    /// second number being the oldest version a watch can still start from.
    pub fn expired(requested: u64, oldest: u64) -> Status {
        Status::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// `NewTimeoutError`: 504 `Timeout: {message}` with `retryAfterSeconds`.
    pub fn timeout(message: &str, retry_after_seconds: u32) -> Status {
        let mut status = Status::new(504, "Timeout", format!("Timeout: {message}"));
        status.details = Some(Details {
            retry_after_seconds,
            ..Details::default()
        });
        status
    }

    /// `storage.NewTooLargeResourceVersionError`: a watch or list from a
    /// version the server has not reached yet.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Status {
        let mut status = Status::timeout(
            &format!("Too large resource version: {requested}, current: {current}"),
            1,
        );
        if let Some(details) = status.details.as_mut() {
            details.causes.push(Cause {
                reason: "ResourceVersionTooLarge".into(),
                message: "Too large resource version".into(),
            });
        }
        status
    }

    /// `NewTooManyRequests`.
    pub fn too_many_requests(message: &str, retry_after_seconds: u32) -> Status {
        let mut status = Status::new(429, "TooManyRequests", message);
        status.details = Some(Details {
            retry_after_seconds,
            ..Details::default()
        });
        status
    }

    /// `NewInternalError`: `Internal error occurred: {err}`, the error
    /// repeated as the one cause.
    pub fn internal_error(err: &str) -> Status {
        let mut status = Status::new(
            500,
            "InternalError",
            format!("Internal error occurred: {err}"),
        );
        status.details = Some(Details {
            causes: vec![Cause {
                reason: String::new(),
                message: err.to_owned(),
            }],
            ..Details::default()
        });
        status
    }

    /// `NewServiceUnavailable`.
    pub fn service_unavailable(message: &str) -> Status {
        Status::new(503, "ServiceUnavailable", message)
    }

    /// `NewBadRequest` (an unparsable selector or resourceVersion).
    pub fn bad_request(message: &str) -> Status {
        Status::new(400, "BadRequest", message)
    }

    /// `NewMethodNotSupported` for a verb this read-only fake does not take.
    pub fn method_not_allowed(resource: &str, group: &str, method: &str) -> Status {
        let mut status = Status::new(
            405,
            "MethodNotAllowed",
            format!(
                "{} is not supported on resources of kind {}",
                method.to_lowercase(),
                quote(&qualified(resource, group))
            ),
        );
        status.details = Some(Details {
            group: group.to_owned(),
            kind: resource.to_owned(),
            ..Details::default()
        });
        status
    }

    /// `NewNotAcceptableError` from content negotiation: the client's
    /// `Accept` allows nothing the server encodes (this fake encodes only
    /// JSON).
    pub fn not_acceptable() -> Status {
        Status::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json",
        )
    }

    /// The body as the server sends it.
    pub fn to_json(&self) -> String {
        let mut out =
            String::from(r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure""#);
        if !self.message.is_empty() {
            out.push_str(&format!(r#","message":{}"#, quote(&self.message)));
        }
        if !self.reason.is_empty() {
            out.push_str(&format!(r#","reason":{}"#, quote(&self.reason)));
        }
        if let Some(details) = &self.details {
            let mut fields = Vec::new();
            for (key, value) in [
                ("name", &details.name),
                ("group", &details.group),
                ("kind", &details.kind),
            ] {
                if !value.is_empty() {
                    fields.push(format!("{}:{}", quote(key), quote(value)));
                }
            }
            if !details.causes.is_empty() {
                let causes: Vec<String> = details
                    .causes
                    .iter()
                    .map(|c| {
                        let mut parts = Vec::new();
                        if !c.reason.is_empty() {
                            parts.push(format!(r#""reason":{}"#, quote(&c.reason)));
                        }
                        if !c.message.is_empty() {
                            parts.push(format!(r#""message":{}"#, quote(&c.message)));
                        }
                        format!("{{{}}}", parts.join(","))
                    })
                    .collect();
                fields.push(format!(r#""causes":[{}]"#, causes.join(",")));
            }
            if details.retry_after_seconds > 0 {
                fields.push(format!(
                    r#""retryAfterSeconds":{}"#,
                    details.retry_after_seconds
                ));
            }
            out.push_str(&format!(r#","details":{{{}}}"#, fields.join(",")));
        }
        out.push_str(&format!(r#","code":{}}}"#, self.code));
        out
    }
}

/// A scripted reply, consumed by one request.
#[derive(Debug, Clone)]
pub struct Canned {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    /// Close the connection without answering.
    pub(super) hang_up: bool,
    /// Bytes sent again and again after `body`, until the client leaves
    /// (a hostile server's endless response).
    pub(super) endless: Option<Vec<u8>>,
}

impl Canned {
    /// A Status body as JSON with its code as the HTTP status.
    pub fn status(status: Status) -> Canned {
        Canned {
            status: status.code,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: status.to_json().into_bytes(),
            hang_up: false,
            endless: None,
        }
    }

    /// Any status, content type and body.
    pub fn raw(status: u16, content_type: &str, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
            hang_up: false,
            endless: None,
        }
    }

    /// 200 with `start`, then `repeat` without end: an object, a list or a
    /// nesting that never closes.
    pub fn endless(start: &str, repeat: &str) -> Canned {
        Canned {
            endless: Some(repeat.as_bytes().repeat(1 + 16384 / repeat.len().max(1))),
            ..Canned::raw(200, "application/json", start)
        }
    }

    /// The RBAC 403, see [`Status::forbidden`].
    pub fn forbidden(
        verb: &str,
        resource: &str,
        group: &str,
        namespace: &str,
        name: &str,
        user: &str,
    ) -> Canned {
        Canned::status(Status::forbidden(
            verb, resource, group, namespace, name, user,
        ))
    }

    /// 429 with `Retry-After: 1` and a `TooManyRequests` Status.
    pub fn too_many_requests() -> Canned {
        Canned::status(Status::too_many_requests(
            "Too many requests, please try again later.",
            1,
        ))
        .header("Retry-After", "1")
    }

    /// The 429 that API Priority and Fairness and max-in-flight really send
    /// (`filters/maxinflight.go` `tooManyRequests`): Go's `http.Error`, so
    /// plain text, not a Status.
    pub fn throttled() -> Canned {
        Canned::plain(429, "Too many requests, please try again later.\n")
            .header("Retry-After", "1")
    }

    /// 500 `InternalError`.
    pub fn internal_error(err: &str) -> Canned {
        Canned::status(Status::internal_error(err))
    }

    /// 503 `ServiceUnavailable` (add `Retry-After` with [`Canned::header`]).
    pub fn service_unavailable(message: &str) -> Canned {
        Canned::status(Status::service_unavailable(message))
    }

    /// 504 `Timeout`.
    pub fn gateway_timeout(message: &str) -> Canned {
        Canned::status(Status::timeout(message, 1))
    }

    /// An API the server does not serve: Go's `http.NotFound`,
    /// `404 page not found\n` as plain text, not a Status.
    pub fn not_served() -> Canned {
        Canned::plain(404, "404 page not found\n")
    }

    /// Closes the connection without a response (a crashing server or a
    /// load balancer dropping the request).
    pub fn hang_up() -> Canned {
        Canned {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
            hang_up: true,
            endless: None,
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Go's `http.Error` framing.
    fn plain(status: u16, body: &str) -> Canned {
        Canned::raw(status, "text/plain; charset=utf-8", body)
            .header("X-Content-Type-Options", "nosniff")
    }
}
