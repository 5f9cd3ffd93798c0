//! Jobs by their conditions (docs/kubernetes.md §2.6): `Complete=True` is ready;
//! `Failed=True` or `FailureTarget=True` ends the wait at once — kubectl's
//! `wait --for=condition=complete` and k8s-wait-for would wait forever;
//! `Suspended=True` keeps waiting and says so. Pod counts are progress only:
//! success policies and indexed Jobs make them unreliable as a verdict.

use super::{Verdict, condition, field, is_true, name_of};
use crate::json::{Value, int_or_zero};

/// The verdict for one Job.
pub fn job(object: &Value) -> Verdict {
    let name = name_of(object);
    for failed in ["Failed", "FailureTarget"] {
        if let Some(c) = condition(object, failed).filter(|c| is_true(Some(c))) {
            let (reason, message) = (field(c, "reason"), field(c, "message"));
            return Verdict::Failed(match (reason, message) {
                ("", "") => format!("job \"{name}\" failed"),
                (reason, "") | ("", reason) => format!("job \"{name}\" failed: {reason}"),
                (reason, message) => format!("job \"{name}\" failed: {reason}: {message}"),
            });
        }
    }
    if is_true(condition(object, "Complete")) {
        return Verdict::Ready(format!("job \"{name}\" completed"));
    }
    if is_true(condition(object, "Suspended")) {
        return Verdict::Waiting(format!("job \"{name}\" is suspended"));
    }
    let count = |key| int_or_zero(object, &["status", key]);
    Verdict::Waiting(format!(
        "Waiting for job \"{name}\" to complete: {} active, {} succeeded, {} failed",
        count("active"),
        count("succeeded"),
        count("failed")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn conditions_decide() {
        let done = v(
            r#"{"metadata":{"name":"migrate"},"status":{"conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}],"succeeded":1}}"#,
        );
        assert_eq!(
            job(&done),
            Verdict::Ready("job \"migrate\" completed".into())
        );
        let failed = v(
            r#"{"metadata":{"name":"migrate"},"status":{"failed":7,"conditions":[{"type":"FailureTarget","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit"}]}}"#,
        );
        assert_eq!(job(&failed), Verdict::Failed("job \"migrate\" failed: BackoffLimitExceeded: Job has reached the specified backoff limit".into()));
        let running = v(r#"{"metadata":{"name":"migrate"},"status":{"active":1,"ready":1}}"#);
        assert_eq!(
            job(&running).message(),
            "Waiting for job \"migrate\" to complete: 1 active, 0 succeeded, 0 failed"
        );
        let suspended = v(
            r#"{"metadata":{"name":"migrate"},"status":{"conditions":[{"type":"Suspended","status":"True"}]}}"#,
        );
        assert_eq!(
            job(&suspended),
            Verdict::Waiting("job \"migrate\" is suspended".into())
        );
        let not_yet = v(
            r#"{"metadata":{"name":"m"},"status":{"conditions":[{"type":"Failed","status":"False"}]}}"#,
        );
        assert!(matches!(job(&not_yet), Verdict::Waiting(_)));
    }
}
