//! Base64 with the standard alphabet and padding (RFC 4648 §4): proxy
//! credentials (`Proxy-Authorization: Basic`) and kubeconfig `*-data` fields.
//! Twenty lines by hand instead of another dependency.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `data` with padding.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The input is not base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBase64;

/// Decodes padded or unpadded base64; ASCII whitespace (line breaks in
/// YAML block scalars) is skipped.
pub fn decode(text: &str) -> Result<Vec<u8>, InvalidBase64> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for byte in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if byte == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err(InvalidBase64);
        }
        let value = ALPHABET
            .iter()
            .position(|&a| a == byte)
            .ok_or(InvalidBase64)? as u32;
        acc = acc << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be the zero padding of the last symbol, and at most
    // two `=` may follow: a lone symbol (6 bits) encodes nothing.
    if bits >= 6 || acc != 0 || padding > 2 {
        return Err(InvalidBase64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
            assert_eq!(
                decode(encoded.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
        }
    }

    #[test]
    fn skips_line_breaks_and_refuses_garbage() {
        assert_eq!(decode("Zm9v\nYmFy\n").unwrap(), b"foobar");
        for bad in ["Zm9v!", "Z", "Zm=9", "Zh==", "Zm9vY===", "Zm9vYg==="] {
            assert_eq!(decode(bad), Err(InvalidBase64), "{bad}");
        }
    }
}
