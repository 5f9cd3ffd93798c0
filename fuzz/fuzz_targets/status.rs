//! `StatusSet::parse` never panics; an accepted set answers `contains` for
//! every u16 without panicking and only for codes 100-599.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::http::status::StatusSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = StatusSet::parse(text) else {
        return;
    };
    for code in (0..=u16::MAX).step_by(7).chain(95..=605) {
        if set.contains(code) {
            assert!((100..=599).contains(&code), "{text:?} contains {code}");
        }
    }
    assert_eq!(set.to_string(), text.trim());
});
