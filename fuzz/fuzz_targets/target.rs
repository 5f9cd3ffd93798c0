//! `rdy::cli::scheme::parse` never panics, whatever `--type` says; an
//! accepted address has a host, and builds none of its probe's checks
//! into a panic either (typed addresses: a port is 1-65535 by its type).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::cli::scheme::{self, SCHEMES};
use rdy::target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // The first byte picks --type: 0 none, else a row of the scheme table
    // that --type may name.
    let types: Vec<_> = SCHEMES.iter().copied().filter(|d| d.check_type).collect();
    let check_type = match pick as usize % (types.len() + 1) {
        0 => None,
        n => Some(types[n - 1]),
    };
    let _ = target::redacted(text);
    let Ok(address) = scheme::parse(text, check_type) else {
        return;
    };
    assert!(!address.host().is_empty(), "{text:?}");
    assert!(address.def().parse.is_some(), "{text:?}");
});
