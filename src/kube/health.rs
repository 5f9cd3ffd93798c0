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
use super::discovery;
use super::kind::Kind;
use super::object::Api;
use super::rules::Verdict;
use super::target::{ObjectRef, is_label};

/// The kinds the health API answers for; quoted in error messages.
pub const KINDS: &str = "deployment, statefulset, daemonset, job, service, pod, \
                         or any resource the cluster serves (RESOURCE[.GROUP])";

/// What an `--expose` rule lets through in its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exposed {
    /// Everything.
    Any,
    /// One built-in kind.
    Kind(Kind),
    /// One resource, by any of its names; compared once resolved.
    Resource(String),
}

/// Which namespaces (and kinds) the health API answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure(Vec<(String, Exposed)>);

impl Exposure {
    /// Parses `--expose` values (`NAMESPACE` or `NAMESPACE/RESOURCE`); with
    /// none, only `own_namespace` is exposed.
    pub fn parse(values: &[String], own_namespace: &str) -> Result<Exposure, String> {
        if values.is_empty() {
            return Ok(Exposure(vec![(own_namespace.to_owned(), Exposed::Any)]));
        }
        let mut rules = Vec::new();
        for value in values {
            let (namespace, exposed) = match value.split_once('/') {
                Some((ns, kind)) => {
                    let object = super::target::parse(&format!("{kind}/x"), None)
                        .ok()
                        .filter(|o| o.kind != Kind::Pods)
                        .ok_or_else(|| format!("{value:?}: expected NAMESPACE or NAMESPACE/KIND with KIND one of {KINDS}"))?;
                    let exposed = match object.kind {
                        Kind::Other => Exposed::Resource(object.resource),
                        kind => Exposed::Kind(kind),
                    };
                    (ns, exposed)
                }
                None => (value.as_str(), Exposed::Any),
            };
            if !is_label(namespace) {
                return Err(format!("{value:?}: {namespace:?} is not a namespace name"));
            }
            rules.push((namespace.to_owned(), exposed));
        }
        Ok(Exposure(rules))
    }

    /// The collections `--expose NAMESPACE/RESOURCE` names, as objects
    /// without a name: every object of them is reported by `/metrics`.
    pub fn listed(&self) -> Vec<ObjectRef> {
        let resource = |exposed: &Exposed| match exposed {
            Exposed::Any => None,
            Exposed::Kind(kind) => Some(kind.name().to_owned()),
            Exposed::Resource(text) => Some(text.clone()),
        };
        self.0
            .iter()
            .filter_map(|(ns, exposed)| parse_collection(&format!("{ns}/{}", resource(exposed)?)))
            .collect()
    }

    /// Whether objects of `kind` in `namespace` may be asked about; a
    /// discovered resource (`written`) is compared once `resolved`.
    pub fn allows(&self, namespace: &str, kind: Kind, written: &str, resolved: bool) -> bool {
        self.0.iter().any(|(ns, exposed)| {
            ns == namespace
                && match exposed {
                    Exposed::Any => true,
                    Exposed::Kind(k) => *k == kind,
                    // Before resolution the namespace alone decides; the
                    // resource is compared once discovery has named it.
                    Exposed::Resource(text) => {
                        kind == Kind::Other && (!resolved || discovery::same(text, written))
                    }
                }
        })
    }
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
/// `{namespace}/{resource[.group]}/{name}`. `None` for anything else.
pub fn parse_path(rest: &str) -> Option<ObjectRef> {
    let mut parts = rest.split('/');
    let (namespace, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_label(namespace) || rest.contains('?') {
        return None;
    }
    let object = super::target::parse(&format!("{namespace}/{kind}/{name}"), None).ok()?;
    (object.kind != Kind::Pods).then_some(object)
}

/// The collection named by `{namespace}/{resource[.group]}`: every object
/// of a kind named by its own name (not Services, judged by their
/// EndpointSlices, nor pods by selector). `None` for anything else.
pub fn parse_collection(rest: &str) -> Option<ObjectRef> {
    let (namespace, kind) = rest.split_once('/')?;
    let mut object = parse_path(&format!("{namespace}/{kind}/x"))?;
    object.name = None;
    (object.kind != Kind::Service).then_some(object)
}

/// Every object of `collection` with its health, by name, from the cache
/// (starting its watch if new). An unexposed collection has no objects.
pub fn list(
    cache: &Arc<WatchCache>,
    exposure: &Exposure,
    collection: &ObjectRef,
    first_sync: Duration,
) -> Result<Vec<(String, Health)>, CacheError> {
    let namespace = collection.namespace.as_deref().unwrap_or("");
    if !exposure.allows(namespace, collection.kind, &collection.resource, false) {
        return Ok(Vec::new());
    }
    let api = match collection.kind {
        Kind::Other => match cache.resolve(&collection.resource, first_sync) {
            Ok(api) => api,
            Err(CacheError::NotServed(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        },
        _ => Api::Slices,
    };
    if !exposure.allows(namespace, collection.kind, &collection.resource, true) {
        return Ok(Vec::new());
    }
    let mut query = collection.query(namespace, &api);
    query.selector = super::watch::Selector::All;
    let objects = cache.objects(&query, first_sync)?;
    let names: Vec<String> = objects.names().map(|(_, name)| name.to_owned()).collect();
    Ok(names
        .into_iter()
        .map(|name| {
            let one = ObjectRef {
                name: Some(name.clone()),
                ..collection.clone()
            };
            let health = check(cache, exposure, &one, first_sync);
            (name, health)
        })
        .collect())
}

/// Judges one object from the cache, starting its watch (and discovery)
/// if it is new and waiting up to `first_sync` for the first LIST. An
/// object outside `exposure` is [`Health::Missing`].
pub fn check(
    cache: &Arc<WatchCache>,
    exposure: &Exposure,
    object: &ObjectRef,
    first_sync: Duration,
) -> Health {
    let namespace = object.namespace.as_deref().unwrap_or("");
    if !exposure.allows(namespace, object.kind, &object.resource, false) {
        return Health::Missing;
    }
    let mut api = Api::Slices;
    if object.kind == Kind::Other {
        api = match cache.resolve(&object.resource, first_sync) {
            Ok(api) => api,
            // No such resource, so no such object (yet).
            Err(CacheError::NotServed(_)) => return Health::Missing,
            Err(e) => return Health::Unavailable(e),
        };
        if !exposure.allows(namespace, object.kind, &object.resource, true) {
            return Health::Missing;
        }
    }
    let objects = match cache.objects(&object.query(namespace, &api), first_sync) {
        Err(CacheError::NotServed(_)) if object.kind == Kind::Service => {
            api = Api::Legacy;
            cache.objects(&object.query(namespace, &api), first_sync)
        }
        other => other,
    };
    let objects = match objects {
        Ok(objects) => objects,
        Err(e) => return Health::Unavailable(e),
    };
    // A Service whose controller made no EndpointSlice does not exist (or
    // selects nothing and never will); named kinds exist when listed.
    if objects.is_empty() {
        return Health::Missing;
    }
    cache.asked(namespace, object.kind_word(), object.name());
    match object.judge(&api, &objects) {
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
        assert!(own.allows("apps", Kind::Deployment, "", false));
        assert!(!own.allows("kube-system", Kind::Deployment, "", false));
        let some = Exposure::parse(&["apps/deployment".into(), "db".into()], "x").unwrap();
        assert!(some.allows("apps", Kind::Deployment, "", false));
        assert!(!some.allows("apps", Kind::Job, "", false));
        assert!(!some.allows("apps", Kind::Other, "", false));
        assert!(some.allows("db", Kind::Job, "", false));
        assert!(!some.allows("x", Kind::Job, "", false));
        let custom = Exposure::parse(&["apps/widget.example.com".into()], "x").unwrap();
        assert!(custom.allows("apps", Kind::Other, "", false));
        assert!(!custom.allows("apps", Kind::Job, "", false));
        assert!(Exposure::parse(&["Apps".into()], "x").is_err());
        assert!(Exposure::parse(&["-apps".into()], "x").is_err());
        assert!(Exposure::parse(&["apps/deploymnet".into()], "x").is_err());
        assert!(Exposure::parse(&["apps/pods".into()], "x").is_err());
    }

    #[test]
    fn paths() {
        let kind =
            |path| parse_path(path).map(|o| (o.kind, o.resource, o.name.unwrap_or_default()));
        assert_eq!(
            kind("default/deployment/web"),
            Some((Kind::Deployment, "deployment".into(), "web".into()))
        );
        assert_eq!(kind("default/svc/db").map(|k| k.0), Some(Kind::Service));
        assert_eq!(
            kind("db/cluster.postgresql.cnpg.io/main"),
            Some((
                Kind::Other,
                "cluster.postgresql.cnpg.io".into(),
                "main".into()
            ))
        );
        for bad in [
            "default/deployment",
            "default/deployment/web/x",
            "Default/deployment/web",
            "default/pods/x",
            "default/deploymnet/x",
            "default/deployment/Web",
            "default/deployment/web?for=create",
            "",
        ] {
            assert!(parse_path(bad).is_none(), "{bad}");
        }
    }
}
