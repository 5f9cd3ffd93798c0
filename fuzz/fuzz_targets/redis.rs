//! Redis: `parse_reply` never panics on whatever a server sends, consumes a
//! whole CRLF-ended line within its limit, and reads back a simple string
//! or error it is given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::redis::resp::{self, Reply};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, used))) = resp::parse_reply(data) {
        assert!(used <= data.len().min(resp::MAX_LINE));
        assert!(data[..used].ends_with(b"\r\n"));
    }
    let text: String = String::from_utf8_lossy(data)
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .take(1000)
        .collect();
    let line = format!("-{text}\r\n");
    assert_eq!(
        resp::parse_reply(line.as_bytes()),
        Ok(Some((Reply::Error(text), line.len())))
    );
    let _ = resp::command(&[data]);
});
