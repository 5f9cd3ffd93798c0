//! Node-local targets (docs/kubernetes.md §2.11): `ds/NAME?node=self` and
//! `pods?selector=…&node=self` judge only the pods on this pod's node
//! (`NODE_NAME`, from the downward API's `spec.nodeName`).
//!
//! The pods are listed with `fieldSelector=spec.nodeName=NODE`, which the
//! API server evaluates for pods. A DaemonSet's pods are those it controls
//! (`ownerReferences` with `controller: true`): the DaemonSet controller
//! adopts only pods its selector matches, so these are exactly its pods.

use std::time::Instant;

use super::client::Client;
use super::error::ApiError;
use super::kind::{DAEMONSETS, Kind, Resource};
use super::rules::{Verdict, pod};
use super::target::ObjectRef;
use super::watch::{self, Objects, Query, Selector};
use crate::json::Value;

/// `nodes`, cluster-scoped, read to see whether a DaemonSet can place a
/// pod on this one.
pub const NODES: Resource = Resource {
    group: "",
    plural: "nodes",
};

/// The pods on `node` (matching `labels` for `pods?selector=`).
pub fn query(object: &ObjectRef, namespace: &str, node: &str) -> Query {
    Query {
        collection: super::kind::PODS.collection(namespace),
        selector: Selector::OnNode(object.selector.clone().unwrap_or_default(), node.to_owned()),
        keep: &super::fields::POD,
    }
}

/// The pods that count: for a DaemonSet those it controls.
pub fn counted(object: &ObjectRef, objects: &Objects) -> Vec<Value> {
    let owned = |p: &Value| {
        p.at(&["metadata", "ownerReferences"])
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .any(|r| {
                let text = |k| r.get(k).and_then(Value::as_str);
                r.get("controller").and_then(Value::as_bool) == Some(true)
                    && text("kind") == Some("DaemonSet")
                    && text("name") == Some(object.name())
            })
    };
    let all = objects.all();
    match object.kind {
        Kind::DaemonSet => all.into_iter().filter(|p| owned(p)).collect(),
        _ => all,
    }
}

/// Every counted pod on the node is ready (or done), and there is one.
pub fn judge(object: &ObjectRef, node: &str, objects: &Objects) -> Verdict {
    let what = match object.kind {
        Kind::DaemonSet => format!("daemonset/{}", object.name()),
        _ => format!("pods matching {}", object.selector.as_deref().unwrap_or("")),
    };
    let counted = counted(object, objects);
    let pods: Vec<&Value> = counted
        .iter()
        .filter(|p| p.at(&["metadata", "deletionTimestamp"]).is_none())
        .collect();
    match pods.is_empty() {
        true => Verdict::Waiting(format!("Waiting for {what}: no pod on node {node:?} yet")),
        false => pod::selected(&format!("{what} on node {node:?}"), &pods),
    }
}

/// When no pod of the DaemonSet is on the node: whether it can place one
/// there. `Some(Failed)` when its node selection excludes the node (or a
/// read is forbidden); `None` when it may yet (or cannot tell now).
pub fn unplaceable(
    client: &Client,
    object: &ObjectRef,
    namespace: &str,
    node: &str,
    deadline: Instant,
) -> Option<Verdict> {
    let read =
        |resource: Resource, ns: Option<&str>, name: &str| {
            let collection = match ns {
                Some(ns) => resource.collection(ns),
                None => format!("/api/v1/{}", resource.plural),
            };
            // The template's node selection and the Node's labels: whole.
            let query = Query {
                collection,
                selector: Selector::Name(name.to_owned()),
                keep: &crate::json::stream::Keep::All,
            };
            match watch::list_once(client, &query, deadline) {
                Ok(found) => Ok(found.all().into_iter().next()),
                Err(ApiError::Forbidden { message }) => Err(Verdict::Failed(
                    ApiError::forbidden_hint(&message, "list", resource.group, resource.plural, ns),
                )),
                Err(_) => Ok(None),
            }
        };
    let outcome = (|| {
        let ds = read(DAEMONSETS, Some(namespace), object.name())?;
        let spec = ds
            .as_ref()
            .and_then(|d| d.at(&["spec", "template", "spec"]));
        let Some(spec) = spec.filter(|s| selects(s)) else {
            return Ok(None);
        };
        let Some(found) = read(NODES, None, node)? else {
            return Ok(None);
        };
        Ok(excluded(spec, &found).map(|why| {
            Verdict::Failed(format!(
                "daemonset/{} places no pod on node {node:?}: {why}",
                object.name()
            ))
        }))
    })();
    outcome.unwrap_or_else(Some)
}

/// Whether a pod spec chooses nodes at all.
fn selects(spec: &Value) -> bool {
    spec.get("nodeSelector")
        .is_some_and(|s| !s.members().is_empty())
        || !terms(spec).is_empty()
}

/// `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`.
fn terms(spec: &Value) -> &[Value] {
    spec.at(&[
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    ])
    .map(Value::items)
    .unwrap_or_default()
}

/// Why the scheduler's node selection keeps a pod of `spec` off `node`:
/// `nodeSelector` (every label equal) and the required node affinity (any
/// term whose expressions all hold: `In`, `NotIn`, `Exists`,
/// `DoesNotExist`, `Gt`, `Lt` on labels, `metadata.name` in `matchFields`).
/// Taints and tolerations are not evaluated: they never make it exit 3.
pub fn excluded(spec: &Value, node: &Value) -> Option<String> {
    let label = |key: &str| {
        node.at(&["metadata", "labels"])
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    };
    let selector = spec
        .get("nodeSelector")
        .map(Value::members)
        .unwrap_or_default();
    for (key, value) in selector {
        let value = value.as_str().unwrap_or("");
        if label(key) != Some(value) {
            return Some(format!(
                "its nodeSelector {key}={value} does not match the node's labels"
            ));
        }
    }
    let name = node.at(&["metadata", "name"]).and_then(Value::as_str);
    let holds = |e: &Value, field: bool| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let got = match field {
            true => name.filter(|_| key == "metadata.name"),
            false => label(key),
        };
        let values = e.get("values").map(Value::items).unwrap_or_default();
        let listed = got.is_some_and(|g| values.iter().any(|v| v.as_str() == Some(g)));
        let number = |v: Option<&str>| v.and_then(|v| v.parse::<i64>().ok());
        let (have, bound) = (number(got), number(values.first().and_then(Value::as_str)));
        match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => listed,
            "NotIn" => !listed,
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            "Gt" => have.zip(bound).is_some_and(|(h, b)| h > b),
            "Lt" => have.zip(bound).is_some_and(|(h, b)| h < b),
            // An operator rdy does not know: assume it may hold.
            _ => true,
        }
    };
    let matches = |term: &Value| {
        let all = |key, field| {
            term.get(key)
                .map(Value::items)
                .unwrap_or_default()
                .iter()
                .all(|e| holds(e, field))
        };
        all("matchExpressions", false) && all("matchFields", true)
    };
    let terms = terms(spec);
    (!terms.is_empty() && !terms.iter().any(matches))
        .then(|| "no term of its required node affinity matches the node".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn node_selection_as_the_scheduler_reads_it() {
        let node = v(r#"{"metadata":{"name":"n1","labels":{"zone":"a","gpu":"2"}}}"#);
        let spec = |s: &str| v(s);
        let affinity = |exprs: &str| {
            spec(&format!(
                r#"{{"affinity":{{"nodeAffinity":{{"requiredDuringSchedulingIgnoredDuringExecution":{{"nodeSelectorTerms":[{exprs}]}}}}}}}}"#
            ))
        };
        assert_eq!(
            excluded(&spec(r#"{"nodeSelector":{"zone":"a"}}"#), &node),
            None
        );
        let why = excluded(&spec(r#"{"nodeSelector":{"zone":"b"}}"#), &node).unwrap();
        assert!(why.contains("nodeSelector zone=b"), "{why}");
        for fits in [
            r#"{"matchExpressions":[{"key":"zone","operator":"In","values":["a","c"]}]}"#,
            r#"{"matchExpressions":[{"key":"x","operator":"DoesNotExist"},{"key":"gpu","operator":"Gt","values":["1"]}]}"#,
            r#"{"matchExpressions":[{"key":"zone","operator":"NotIn","values":["a"]}]},{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}"#,
        ] {
            assert_eq!(excluded(&affinity(fits), &node), None, "{fits}");
        }
        for not in [
            r#"{"matchExpressions":[{"key":"zone","operator":"In","values":["b"]}]}"#,
            r#"{"matchExpressions":[{"key":"gpu","operator":"Lt","values":["1"]}]}"#,
            r#"{"matchExpressions":[{"key":"zone","operator":"Exists"},{"key":"ssd","operator":"Exists"}]}"#,
            r#"{"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["n1"]}]}"#,
        ] {
            assert!(excluded(&affinity(not), &node).is_some(), "{not}");
        }
        assert!(!selects(&spec(r#"{"nodeSelector":{}}"#)));
    }
}
