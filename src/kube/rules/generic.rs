//! Readiness of kinds without a kubectl rule of their own, after kstatus
//! (sigs.k8s.io/cli-utils `pkg/kstatus/status`), which Flux and Argo CD
//! use too: the controller has observed the current generation, nothing is
//! `Reconciling`, and `Ready` is `True` when the object has that
//! condition; `Stalled=True` or `Failed=True` can never become ready by
//! itself. CustomResourceDefinitions are ready when `Established`, Secrets
//! and ConfigMaps when they exist (and hold `?key=`).

use super::{Verdict, condition, field, is_true, table};
use crate::json::Value;

/// kstatus' generic rule behind the [`table::reconciled`] guard; `what`
/// is `widget "web"`. A `Ready` condition written for an older generation
/// (metav1.Condition `observedGeneration`) is stale, not current.
pub fn kstatus(what: &str, object: &Value) -> Verdict {
    if let Some(not_yet) = table::reconciled(what, object) {
        return not_yet;
    }
    for failed in ["Stalled", "Failed"] {
        if let Some(c) = condition(object, failed).filter(|c| is_true(Some(c))) {
            return Verdict::Failed(format!("{what} {}", explain(failed, c)));
        }
    }
    if let Some(c) = condition(object, "Reconciling").filter(|c| is_true(Some(c))) {
        return Verdict::Waiting(format!("{what} {}", explain("Reconciling", c)));
    }
    let generation = object
        .at(&["metadata", "generation"])
        .and_then(Value::as_i64);
    match condition(object, "Ready") {
        Some(c) if !is_true(Some(c)) => {
            Verdict::Waiting(format!("{what} is not ready: {}", explain("Ready", c)))
        }
        Some(c) if is_stale(c, generation) => Verdict::Waiting(format!(
            "{what}: its Ready condition is for an older generation than {}",
            generation.unwrap_or_default()
        )),
        _ => Verdict::Ready(format!("{what} is ready")),
    }
}

/// Whether a condition says it was written for an older generation.
fn is_stale(condition: &Value, generation: Option<i64>) -> bool {
    let observed = condition.get("observedGeneration").and_then(Value::as_i64);
    matches!((observed, generation), (Some(o), Some(g)) if o < g)
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
        assert!(
            matches!(kstatus(w, &v(r#"{"metadata":{"generation":1}}"#)), Verdict::Waiting(m) if m.contains("no status yet")),
            "an object no controller has reconciled yet is not ready"
        );
        assert_eq!(
            kstatus(
                w,
                &v(r#"{"metadata":{"generation":1},"status":{"phase":"Running"}}"#)
            ),
            Verdict::Ready("widget \"a\" is ready".into())
        );
        assert!(
            matches!(kstatus(w, &v(r#"{"metadata":{"generation":2},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":1}]}}"#)), Verdict::Waiting(m) if m.contains("older generation")),
            "a Ready condition observed for an older generation is stale"
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
            kstatus(
                w,
                &v(r#"{"metadata":{"deletionTimestamp":"x"},"status":{"a":1}}"#)
            ),
            Verdict::Waiting(_)
        ));
    }

    #[test]
    fn keys() {
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
