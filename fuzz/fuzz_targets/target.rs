//! `rdy::target::parse` never panics, whatever `--type` says; an accepted
//! address has a host and, except for ICMP and DNS, a port.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::target::{self, Scheme};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let check_type = match pick % 5 {
        0 => None,
        1 => Some(Scheme::Tcp),
        2 => Some(Scheme::Http),
        3 => Some(Scheme::Https),
        _ => Some(Scheme::Icmp),
    };
    let _ = target::redacted(text);
    let Ok(address) = target::parse(text, check_type) else {
        return;
    };
    assert!(!address.host.is_empty(), "{text:?}");
    match address.scheme {
        Scheme::Icmp | Scheme::Dns => assert_eq!(address.port, None),
        Scheme::Tcp | Scheme::Grpc | Scheme::Grpcs => assert!(matches!(address.port, Some(p) if p > 0), "{text:?}"),
        Scheme::Http | Scheme::Https => {
            assert!(address.port.is_some() && address.uri.is_some(), "{text:?}")
        }
    }
    let _ = target::infer_name(&address);
});
