//! What the API server can answer besides the object: `Status` bodies
//! (docs/kubernetes.md §4), and what each answer means for a waiter — retry, re-list,
//! or give up with a reason the user can act on.

use std::fmt;
use std::time::Duration;

use crate::json::{self, Value};
use crate::transport::error::TransportError;

/// A failed API request.
#[derive(Debug)]
pub enum ApiError {
    /// The connection failed or timed out; retried with backoff.
    Transport(TransportError),
    /// 401 even after re-reading the credentials.
    Unauthorized,
    /// 401 from a server that accepted the credentials before: retried
    /// with backoff, the credentials read again each time, for
    /// [`super::client::REAUTH_GRACE`] at most.
    Reauthorizing,
    /// 403: RBAC does not allow the request.
    Forbidden { message: String },
    /// A plain-text 404: this server does not serve the API at all.
    NotServed { path: String },
    /// 410 Gone: the resource version is too old; list again.
    Gone,
    /// 429, 5xx: try again, after `after` if the server said so.
    Retry {
        code: u16,
        message: String,
        after: Option<Duration>,
    },
    /// Any other status (400 for a bad selector, JSON 404, ...).
    Rejected { code: u16, message: String },
    /// The body was not the JSON expected.
    Invalid(String),
    /// The response to `path` exceeds a bound of the stream reading it:
    /// waiting cannot make it smaller.
    TooLarge { path: String, why: String },
    /// The credential plugin failed; retried with backoff.
    Credentials(String),
    /// The credential plugin cannot run at all.
    CredentialsMissing(String),
}

impl ApiError {
    /// Whether waiting longer cannot help (exit code 3). A certificate the
    /// configuration does not trust is a configuration error, not an outage.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ApiError::Transport(TransportError::Tls(_))
                | ApiError::Unauthorized
                | ApiError::Forbidden { .. }
                | ApiError::NotServed { .. }
                | ApiError::Rejected { .. }
                | ApiError::CredentialsMissing(_)
                | ApiError::TooLarge { .. }
        )
    }

    /// Builds the error for a non-success response from its status code,
    /// `Retry-After` header and body.
    pub fn from_response(
        code: u16,
        retry_after: Option<&str>,
        content_type: &str,
        body: &[u8],
        path: &str,
    ) -> ApiError {
        let status = json::parse(body).ok();
        let message = status
            .as_ref()
            .and_then(|s| s.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(200)
                    .collect()
            });
        let after = retry_after
            .and_then(|s| s.trim().parse::<u64>().ok())
            .or_else(|| {
                let details = status.as_ref()?.at(&["details", "retryAfterSeconds"])?;
                u64::try_from(details.as_i64()?).ok()
            })
            .map(Duration::from_secs);
        match code {
            401 => ApiError::Unauthorized,
            403 => ApiError::Forbidden { message },
            // Go's http.NotFound answers text/plain for paths nothing serves;
            // a missing object is a JSON Status instead.
            404 if !content_type.starts_with("application/json") => ApiError::NotServed {
                path: path.split('?').next().unwrap_or(path).to_owned(),
            },
            410 => ApiError::Gone,
            429 | 500..=599 => ApiError::Retry {
                code,
                message,
                after,
            },
            _ => ApiError::Rejected { code, message },
        }
    }

    /// A 403 explained: the API's message, the Role rule that would allow
    /// the request, and the `kubectl auth can-i` line that checks it.
    /// `namespace` is `None` for a cluster-scoped resource (a ClusterRole).
    pub fn forbidden_hint(
        message: &str,
        verb: &str,
        group: &str,
        plural: &str,
        namespace: Option<&str>,
    ) -> String {
        let qualified = match group {
            "" => plural.to_owned(),
            group => format!("{plural}.{group}"),
        };
        let (role, scope) = match namespace {
            Some(ns) => ("Role", format!(" -n {ns}")),
            None => ("ClusterRole", String::new()),
        };
        let mut hint = format!(
            "{message}; hint: {role} rule {{apiGroups: [\"{group}\"], resources: [\"{plural}\"], verbs: [\"list\",\"watch\"]}}; \
             check: kubectl auth can-i {verb} {qualified}{scope}",
        );
        if let Some(user) = quoted_after(message, "User \"") {
            hint.push_str(&format!(" --as={user}"));
        }
        hint
    }
}

/// The text between `prefix` and the next `"` in `message`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('"')?;
    Some(&message[start..start + end])
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport(e) => write!(f, "API server: {e}"),
            ApiError::Unauthorized => f.write_str(
                "Unauthorized: API server rejected the credentials (expired/invalid token?)",
            ),
            ApiError::Reauthorizing => f.write_str(
                "Unauthorized: API server rejected the credentials it accepted before; \
                 reading them again",
            ),
            ApiError::Forbidden { message } => f.write_str(message),
            ApiError::NotServed { path } => write!(
                f,
                "the API server does not serve {path} (404 page not found); \
                 is the resource's API enabled, and is this a Kubernetes API server?"
            ),
            ApiError::Gone => f.write_str("resource version expired"),
            ApiError::Retry { code, message, .. } | ApiError::Rejected { code, message } => {
                write!(f, "API server answered {code}: {message}")
            }
            ApiError::Invalid(why) => write!(f, "API server sent an unexpected body: {why}"),
            ApiError::TooLarge { path, why } => write!(
                f,
                "the API server's answer to {path} is too large: {why}; \
                 narrow the selector or the namespace"
            ),
            ApiError::Credentials(why) | ApiError::CredentialsMissing(why) => f.write_str(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORBIDDEN: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"web\" is forbidden: User \"system:serviceaccount:app:waiter\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"app\"","reason":"Forbidden","details":{"name":"web","group":"apps","kind":"deployments"},"code":403}"#;

    #[test]
    fn statuses_map_to_what_a_waiter_does() {
        let json = "application/json";
        let e = ApiError::from_response(403, None, json, FORBIDDEN.as_bytes(), "/apis/apps/v1/x");
        assert!(e.is_fatal());
        let ApiError::Forbidden { message } = &e else {
            panic!("{e:?}")
        };
        let hint = ApiError::forbidden_hint(message, "list", "apps", "deployments", Some("app"));
        assert!(hint.contains("hint: Role rule {apiGroups: [\"apps\"], resources: [\"deployments\"], verbs: [\"list\",\"watch\"]}"), "{hint}");
        assert!(hint.ends_with("check: kubectl auth can-i list deployments.apps -n app --as=system:serviceaccount:app:waiter"), "{hint}");

        let plain = ApiError::from_response(
            404,
            None,
            "text/plain; charset=utf-8",
            b"404 page not found\n",
            "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices?x=1",
        );
        assert!(
            matches!(&plain, ApiError::NotServed { path } if path == "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices")
        );
        let throttled = ApiError::from_response(429, Some("3"), json, b"{}", "/");
        assert!(
            matches!(throttled, ApiError::Retry { after: Some(d), .. } if d == Duration::from_secs(3))
        );
        assert!(matches!(
            ApiError::from_response(410, None, json, b"{}", "/"),
            ApiError::Gone
        ));
        assert!(!ApiError::from_response(503, None, json, b"garbage", "/").is_fatal());
        assert!(ApiError::from_response(400, None, json, b"{}", "/").is_fatal());
    }
}
