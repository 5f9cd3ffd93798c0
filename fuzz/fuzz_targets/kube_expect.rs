//! `rdy::kube::expect::parse` (`--for` expressions, with the JSONPath
//! subset of `rdy::kube::jsonpath`) never panics; an accepted expression
//! judges any object (the bytes after the first NUL, when they are JSON)
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json;
use rdy::kube::expect;

fuzz_target!(|data: &[u8]| {
    let (expr, object) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else {
        return;
    };
    let _ = rdy::kube::jsonpath::parse(expr);
    let Ok(parsed) = expect::parse(expr) else {
        return;
    };
    let Ok(object) = json::parse(object) else {
        return;
    };
    let expects = [parsed];
    for reveal in [true, false] {
        let _ = expect::judge("widget/a", &expects, &[&object], reveal);
        let _ = expect::judge("widget/a", &expects, &[], reveal);
    }
});
