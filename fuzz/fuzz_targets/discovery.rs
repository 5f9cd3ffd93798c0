//! `rdy::kube::discovery::parse` (an aggregated discovery document, after
//! `rdy::json::parse`) never panics; every resource it returns has a name
//! and a version, its collection path is under `/api` or `/apis`, and
//! `find` with any name (the text before the first NUL) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json;
use rdy::kube::discovery;

fuzz_target!(|data: &[u8]| {
    let (name, document) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"widget.example.com"[..], data),
    };
    let Ok(document) = json::parse(document) else {
        return;
    };
    let Ok(table) = discovery::parse(&document) else {
        return;
    };
    for resource in &table {
        assert!(!resource.plural.is_empty() && !resource.version.is_empty());
        assert!(resource.collection("ns").starts_with("/api"));
    }
    let _ = discovery::find(&table, &String::from_utf8_lossy(name));
});
