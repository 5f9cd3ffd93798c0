//! `header::parse_list` never panics, and what it accepts is sendable: token
//! names, values without CR/LF or other control characters, no body framing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::http::header;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(headers) = header::parse_list(text) else {
        return;
    };
    assert!(!headers.is_empty());
    for h in &headers {
        assert!(header::is_token(&h.name), "{text:?}: name {:?}", h.name);
        assert!(
            !h.value.chars().any(|c| c.is_control() && c != '\t'),
            "{text:?}: value {:?}",
            h.value
        );
        assert!(!h.name.eq_ignore_ascii_case("content-length"));
        assert!(!h.name.eq_ignore_ascii_case("transfer-encoding"));
    }
    let _ = header::check_duplicates(&headers, false);
});
