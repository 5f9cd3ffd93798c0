//! API discovery: which resources the cluster serves, so that any resource
//! can be named as kubectl names it (kind, plural, singular or short name,
//! optionally `.GROUP`).
//!
//! rdy reads aggregated discovery (`apidiscovery.k8s.io/v2`, GA in
//! Kubernetes 1.30, v2): `GET /api` and `GET /apis` with
//! `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`
//! return every group, version and resource in two requests, where the
//! legacy documents need one request per group version. The table is kept
//! for the whole process; a name it lacks is looked up again (a CRD may be
//! installed later).

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::client::Client;
use super::error::ApiError;
use super::fields;
use crate::json::Value;

/// The aggregated discovery media type, then plain JSON (which older
/// servers answer with the legacy documents).
pub const ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A served resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// API group; `""` is the core group.
    pub group: String,
    /// The version read (the group's preferred one that serves it).
    pub version: String,
    /// `certificates`.
    pub plural: String,
    /// `certificate`: the kind in lower case.
    pub singular: String,
    /// `cert`, `certs`.
    pub short: Vec<String>,
    /// Namespaced, or cluster-scoped.
    pub namespaced: bool,
}

impl ApiResource {
    /// The collection path: `/apis/G/V[/namespaces/NS]/PLURAL`.
    pub fn collection(&self, namespace: &str) -> String {
        let base = match self.group.as_str() {
            "" => format!("/api/{}", self.version),
            group => format!("/apis/{group}/{}", self.version),
        };
        match self.namespaced {
            true => format!("{base}/namespaces/{namespace}/{}", self.plural),
            false => format!("{base}/{}", self.plural),
        }
    }

    /// Whether `name` (lower case, without group) names this resource.
    fn named(&self, name: &str) -> bool {
        self.plural == name || self.singular == name || self.short.iter().any(|s| s == name)
    }
}

/// Why a discovery document was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryError(pub String);

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "API discovery: {}", self.0)
    }
}

/// The resources of one `APIGroupDiscoveryList`, in the server's order
/// (group priority, then version preference).
pub fn parse(document: &Value) -> Result<Vec<ApiResource>, DiscoveryError> {
    let kind = document.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != "APIGroupDiscoveryList" {
        return Err(DiscoveryError(format!(
            "the server sent {kind:?}, not aggregated discovery (APIGroupDiscoveryList v2, Kubernetes 1.30+)"
        )));
    }
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut out = Vec::new();
    for group in document.get("items").map(Value::items).unwrap_or_default() {
        let name = group
            .at(&["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or("");
        for version in group.get("versions").map(Value::items).unwrap_or_default() {
            let v = text(version, "version");
            for r in version
                .get("resources")
                .map(Value::items)
                .unwrap_or_default()
            {
                let plural = text(r, "resource");
                if plural.is_empty() || v.is_empty() {
                    return Err(DiscoveryError(
                        "a resource without name or version".to_owned(),
                    ));
                }
                out.push(ApiResource {
                    group: name.to_owned(),
                    version: v.clone(),
                    // The kind in lower case, which kubectl also matches.
                    singular: text(r, "singularResource"),
                    short: r
                        .get("shortNames")
                        .map(Value::items)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    namespaced: text(r, "scope") != "Cluster",
                    plural,
                });
            }
        }
    }
    Ok(out)
}

/// Finds `RESOURCE[.GROUP]` as kubectl does: the part before the first dot
/// is a plural, singular, kind or short name (case-insensitive), the rest
/// the group. The first match in discovery order wins (core first).
pub fn find<'a>(table: &'a [ApiResource], written: &str) -> Option<&'a ApiResource> {
    let written = written.to_ascii_lowercase();
    let (name, group) = match written.split_once('.') {
        Some((name, group)) => (name, Some(group)),
        None => (written.as_str(), None),
    };
    table
        .iter()
        .find(|r| group.is_none_or(|g| g == r.group) && r.named(name))
}

/// The process-wide table and when it was read.
static TABLE: Mutex<Option<(Vec<ApiResource>, Instant)>> = Mutex::new(None);
/// Held while discovery is read.
static READING: Mutex<()> = Mutex::new(());

/// A name missing from a table younger than this is not looked up again
/// (for `rdy serve`, whose requests must not each cost discovery).
pub const FRESH: Duration = Duration::from_secs(10);

/// Looks `written` up, reading discovery first if the process has no
/// table yet, or if `refresh` asks for a newer one. `Ok(None)`: the cluster
/// does not serve it.
pub fn resolve(
    client: &Client,
    written: &str,
    refresh: bool,
    deadline: Instant,
) -> Result<Option<ApiResource>, ApiError> {
    if !refresh && let Some(found) = cached(written) {
        return Ok(found);
    }
    // One reader at a time: targets resolving at once share one read.
    let asked = Instant::now();
    let _reading = READING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = cached(written)
        && (!refresh || age().is_some_and(|age| age < asked.elapsed()))
    {
        return Ok(found);
    }
    let mut table = Vec::new();
    for path in ["/api", "/apis"] {
        let document = client.get_json_accept(path, ACCEPT, &fields::DISCOVERY, deadline)?;
        table.extend(parse(&document).map_err(|e| ApiError::Invalid(format!("{e}")))?);
    }
    let found = find(&table, written).cloned();
    *lock() = Some((table, Instant::now()));
    Ok(found)
}

/// From the table in memory: `None` when there is none yet; `Some(None)`
/// when it lacks the name.
pub fn cached(written: &str) -> Option<Option<ApiResource>> {
    let table = lock();
    let (table, _) = table.as_ref()?;
    Some(find(table, written).cloned())
}

/// Whether two written names resolve to the same served resource.
pub fn same(a: &str, b: &str) -> bool {
    let table = lock();
    let Some((table, _)) = table.as_ref() else {
        return false;
    };
    match (find(table, a), find(table, b)) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        _ => false,
    }
}

/// How old the table is, if there is one.
pub fn age() -> Option<Duration> {
    lock().as_ref().map(|(_, at)| at.elapsed())
}

fn lock() -> std::sync::MutexGuard<'static, Option<(Vec<ApiResource>, Instant)>> {
    TABLE.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const APIS: &str = r#"{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[
      {"metadata":{},"versions":[{"version":"v1","resources":[{"resource":"secrets","responseKind":{"group":"","version":"","kind":"Secret"},"scope":"Namespaced","singularResource":"secret","verbs":["list"]}]}]},
      {"metadata":{"name":"cert-manager.io"},"versions":[{"version":"v1","resources":[{"resource":"certificates","responseKind":{"group":"","version":"","kind":"Certificate"},"scope":"Namespaced","singularResource":"certificate","shortNames":["cert","certs"]}]}]},
      {"metadata":{"name":"apiextensions.k8s.io"},"versions":[{"version":"v1","resources":[{"resource":"customresourcedefinitions","responseKind":{"kind":"CustomResourceDefinition"},"scope":"Cluster","singularResource":"customresourcedefinition","shortNames":["crd","crds"]}]}]}]}"#;

    #[test]
    fn names_resolve_as_kubectl_resolves_them() {
        let table = parse(&json::parse(APIS.as_bytes()).unwrap()).unwrap();
        let group = |w: &str| find(&table, w).map(|r| r.plural.as_str());
        for w in [
            "certificate.cert-manager.io",
            "Certificates.cert-manager.io",
            "cert",
            "Certificate",
            "certs",
        ] {
            assert_eq!(group(w), Some("certificates"), "{w}");
        }
        assert_eq!(group("certificate.example.com"), None);
        assert_eq!(group("secret"), Some("secrets"));
        let crd = find(&table, "crd").unwrap();
        assert!(!crd.namespaced);
        assert_eq!(
            crd.collection("x"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        );
        assert_eq!(
            find(&table, "secret").unwrap().collection("a"),
            "/api/v1/namespaces/a/secrets"
        );
        assert_eq!(
            find(&table, "cert").unwrap().collection("a"),
            "/apis/cert-manager.io/v1/namespaces/a/certificates"
        );
    }

    #[test]
    fn other_documents_are_refused() {
        let legacy = json::parse(br#"{"kind":"APIVersions","versions":["v1"]}"#).unwrap();
        assert!(
            parse(&legacy)
                .unwrap_err()
                .to_string()
                .contains("APIVersions")
        );
        let bad = json::parse(
            br#"{"kind":"APIGroupDiscoveryList","items":[{"versions":[{"resources":[{}]}]}]}"#,
        )
        .unwrap();
        assert!(parse(&bad).is_err());
    }
}
