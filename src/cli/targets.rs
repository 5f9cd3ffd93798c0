//! Turns a target string and its layered options into a [`Target`] ready to
//! probe, checking everything a probe will need before any network activity:
//! the address, option kinds, headers, the TLS trust store and the proxy.

use std::time::Duration;

use super::env::Env;
use super::error::UsageError;
use super::flags::{self, Id, Scope};
use super::options::TargetOptions;
use super::scheme::context::{Context, DEFAULT_DIAL_TIMEOUT, Shared};
use super::scheme::{self, HttpAddress};
use crate::kube;
use crate::probe::k8s::K8s;
use crate::probe::{Probe, http};
use crate::target::{self, Target};

/// PortPatrol's default.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

/// Makes errors about the target string `text`.
fn problem_with(text: &str) -> impl Fn(String) -> UsageError + '_ {
    move |problem| UsageError::Target {
        target: text.to_owned(),
        problem,
    }
}

/// Builds one target. `options` is every layer merged; `own` is the layer
/// written after this target, whose options must apply to its kind.
pub fn build(
    text: &str,
    options: &TargetOptions,
    own: &TargetOptions,
    shared: &Shared<'_>,
) -> Result<Target, UsageError> {
    let problem = problem_with(text);
    if let Some(rest) = text.strip_prefix(kube::target::PREFIX) {
        return build_k8s(text, rest, options, own, shared);
    }
    let check_type = options.check_type.and_then(scheme::by_check_type);
    let address = scheme::parse(text, check_type).map_err(|e| problem(e.to_string()))?;
    check_kinds(text, address.def(), own)?;
    let cx = Context {
        options,
        own,
        dial_timeout: options.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT),
        shared,
    };
    let probe = address.build(&cx).map_err(problem)?;
    Ok(Target {
        name: (options.name.clone()).unwrap_or_else(|| address.host().to_owned()),
        address: text.to_owned(),
        interval: options.interval.unwrap_or(DEFAULT_INTERVAL),
        probe,
    })
}

/// Gives every target a name no other target has, so each log line says
/// which one it is about: a name inferred from the host (two targets on
/// `localhost`) becomes the target as written (without its query or
/// credentials). A name given with `--name` is kept as given.
pub fn distinct_names(targets: &mut [Target], named: &[bool]) {
    let shared: Vec<bool> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // The same target twice stays as it is: its address would not
            // tell the two apart either.
            let mut others = targets.iter().enumerate().filter(|(j, _)| *j != i);
            others.any(|(_, o)| o.name == t.name && o.address != t.address)
        })
        .collect();
    for ((target, shared), named) in targets.iter_mut().zip(shared).zip(named) {
        if shared && !named {
            target.name = target::redacted(&target.address).into_owned();
        }
    }
}

/// Options that mean something for a `k8s:` target.
const K8S_OPTIONS: [Id; 5] = [
    Id::Name,
    Id::Interval,
    Id::DialTimeout,
    Id::For,
    Id::FailedIf,
];

fn build_k8s(
    text: &str,
    rest: &str,
    options: &TargetOptions,
    own: &TargetOptions,
    shared: &Shared<'_>,
) -> Result<Target, UsageError> {
    let problem = problem_with(text);
    let pod = OwnPod::from_env(shared.env);
    let mut object =
        kube::target::parse(rest, pod.name.as_deref()).map_err(|e| problem(e.to_string()))?;
    let other_hostname = pod.other_hostname.filter(|_| rest.contains("pod/self"));
    for text in options.expect.iter().flatten() {
        let parsed = kube::expect::parse(text).map_err(|e| problem(format!("--for: {e}")))?;
        object.expect.push(parsed);
    }
    for text in options.failed_if.iter().flatten() {
        let parsed =
            kube::expect::parse_final(text).map_err(|e| problem(format!("--failed-if: {e}")))?;
        object.failed_if.push((text.clone(), parsed));
    }
    object.check_expect().map_err(|e| problem(e.to_string()))?;
    if let Some((id, spelled)) = own.given.iter().find(|(id, _)| !K8S_OPTIONS.contains(id)) {
        let Scope::Target(kinds) = flags::by_id(*id).scope else {
            unreachable!("per-target options have a target scope")
        };
        return Err(UsageError::NotForTarget {
            option: spelled.clone(),
            applies_to: scheme::applies_to(kinds),
            target: text.to_owned(),
            kind: "k8s",
        });
    }
    if shared.check && object.stable.is_some() {
        return Err(problem(
            "stable= needs rdy wait: one look cannot tell how long it has been ready".to_owned(),
        ));
    }
    let client = shared.kube_client()?;
    let namespace = object
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    let name = options.name.clone().unwrap_or_else(|| object.display());
    Ok(Target {
        name,
        address: text.to_owned(),
        interval: options.interval.unwrap_or(DEFAULT_INTERVAL),
        probe: Probe::K8s(Box::new(K8s {
            object,
            namespace,
            client,
            dial_timeout: options.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT),
            other_hostname,
            cache: Default::default(),
        })),
    })
}

/// The pod's own name, for `pod/self`.
struct OwnPod {
    name: Option<String>,
    /// `HOSTNAME` when it is set and differs from `POD_NAME`.
    other_hostname: Option<String>,
}

impl OwnPod {
    /// The downward API's `POD_NAME` (`fieldRef: metadata.name`) when it is
    /// set, else `HOSTNAME`: the kubelet sets `HOSTNAME` to the pod's name
    /// except under `hostNetwork: true`, where it is the node's.
    fn from_env(env: Env<'_>) -> OwnPod {
        let read = |var| {
            env(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (pod, hostname) = (read("POD_NAME"), read("HOSTNAME"));
        match pod {
            Some(pod) => OwnPod {
                other_hostname: hostname.filter(|h| *h != pod),
                name: Some(pod),
            },
            None => OwnPod {
                name: hostname,
                other_hostname: None,
            },
        }
    }
}

/// Builds a `--then-post` request: POST, any 2xx is success, TLS settings
/// from the defaults, nothing else (default headers may carry credentials
/// meant for the targets, not for a hook).
pub fn hook(
    url: &str,
    defaults: &TargetOptions,
    shared: &Shared<'_>,
) -> Result<http::Http, UsageError> {
    let problem = |problem: String| UsageError::Target {
        target: url.to_owned(),
        problem: format!("--then-post: {problem}"),
    };
    let address = HttpAddress::parse(url).map_err(problem)?;
    let options = TargetOptions {
        method: Some(ureq::http::Method::POST),
        status: crate::probe::http::status::StatusSet::parse("2xx").ok(),
        insecure: defaults.insecure,
        ca: defaults.ca.clone(),
        ..TargetOptions::default()
    };
    let cx = Context {
        options: &options,
        own: &options,
        dial_timeout: defaults.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT),
        shared,
    };
    address.request(&cx).map_err(problem)
}

/// Refuses an option written after a target of a scheme it does not act
/// on (`--method` after a TCP target): it would silently do nothing.
fn check_kinds(text: &str, def: &scheme::def::Def, own: &TargetOptions) -> Result<(), UsageError> {
    for (id, spelled) in &own.given {
        let Scope::Target(kinds) = flags::by_id(*id).scope else {
            continue;
        };
        if !def.honours(kinds) {
            return Err(UsageError::NotForTarget {
                option: spelled.clone(),
                applies_to: scheme::applies_to(kinds),
                target: text.to_owned(),
                kind: def.name(),
            });
        }
    }
    Ok(())
}
