//! `rdy::percent::decode` never panics, agrees with a strict reading of
//! RFC 3986 §2.1 (`%` and exactly two hex digits), and undoes `encode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::percent;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(
        percent::decode(&percent::encode(text)).as_deref(),
        Some(text)
    );
    assert_eq!(percent::decode(text), reference(text), "{text:?}");
});

/// A deliberately plain decoder: `%HH` with two hex digits, `+` as a space.
fn reference(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = (*bytes.get(i + 1)? as char).to_digit(16)?;
                let lo = (*bytes.get(i + 2)? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
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
