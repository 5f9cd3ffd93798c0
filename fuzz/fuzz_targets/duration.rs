//! `rdy::duration::parse` never panics, and what it accepts formats (as
//! `Human`, the way rdy logs durations) to text it reads back to within the
//! precision `Human` keeps.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rdy::duration::{self, Human};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = duration::parse(text) else {
        return;
    };
    let shown = Human(parsed).to_string();
    let again = duration::parse(&shown)
        .unwrap_or_else(|_| panic!("{text:?} -> {parsed:?} shown as {shown:?}, which is refused"));
    // Human drops sub-millisecond digits above a second (sub-microsecond
    // below one).
    let diff = parsed.abs_diff(again);
    assert!(
        diff < Duration::from_millis(1) && again <= parsed,
        "{text:?} -> {parsed:?} -> {shown:?} -> {again:?}"
    );
});
