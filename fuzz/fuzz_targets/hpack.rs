//! `grpc::hpack::Decoder::decode` over a sequence of header blocks sharing
//! one dynamic table, and `huffman::decode`: results, never panics; a
//! decoded list stays within `LIST_LIMIT`; a literal rdy encodes decodes
//! back to the same field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::grpc::{huffman, hpack};

fuzz_target!(|data: &[u8]| {
    let mut decoder = hpack::Decoder::default();
    // Blocks are separated by 0xff 0x00 (an unlikely pair inside one).
    for block in data.split(|&b| b == 0xff).filter(|b| !b.is_empty()) {
        if let Ok(fields) = decoder.decode(block) {
            let size: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
            assert!(size <= hpack::LIST_LIMIT);
        }
    }
    let mut out = Vec::new();
    let _ = huffman::decode(data, &mut out);
    if let Ok(text) = std::str::from_utf8(data)
        && let Some((name, value)) = text.split_once('\n')
        && name.len() + value.len() + 32 <= hpack::LIST_LIMIT
    {
        let mut block = Vec::new();
        hpack::encode_literal(&mut block, name, value);
        let fields = hpack::Decoder::default().decode(&block).expect("own literal");
        assert_eq!(fields, vec![(name.as_bytes().to_vec(), value.as_bytes().to_vec())]);
    }
});
