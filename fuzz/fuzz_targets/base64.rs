//! `rdy::base64::decode` never panics, decodes what `encode` wrote, and
//! what it decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::base64;

fuzz_target!(|data: &[u8]| {
    let encoded = base64::encode(data);
    assert_eq!(base64::decode(&encoded).as_deref(), Ok(data));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = base64::decode(text) {
        assert_eq!(base64::decode(&base64::encode(&decoded)), Ok(decoded));
    }
});
