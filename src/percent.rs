//! Percent-encoding (RFC 3986 §2.1) for URL query values: Kubernetes field
//! and label selectors go out encoded, `k8s:` target options come in
//! encoded (`selector=app%3Dweb`), and so do the paths and `?token=` of
//! requests to `rdy serve`.

/// Encodes every byte outside RFC 3986's unreserved set.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space, as in form-encoded queries).
/// `None` for a broken escape or a result that is not UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(escape(bytes, i)?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes the `%XX` escapes that are well formed and keeps every other
/// byte as sent, `+` included (base64 tokens contain it). For request paths
/// and tokens, which are compared as bytes, never refused for their form.
pub fn decode_lenient(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], escape(bytes, i)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The byte of the escape `%XX` at `bytes[i]`: two hex digits exactly
/// (`u8::from_str_radix` alone would also take a sign and read `%+1` as
/// byte 1, as fuzzing found).
fn escape(bytes: &[u8], i: usize) -> Option<u8> {
    let hex = bytes.get(i + 1..i + 3)?;
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(hex[0])? * 16 + digit(hex[1])?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(decode_lenient("s3cr%2Bt%2fx"), b"s3cr+t/x");
        assert_eq!(decode_lenient("a+b%"), b"a+b%");
        assert_eq!(decode_lenient("%zz%4"), b"%zz%4");
        assert_eq!(decode_lenient("%+1%ff"), b"%+1\xff");
    }

    #[test]
    fn round_trips() {
        assert_eq!(encode("metadata.name=web"), "metadata.name%3Dweb");
        assert_eq!(
            encode("kubernetes.io/service-name=a b"),
            "kubernetes.io%2Fservice-name%3Da%20b"
        );
        assert_eq!(
            decode("app%3Dweb%2Ctier%3Dfront").as_deref(),
            Some("app=web,tier=front")
        );
        assert_eq!(decode("a+b").as_deref(), Some("a b"));
        for bad in ["%", "%4", "%zz", "%ff", "%+1", "%-1", "%+a"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
