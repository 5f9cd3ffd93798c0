//! `dns::message::parse` reads any bytes as the answer to a query rdy built
//! (the name and type chosen by the fuzzer too): a result, never a panic;
//! it counts no more records than the header announces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::dns::message::{self, TYPES};

fuzz_target!(|data: &[u8]| {
    // [type, name length] name answer
    let Some((&[pick, len], rest)) = data.split_first_chunk::<2>().map(|(h, r)| (h, r)) else {
        return;
    };
    let Some((name, answer)) = rest.split_at_checked(usize::from(len)) else {
        return;
    };
    let Ok(name) = std::str::from_utf8(name) else {
        return;
    };
    let Some(qname) = message::encode_name(name) else {
        return;
    };
    let qtype = TYPES[usize::from(pick) % TYPES.len()];
    let id = u16::from_be_bytes([pick, len]);
    let query = message::query(id, &qname, qtype);
    // The fuzzed answer, with our ID and question in front half the time.
    let mut msg = answer.to_vec();
    if pick & 0x80 != 0 && msg.len() >= 12 {
        msg.splice(12..12, query[12..].iter().copied());
        msg[..2].copy_from_slice(&query[..2]);
    }
    if let Ok(parsed) = message::parse(&msg, &query) {
        let announced = usize::from(u16::from_be_bytes([msg[6], msg[7]]));
        assert_eq!(parsed.matching + parsed.other, announced);
    }
});
