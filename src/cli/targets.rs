//! Turns a target string and its layered options into a [`Target`] ready to
//! probe, checking everything a probe will need before any network activity:
//! the address, option kinds, headers, the TLS trust store and the proxy.

use std::time::Duration;

use std::cell::OnceCell;
use std::sync::Arc;

use super::Env;
use super::databases;
use super::error::UsageError;
use super::flags::{self, Id, Kinds, Scope};
use super::options::TargetOptions;
use crate::kube;
use crate::kube::client::Client;
use crate::kube::config::{self, KubeOptions};
use crate::probe::dns::{self, Dns};
use crate::probe::grpc::{self, Grpc};
use crate::probe::http::header;
use crate::probe::http::proxy::ProxyEnv;
use crate::probe::icmp::Icmp;
use crate::probe::k8s::K8s;
use crate::probe::tcp::Tcp;
use crate::probe::{Probe, http};
use crate::target::{self, Address, Scheme, Target};
use crate::transport::agent::{self, AgentOptions};
use crate::transport::tls::Trust;

/// PortPatrol's defaults.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_ICMP_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// Redirects followed with `--follow-redirects` (Go's and curl's habit).
const MAX_REDIRECTS: u32 = 10;

/// Settings shared by all targets of a run, read once.
pub struct Shared<'a> {
    /// The proxy variables.
    pub proxy: ProxyEnv,
    /// The environment, for `SSL_CERT_FILE`, `HOSTNAME` and Kubernetes.
    pub env: Env<'a>,
    /// `rdy check` (one look) rather than `rdy wait`.
    pub check: bool,
    /// `--kubeconfig`, `--context`.
    pub kube: KubeOptions,
    /// The Kubernetes client, created for the first `k8s:` target.
    pub client: OnceCell<Arc<Client>>,
}

impl Shared<'_> {
    fn kube_client(&self) -> Result<Arc<Client>, UsageError> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let config =
            config::load(&self.kube, self.env).map_err(|e| UsageError::Kube(e.to_string()))?;
        let client = Arc::new(Client::new(config).map_err(UsageError::Kube)?);
        Ok(self.client.get_or_init(|| client).clone())
    }
}

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
    let address = target::parse(text, options.check_type).map_err(|e| problem(e.to_string()))?;
    check_kinds(text, &address, own)?;
    let dial_timeout = options.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT);
    let probe = match address.scheme {
        Scheme::Tcp => Probe::Tcp(Tcp {
            host: address.host.clone(),
            port: address.port.unwrap_or_default(),
            dial_timeout,
        }),
        Scheme::Icmp => Probe::Icmp(Icmp {
            host: address.host.clone(),
            dial_timeout,
            read_timeout: options
                .icmp_read_timeout
                .unwrap_or(DEFAULT_ICMP_READ_TIMEOUT),
        }),
        Scheme::Http | Scheme::Https => Probe::Http(Box::new(
            build_http(&address, options, dial_timeout, shared).map_err(problem)?,
        )),
        Scheme::Grpc | Scheme::Grpcs => Probe::Grpc(Box::new(
            build_grpc(&address, options, dial_timeout, shared).map_err(problem)?,
        )),
        Scheme::Dns => {
            let (qname, qtype, server) =
                dns::parse_query(&address.host, address.query.as_deref()).map_err(problem)?;
            Probe::Dns(Dns {
                name: address.host.clone(),
                qname,
                qtype,
                server,
                dial_timeout,
            })
        }
        Scheme::Postgres | Scheme::Mysql | Scheme::Redis | Scheme::Rediss => {
            databases::build(&address, options, own, dial_timeout, shared).map_err(problem)?
        }
    };
    Ok(Target {
        name: options
            .name
            .clone()
            .unwrap_or_else(|| target::infer_name(&address)),
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
const K8S_OPTIONS: [Id; 4] = [Id::Name, Id::Interval, Id::DialTimeout, Id::For];

fn build_k8s(
    text: &str,
    rest: &str,
    options: &TargetOptions,
    own: &TargetOptions,
    shared: &Shared<'_>,
) -> Result<Target, UsageError> {
    let problem = problem_with(text);
    let hostname = (shared.env)("HOSTNAME");
    let mut object =
        kube::target::parse(rest, hostname.as_deref()).map_err(|e| problem(e.to_string()))?;
    for text in options.expect.iter().flatten() {
        let parsed = kube::expect::parse(text).map_err(|e| problem(format!("--for: {e}")))?;
        object.expect.push(parsed);
    }
    object.check_expect().map_err(|e| problem(e.to_string()))?;
    if object.node.is_some() {
        object.node = Some(node_name(&object, shared).map_err(&problem)?);
    }
    if let Some((id, spelled)) = own.given.iter().find(|(id, _)| !K8S_OPTIONS.contains(id)) {
        let Scope::Target(kinds) = flags::by_id(*id).scope else {
            unreachable!("per-target options have a target scope")
        };
        return Err(UsageError::NotForTarget {
            option: spelled.clone(),
            applies_to: kinds.describe(),
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
            cache: Default::default(),
        })),
    })
}

/// `node=self`: this pod's node, from `NODE_NAME`.
fn node_name(object: &kube::target::ObjectRef, shared: &Shared<'_>) -> Result<String, String> {
    if !object.expect.is_empty() {
        return Err("for= replaces the kind's rule and cannot be combined with node=".to_owned());
    }
    match (shared.env)("NODE_NAME").map(|n| n.trim().to_owned()) {
        Some(node) if !node.is_empty() && node.split('.').all(kube::target::is_label) => Ok(node),
        Some(node) if !node.is_empty() => {
            Err(format!("node=self: NODE_NAME={node:?} is not a node name"))
        }
        _ => Err(
            "node=self names this pod's node in NODE_NAME, which is not set; set it from \
             the downward API: env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: \
             spec.nodeName}}}]"
                .to_owned(),
        ),
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
    let address = target::parse(url, None).map_err(|e| problem(e.to_string()))?;
    if !matches!(address.scheme, Scheme::Http | Scheme::Https) {
        return Err(problem("expected an http:// or https:// URL".to_owned()));
    }
    let options = TargetOptions {
        method: Some(ureq::http::Method::POST),
        status: crate::probe::http::status::StatusSet::parse("2xx").ok(),
        insecure: defaults.insecure,
        ca: defaults.ca.clone(),
        ..TargetOptions::default()
    };
    let dial_timeout = defaults.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT);
    build_http(&address, &options, dial_timeout, shared).map_err(problem)
}

/// Refuses an option written after a target of a kind it does not affect
/// (`--method` after a TCP target): it would silently do nothing.
fn check_kinds(text: &str, address: &Address, own: &TargetOptions) -> Result<(), UsageError> {
    let kind = address.scheme.name();
    for (id, spelled) in &own.given {
        let Scope::Target(kinds) = flags::by_id(*id).scope else {
            continue;
        };
        let applies = match kinds {
            Kinds::All => true,
            Kinds::Http => matches!(address.scheme, Scheme::Http | Scheme::Https),
            Kinds::Icmp => address.scheme == Scheme::Icmp,
            Kinds::K8s => false,
            Kinds::Tls => matches!(
                address.scheme,
                Scheme::Http | Scheme::Https | Scheme::Grpcs | Scheme::Rediss | Scheme::Postgres
            ),
        };
        if !applies {
            return Err(UsageError::NotForTarget {
                option: spelled.clone(),
                applies_to: kinds.describe(),
                target: text.to_owned(),
                kind,
            });
        }
    }
    Ok(())
}

/// The trust store of a TLS target: `-k`, else `--ca-file`, else the
/// system bundle (an error when there is none).
fn tls_trust(options: &TargetOptions, shared: &Shared<'_>) -> Result<Trust, String> {
    match (options.insecure, &options.ca) {
        (Some(true), Some(_)) => Err("--insecure and --ca-file cannot be used together: \
             --insecure verifies nothing, so the CA file would be ignored; \
             keep one (--insecure=false turns it off for one target)"
            .to_owned()),
        (Some(true), _) => Ok(Trust::Insecure),
        (_, Some(ca)) => Ok(ca.clone()),
        _ => Trust::system((shared.env)("SSL_CERT_FILE").as_deref()).map_err(|e| e.to_string()),
    }
}

fn build_grpc(
    address: &Address,
    options: &TargetOptions,
    dial_timeout: Duration,
    shared: &Shared<'_>,
) -> Result<Grpc, String> {
    let tls = match address.scheme {
        Scheme::Grpcs => Some(tls_trust(options, shared)?.client_config(&[b"h2"])),
        _ => None,
    };
    Ok(Grpc {
        host: address.host.clone(),
        port: address.port.unwrap_or_default(),
        service: grpc::parse_query(address.query.as_deref())?,
        tls,
        dial_timeout,
    })
}

fn build_http(
    address: &Address,
    options: &TargetOptions,
    dial_timeout: Duration,
    shared: &Shared<'_>,
) -> Result<http::Http, String> {
    let headers = options.headers.clone().unwrap_or_default();
    header::check_duplicates(&headers, options.allow_duplicate_headers.unwrap_or(false))
        .map_err(|e| e.to_string())?;
    let https = address.scheme == Scheme::Https;
    let follow = options.follow_redirects.unwrap_or(false);
    // A plain http target needs roots only if it may redirect to https;
    // without a bundle that hop fails later with a TLS error.
    let explicit = options.insecure == Some(true) || options.ca.is_some();
    let trust = match https || explicit || follow {
        true => match tls_trust(options, shared) {
            Ok(trust) => trust,
            Err(e) if https || explicit => return Err(e),
            Err(_) => Trust::Roots(Default::default()),
        },
        false => Trust::Roots(Default::default()),
    };
    let port = address.port.unwrap_or(if https { 443 } else { 80 });
    let proxy = shared
        .proxy
        .for_target(https, &address.host, port)
        .map(str::to_owned);
    let agent = agent::build(&AgentOptions {
        trust,
        proxy,
        https,
        max_redirects: if follow { MAX_REDIRECTS } else { 0 },
        connect_to: None,
        client_cert: None,
    })
    .map_err(|e| format!("proxy: {e}"))?;
    Ok(http::Http {
        uri: address.uri.clone().ok_or("not a URL")?,
        method: options.method.clone().unwrap_or(ureq::http::Method::GET),
        headers,
        status: options.status.clone().unwrap_or_default(),
        body_contains: options.body_contains.clone(),
        dial_timeout,
        agent,
    })
}
