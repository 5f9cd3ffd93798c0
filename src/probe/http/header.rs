//! Request headers as `NAME=VALUE`, one per `--header`, or PortPatrol's comma
//! list in one value (`HTTP_HEADERS=Accept=text/plain,X-Token=abc`).

use std::fmt;

/// What a header may look like; quoted in error messages.
pub const ACCEPTED: &str = "NAME=VALUE, or a comma list of them";

/// One request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// A token per RFC 9110 §5.1.
    pub name: String,
    /// Trimmed field value without control characters.
    pub value: String,
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidHeader {
    /// No `=` between name and value; the name, when what was given
    /// starts with one and goes on (`Authorization: Bearer …`), else empty.
    MissingEquals(String),
    /// The name is not an RFC 9110 token: the token it starts with and the
    /// first character that is not allowed (`None`: the name is empty).
    Name { start: String, bad: Option<char> },
    /// The value contains CR, LF or another control character.
    Value(String),
    /// The header describes a body, and rdy never sends one.
    BodyFraming(String),
    /// The same name twice without `--allow-duplicate-headers`.
    Duplicate(String),
}

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The value may be a secret (a token): never part of a line.
            InvalidHeader::MissingEquals(n) if n.is_empty() => {
                write!(f, "expected {ACCEPTED} (the value is not shown)")
            }
            InvalidHeader::MissingEquals(n) => write!(
                f,
                "header {n:?}: expected {ACCEPTED}, with = after the name \
                 (the value is not shown)"
            ),
            InvalidHeader::Name { bad: None, .. } => {
                write!(f, "a header has no name; expected {ACCEPTED}")
            }
            InvalidHeader::Name {
                start,
                bad: Some(bad),
            } => write!(
                f,
                "header name {start:?} is followed by {bad:?}, which a name may not \
                 contain (letters, digits and !#$%&'*+-.^_`|~); expected {ACCEPTED}"
            ),
            InvalidHeader::Value(n) => {
                write!(f, "value of header {n:?} contains a control character")
            }
            InvalidHeader::BodyFraming(n) => {
                write!(f, "header {n:?} cannot be set: rdy sends no request body")
            }
            InvalidHeader::Duplicate(n) => write!(
                f,
                "header {n:?} is given twice; pass --allow-duplicate-headers \
                 (HTTP_ALLOW_DUPLICATE_HEADERS=true) to send both"
            ),
        }
    }
}

/// Parses one header or a comma list of them.
///
/// A comma starts a new header only when the text after it begins with
/// `NAME=`; otherwise it belongs to the previous value. So
/// `Accept=text/html,application/json;q=0.9` stays one header, which
/// PortPatrol's plain split would have rejected.
pub fn parse_list(text: &str) -> Result<Vec<Header>, InvalidHeader> {
    let mut headers: Vec<Header> = Vec::new();
    for piece in text.split(',') {
        match (split_pair(piece), headers.last_mut()) {
            (Some((name, value)), _) => headers.push(Header {
                name: name.to_owned(),
                value: value.to_owned(),
            }),
            (None, Some(previous)) => {
                previous.value.push(',');
                previous.value.push_str(piece.trim_end());
            }
            (None, None) => return Err(first_piece_error(piece)),
        }
    }
    for header in &headers {
        validate(header)?;
    }
    Ok(headers)
}

/// `NAME=VALUE` with a token name, trimmed.
fn split_pair(piece: &str) -> Option<(&str, &str)> {
    let (name, value) = piece.split_once('=')?;
    let name = name.trim();
    is_token(name).then(|| (name, value.trim()))
}

/// Why the first piece is no header, naming no more of it than the token
/// it starts with, and that only when something follows (a piece that is
/// one token may be a bare secret).
fn first_piece_error(piece: &str) -> InvalidHeader {
    let text = piece.trim();
    let end = text.find(|c: char| !is_tchar(c));
    let start = |end: usize| text[..end].chars().take(64).collect::<String>();
    match (text.contains('='), end) {
        (true, Some(end)) => InvalidHeader::Name {
            start: start(end),
            bad: text[end..].chars().next().filter(|&c| c != '='),
        },
        (true, None) => InvalidHeader::Name {
            start: String::new(),
            bad: None,
        },
        (false, Some(end)) => InvalidHeader::MissingEquals(start(end)),
        (false, None) => InvalidHeader::MissingEquals(String::new()),
    }
}

fn validate(header: &Header) -> Result<(), InvalidHeader> {
    // RFC 9110 §5.5: field values are VCHAR, SP, HTAB and obs-text.
    if header.value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(InvalidHeader::Value(header.name.clone()));
    }
    let lower = header.name.to_ascii_lowercase();
    if lower == "content-length" || lower == "transfer-encoding" {
        return Err(InvalidHeader::BodyFraming(header.name.clone()));
    }
    Ok(())
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_tchar)
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Refuses a name given twice (case-insensitively) unless duplicates are
/// allowed, as PortPatrol does.
pub fn check_duplicates(headers: &[Header], allow: bool) -> Result<(), InvalidHeader> {
    if allow {
        return Ok(());
    }
    for (i, header) in headers.iter().enumerate() {
        if headers[..i]
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(&header.name))
        {
            return Err(InvalidHeader::Duplicate(header.name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_list(text)
            .unwrap()
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect()
    }

    fn pair(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn seed_comma_lists() {
        assert_eq!(
            pairs("Content-Type=application/json, Accept = text/plain"),
            vec![
                pair("Content-Type", "application/json"),
                pair("Accept", "text/plain")
            ]
        );
        assert_eq!(
            pairs("Authorization=Bearer a=b"),
            vec![pair("Authorization", "Bearer a=b")]
        );
        assert_eq!(pairs("X-Empty="), vec![pair("X-Empty", "")]);
    }

    #[test]
    fn commas_inside_values_continue_the_value() {
        assert_eq!(
            pairs("Accept=text/html,application/json;q=0.9,X-A=1"),
            vec![
                pair("Accept", "text/html,application/json;q=0.9"),
                pair("X-A", "1")
            ]
        );
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(
            parse_list("novalue"),
            Err(InvalidHeader::MissingEquals(String::new()))
        );
        assert_eq!(
            parse_list("Authorization: Bearer s3cret"),
            Err(InvalidHeader::MissingEquals("Authorization".into()))
        );
        assert_eq!(
            parse_list("bad name=1"),
            Err(InvalidHeader::Name {
                start: "bad".into(),
                bad: Some(' ')
            })
        );
        assert_eq!(
            parse_list("=1"),
            Err(InvalidHeader::Name {
                start: String::new(),
                bad: None
            })
        );
        assert_eq!(parse_list("X=a\rb"), Err(InvalidHeader::Value("X".into())));
        assert_eq!(
            parse_list("Content-Length=5"),
            Err(InvalidHeader::BodyFraming("Content-Length".into()))
        );
    }

    #[test]
    fn a_refused_header_never_shows_its_value() {
        for given in [
            "Authorization: Bearer s3cret",
            "Authorization: Bearer s3cret=",
            "Authorization Bearer=s3cret",
            "s3cret",
            "X=s3\u{1}cret",
        ] {
            let e = parse_list(given).unwrap_err().to_string();
            assert!(!e.contains("s3"), "{given}: {e}");
        }
    }

    #[test]
    fn duplicates_need_permission() {
        let h = parse_list("X-A=1,x-a=2").unwrap();
        assert_eq!(
            check_duplicates(&h, false),
            Err(InvalidHeader::Duplicate("x-a".into()))
        );
        assert_eq!(check_duplicates(&h, true), Ok(()));
    }
}
