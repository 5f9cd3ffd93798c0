//! PostgreSQL: `parse_message` never panics on whatever a server sends, never
//! claims more bytes than it was given, and reads back an `ErrorResponse`
//! built from fuzzed fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::postgres::wire::{self, Message};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, used))) = wire::parse_message(data) {
        assert!((5..=data.len()).contains(&used), "used {used} of {}", data.len());
    }
    // Round trip: the input without NULs, split into a code and a message.
    let text = String::from_utf8_lossy(data).replace('\0', "");
    let split = text.char_indices().nth(5).map_or(text.len(), |(i, _)| i);
    let (code, message) = text.split_at(split);
    let mut body = Vec::new();
    for (kind, value) in [(b'C', code), (b'M', message)] {
        body.push(kind);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut frame = vec![b'E'];
    frame.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    if frame.len() - 1 > wire::MAX_MESSAGE {
        return;
    }
    match wire::parse_message(&frame) {
        Ok(Some((Message::Error(fields), used))) => {
            assert_eq!(used, frame.len());
            assert_eq!((fields.code.as_str(), fields.message.as_str()), (code, message));
        }
        other => panic!("{other:?}"),
    }
    let startup = wire::startup_message(code, Some(message));
    assert_eq!(&startup[..4], &(startup.len() as u32).to_be_bytes());
});
