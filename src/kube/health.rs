//! Kubernetes object health for monitors over HTTP:
//! `/api/healthz/{namespace}/{kind}/{name}` answered from the watch cache
//! with the same kubectl rules as `rdy wait`.
//!
//! What may be asked is explicit (`--expose NAMESPACE[/KIND]`, by default the
//! server's own namespace): anything else is answered exactly like an object
//! that does not exist, so an endpoint that may be unauthenticated cannot be
//! used to enumerate the cluster.

use std::sync::Arc;
use std::time::Duration;

use super::cache::{CacheError, WatchCache};
use super::kind::Kind;
use super::object::Endpoints;
use super::rules::Verdict;
use super::target::{ObjectRef, is_label};

/// The kinds the health API answers for; quoted in error messages.
pub const KINDS: &str = "deployment, statefulset, daemonset, job, service or pod";

/// Which namespaces (and kinds) the health API answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure(Vec<(String, Option<Kind>)>);

impl Exposure {
    /// Parses `--expose` values (`NAMESPACE` or `NAMESPACE/KIND`); with none,
    /// only `own_namespace` is exposed.
    pub fn parse(values: &[String], own_namespace: &str) -> Result<Exposure, String> {
        if values.is_empty() {
            return Ok(Exposure(vec![(own_namespace.to_owned(), None)]));
        }
        let mut rules = Vec::new();
        for value in values {
            let (namespace, kind) = match value.split_once('/') {
                Some((ns, kind)) => {
                    let kind = health_kind(kind).ok_or_else(|| format!("{value:?}: expected NAMESPACE or NAMESPACE/KIND with KIND one of {KINDS}"))?;
                    (ns, Some(kind))
                }
                None => (value.as_str(), None),
            };
            if !is_label(namespace) {
                return Err(format!("{value:?}: {namespace:?} is not a namespace name"));
            }
            rules.push((namespace.to_owned(), kind));
        }
        Ok(Exposure(rules))
    }

    /// Whether objects of `kind` in `namespace` may be asked about.
    pub fn allows(&self, namespace: &str, kind: Kind) -> bool {
        self.0
            .iter()
            .any(|(ns, k)| ns == namespace && k.is_none_or(|k| k == kind))
    }
}

/// A kind the health API answers for: named objects only.
pub fn health_kind(word: &str) -> Option<Kind> {
    Kind::parse(word).filter(|k| *k != Kind::Pods)
}

/// The answer for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Ready by the kind's rule; kubectl's message.
    Healthy(String),
    /// Not ready yet; kubectl's progress message.
    Unhealthy(String),
    /// Can never become ready by itself (a failed Job or pod, a Deployment
    /// past its progress deadline): what `rdy wait` ends with exit 3 for.
    Failed(String),
    /// No such object (or not exposed).
    Missing,
    /// The cache has no answer: the API server refused or is away.
    Unavailable(CacheError),
}

/// The object named by a health request path after `/api/healthz/`:
/// `{namespace}/{kind}/{name}`. `None` for anything else.
pub fn parse_path(rest: &str) -> Option<(String, Kind, String)> {
    let mut parts = rest.split('/');
    let (namespace, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_label(namespace) {
        return None;
    }
    let object = super::target::parse(&format!("{namespace}/{kind}/{name}"), None).ok()?;
    (object.kind != Kind::Pods).then(|| (namespace.to_owned(), object.kind, name.to_owned()))
}

/// Judges one object from the cache, starting its watch if it is new and
/// waiting up to `first_sync` for the first LIST.
pub fn check(
    cache: &Arc<WatchCache>,
    namespace: &str,
    kind: Kind,
    name: &str,
    first_sync: Duration,
) -> Health {
    let object = ObjectRef {
        namespace: Some(namespace.to_owned()),
        kind,
        name: Some(name.to_owned()),
        selector: None,
        container: None,
        min: 1,
        stable: None,
    };
    let mut endpoints = Endpoints::Slices;
    let objects = match cache.objects(&object.query(namespace, endpoints), first_sync) {
        Err(CacheError::NotServed(_)) if kind == Kind::Service => {
            endpoints = Endpoints::Legacy;
            cache.objects(&object.query(namespace, endpoints), first_sync)
        }
        other => other,
    };
    let objects = match objects {
        Ok(objects) => objects,
        Err(e) => return Health::Unavailable(e),
    };
    // A Service whose controller made no EndpointSlice does not exist (or
    // selects nothing and never will); named kinds exist when listed.
    if objects.all().is_empty() {
        return Health::Missing;
    }
    match object.judge(endpoints, &objects) {
        Verdict::Ready(message) => Health::Healthy(message),
        Verdict::Waiting(message) => Health::Unhealthy(message),
        Verdict::Failed(message) => Health::Failed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_defaults_to_the_own_namespace() {
        let own = Exposure::parse(&[], "apps").unwrap();
        assert!(own.allows("apps", Kind::Deployment));
        assert!(!own.allows("kube-system", Kind::Deployment));
        let some = Exposure::parse(&["apps/deployment".into(), "db".into()], "x").unwrap();
        assert!(some.allows("apps", Kind::Deployment));
        assert!(!some.allows("apps", Kind::Job));
        assert!(some.allows("db", Kind::Job));
        assert!(!some.allows("x", Kind::Job));
        assert!(Exposure::parse(&["Apps".into()], "x").is_err());
        assert!(Exposure::parse(&["-apps".into()], "x").is_err());
        assert!(Exposure::parse(&["apps/cronjob".into()], "x").is_err());
        assert!(Exposure::parse(&["apps/pods".into()], "x").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("default/deployment/web"),
            Some(("default".into(), Kind::Deployment, "web".into()))
        );
        assert_eq!(
            parse_path("default/svc/db"),
            Some(("default".into(), Kind::Service, "db".into()))
        );
        for bad in [
            "default/deployment",
            "default/deployment/web/x",
            "Default/deployment/web",
            "default/pods/x",
            "default/cronjob/x",
            "default/deployment/Web",
            "",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }
}
