//! `rdy::kube::yaml::parse` (the kubeconfig reader) never panics; input
//! that starts with `{` goes to the JSON reader and must give its tree.
//! The shape check of a parsed kubeconfig never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = rdy::kube::yaml::parse(text);
    if let Ok(doc) = &parsed {
        let _ = rdy::kube::config::check_shape(doc, text);
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim_start().starts_with('{') {
        assert_eq!(parsed.ok(), rdy::json::parse(body.as_bytes()).ok());
    }
});
