//! `forward::rewrite_head` never panics on any buffer, length, origin or
//! credentials, and never claims more bytes than the buffer holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::transport::forward::rewrite_head;

fuzz_target!(|data: &[u8]| {
    // [len_hi, len_lo, spare, flags] origin \0 credentials \0 head
    let Some((head, rest)) = data.split_at_checked(4) else {
        return;
    };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (Some(origin), Some(credentials), Some(request)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(origin), Ok(credentials)) = (
        std::str::from_utf8(origin),
        std::str::from_utf8(credentials),
    ) else {
        return;
    };
    let len = usize::from(u16::from_be_bytes([head[0], head[1]])) % (request.len() + 8);
    let mut buf = request.to_vec();
    buf.resize(request.len() + usize::from(head[2]), 0);
    let credentials = (head[3] & 1 == 1).then_some(credentials);
    if let Some(n) = rewrite_head(&mut buf, len, origin, credentials) {
        assert!(n <= buf.len());
        assert!(n >= len + origin.len());
    }
});
