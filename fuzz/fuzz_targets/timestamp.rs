//! `rdy::timestamp::parse` never panics, and reads back what `Timestamp`
//! writes (millisecond precision, years 1970-9999).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use rdy::timestamp::{self, Timestamp};

/// 9999-12-31T23:59:59Z.
const LAST_SECOND: u64 = 253_402_300_799;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = timestamp::parse(text);
    }
    let Some(head) = data.get(..12) else {
        return;
    };
    let secs = u64::from_le_bytes(head[..8].try_into().unwrap()) % (LAST_SECOND + 1);
    let millis = u32::from_le_bytes(head[8..].try_into().unwrap()) % 1000;
    let t = UNIX_EPOCH + Duration::new(secs, millis * 1_000_000);
    let written = Timestamp(t).to_string();
    assert_eq!(timestamp::parse(&written), Some(t), "{written}");
});
