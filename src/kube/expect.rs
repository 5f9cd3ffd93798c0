//! Explicit conditions in kubectl's `--for` syntax: `condition=NAME[=VALUE]`,
//! `jsonpath={PATH}[=VALUE|!=VALUE]`, `create` and `delete`. Several of them
//! must all hold on the same version of the object. A field that does not
//! exist yet is "not yet", never an error (unlike kubectl, #109489).

use std::fmt;

use super::jsonpath::{self, JsonPath};
use super::rules::{self, Verdict};
use crate::json::Value;

/// One condition on an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// `condition=NAME[=VALUE]`: the condition of that type has that
    /// status (`True` by default), compared case-insensitively as kubectl
    /// does.
    Condition { name: String, value: String },
    /// `jsonpath=PATH`: the field exists and is not empty; with `=VALUE`
    /// every value found equals VALUE; with `!=VALUE` none does; with
    /// ` in (A,B)` each is one of them. Progress lines quote the first
    /// value found.
    JsonPath {
        text: String,
        path: JsonPath,
        compare: Option<Compare>,
    },
    /// `create`: the object exists.
    Create,
    /// `delete`: the object does not exist (or never did).
    Delete,
}

/// How the values a JSONPath finds are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// `=VALUE`
    Equal(String),
    /// `!=VALUE`
    NotEqual(String),
    /// ` in (A,B,...)`
    In(Vec<String>),
}

impl Compare {
    fn accepts(&self, text: Option<&str>) -> bool {
        match self {
            Compare::Equal(want) => text == Some(want.as_str()),
            Compare::NotEqual(want) => text != Some(want.as_str()),
            Compare::In(set) => text.is_some_and(|t| set.iter().any(|w| w == t)),
        }
    }
}

/// What `--for` accepts; quoted in error messages.
pub const ACCEPTED: &str =
    "condition=NAME[=VALUE], jsonpath={PATH}[=VALUE|!=VALUE| in (A,B)], create or delete";

/// What `--body-json` accepts.
pub const BODY: &str = "{PATH}, {PATH}=VALUE, {PATH}!=VALUE or {PATH} in (A,B)";

/// What `--failed-if` accepts.
pub const FINAL: &str = "condition=NAME[=VALUE] or jsonpath={PATH}[=VALUE|!=VALUE| in (A,B)]";

/// Parses one `--failed-if` expression: a state of the object, so neither
/// `create` nor `delete` (the object's absence is "not created yet").
pub fn parse_final(text: &str) -> Result<Expect, ExpectError> {
    match parse(text)? {
        Expect::Create | Expect::Delete => Err(ExpectError::Final),
        state => Ok(state),
    }
}

/// Why a `--for` expression was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectError {
    /// Not one of the accepted forms.
    Form,
    /// `condition=` without a name, or `=` without a value.
    Empty(&'static str),
    /// A JSONPath outside the subset.
    Path(jsonpath::PathError),
    /// `create` or `delete` where a state of the object is needed.
    Final,
}

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectError::Form => write!(f, "expected {ACCEPTED}"),
            ExpectError::Empty(what) => write!(f, "{what} is empty"),
            ExpectError::Path(e) => write!(f, "jsonpath: {e}"),
            ExpectError::Final => {
                write!(
                    f,
                    "create and delete are not states an object can fail in; expected {FINAL}"
                )
            }
        }
    }
}

/// Parses one `--for` expression.
pub fn parse(text: &str) -> Result<Expect, ExpectError> {
    if text == "create" {
        return Ok(Expect::Create);
    }
    if text == "delete" {
        return Ok(Expect::Delete);
    }
    if let Some(rest) = text.strip_prefix("condition=") {
        let (name, value) = rest.split_once('=').unwrap_or((rest, "True"));
        if name.is_empty() {
            return Err(ExpectError::Empty("the condition name"));
        }
        if value.is_empty() {
            return Err(ExpectError::Empty("the condition value"));
        }
        return Ok(Expect::Condition {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    let rest = text.strip_prefix("jsonpath=").ok_or(ExpectError::Form)?;
    parse_path(rest)
}

/// `{PATH}`, `{PATH}=VALUE`, `{PATH}!=VALUE` or `{PATH} in (A,B)`: the
/// part after `jsonpath=`, and what `--body-json` takes.
pub fn parse_path(rest: &str) -> Result<Expect, ExpectError> {
    let (path_text, compare) = match split_set(rest) {
        Some((_, set)) if set.iter().any(String::is_empty) => {
            return Err(ExpectError::Empty("a value of the set after in"));
        }
        Some((path, set)) => (path, Some(Compare::In(set))),
        None => match split_comparison(rest) {
            (_, Some((_, ""))) => return Err(ExpectError::Empty("the value after = or !=")),
            (path, Some((true, value))) => (path, Some(Compare::Equal(value.to_owned()))),
            (path, Some((false, value))) => (path, Some(Compare::NotEqual(value.to_owned()))),
            (path, None) => (path, None),
        },
    };
    Ok(Expect::JsonPath {
        text: path_text.to_owned(),
        path: jsonpath::parse(path_text).map_err(ExpectError::Path)?,
        compare,
    })
}

/// `{PATH} in (A,B)`: the path and the set, when the text ends so.
fn split_set(text: &str) -> Option<(&str, Vec<String>)> {
    let (path, set) = text.strip_suffix(')')?.rsplit_once(" in (")?;
    let values: Vec<String> = set.split(',').map(|v| v.trim().to_owned()).collect();
    path.ends_with('}').then_some((path, values))
}

/// Splits `PATH=VALUE` / `PATH!=VALUE` at the first operator outside
/// braces, brackets and quotes (filters contain `==` of their own).
fn split_comparison(text: &str) -> (&str, Option<(bool, &str)>) {
    let bytes = text.as_bytes();
    let (mut depth, mut quote) = (0u32, None);
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'{' | b'[') => depth += 1,
            (None, b'}' | b']') => depth = depth.saturating_sub(1),
            (None, b'!') if depth == 0 && bytes.get(i + 1) == Some(&b'=') => {
                return (&text[..i], Some((false, &text[i + 2..])));
            }
            (None, b'=') if depth == 0 => return (&text[..i], Some((true, &text[i + 1..]))),
            _ => {}
        }
    }
    (text, None)
}

impl Expect {
    /// Whether it holds for the object (`None`: it does not exist), with
    /// what was seen, for progress lines; values seen are told only when
    /// `reveal` (never for a Secret).
    pub fn holds(&self, object: Option<&Value>, reveal: bool) -> Result<(), String> {
        let Some(object) = object else {
            return match self {
                Expect::Delete => Ok(()),
                _ => Err("does not exist yet".to_owned()),
            };
        };
        match self {
            Expect::Create => Ok(()),
            Expect::Delete => Err("still exists".to_owned()),
            Expect::Condition { name, value } => condition(object, name, value),
            Expect::JsonPath {
                text,
                path,
                compare,
            } => {
                let found = path.find(object);
                let first = found.first().and_then(|v| jsonpath::text(v));
                let ok = !found.is_empty()
                    && found.iter().all(|v| match compare {
                        None => jsonpath::is_present(v),
                        Some(compare) => compare.accepts(jsonpath::text(v)),
                    });
                match (ok, found.is_empty()) {
                    (true, _) => Ok(()),
                    (false, true) => Err(format!("{text} does not exist yet")),
                    (false, false) if reveal => {
                        Err(format!("{text} is {:?}", first.unwrap_or("not a value")))
                    }
                    (false, false) => Err(format!("{text} does not match yet")),
                }
            }
        }
    }
}

/// kubectl's condition match: type and status case-insensitively, and not
/// met while the condition (or the status) was observed for an older
/// generation.
fn condition(object: &Value, name: &str, value: &str) -> Result<(), String> {
    let found = object
        .at(&["status", "conditions"])
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .find(|c| rules::field(c, "type").eq_ignore_ascii_case(name));
    let Some(found) = found else {
        return Err(format!("no condition {name} yet"));
    };
    let status = rules::field(found, "status");
    let generation = object
        .at(&["metadata", "generation"])
        .and_then(Value::as_i64);
    let observed = found
        .get("observedGeneration")
        .or_else(|| object.at(&["status", "observedGeneration"]))
        .and_then(Value::as_i64);
    match (generation, observed) {
        (Some(g), Some(o)) if o < g => Err(format!(
            "condition {name} is for generation {o}, not {g} yet"
        )),
        _ if status.eq_ignore_ascii_case(value) => Ok(()),
        _ => Err(format!("condition {name} is {status}")),
    }
}

/// All conditions on the one object of `objects` (the same version): the
/// verdict of `--for`. `reveal` lets progress lines quote field values.
pub fn judge(what: &str, expects: &[Expect], objects: &[&Value], reveal: bool) -> Verdict {
    let object = objects.first().copied();
    for expect in expects {
        if let Err(why) = expect.holds(object, reveal) {
            return Verdict::Waiting(format!("waiting for {what}: {why}"));
        }
    }
    Verdict::Ready(format!("{what} condition met"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn holds(expr: &str, object: Option<&str>) -> Result<(), String> {
        let object = object.map(|o| json::parse(o.as_bytes()).unwrap());
        parse(expr).unwrap().holds(object.as_ref(), true)
    }

    const OBJ: &str = r#"{"metadata":{"generation":2},"status":{"observedGeneration":2,"phase":"Running","conditions":[{"type":"Ready","status":"True"},{"type":"Synced","status":"False","observedGeneration":1}],"lb":{"ingress":[]}}}"#;

    #[test]
    fn conditions_and_paths() {
        let obj = Some(OBJ);
        assert_eq!(holds("condition=ready", obj), Ok(()));
        assert_eq!(holds("condition=Ready=true", obj), Ok(()));
        assert!(holds("condition=Ready=False", obj).is_err());
        assert!(
            holds("condition=Synced=False", obj)
                .unwrap_err()
                .contains("generation 1")
        );
        assert_eq!(
            holds("condition=Gone", obj),
            Err("no condition Gone yet".into())
        );
        assert_eq!(holds("jsonpath={.status.phase}=Running", obj), Ok(()));
        assert_eq!(holds("jsonpath={.status.phase}!=Pending", obj), Ok(()));
        assert!(holds("jsonpath={.status.phase}!=Running", obj).is_err());
        assert_eq!(
            holds("jsonpath={.status.missing}!=Pending", obj),
            Err("{.status.missing} does not exist yet".into())
        );
        assert!(holds("jsonpath={.status.lb.ingress}", obj).is_err());
        assert_eq!(holds("jsonpath={.status.phase}", obj), Ok(()));
        assert_eq!(
            holds("jsonpath={.status.phase} in (Pending,Running)", obj),
            Ok(())
        );
        assert_eq!(
            holds("jsonpath={.status.phase} in (Pending, Failed)", obj),
            Err("{.status.phase} is \"Running\"".into())
        );
        assert_eq!(
            holds(
                r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}=True"#,
                obj
            ),
            Ok(())
        );
        assert_eq!(holds("jsonpath=.metadata.generation=2", obj), Ok(()));
        assert_eq!(holds("create", obj), Ok(()));
        assert!(holds("delete", obj).is_err());
        assert_eq!(holds("delete", None), Ok(()));
        assert!(holds("condition=Ready", None).is_err());
        let secret = json::parse(br#"{"data":{"password":"aHVudGVyMg=="}}"#).unwrap();
        let why = parse("jsonpath={.data.password}=eA==")
            .unwrap()
            .holds(Some(&secret), false);
        assert_eq!(why, Err("{.data.password} does not match yet".into()));
    }

    #[test]
    fn refusals() {
        for (bad, says) in [
            ("ready", "expected condition=NAME"),
            ("condition=", "condition name is empty"),
            ("condition=Ready=", "condition value is empty"),
            ("jsonpath={.a}=", "value after"),
            ("jsonpath={..a}", "recursive descent"),
            ("Delete", "expected"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
