//! `rdy rbac --service-account NS/NAME [--offline] k8s:TARGET...`, read and
//! checked before any network activity into a [`Request`]. The targets are
//! parsed as `rdy wait` parses them; `pod/self` stands for any pod, since
//! the pod's name is known only inside it.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::Arg;

use super::env::Env;
use super::error::{Source, UsageError};
use super::flags::{self, Id};
use super::lex::{read_value, utf8};
use super::options::{Given, parse_bool};
use crate::kube::client::Client;
use crate::kube::config::{self, KubeOptions};
use crate::kube::kind::Kind;
use crate::kube::rbac::Request;
use crate::kube::target::{self, PREFIX, is_label};

/// Parses the arguments after `rbac`.
/// `None`: `--help` was asked for.
pub fn parse(args: Vec<OsString>, env: Env<'_>) -> Result<Option<Box<Request>>, UsageError> {
    let unknown = |option| UsageError::UnknownOption {
        option,
        command: "rbac",
    };
    let mut parser = lexopt::Parser::from_args(args);
    let (mut written, mut account, mut offline) = (Vec::new(), None, false);
    let (mut kube, mut kube_given) = (KubeOptions::default(), None);
    while let Some(arg) = parser.next().map_err(|e| unknown(e.to_string()))? {
        let (flag, spelled) = match arg {
            Arg::Value(value) => {
                written.push(utf8(value, "a target")?);
                continue;
            }
            Arg::Short(c) => (flags::by_short(c), format!("-{c}")),
            Arg::Long(name) => (flags::by_long(name), format!("--{name}")),
        };
        let flag = flag.ok_or_else(|| unknown(spelled.clone()))?;
        if flag.id == Id::Help {
            return Ok(None);
        }
        let text = read_value(&mut parser, flag, &spelled, spelled.starts_with("--"))?;
        let source = Source::Flag(spelled.clone());
        let given = Given {
            source: &source,
            text: &text,
        };
        match flag.id {
            Id::ServiceAccount => account = Some(service_account(&given)?),
            Id::Offline => {
                offline = parse_bool(&text).ok_or_else(|| given.invalid("true or false"))?
            }
            Id::Kubeconfig => kube.kubeconfig = Some(PathBuf::from(given.non_empty("a file")?)),
            Id::Context => kube.context = Some(given.non_empty("a context name")?),
            _ => {
                return Err(UsageError::OnlyFor {
                    option: spelled,
                    command: "wait, rdy check and rdy serve",
                });
            }
        }
        if matches!(flag.id, Id::Kubeconfig | Id::Context) {
            kube_given = Some(spelled);
        }
    }
    let Some(account) = account else {
        return Err(UsageError::Required {
            option: "--service-account NAMESPACE/NAME",
            what: "the ServiceAccount the waiting pod runs as",
        });
    };
    if written.is_empty() {
        return Err(UsageError::Required {
            option: "a k8s: target",
            what: "e.g. rdy rbac --service-account app/web k8s:deploy/api",
        });
    }
    let mut targets = Vec::new();
    for text in written {
        let object = parse_target(&text)?;
        let namespace = object
            .namespace
            .clone()
            .unwrap_or_else(|| account.0.clone());
        targets.push((text, object, namespace));
    }
    let discovers = targets.iter().any(|(_, o, _)| o.kind == Kind::Other);
    let useless = match (&kube_given, offline) {
        (Some(setting), _) => Some(setting.clone()),
        (None, true) => Some("--offline".to_owned()),
        (None, false) => None,
    };
    if let (false, Some(setting)) = (discovers, useless) {
        return Err(UsageError::Useless {
            setting,
            because: "every target is a built-in kind, whose resource needs no API discovery",
        });
    }
    let client = match (discovers && !offline, kube_given) {
        (false, Some(setting)) if offline => {
            return Err(UsageError::Conflict {
                first: "--offline".to_owned(),
                second: setting,
                because: "--offline reads no Kubernetes configuration",
            });
        }
        (true, _) => {
            let config = config::load(&kube, env)
                .map_err(|e| UsageError::Kube(format!("{e} (or resolve offline: --offline)")))?;
            Some(Client::new(config).map_err(UsageError::Kube)?)
        }
        _ => None,
    };
    Ok(Some(Box::new(Request {
        targets,
        account,
        client,
    })))
}

/// A `k8s:` target as `rdy wait` reads it, `pod/self` named `""`.
fn parse_target(text: &str) -> Result<target::ObjectRef, UsageError> {
    let problem = |problem: String| UsageError::Target {
        target: text.to_owned(),
        problem,
    };
    let rest = text
        .strip_prefix(PREFIX)
        .ok_or_else(|| problem("rdy rbac takes k8s: targets only".to_owned()))?;
    let object = target::parse(rest, Some("")).map_err(|e| problem(e.to_string()))?;
    object.check_expect().map_err(|e| problem(e.to_string()))?;
    Ok(object)
}

/// `NAMESPACE/NAME`: a namespace and a ServiceAccount name (a DNS
/// subdomain).
fn service_account(given: &Given<'_>) -> Result<(String, String), UsageError> {
    match given.text.split_once('/') {
        Some((ns, name)) if is_label(ns) && name.split('.').all(is_label) => {
            Ok((ns.to_owned(), name.to_owned()))
        }
        _ => Err(given.invalid("NAMESPACE/NAME of a ServiceAccount, e.g. app/web")),
    }
}
