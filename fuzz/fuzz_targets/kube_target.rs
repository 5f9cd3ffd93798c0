//! `rdy::kube::target::parse` (what follows `k8s:`) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let hostname = (pick & 1 == 1).then_some("web-7c5ddbdf54-x2k9p");
    if let Ok(object) = rdy::kube::target::parse(text, hostname) {
        assert!(object.min > 0, "{text:?}");
        let _ = object.display();
    }
});
