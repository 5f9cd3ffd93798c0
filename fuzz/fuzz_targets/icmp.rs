//! ICMP: `parse_reply` never panics on whatever a socket hands back, and a
//! reply built from `encode_request` reads back as the same echo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::icmp::packet::{self, Echo, Family};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let family = if flags & 1 == 0 {
        Family::V4
    } else {
        Family::V6
    };
    let ip_header = flags & 2 != 0;
    let _ = packet::parse_reply(rest, family, ip_header);

    // Round trip: the first four bytes are ident and seq, the rest payload.
    if rest.len() < 4 {
        return;
    }
    let echo = Echo {
        ident: u16::from_be_bytes([rest[0], rest[1]]),
        seq: u16::from_be_bytes([rest[2], rest[3]]),
        payload: &rest[4..],
    };
    let mut reply = packet::encode_request(family, &echo);
    if family == Family::V4 {
        assert_eq!(packet::checksum(&reply), 0, "a request must verify");
    }
    // What the peer sends back: the reply type, the checksum redone.
    reply[0] = if family == Family::V4 { 0 } else { 129 };
    if family == Family::V4 {
        reply[2..4].copy_from_slice(&[0, 0]);
        let sum = packet::checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    assert_eq!(packet::parse_reply(&reply, family, false), Ok(echo));
    if family == Family::V4 {
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip.extend_from_slice(&reply);
        assert_eq!(packet::parse_reply(&ip, family, true), Ok(echo));
    }
});
