//! `k8s:[NAMESPACE/]RESOURCE[.GROUP]/NAME[?options]` and
//! `k8s:[NAMESPACE/]pods?selector=…` taken apart and checked before any
//! network activity. RESOURCE is one of the built-in kinds, or any name
//! that API discovery resolves later.

use std::fmt;
use std::time::Duration;

use super::expect::{self, Expect};
use super::kind::{self, Kind};
use crate::{duration, percent};

/// The prefix of Kubernetes targets.
pub const PREFIX: &str = "k8s:";

/// A Kubernetes target as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The namespace if written; otherwise the configuration's.
    pub namespace: Option<String>,
    /// What is waited for.
    pub kind: Kind,
    /// `RESOURCE[.GROUP]` as written, lower case, for [`Kind::Other`].
    pub resource: String,
    /// The object's name; `None` for `pods?selector=`.
    pub name: Option<String>,
    /// `selector=`: a label selector (for `pods`).
    pub selector: Option<String>,
    /// `container=`: one container of a pod, sidecars and init containers
    /// included.
    pub container: Option<String>,
    /// `min=`: ready endpoints a Service needs (default 1).
    pub min: u32,
    /// `stable=`: how long it must stay ready before it counts.
    pub stable: Option<Duration>,
    /// `key=`: a key a Secret or ConfigMap must hold.
    pub key: Option<String>,
    /// `for=` and `--for`: conditions that replace the kind's rule.
    pub expect: Vec<Expect>,
    /// `failed-if=` and `--failed-if`, as written and parsed: any that
    /// holds ends the wait with exit 3.
    pub failed_if: Vec<(String, Expect)>,
}

/// Why a `k8s:` target was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidRef {
    /// Not `[NS/]KIND/NAME`.
    Shape,
    /// A misspelt built-in kind, and the kind meant.
    Kind(String, &'static str),
    /// A name or namespace that Kubernetes would not accept.
    Name(String),
    /// An option rdy does not know, or one that does not fit the kind.
    Option(String),
    /// A malformed option value.
    Value {
        option: &'static str,
        given: String,
        expected: &'static str,
    },
    /// `pod/self` without `POD_NAME` or `HOSTNAME`.
    NoPodName,
    /// A `for=` expression that is not understood.
    For(String, expect::ExpectError),
    /// A `failed-if=` expression that is not understood.
    FailedIf(String, expect::ExpectError),
}

impl fmt::Display for InvalidRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidRef::Shape => f.write_str(
                "expected k8s:[NAMESPACE/]KIND/NAME[?options] or k8s:[NAMESPACE/]pods?selector=LABELS",
            ),
            InvalidRef::Kind(k, meant) => write!(f, "unknown kind {k:?}; did you mean {meant:?}?"),
            InvalidRef::Name(n) => write!(
                f,
                "{n:?} is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')"
            ),
            InvalidRef::Option(o) => write!(f, "{o}"),
            InvalidRef::Value {
                option,
                given,
                expected,
            } => write!(f, "{option}={given:?}: expected {expected}"),
            InvalidRef::For(given, e) => write!(f, "for={given:?}: {e}"),
            InvalidRef::FailedIf(given, e) => write!(f, "failed-if={given:?}: {e}"),
            InvalidRef::NoPodName => f.write_str(
                "pod/self names the pod in POD_NAME or HOSTNAME, and neither is set",
            ),
        }
    }
}

/// Parses what follows `k8s:`; `own_name` (the pod's own name) resolves
/// `pod/self`.
pub fn parse(text: &str, own_name: Option<&str>) -> Result<ObjectRef, InvalidRef> {
    let (path, query) = match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text, None),
    };
    if path.is_empty() {
        return Err(InvalidRef::Shape);
    }
    let parts: Vec<&str> = path.split('/').collect();
    let (namespace, kind, name) = match parts.as_slice() {
        [kind] => (None, *kind, None),
        // `NS/pods?selector=…` even when NS looks like a kind (`deploy`).
        [namespace, kind] if Kind::parse(kind) == Some(Kind::Pods) => {
            (Some(*namespace), *kind, None)
        }
        [kind, name] => (None, *kind, Some(*name)),
        [namespace, kind, name] => (Some(*namespace), *kind, Some(*name)),
        _ => return Err(InvalidRef::Shape),
    };
    let resource = kind.to_ascii_lowercase();
    let kind = match Kind::parse(kind) {
        Some(kind) => kind,
        None => match kind::misspelt(kind) {
            Some(meant) => return Err(InvalidRef::Kind(kind.to_owned(), meant)),
            // kubectl's resource names are DNS subdomains (in lower case).
            None if is_subdomain(&resource) => Kind::Other,
            None => return Err(InvalidRef::Name(kind.to_owned())),
        },
    };
    if let Some(ns) = namespace
        && !is_label(ns)
    {
        return Err(InvalidRef::Name(ns.to_owned()));
    }
    let name = match (kind, name) {
        (Kind::Pods, None) => None,
        (Kind::Pods, Some(_)) => return Err(InvalidRef::Shape),
        (_, None) => return Err(InvalidRef::Shape),
        (Kind::Pod, Some("self")) => Some(own_name.ok_or(InvalidRef::NoPodName)?.to_owned()),
        (_, Some(name)) if is_subdomain(name) => Some(name.to_owned()),
        (_, Some(name)) => return Err(InvalidRef::Name(name.to_owned())),
    };
    let mut target = ObjectRef {
        namespace: namespace.map(str::to_owned),
        kind,
        resource,
        name,
        selector: None,
        container: None,
        min: 1,
        stable: None,
        key: None,
        expect: Vec::new(),
        failed_if: Vec::new(),
    };
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        target.apply_option(pair)?;
    }
    if kind == Kind::Pods && target.selector.is_none() {
        return Err(InvalidRef::Option(
            "pods needs ?selector=LABELS, e.g. pods?selector=app%3Dweb".to_owned(),
        ));
    }
    target.check_expect()?;
    Ok(target)
}

/// The spellings of Secrets and ConfigMaps, the resources `key=` is for.
const KEYED: [&str; 5] = ["secret", "secrets", "configmap", "configmaps", "cm"];

impl ObjectRef {
    fn apply_option(&mut self, pair: &str) -> Result<(), InvalidRef> {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent::decode(raw).ok_or(InvalidRef::Value {
            option: "option",
            given: raw.to_owned(),
            expected: "valid percent-encoding",
        })?;
        let only = |kinds: &[Kind], what: &str| {
            if kinds.contains(&self.kind) {
                Ok(())
            } else {
                Err(InvalidRef::Option(format!("{key}= applies to {what} only")))
            }
        };
        match key {
            "selector" => {
                only(&[Kind::Pods], "pods")?;
                if value.trim().is_empty() {
                    return Err(InvalidRef::Value {
                        option: "selector",
                        given: value,
                        expected: "a label selector such as app=web",
                    });
                }
                self.selector = Some(value);
            }
            "container" => {
                only(&[Kind::Pod], "pod")?;
                if !is_label(&value) {
                    return Err(InvalidRef::Name(value));
                }
                self.container = Some(value);
            }
            "min" => {
                only(&[Kind::Service], "service")?;
                self.min = match value.parse::<u32>() {
                    Ok(n) if n > 0 && value.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ => {
                        return Err(InvalidRef::Value {
                            option: "min",
                            given: value,
                            expected: "a whole number of endpoints, at least 1",
                        });
                    }
                };
            }
            "key" => {
                if !KEYED.contains(&self.resource.as_str()) {
                    return Err(InvalidRef::Option(
                        "key= applies to secret and configmap only".to_owned(),
                    ));
                }
                if value.is_empty() {
                    return Err(InvalidRef::Value {
                        option: "key",
                        given: value,
                        expected: "the name of a key in data",
                    });
                }
                self.key = Some(value);
            }
            "for" => self
                .expect
                .push(expect::parse(&value).map_err(|e| InvalidRef::For(value.clone(), e))?),
            "failed-if" => {
                let parsed = expect::parse_final(&value)
                    .map_err(|e| InvalidRef::FailedIf(value.clone(), e))?;
                self.failed_if.push((value, parsed));
            }
            "stable" => {
                self.stable = Some(duration::parse(&value).map_err(|_| InvalidRef::Value {
                    option: "stable",
                    given: value.clone(),
                    expected: duration::ACCEPTED,
                })?);
            }
            other => {
                return Err(InvalidRef::Option(format!(
                    "unknown option {other:?}; expected container=, min=, stable=, selector=, key=, for= or failed-if="
                )));
            }
        }
        Ok(())
    }

    /// Refuses `for=`/`--for` where the kind's own options would do
    /// nothing, or where there is no single object to judge.
    pub fn check_expect(&self) -> Result<(), InvalidRef> {
        if self.expect.is_empty() {
            return Ok(());
        }
        let clash = match () {
            _ if self.kind == Kind::Pods => "pods?selector= (name one object)",
            _ if self.container.is_some() => "container=",
            _ if self.min != 1 => "min=",
            _ if self.key.is_some() => "key=",
            _ => return Ok(()),
        };
        Err(InvalidRef::Option(format!(
            "for= replaces the kind's rule and cannot be combined with {clash}"
        )))
    }

    /// The kind as written in messages: `deployment`, or the resource
    /// as written (`certificate.cert-manager.io`).
    pub fn kind_word(&self) -> &str {
        match self.kind {
            Kind::Other => &self.resource,
            kind => kind.name(),
        }
    }

    /// The display name: `deployment/web`, `pods/app=web`,
    /// `certificate.cert-manager.io/web`.
    pub fn display(&self) -> String {
        if self.kind == Kind::Other {
            return format!("{}/{}", self.resource, self.name.as_deref().unwrap_or(""));
        }
        match (&self.name, &self.selector) {
            (Some(name), _) => format!("{}/{name}", self.kind.name()),
            (None, Some(selector)) => format!("pods/{selector}"),
            (None, None) => self.kind.name().to_owned(),
        }
    }
}

/// A DNS-1123 label: a namespace or container name.
pub fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// A DNS-1123 subdomain: an object name.
fn is_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> ObjectRef {
        parse(text, Some("web-7c5ddbdf54-x2k9p")).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn forms() {
        let t = ok("deployment/web");
        assert_eq!(
            (t.namespace, t.kind, t.name.as_deref()),
            (None, Kind::Deployment, Some("web"))
        );
        let t = ok("prod/sts/db?stable=30s");
        assert_eq!(t.namespace.as_deref(), Some("prod"));
        assert_eq!(t.stable, Some(Duration::from_secs(30)));
        let t = ok("pods?selector=app%3Dweb%2Ctier%3Dfront");
        assert_eq!(t.selector.as_deref(), Some("app=web,tier=front"));
        assert_eq!(t.display(), "pods/app=web,tier=front");
        assert_eq!(
            ok("kube-system/pods?selector=k8s-app=dns")
                .namespace
                .as_deref(),
            Some("kube-system")
        );
        let t = ok("pod/self?container=app");
        assert_eq!(t.name.as_deref(), Some("web-7c5ddbdf54-x2k9p"));
        assert_eq!(t.container.as_deref(), Some("app"));
        assert_eq!(ok("svc/db?min=2").min, 2);
        assert_eq!(ok("Deployment/web.v2").display(), "deployment/web.v2");
        assert_eq!(
            ok("deploy/pods?selector=a%3Db").namespace.as_deref(),
            Some("deploy")
        );
        let t = ok("db/Certificate.cert-manager.io/web?for=condition%3DReady&for=create");
        assert_eq!(
            (t.kind, t.resource.as_str()),
            (Kind::Other, "certificate.cert-manager.io")
        );
        assert_eq!(t.display(), "certificate.cert-manager.io/web");
        assert_eq!(t.expect.len(), 2);
        assert_eq!(
            ok("crd/widgets.example.com").name.as_deref(),
            Some("widgets.example.com")
        );
        assert_eq!(ok("secret/s?key=tls.crt").key.as_deref(), Some("tls.crt"));
        assert_eq!(ok("deployments.apps/web").kind, Kind::Deployment);
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", "expected k8s:"),
            ("a/b/c/d", "expected k8s:"),
            ("deployment", "expected k8s:"),
            ("deploymnet/x", "did you mean \"deployment\""),
            ("wid_get/x", "\"wid_get\" is not a valid"),
            ("job/x?key=a", "key= applies to secret"),
            ("deploy/x?for=ready", "for=\"ready\": expected condition="),
            (
                "pod/x?container=a&for=create",
                "cannot be combined with container=",
            ),
            ("deployment/Web", "\"Web\" is not a valid Kubernetes name"),
            ("NS/deployment/web", "\"NS\" is not a valid"),
            ("pods", "pods needs ?selector="),
            ("pods/x?selector=a=b", "expected k8s:"),
            ("deployment/web?min=2", "min= applies to service only"),
            ("svc/db?min=0", "min=\"0\""),
            ("pod/x?selector=a", "selector= applies to pods only"),
            ("job/x?stable=soon", "stable=\"soon\""),
            ("job/x?wait=1", "unknown option \"wait\""),
            ("pod/x?container=Bad", "\"Bad\" is not a valid"),
            ("pods?selector=%zz", "valid percent-encoding"),
        ];
        for (text, says) in cases {
            let e = parse(text, Some("h")).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        assert_eq!(parse("pod/self", None), Err(InvalidRef::NoPodName));
    }
}
