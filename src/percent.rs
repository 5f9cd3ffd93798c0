//! Percent-encoding (RFC 3986 §2.1) for URL query values: Kubernetes field
//! and label selectors go out encoded, and `k8s:` target options come in
//! encoded (`selector=app%3Dweb`).

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
                // Two hex digits exactly: `u8::from_str_radix` alone would
                // also take a sign, reading `%+1` as byte 1 (found by
                // fuzzing).
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
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

#[cfg(test)]
mod tests {
    use super::*;

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
