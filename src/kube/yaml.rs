//! A strict reader for the YAML that `kubectl` writes into kubeconfig files.
//!
//! A general YAML parser costs more bytes than the whole Kubernetes client,
//! so this reads the block-style subset kubectl and the cloud CLIs produce —
//! nested mappings, sequences (also at their key's indentation, kubectl's
//! habit), plain/single/double-quoted scalars, `|`/`>` block scalars, `{}` and
//! `[]` flow collections, comments — and JSON, which is YAML too. Anything
//! else (anchors, aliases, tags, multi-line plain scalars, several documents,
//! tabs for indentation, duplicate keys) is an error with its line number,
//! never a silent misread.
//!
//! Scalars stay strings (`true` is `"true"`); `null`, `~` and empty values
//! are `Null`. The configuration code interprets them.

use std::collections::HashSet;
use std::fmt;

use crate::json::{self, Value};

/// Where and why a file is not in the supported subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Nesting deeper than this is refused, so that hostile input cannot
/// exhaust the stack (`- - - …` nests once per item on a single line);
/// kubeconfig files stay below ten levels.
const MAX_DEPTH: usize = 64;

/// One meaningful line: its number, indentation and content without the
/// comment.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// Parses a kubeconfig document (YAML subset or JSON).
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return json::parse(text.as_bytes()).map_err(|e| YamlError {
            line: line_of(text, e.offset),
            reason: e.to_string(),
        });
    }
    let lines = lines(text)?;
    let mut reader = Reader { lines, next: 0 };
    let Some(first) = reader.peek() else {
        return Ok(Value::Null);
    };
    let value = reader.node(first.indent, 0)?;
    if let Some(extra) = reader.peek() {
        return Err(error(
            extra.number,
            "unexpected indentation or a second document",
        ));
    }
    Ok(value)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn error(line: usize, reason: impl Into<String>) -> YamlError {
    YamlError {
        line,
        reason: reason.into(),
    }
}

fn lines(text: &str) -> Result<Vec<Line<'_>>, YamlError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let rest = &raw[indent..];
        if rest.starts_with('\t') {
            return Err(error(number, "tabs are not allowed for indentation"));
        }
        let content = strip_comment(rest).trim_end();
        if content.is_empty() {
            continue;
        }
        if number == 1 || out.is_empty() {
            if content == "---" {
                continue;
            }
            if content.starts_with('%') {
                return Err(error(number, "YAML directives are not supported"));
            }
        }
        if content == "---" || content == "..." {
            return Err(error(
                number,
                "several documents in one file are not supported",
            ));
        }
        out.push(Line {
            number,
            indent,
            text: content,
        });
    }
    Ok(out)
}

/// Cuts a `#` comment that starts a line or follows a blank, outside quotes.
fn strip_comment(text: &str) -> &str {
    let (mut single, mut double, mut previous) = (false, false, ' ');
    for (i, c) in text.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && previous != '\\' => double = !double,
            '#' if !single && !double && (previous == ' ' || previous == '\t') => {
                return &text[..i];
            }
            _ => {}
        }
        previous = c;
    }
    text
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    next: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// A block node whose first line is at `indent`, `depth` collections
    /// deep.
    fn node(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        let Some(line) = self.peek() else {
            return Ok(Value::Null);
        };
        if depth > MAX_DEPTH {
            return Err(error(
                line.number,
                format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
            ));
        }
        if is_sequence_item(line.text) {
            self.sequence(indent, depth)
        } else if split_key(line.text, line.number)?.is_some() {
            self.mapping(indent, depth)
        } else {
            self.next += 1;
            scalar(line.text, line.number)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_sequence_item(line.text) {
                break;
            }
            let rest = line.text[1..].trim_start();
            if rest.is_empty() {
                self.next += 1;
                items.push(self.child(indent, line.number, depth + 1)?);
                continue;
            }
            // `- key: value` starts a mapping whose keys line up after "- ".
            let item_indent = indent + (line.text.len() - rest.len());
            self.lines[self.next] = Line {
                number: line.number,
                indent: item_indent,
                text: rest,
            };
            items.push(self.node(item_indent, depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        let mut members: Vec<(String, Value)> = Vec::new();
        // Searching `members` for each new key was quadratic: 64 KB of
        // short keys took 0.5 s optimised, 5 s in the fuzzer.
        let mut seen = HashSet::new();
        while let Some(line) = self.peek() {
            if line.indent != indent {
                if line.indent > indent {
                    return Err(error(line.number, "unexpected indentation"));
                }
                break;
            }
            let Some((key, rest)) = split_key(line.text, line.number)? else {
                if is_sequence_item(line.text) {
                    break;
                }
                return Err(error(line.number, "expected `key: value`"));
            };
            if !seen.insert(key.clone()) {
                return Err(error(line.number, format!("duplicate key {key:?}")));
            }
            self.next += 1;
            let value = match rest {
                "" => self.value_below(indent, line.number, depth + 1)?,
                "|" | "|-" | "|+" | ">" | ">-" | ">+" => self.block_scalar(indent, rest),
                _ => scalar(rest, line.number)?,
            };
            members.push((key, value));
        }
        Ok(Value::Object(members))
    }

    /// The value of `key:` written on the following lines: a deeper node, or
    /// a sequence at the key's own indentation.
    fn value_below(
        &mut self,
        indent: usize,
        number: usize,
        depth: usize,
    ) -> Result<Value, YamlError> {
        match self.peek() {
            Some(next) if next.indent == indent && is_sequence_item(next.text) => {
                self.node(indent, depth)
            }
            _ => self.child(indent, number, depth),
        }
    }

    fn child(&mut self, parent: usize, _number: usize, depth: usize) -> Result<Value, YamlError> {
        match self.peek() {
            Some(next) if next.indent > parent => self.node(next.indent, depth),
            _ => Ok(Value::Null),
        }
    }

    /// `|` keeps line breaks, `>` folds them into spaces; `-` strips the
    /// final break, `+` keeps trailing ones (here: one).
    fn block_scalar(&mut self, parent: usize, header: &str) -> Value {
        let mut lines = Vec::new();
        let mut block_indent = None;
        while let Some(line) = self.peek() {
            if line.indent <= parent {
                break;
            }
            let indent = *block_indent.get_or_insert(line.indent);
            let extra = line.indent.saturating_sub(indent);
            lines.push(format!("{}{}", " ".repeat(extra), line.text));
            self.next += 1;
        }
        let separator = if header.starts_with('>') { " " } else { "\n" };
        let mut text = lines.join(separator);
        if !header.ends_with('-') && !text.is_empty() {
            text.push('\n');
        }
        Value::String(text)
    }
}

fn is_sequence_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: value` (the value may be empty); `None` if the line is not
/// a mapping entry.
fn split_key(text: &str, number: usize) -> Result<Option<(String, &str)>, YamlError> {
    if text.starts_with("? ") {
        return Err(error(number, "complex keys (`? `) are not supported"));
    }
    let (key, rest) = if let Some(quote @ ('"' | '\'')) = text.chars().next() {
        let end = closing_quote(text, quote).ok_or_else(|| error(number, "unterminated quote"))?;
        let after = &text[end + 1..];
        match after.strip_prefix(':') {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                (unquote(&text[..=end], number)?, rest.trim_start())
            }
            _ => return Ok(None),
        }
    } else {
        let Some(colon) = find_key_colon(text) else {
            return Ok(None);
        };
        (
            text[..colon].trim_end().to_owned(),
            text[colon + 1..].trim_start(),
        )
    };
    if key.is_empty() {
        return Err(error(number, "empty key"));
    }
    Ok(Some((key, rest)))
}

/// The first `:` followed by a blank or the end of the line, before any
/// flow or quote character.
fn find_key_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => return Some(i),
            b'{' | b'[' | b'"' | b'\'' if i == 0 => return None,
            _ => {}
        }
    }
    None
}

fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            c if c == quote => {
                // '' inside single quotes is an escaped quote.
                if quote == '\'' && text[i + 1..].starts_with('\'') {
                    chars.next();
                    continue;
                }
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

/// A scalar or flow collection written on one line.
fn scalar(text: &str, number: usize) -> Result<Value, YamlError> {
    match text.chars().next() {
        Some('&') => Err(error(number, "anchors (&) are not supported")),
        Some('*') => Err(error(number, "aliases (*) are not supported")),
        Some('!') => Err(error(number, "tags (!) are not supported")),
        Some('|' | '>') => Err(error(number, "a block scalar must start a value")),
        Some('{' | '[') => flow(text, number),
        Some('"' | '\'') => {
            let quote = text.chars().next().unwrap_or('"');
            match closing_quote(text, quote) {
                Some(end) if end + 1 == text.len() => unquote(text, number).map(Value::String),
                Some(_) => Err(error(number, "text after a quoted scalar")),
                None => Err(error(
                    number,
                    "unterminated quote (multi-line scalars are not supported)",
                )),
            }
        }
        _ => Ok(plain(text)),
    }
}

fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => Value::String(text.to_owned()),
    }
}

/// Removes the quotes of a complete quoted scalar and resolves escapes.
fn unquote(text: &str, number: usize) -> Result<String, YamlError> {
    let inner = &text[1..text.len() - 1];
    if text.starts_with('\'') {
        return Ok(inner.replace("''", "'"));
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some(c @ ('"' | '\\' | '/' | ' ')) => c,
            Some('u') => {
                // Exactly four hex digits: `from_str_radix` alone would
                // also take a sign (`\u+041`) or fewer digits.
                let hex: String = chars.by_ref().take(4).collect();
                Some(hex)
                    .filter(|h| h.len() == 4 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u32::from_str_radix(&h, 16).ok())
                    .and_then(char::from_u32)
                    .ok_or_else(|| error(number, "invalid \\u escape"))?
            }
            _ => {
                return Err(error(
                    number,
                    "unsupported escape in a double-quoted scalar",
                ));
            }
        };
        out.push(escaped);
    }
    Ok(out)
}

/// `{}`, `[]`, `[a, "b"]`, `{k: v}`: a flow collection on one line.
fn flow(text: &str, number: usize) -> Result<Value, YamlError> {
    let mut flow = Flow {
        text,
        pos: 0,
        number,
    };
    let value = flow.value(0)?;
    flow.blanks();
    if flow.pos != text.len() {
        return Err(error(number, "text after a flow collection"));
    }
    Ok(value)
}

struct Flow<'a> {
    text: &'a str,
    pos: usize,
    number: usize,
}

impl Flow<'_> {
    fn blanks(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, YamlError> {
        if depth > 32 {
            return Err(error(self.number, "flow collection nested too deeply"));
        }
        self.blanks();
        let rest = &self.text[self.pos..];
        if let Some(open @ ('[' | '{')) = rest.chars().next() {
            let close = if open == '[' { ']' } else { '}' };
            self.pos += 1;
            let mut items = Vec::new();
            let mut members = Vec::new();
            loop {
                self.blanks();
                if self.text[self.pos..].starts_with(close) {
                    self.pos += 1;
                    break;
                }
                let item = self.value(depth + 1)?;
                self.blanks();
                if open == '{' {
                    let Value::String(key) = item else {
                        return Err(error(self.number, "a flow mapping key must be a string"));
                    };
                    if !self.text[self.pos..].starts_with(':') {
                        return Err(error(self.number, "expected ':' in a flow mapping"));
                    }
                    self.pos += 1;
                    members.push((key, self.value(depth + 1)?));
                    self.blanks();
                } else {
                    items.push(item);
                }
                match self.text[self.pos..].chars().next() {
                    Some(',') => self.pos += 1,
                    Some(c) if c == close => {}
                    _ => {
                        return Err(error(
                            self.number,
                            "expected ',' or the end of a flow collection",
                        ));
                    }
                }
            }
            return Ok(if open == '[' {
                Value::Array(items)
            } else {
                Value::Object(members)
            });
        }
        if let Some(quote @ ('"' | '\'')) = rest.chars().next() {
            let end = closing_quote(rest, quote)
                .ok_or_else(|| error(self.number, "unterminated quote"))?;
            self.pos += end + 1;
            return unquote(&rest[..=end], self.number).map(Value::String);
        }
        let len = rest.find([',', ']', '}', ':']).unwrap_or(rest.len());
        self.pos += len;
        Ok(plain(rest[..len].trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECTL: &str = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: TFMwdExTMUNSVWRK
    server: https://127.0.0.1:6443
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    namespace: apps   # a comment
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - --region
      - "eu-west-1"
      command: aws
      env:
      - name: AWS_PROFILE
        value: 'it''s'
      installHint: |
        Install the AWS CLI
        from aws.amazon.com.
      provideClusterInfo: true
"#;

    fn s(v: &Value, path: &[&str]) -> Option<String> {
        v.at(path).and_then(Value::as_str).map(str::to_owned)
    }

    #[test]
    fn reads_what_kubectl_writes() {
        let v = parse(KUBECTL).unwrap();
        assert_eq!(s(&v, &["current-context"]).as_deref(), Some("kind-kind"));
        let cluster = &v.get("clusters").unwrap().items()[0];
        assert_eq!(
            s(cluster, &["cluster", "server"]).as_deref(),
            Some("https://127.0.0.1:6443")
        );
        assert_eq!(s(cluster, &["name"]).as_deref(), Some("kind-kind"));
        let context = &v.get("contexts").unwrap().items()[0];
        assert_eq!(
            s(context, &["context", "namespace"]).as_deref(),
            Some("apps")
        );
        assert_eq!(v.get("preferences"), Some(&Value::Object(vec![])));
        let exec = v.get("users").unwrap().items()[0]
            .at(&["user", "exec"])
            .unwrap();
        let args: Vec<_> = exec
            .get("args")
            .unwrap()
            .items()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(args, ["--region", "eu-west-1"]);
        assert_eq!(
            s(&exec.get("env").unwrap().items()[0], &["value"]).as_deref(),
            Some("it's")
        );
        assert_eq!(
            s(exec, &["installHint"]).as_deref(),
            Some("Install the AWS CLI\nfrom aws.amazon.com.\n")
        );
        assert_eq!(s(exec, &["provideClusterInfo"]).as_deref(), Some("true"));
    }

    #[test]
    fn reads_json_too() {
        let v = parse(r#"{"kind": "Config", "clusters": [{"name": "a"}]}"#).unwrap();
        assert_eq!(s(&v, &["kind"]).as_deref(), Some("Config"));
    }

    #[test]
    fn scalars_and_nulls() {
        let v = parse(
            "a:\nb: ~\nc: null\nd: \"x\\ty\"\ne: [a, 'b c', {k: v}]\nf: 'x # not a comment'\n",
        )
        .unwrap();
        assert_eq!(v.get("a"), Some(&Value::Null));
        assert_eq!(v.get("b"), Some(&Value::Null));
        assert_eq!(s(&v, &["d"]).as_deref(), Some("x\ty"));
        assert_eq!(
            parse("g: \"\\u00e9\"").unwrap().get("g").unwrap().as_str(),
            Some("é")
        );
        assert_eq!(v.get("e").unwrap().items().len(), 3);
        assert_eq!(
            s(&v.get("e").unwrap().items()[2], &["k"]).as_deref(),
            Some("v")
        );
        assert_eq!(s(&v, &["f"]).as_deref(), Some("x # not a comment"));
    }

    #[test]
    fn refuses_what_it_does_not_understand_with_the_line() {
        let cases = [
            ("a: &x 1\n", 1, "anchors"),
            ("a: *x\n", 1, "aliases"),
            ("a: !!str 1\n", 1, "tags"),
            ("a: 1\na: 2\n", 2, "duplicate key"),
            ("a:\n\tb: 1\n", 2, "tabs"),
            ("a: 1\n---\nb: 2\n", 2, "several documents"),
            ("a: \"open\n  close\"\n", 1, "unterminated quote"),
            ("a: 1\n   b: 2\n", 2, "unexpected indentation"),
            ("? complex\n", 1, "complex keys"),
            ("a: [1, 2\n", 1, "expected ','"),
            ("a: \"\\u+041\"\n", 1, "invalid \\u escape"),
            ("a: \"\\u41\"\n", 1, "invalid \\u escape"),
        ];
        for (text, line, says) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.reason.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Found by fuzzing: one line of `- ` nests once per item, and the
        // reader recursed until the stack overflowed.
        let deep = format!("{}x", "- ".repeat(30_000));
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("nesting deeper"), "{e}");
        let indented: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&indented).unwrap_err().reason.contains("nesting"));
        let ok = format!("{}x", "- ".repeat(MAX_DEPTH));
        let mut v = &parse(&ok).unwrap();
        for _ in 0..MAX_DEPTH {
            v = &v.items()[0];
        }
        assert_eq!(v.as_str(), Some("x"));
    }

    #[test]
    fn many_keys_are_read_in_linear_time() {
        let text: String = (0..30_000).map(|i| format!("k{i}:\n")).collect();
        let start = std::time::Instant::now();
        assert_eq!(parse(&text).unwrap().members().len(), 30_000);
        // Linear takes ~0.2 s unoptimised, quadratic took ~6 s.
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let twice = format!("{text}k7:\n");
        assert!(parse(&twice).unwrap_err().reason.contains("duplicate key"));
    }

    #[test]
    fn never_panics_on_junk() {
        for junk in [
            "- - -",
            ":",
            "- :",
            "a: [",
            "a: {b",
            "'",
            "\"",
            "a:\n- b\n c",
            "[]]",
            "- a: 1\n  - b",
        ] {
            let _ = parse(junk);
        }
    }
}
