//! JSON read as a stream, keeping only chosen members: the API server's LIST
//! and WATCH bodies hold whole objects, rdy's rules read a handful of fields
//! (the tables in `kube::fields`). What is kept is written out as compact
//! JSON, so memory grows with what is kept, never with what is sent; what is
//! dropped is scanned (and checked for syntax) without being stored.
//!
//! Two bounds end a value early with [`StreamError::TooLarge`]: the bytes
//! read for it (`raw`) and the cost of what is kept (`cost`, the compact
//! bytes plus [`NODE_COST`] per kept value, about what [`super::parse`]'s
//! tree of it will take). Nesting is limited as in [`super::parse`].

use std::fmt;
use std::io::{self, Read};

use super::{JsonError, MAX_DEPTH};

/// What each kept value is counted for beyond its bytes: a [`super::Value`]
/// slot and its allocation, once the kept JSON is parsed.
pub const NODE_COST: usize = 48;

/// Which members of a value are kept.
#[derive(Debug, PartialEq, Eq)]
pub enum Keep {
    /// The whole value.
    All,
    /// Of an object, these members (each filtered again); of an array, each
    /// item filtered so; a scalar as it is.
    Only(&'static [(&'static str, Keep)]),
}

impl Keep {
    /// What is kept of member `key`; `None` drops it.
    pub fn member(&self, key: &[u8]) -> Option<&Keep> {
        match self {
            Keep::All => Some(&Keep::All),
            Keep::Only(members) => members
                .iter()
                .find(|(k, _)| k.as_bytes() == key)
                .map(|(_, keep)| keep),
        }
    }
}

/// Why a value could not be read.
#[derive(Debug)]
pub enum StreamError {
    /// Reading failed (a timeout, a broken connection).
    Io(io::Error),
    /// The bytes are not JSON.
    Json(JsonError),
    /// More than the bound was read (`raw`) or would be kept.
    TooLarge { raw: bool, limit: usize },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io(e) => write!(f, "reading failed: {e}"),
            StreamError::Json(e) => e.fmt(f),
            StreamError::TooLarge { raw: true, limit } => {
                write!(f, "one value exceeds {} MiB", limit >> 20)
            }
            StreamError::TooLarge { raw: false, limit } => {
                write!(f, "what rdy keeps of it exceeds {} MiB", limit >> 20)
            }
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> StreamError {
        StreamError::Io(e)
    }
}

type Result<T> = std::result::Result<T, StreamError>;

/// Chooses what is kept of an object's members, by name.
pub type Lookup<'k> = &'k dyn Fn(&[u8]) -> Option<&'k Keep>;

/// Keys longer than this are never a table's; they are scanned, not kept.
const MAX_KEY: usize = 256;

/// A byte source read in chunks, counting what it consumed. The reader is
/// a trait object: one copy of the parser in the binary.
pub struct Stream<'r> {
    reader: Box<dyn Read + 'r>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes consumed since the current value started.
    read: usize,
    /// Bytes the current value may take.
    raw_limit: usize,
    /// Cost the current value may keep.
    cost_limit: usize,
    /// Values kept since the current value started.
    nodes: usize,
    /// Bytes consumed in all, for error offsets.
    offset: usize,
}

impl<'r> Stream<'r> {
    /// Reads from `reader`.
    pub fn new(reader: impl Read + 'r) -> Stream<'r> {
        Stream {
            reader: Box::new(reader),
            buf: vec![0; 8192].into_boxed_slice(),
            pos: 0,
            end: 0,
            read: 0,
            raw_limit: usize::MAX,
            cost_limit: usize::MAX,
            nodes: 0,
            offset: 0,
        }
    }

    /// Starts a value that may read `raw` bytes and keep `cost`.
    pub fn limit(&mut self, raw: usize, cost: usize) {
        (self.read, self.raw_limit, self.cost_limit, self.nodes) = (0, raw, cost, 0);
    }

    /// Whether only blanks are left before the end of the input.
    pub fn at_end(&mut self) -> Result<bool> {
        self.skip_blanks()?;
        Ok(self.peek()?.is_none())
    }

    /// Reads one value, writing what `keep` keeps of it to `out`; returns
    /// its cost.
    pub fn value(&mut self, keep: Option<&Keep>, out: &mut Vec<u8>) -> Result<usize> {
        let start = out.len();
        self.filter(keep, out, 0)?;
        Ok(out.len() - start + self.nodes * NODE_COST)
    }

    /// Reads an object, handing each member's name to `member`, which reads
    /// (or skips) the value.
    pub fn members(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.skip_blanks()?;
        if self.peek()? != Some(b'{') {
            return Err(self.syntax("an object"));
        }
        self.bump();
        let mut key = Vec::new();
        let mut first = true;
        loop {
            if !self.next_member(&mut first, b'}')? {
                return Ok(());
            }
            self.key(&mut key)?;
            member(self, &key)?;
        }
    }

    /// Reads an array, calling `item` for each element.
    pub fn items(&mut self, item: &mut dyn FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.skip_blanks()?;
        if self.peek()? != Some(b'[') {
            return self.filter(None, &mut Vec::new(), 0);
        }
        self.bump();
        let mut first = true;
        while self.next_member(&mut first, b']')? {
            item(self)?;
        }
        Ok(())
    }

    /// Reads one object's `"key":` into `key` (its raw bytes, escapes as
    /// written; longer than [`MAX_KEY`] reads as no table's key).
    fn key(&mut self, key: &mut Vec<u8>) -> Result<()> {
        key.clear();
        self.skip_blanks()?;
        if self.peek()? != Some(b'"') {
            return Err(self.syntax("a member name"));
        }
        self.string(key, MAX_KEY)?;
        // Drop the quotes: compared with table names.
        if key.len() >= 2 {
            key.remove(0);
            key.pop();
        }
        self.skip_blanks()?;
        if self.peek()? != Some(b':') {
            return Err(self.syntax("':'"));
        }
        self.bump();
        Ok(())
    }

    /// Before the next member or item: `false` at the closing `close`.
    fn next_member(&mut self, first: &mut bool, close: u8) -> Result<bool> {
        self.skip_blanks()?;
        let at = self.peek()?;
        if at == Some(close) {
            self.bump();
            return Ok(false);
        }
        if !std::mem::take(first) {
            if at != Some(b',') {
                return Err(self.syntax(if close == b'}' {
                    "',' or '}'"
                } else {
                    "',' or ']'"
                }));
            }
            self.bump();
            self.skip_blanks()?;
            if self.peek()? == Some(close) {
                return Err(self.syntax("a value"));
            }
        }
        Ok(true)
    }

    fn filter(&mut self, keep: Option<&Keep>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.syntax("less nesting"));
        }
        self.skip_blanks()?;
        if keep.is_some() {
            self.nodes += 1;
        }
        match self.peek()? {
            Some(b'{') => {
                let keep = keep.map(|k| move |key: &[u8]| k.member(key));
                self.object(keep.as_ref().map(|f| f as Lookup<'_>), out, depth)
            }
            Some(b'[') => self.array(keep, out, depth),
            Some(b'"') => {
                let mut skip = Vec::new();
                match keep {
                    Some(_) => self.string(out, usize::MAX),
                    None => self.string(&mut skip, 0),
                }?;
                self.check_cost(out)
            }
            Some(_) => {
                let mut skip = Vec::new();
                self.scalar(if keep.is_some() { out } else { &mut skip })?;
                self.check_cost(out)
            }
            None => Err(self.syntax("a value")),
        }
    }

    /// An object; `lookup` says what is kept of each member, `None` drops
    /// the whole object.
    pub fn object(
        &mut self,
        lookup: Option<Lookup<'_>>,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<()> {
        self.skip_blanks()?;
        if self.peek()? != Some(b'{') {
            return Err(self.syntax("an object"));
        }
        self.bump();
        if lookup.is_some() {
            out.push(b'{');
        }
        let (mut first, mut wrote) = (true, false);
        let mut key = Vec::new();
        while self.next_member(&mut first, b'}')? {
            self.key(&mut key)?;
            let keep = lookup.and_then(|f| f(&key));
            if keep.is_some() {
                if std::mem::replace(&mut wrote, true) {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(&key);
                out.extend_from_slice(b"\":");
            }
            self.filter(keep, out, depth + 1)?;
        }
        if lookup.is_some() {
            out.push(b'}');
        }
        self.check_cost(out)
    }

    fn array(&mut self, keep: Option<&Keep>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        self.bump();
        if keep.is_some() {
            out.push(b'[');
        }
        let (mut first, mut wrote) = (true, false);
        while self.next_member(&mut first, b']')? {
            if keep.is_some() && std::mem::replace(&mut wrote, true) {
                out.push(b',');
            }
            self.filter(keep, out, depth + 1)?;
        }
        if keep.is_some() {
            out.push(b']');
        }
        self.check_cost(out)
    }

    /// A string, copied with its quotes and escapes as written (checked)
    /// while `out` holds fewer than `cap` bytes.
    fn string(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<()> {
        self.bump();
        push(out, b'"', cap);
        loop {
            let Some(byte) = self.peek()? else {
                return Err(self.syntax("a closing quote"));
            };
            self.bump();
            push(out, byte, cap);
            match byte {
                b'"' => return Ok(()),
                b'\\' => self.escape(out, cap)?,
                0x00..=0x1f => return Err(self.syntax("no control characters in strings")),
                _ => {}
            }
            if out.len() & 0xfff == 0 {
                self.check_cost(out)?;
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<()> {
        let Some(byte) = self.peek()? else {
            return Err(self.syntax("an escape"));
        };
        self.bump();
        push(out, byte, cap);
        match byte {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                for _ in 0..4 {
                    match self.peek()? {
                        Some(d) if d.is_ascii_hexdigit() => {
                            self.bump();
                            push(out, d, cap);
                        }
                        _ => return Err(self.syntax("four hex digits")),
                    }
                }
                Ok(())
            }
            _ => Err(self.syntax("a valid escape")),
        }
    }

    /// A number or literal, copied and checked by [`super::parse`]; its
    /// length is bounded by the value's raw bytes.
    fn scalar(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        while let Some(b) = self.peek()? {
            if !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z') {
                break;
            }
            self.bump();
            out.push(b);
        }
        let text = &out[start..];
        let literal = matches!(text, b"true" | b"false" | b"null");
        let number = text
            .first()
            .is_some_and(|b| matches!(b, b'-' | b'0'..=b'9'))
            && super::parse(text).is_ok();
        if !(literal || number) {
            return Err(self.syntax("a value"));
        }
        Ok(())
    }

    fn check_cost(&self, out: &[u8]) -> Result<()> {
        if out.len() + self.nodes * NODE_COST > self.cost_limit {
            return Err(StreamError::TooLarge {
                raw: false,
                limit: self.cost_limit,
            });
        }
        Ok(())
    }

    fn syntax(&self, reason: &'static str) -> StreamError {
        StreamError::Json(JsonError {
            offset: self.offset,
            reason,
        })
    }

    fn skip_blanks(&mut self) -> Result<()> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek()? {
            self.bump();
        }
        Ok(())
    }

    /// The next byte, reading more when the chunk is used up.
    fn peek(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end {
            if self.read >= self.raw_limit {
                return Err(StreamError::TooLarge {
                    raw: true,
                    limit: self.raw_limit,
                });
            }
            let want = self.buf.len().min(self.raw_limit - self.read);
            self.end = loop {
                match self.reader.read(&mut self.buf[..want]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.pos = 0;
            if self.end == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    fn bump(&mut self) {
        self.pos += 1;
        self.read += 1;
        self.offset += 1;
    }
}

/// Appends while under `cap` (a dropped string still needs scanning).
fn push(out: &mut Vec<u8>, byte: u8, cap: usize) {
    if out.len() < cap {
        out.push(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: Keep = Keep::Only(&[
        ("metadata", Keep::Only(&[("name", Keep::All)])),
        ("status", Keep::All),
    ]);

    fn kept(text: &str, keep: &Keep) -> std::result::Result<String, String> {
        let mut stream = Stream::new(text.as_bytes());
        stream.limit(1 << 20, 1 << 20);
        let mut out = Vec::new();
        stream
            .value(Some(keep), &mut out)
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn keeps_only_the_listed_members() {
        let pod = r#" {"kind":"Pod","metadata":{"uid":"u","name":"web","labels":{"a":"b"}},
            "spec":{"containers":[{"name":"x","image":"y"}]},"status":{"phase":"Running","n":[1, -2.5e3, true, null, "a\"\u00e9"]}} "#;
        let out = kept(pod, &POD).unwrap();
        assert_eq!(
            out,
            r#"{"metadata":{"name":"web"},"status":{"phase":"Running","n":[1,-2.5e3,true,null,"a\"\u00e9"]}}"#
        );
        assert!(super::super::parse(out.as_bytes()).is_ok());
        let list = Keep::Only(&[("items", Keep::Only(&[("name", Keep::All)]))]);
        assert_eq!(
            kept(
                r#"{"items":[{"name":"a","x":1},{"x":2},{"name":"c"}]}"#,
                &list
            )
            .unwrap(),
            r#"{"items":[{"name":"a"},{},{"name":"c"}]}"#
        );
    }

    /// Found by the json_stream fuzz target: numbers over 64 bytes, which
    /// `json::parse` accepts, were refused.
    #[test]
    fn long_numbers_are_numbers() {
        let long = format!("{{\"status\":{}}}", "1".repeat(100));
        assert_eq!(kept(&long, &POD).unwrap(), long);
    }

    #[test]
    fn dropped_members_are_still_checked() {
        for bad in [
            r#"{"spec":{"a":1,}}"#,
            r#"{"spec":[1 2]}"#,
            r#"{"spec":"a"#,
            r#"{"spec":tru}"#,
            r#"{"spec":01}"#,
            r#"{"spec":"\x"}"#,
            r#"{"spec" 1}"#,
            r#"{"spec":1,}"#,
            "{\"spec\":\"a\nb\"}",
        ] {
            assert!(kept(bad, &POD).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_end_a_value_early() {
        let deep = format!("{{\"spec\":{}", "[".repeat(100_000));
        assert_eq!(
            kept(&deep, &POD).unwrap_err(),
            "invalid JSON at byte 136: less nesting"
        );
        let big = format!("{{\"status\":\"{}\"}}", "a".repeat(2 << 20));
        let mut stream = Stream::new(big.as_bytes());
        stream.limit(1 << 20, 4 << 20);
        let error = stream.value(Some(&POD), &mut Vec::new()).unwrap_err();
        assert_eq!(error.to_string(), "one value exceeds 1 MiB");
        let mut stream = Stream::new(big.as_bytes());
        stream.limit(4 << 20, 1 << 20);
        let error = stream.value(Some(&POD), &mut Vec::new()).unwrap_err();
        assert_eq!(error.to_string(), "what rdy keeps of it exceeds 1 MiB");
        // Dropped, the same string costs nothing.
        let mut stream = Stream::new(big.as_bytes());
        stream.limit(4 << 20, 1 << 10);
        let mut out = Vec::new();
        stream.value(Some(&Keep::Only(&[])), &mut out).unwrap();
        assert_eq!(out, b"{}");
    }
}
