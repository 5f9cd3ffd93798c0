//! kubectl's readiness rules, one module per kind (docs/kubernetes.md §2). Each
//! rule reads only the fields it needs and answers with kubectl's own
//! progress message, so a user sees what `kubectl rollout status` would say.

pub mod generic;
pub mod job;
pub mod pod;
pub mod service;
pub mod table;
pub mod workload;

use crate::json::Value;

/// What a rule concluded from the current objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ready, with kubectl's completion message.
    Ready(String),
    /// Not ready yet, with kubectl's progress message.
    Waiting(String),
    /// Can never become ready (exit code 3), with the reason.
    Failed(String),
}

impl Verdict {
    /// The message of any verdict.
    pub fn message(&self) -> &str {
        match self {
            Verdict::Ready(m) | Verdict::Waiting(m) | Verdict::Failed(m) => m,
        }
    }
}

/// The verdict for a named object that does not exist (yet).
pub fn not_created(kind: &str, name: &str) -> Verdict {
    Verdict::Waiting(format!("waiting for {kind}/{name} to be created"))
}

/// `metadata.name`, for messages.
pub fn name_of(object: &Value) -> &str {
    object
        .at(&["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The condition of `type` in `status.conditions`.
pub fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .at(&["status", "conditions"])?
        .items()
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

/// Whether a condition's status is `True`; kubectl compares
/// case-insensitively.
pub fn is_true(condition: Option<&Value>) -> bool {
    condition
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// A string field of a condition, or "".
pub fn field<'a>(condition: &'a Value, key: &str) -> &'a str {
    condition.get(key).and_then(Value::as_str).unwrap_or("")
}
