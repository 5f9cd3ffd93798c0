//! The JSONPath subset that `kubectl wait --for=jsonpath=…` users write:
//! dotted fields (`\.` escapes a dot inside a name, `['a.b']` quotes one),
//! `[N]`, `[*]` and filters `[?(@.type=="Ready")]`, with or without the
//! surrounding `{…}`. Everything else (recursive descent, slices, unions,
//! functions) is refused with the reason, so a wait never runs on a path
//! that silently matches nothing.

use std::fmt;

use crate::json::Value;

/// One step from a value to the values below it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `[N]`.
    Index(usize),
    /// `[*]` or `.*`: every item or member.
    All,
    /// `[?(@.path OP literal)]`: the items for which the test holds.
    Filter(Vec<Step>, bool, String),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub &'static str);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; supported: .field, [N], [*], [?(@.field==\"value\")]",
            self.0
        )
    }
}

/// Parses `{.status.conditions[?(@.type=="Ready")].status}`, braces
/// optional, the leading dot too (kubectl's relaxed form).
pub fn parse(text: &str) -> Result<JsonPath, PathError> {
    let inner = match text.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}').ok_or(PathError("unclosed {"))?,
        None => text,
    };
    if inner.contains(['{', '}']) {
        return Err(PathError("only one {…} expression is supported"));
    }
    let mut chars = Cursor(inner.as_bytes(), 0);
    if !matches!(chars.peek(), Some(b'.' | b'[')) && !inner.is_empty() {
        chars = Cursor(inner.as_bytes(), 0);
        let first = chars.name()?;
        let mut steps = vec![Step::Field(first)];
        steps.extend(chars.steps(false)?);
        return Ok(JsonPath(steps));
    }
    let steps = chars.steps(false)?;
    if steps.is_empty() {
        return Err(PathError("an empty path"));
    }
    Ok(JsonPath(steps))
}

struct Cursor<'a>(&'a [u8], usize);

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.get(self.1).copied()
    }

    fn eat(&mut self, text: &str) -> bool {
        let found = self.0[self.1..].starts_with(text.as_bytes());
        if found {
            self.1 += text.len();
        }
        found
    }

    /// Steps until the end, or (inside a filter) until an operator or `)`.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, PathError> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                None => return Ok(steps),
                Some(b'=' | b'!' | b')') if in_filter => return Ok(steps),
                Some(b'.') => {
                    self.1 += 1;
                    steps.push(match self.peek() {
                        Some(b'.') => {
                            return Err(PathError("recursive descent (..) is not supported"));
                        }
                        Some(b'*') => {
                            self.1 += 1;
                            Step::All
                        }
                        _ => Step::Field(self.name()?),
                    });
                }
                Some(b'[') => {
                    self.1 += 1;
                    steps.push(self.bracket()?);
                }
                Some(_) => return Err(PathError("expected . or [ between steps")),
            }
        }
    }

    /// A field name up to `.`, `[` or (in filters) an operator; `\.`
    /// keeps a dot in the name.
    fn name(&mut self) -> Result<String, PathError> {
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            match b {
                b'\\' if self.0.get(self.1 + 1) == Some(&b'.') => {
                    name.push(b'.');
                    self.1 += 2;
                    continue;
                }
                b'.' | b'[' | b'=' | b'!' | b')' | b' ' => break,
                b'(' | b']' | b'@' | b'$' | b'"' | b'\'' | b'*' | b'?' | b',' | b':' => {
                    return Err(PathError("unexpected character in a field name"));
                }
                _ => name.push(b),
            }
            self.1 += 1;
        }
        if name.is_empty() {
            return Err(PathError("an empty field name"));
        }
        String::from_utf8(name).map_err(|_| PathError("a field name that is not UTF-8"))
    }

    /// What follows `[`: an index, `*`, a quoted name or a filter.
    fn bracket(&mut self) -> Result<Step, PathError> {
        let step = match self.peek() {
            Some(b'*') => {
                self.1 += 1;
                Step::All
            }
            Some(b'0'..=b'9') => {
                let start = self.1;
                while let Some(b'0'..=b'9') = self.peek() {
                    self.1 += 1;
                }
                let digits = std::str::from_utf8(&self.0[start..self.1]).unwrap_or("");
                Step::Index(
                    digits
                        .parse()
                        .map_err(|_| PathError("an index too large"))?,
                )
            }
            Some(b'\'' | b'"') => Step::Field(self.quoted()?),
            Some(b'?') => self.filter()?,
            Some(b'-') => return Err(PathError("negative indexes are not supported")),
            _ => return Err(PathError("expected N, *, 'name' or ?(…) inside [ ]")),
        };
        match self.peek() {
            Some(b']') => {
                self.1 += 1;
                Ok(step)
            }
            Some(b':') => Err(PathError("slices [a:b] are not supported")),
            Some(b',') => Err(PathError("unions [a,b] are not supported")),
            _ => Err(PathError("expected ]")),
        }
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let quote = self.peek().unwrap_or(b'"');
        self.1 += 1;
        let start = self.1;
        while self.peek().is_some_and(|b| b != quote) {
            self.1 += 1;
        }
        let text = std::str::from_utf8(&self.0[start..self.1])
            .map_err(|_| PathError("a quoted text that is not UTF-8"))?
            .to_owned();
        if !self.eat(std::str::from_utf8(&[quote]).unwrap_or("\"")) {
            return Err(PathError("an unclosed quote"));
        }
        Ok(text)
    }

    /// `?(@.path==literal)` or `!=`.
    fn filter(&mut self) -> Result<Step, PathError> {
        if !self.eat("?(@") {
            return Err(PathError("a filter is written ?(@.field==\"value\")"));
        }
        let path = self.steps(true)?;
        if path
            .iter()
            .any(|s| matches!(s, Step::All | Step::Filter(..)))
        {
            return Err(PathError("a filter compares one field"));
        }
        let equal = if self.eat("==") {
            true
        } else if self.eat("!=") {
            false
        } else {
            return Err(PathError("a filter compares with == or !="));
        };
        let literal = match self.peek() {
            Some(b'\'' | b'"') => self.quoted()?,
            _ => {
                let start = self.1;
                while self.peek().is_some_and(|b| b != b')') {
                    self.1 += 1;
                }
                let bare = std::str::from_utf8(&self.0[start..self.1]).unwrap_or("");
                if bare.is_empty() {
                    return Err(PathError("a filter needs a value to compare with"));
                }
                bare.to_owned()
            }
        };
        if !self.eat(")") {
            return Err(PathError("expected ) after a filter"));
        }
        Ok(Step::Filter(path, equal, literal))
    }
}

impl JsonPath {
    /// Every value the path reaches in `root`; empty when a field does not
    /// exist (yet).
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        walk(&self.0, root)
    }
}

fn walk<'a>(steps: &[Step], root: &'a Value) -> Vec<&'a Value> {
    let mut current = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::Field(name) => next.extend(value.get(name)),
                Step::Index(i) => next.extend(value.items().get(*i)),
                Step::All => {
                    next.extend(value.items());
                    next.extend(value.members().iter().map(|(_, v)| v));
                }
                Step::Filter(path, equal, literal) => {
                    next.extend(value.items().iter().filter(|item| {
                        let found = walk(path, item);
                        let same = found.first().and_then(|v| text(v)) == Some(literal.as_str());
                        same == *equal
                    }));
                }
            }
        }
        current = next;
    }
    current
}

/// A scalar as kubectl prints it with `-o jsonpath`: strings without
/// quotes, numbers as written, booleans as `true`/`false`. Objects, arrays
/// and null have no text to compare.
pub fn text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) | Value::Number(s) => Some(s),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        _ => None,
    }
}

/// Whether a value counts as present: not null, and not an empty string,
/// list or object.
pub fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const POD: &str = r#"{"status":{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"False"}],"loadBalancer":{},"replicas":3},"metadata":{"annotations":{"a.io/b":"x"}}}"#;

    fn found(path: &str) -> Vec<String> {
        let object = json::parse(POD.as_bytes()).unwrap();
        let path = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        path.find(&object)
            .into_iter()
            .map(|v| text(v).unwrap_or("<compound>").to_owned())
            .collect()
    }

    #[test]
    fn the_subset_kubectl_users_write() {
        assert_eq!(found("{.status.phase}"), ["Running"]);
        assert_eq!(found(".status.phase"), ["Running"]);
        assert_eq!(found("status.replicas"), ["3"]);
        assert_eq!(found("{.status.conditions[1].type}"), ["Ready"]);
        assert_eq!(
            found("{.status.conditions[*].type}"),
            ["PodScheduled", "Ready"]
        );
        assert_eq!(
            found(r#"{.status.conditions[?(@.type=="Ready")].status}"#),
            ["False"]
        );
        assert_eq!(
            found("{.status.conditions[?(@.type!='Ready')].type}"),
            ["PodScheduled"]
        );
        assert_eq!(found(r"{.metadata.annotations.a\.io/b}"), ["x"]);
        assert_eq!(found("{.metadata.annotations['a.io/b']}"), ["x"]);
        assert!(found("{.status.nothing.here}").is_empty());
        assert!(found("{.status.conditions[7]}").is_empty());
    }

    #[test]
    fn refusals_say_why() {
        for (bad, says) in [
            ("{..status}", "recursive descent"),
            ("{.a[0:2]}", "slices"),
            ("{.a[0,1]}", "unions"),
            ("{.a[-1]}", "negative"),
            ("{.a}{.b}", "only one"),
            ("{.a", "unclosed {"),
            ("", "empty path"),
            ("{.a[?(@.b>1)]}", "== or !="),
            ("{.a[?(@.b==\"x)]}", "unclosed quote"),
            ("{.a.}", "empty field name"),
            ("{.a[x]}", "inside [ ]"),
            ("{.a[0}", "expected ]"),
            ("{.length()}", "unexpected character"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
