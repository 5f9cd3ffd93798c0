//! MySQL: packet framing, the greeting and login replies never panic on
//! whatever a server sends, framing never claims more bytes than it was
//! given, and a login built from an accepted greeting frames and reads
//! back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::mysql::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((packet, used))) = wire::parse_packet(data) {
        assert!(used <= data.len() && used == 4 + packet.payload.len());
    }
    let _ = wire::parse_reply(data);
    if let Ok(Ok(handshake)) = wire::parse_greeting(data) {
        let login = wire::login(&handshake, "rdy");
        let framed = wire::packet(1, &login);
        if login.len() <= wire::MAX_PAYLOAD {
            let (packet, used) = wire::parse_packet(&framed).unwrap().unwrap();
            assert_eq!((packet.seq, packet.payload, used), (1, &login[..], framed.len()));
        }
    }
});
