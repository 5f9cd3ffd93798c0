//! Field and label selectors, the equality-based subset a waiter sends
//! (`metadata.name=web`, `app=web,tier!=cache`), plus `key` and `!key`.
//! Set-based label terms (`env in (a,b)`) are refused with a 400, so a
//! client that starts sending them finds out in a test.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equals,
    NotEquals,
    Exists,
    NotExists,
}

#[derive(Debug, Clone)]
struct Term {
    key: String,
    op: Op,
    value: String,
}

impl Term {
    fn matches(&self, actual: Option<&str>) -> bool {
        match self.op {
            Op::Equals => actual == Some(self.value.as_str()),
            // As in Kubernetes, `!=` also matches objects without the key.
            Op::NotEquals => actual != Some(self.value.as_str()),
            Op::Exists => actual.is_some(),
            Op::NotExists => actual.is_none(),
        }
    }
}

/// A parsed `fieldSelector` plus `labelSelector`.
#[derive(Debug, Clone, Default)]
pub(super) struct Selector {
    fields: Vec<Term>,
    labels: Vec<Term>,
}

/// Field paths the API server lets every kind be selected by, and the extra
/// ones it registers for pods.
fn field_pointer(kind: &str, field: &str) -> Option<&'static str> {
    match (kind, field) {
        (_, "metadata.name") => Some("/metadata/name"),
        (_, "metadata.namespace") => Some("/metadata/namespace"),
        ("Pod", "spec.nodeName") => Some("/spec/nodeName"),
        ("Pod", "status.phase") => Some("/status/phase"),
        _ => None,
    }
}

fn split_term(term: &str) -> Option<(String, Op, String)> {
    for (sep, op) in [("!=", Op::NotEquals), ("==", Op::Equals), ("=", Op::Equals)] {
        if let Some((k, v)) = term.split_once(sep) {
            return Some((k.trim().to_owned(), op, v.trim().to_owned()));
        }
    }
    None
}

impl Selector {
    /// Parses both selectors for objects of `kind`; the error is the
    /// message of a 400 `BadRequest`.
    pub fn parse(
        kind: &str,
        fields: Option<&str>,
        labels: Option<&str>,
    ) -> Result<Selector, String> {
        let mut selector = Selector::default();
        for term in fields.unwrap_or("").split(',').filter(|t| !t.is_empty()) {
            let Some((key, op, value)) = split_term(term) else {
                return Err(format!("invalid field selector: {term:?}"));
            };
            if field_pointer(kind, &key).is_none() {
                return Err(format!("field label not supported: {key}"));
            }
            selector.fields.push(Term { key, op, value });
        }
        for term in labels.unwrap_or("").split(',').filter(|t| !t.is_empty()) {
            let term = term.trim();
            if term.contains('(') || term.contains(' ') {
                return Err(format!(
                    "unable to parse requirement: set-based selectors are not in this fake: {term:?}"
                ));
            }
            let parsed = match split_term(term) {
                Some((key, op, value)) => Term { key, op, value },
                None => match term.strip_prefix('!') {
                    Some(key) => Term {
                        key: key.to_owned(),
                        op: Op::NotExists,
                        value: String::new(),
                    },
                    None => Term {
                        key: term.to_owned(),
                        op: Op::Exists,
                        value: String::new(),
                    },
                },
            };
            if parsed.key.is_empty() {
                return Err(format!("unable to parse requirement: {term:?}"));
            }
            selector.labels.push(parsed);
        }
        Ok(selector)
    }

    /// Whether an object (with or without kind/apiVersion) passes.
    pub fn matches(&self, kind: &str, object: &Value) -> bool {
        let fields_pass = self.fields.iter().all(|t| {
            let pointer = field_pointer(kind, &t.key).expect("checked at parse");
            t.matches(object.pointer(pointer).and_then(Value::as_str))
        });
        let labels = object.pointer("/metadata/labels");
        let labels_pass = self
            .labels
            .iter()
            .all(|t| t.matches(labels.and_then(|l| l.get(&t.key)).and_then(Value::as_str)));
        fields_pass && labels_pass
    }
}
