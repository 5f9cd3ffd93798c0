//! Readiness of kinds without a kubectl rule of their own, after kstatus
//! (sigs.k8s.io/cli-utils `pkg/kstatus/status`), which Flux and Argo CD
//! use too: the controller has observed the current generation, nothing is
//! `Reconciling`, and `Ready` is `True` when the object has that
//! condition; `Stalled=True` or `Failed=True` can never become ready by
//! itself. CustomResourceDefinitions are ready when `Established`, Secrets
//! and ConfigMaps when they exist (and hold `?key=`).

use super::{Verdict, condition, field, is_true};
use crate::json::Value;

/// kstatus' generic rule; `what` is `certificate "web"`.
pub fn kstatus(what: &str, object: &Value) -> Verdict {
    if object.at(&["metadata", "deletionTimestamp"]).is_some() {
        return Verdict::Waiting(format!("{what} is being deleted"));
    }
    let generation = object
        .at(&["metadata", "generation"])
        .and_then(Value::as_i64);
    let observed = object
        .at(&["status", "observedGeneration"])
        .and_then(Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed)
        && o != g
    {
        return Verdict::Waiting(format!(
            "{what}: waiting for generation {g} to be observed (observed {o})"
        ));
    }
    for failed in ["Stalled", "Failed"] {
        if let Some(c) = condition(object, failed).filter(|c| is_true(Some(c))) {
            return Verdict::Failed(format!("{what} {}", explain(failed, c)));
        }
    }
    if let Some(c) = condition(object, "Reconciling").filter(|c| is_true(Some(c))) {
        return Verdict::Waiting(format!("{what} {}", explain("Reconciling", c)));
    }
    match condition(object, "Ready") {
        Some(c) if !is_true(Some(c)) => {
            Verdict::Waiting(format!("{what} is not ready: {}", explain("Ready", c)))
        }
        _ => Verdict::Ready(format!("{what} is ready")),
    }
}

/// `Stalled=True: Reason: message`.
fn explain(kind: &str, c: &Value) -> String {
    let mut text = format!("{kind}={}", field(c, "status"));
    for value in [field(c, "reason"), field(c, "message")] {
        if !value.is_empty() {
            text.push_str(": ");
            text.push_str(value);
        }
    }
    text
}

/// A CustomResourceDefinition: `Established=True`; names that another CRD
/// holds (`NamesAccepted=False`) never become established.
pub fn crd(what: &str, object: &Value) -> Verdict {
    if is_true(condition(object, "Established")) {
        return Verdict::Ready(format!("{what} is established"));
    }
    match condition(object, "NamesAccepted") {
        Some(c) if field(c, "status").eq_ignore_ascii_case("false") => {
            Verdict::Failed(format!("{what} {}", explain("NamesAccepted", c)))
        }
        _ => Verdict::Waiting(format!("{what} is not established yet")),
    }
}

/// A Secret or ConfigMap: it exists; with `key`, that key holds a
/// non-empty value in `data` (or a ConfigMap's `binaryData`). Values are
/// never quoted: they may be secret.
pub fn keyed(what: &str, object: &Value, key: Option<&str>) -> Verdict {
    let Some(key) = key else {
        return Verdict::Ready(format!("{what} exists"));
    };
    let held = ["data", "binaryData"].iter().any(|map| {
        object
            .at(&[map, key])
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    });
    match held {
        true => Verdict::Ready(format!("{what} has key {key:?}")),
        false => Verdict::Waiting(format!("{what} has no key {key:?} yet")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn kstatus_rules() {
        let w = "widget \"a\"";
        assert_eq!(
            kstatus(w, &v(r#"{"metadata":{"generation":1}}"#)),
            Verdict::Ready("widget \"a\" is ready".into())
        );
        assert!(
            matches!(kstatus(w, &v(r#"{"metadata":{"generation":2},"status":{"observedGeneration":1}}"#)), Verdict::Waiting(m) if m.contains("generation 2"))
        );
        assert_eq!(
            kstatus(
                w,
                &v(
                    r#"{"status":{"conditions":[{"type":"Ready","status":"False","reason":"Pending","message":"issuing"}]}}"#
                )
            ),
            Verdict::Waiting("widget \"a\" is not ready: Ready=False: Pending: issuing".into())
        );
        assert_eq!(
            kstatus(
                w,
                &v(
                    r#"{"status":{"conditions":[{"type":"Stalled","status":"True","reason":"Bad"}]}}"#
                )
            ),
            Verdict::Failed("widget \"a\" Stalled=True: Bad".into())
        );
        assert!(matches!(
            kstatus(
                w,
                &v(
                    r#"{"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Reconciling","status":"True"}]}}"#
                )
            ),
            Verdict::Waiting(_)
        ));
        assert!(matches!(
            kstatus(w, &v(r#"{"metadata":{"deletionTimestamp":"x"}}"#)),
            Verdict::Waiting(_)
        ));
    }

    #[test]
    fn crds_and_keys() {
        let c = "crd \"w\"";
        assert!(matches!(
            crd(
                c,
                &v(r#"{"status":{"conditions":[{"type":"Established","status":"True"}]}}"#)
            ),
            Verdict::Ready(_)
        ));
        assert!(matches!(
            crd(
                c,
                &v(
                    r#"{"status":{"conditions":[{"type":"NamesAccepted","status":"False","reason":"Conflict"}]}}"#
                )
            ),
            Verdict::Failed(_)
        ));
        assert!(matches!(crd(c, &v("{}")), Verdict::Waiting(_)));
        let s = v(r#"{"data":{"tls.crt":"QQ==","empty":""}}"#);
        assert!(matches!(keyed("secret \"s\"", &s, None), Verdict::Ready(_)));
        assert!(matches!(
            keyed("secret \"s\"", &s, Some("tls.crt")),
            Verdict::Ready(_)
        ));
        assert!(matches!(
            keyed("secret \"s\"", &s, Some("empty")),
            Verdict::Waiting(_)
        ));
        assert!(matches!(
            keyed("secret \"s\"", &s, Some("tls.key")),
            Verdict::Waiting(_)
        ));
    }
}
