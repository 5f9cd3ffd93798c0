//! `serve::request::parse`, which reads every byte a client of `rdy serve`
//! sends, never panics, and what it decides is consistent: a complete head
//! lies within the buffer and the 8 KiB limit, ends in CRLF CRLF, has no
//! bare LF, and parses the same on its own; "more bytes" is only said below
//! the limit; a refusal is a 400 or 431 with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::serve::request::{self, MAX_HEAD, Parse};

fn bare_lf(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
}

fuzz_target!(|data: &[u8]| {
    match request::parse(data) {
        Parse::Complete(head, len) => {
            assert!(len <= data.len() && len <= MAX_HEAD, "{len}");
            let bytes = &data[..len];
            assert!(bytes.ends_with(b"\r\n\r\n"), "{bytes:?}");
            assert!(!bare_lf(bytes), "{bytes:?}");
            let _ = (head.param("token"), head.param(""));
            match request::parse(bytes) {
                Parse::Complete(_, again) => assert_eq!(again, len),
                other => panic!("the head alone: {other:?}"),
            }
        }
        Parse::Partial => assert!(data.len() < MAX_HEAD),
        Parse::Bad(malformed) => {
            assert!(matches!(malformed.status(), 400 | 431));
            assert!(!malformed.to_string().is_empty());
        }
    }
});
