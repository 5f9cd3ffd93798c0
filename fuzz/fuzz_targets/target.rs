//! `rdy::target::parse` never panics, whatever `--type` says; an accepted
//! address has a host and, except for ICMP and DNS, a port; a database
//! target only the query parameters its scheme takes.
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
    let check_type = match pick % 9 {
        0 => None,
        1 => Some(Scheme::Tcp),
        2 => Some(Scheme::Http),
        3 => Some(Scheme::Https),
        4 => Some(Scheme::Icmp),
        5 => Some(Scheme::Postgres),
        6 => Some(Scheme::Mysql),
        7 => Some(Scheme::Redis),
        _ => Some(Scheme::Rediss),
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
        // Database targets: a port, and only parameters the scheme takes,
        // each once, non-empty and without NUL.
        Scheme::Postgres | Scheme::Mysql | Scheme::Redis | Scheme::Rediss => {
            let (accepted, _, _) = target::params_of(address.scheme);
            assert!(matches!(address.port, Some(p) if p > 0), "{text:?}");
            for (i, (name, value)) in address.params.iter().enumerate() {
                assert!(accepted.contains(&name.as_str()), "{text:?}");
                assert!(!value.is_empty() && !value.contains('\0'), "{text:?}");
                assert!(address.params[..i].iter().all(|(n, _)| n != name), "{text:?}");
            }
        }
    }
    let _ = target::infer_name(&address);
});
