//! `rdy::kube::expect::parse` (`--for` expressions, with the JSONPath
//! subset of `rdy::kube::jsonpath`), `parse_path` (`--body-json`) and
//! `parse_final` (`--failed-if`) never panic; an accepted expression judges
//! any object (the bytes after the first NUL, when they are JSON) without
//! panicking, and so does every row of the rule table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json;
use rdy::kube::expect;
use rdy::kube::rules::table;

fuzz_target!(|data: &[u8]| {
    let (expr, object) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else {
        return;
    };
    let _ = rdy::kube::jsonpath::parse(expr);
    let _ = expect::parse_final(expr);
    let Ok(object) = json::parse(object) else {
        return;
    };
    if let Ok(body) = expect::parse_path(expr) {
        let _ = body.holds(Some(&object), true);
    }
    for rule in table::RULES {
        let _ = table::judge(rule, "it", &object);
    }
    let Ok(parsed) = expect::parse(expr) else {
        return;
    };
    let expects = [parsed];
    for reveal in [true, false] {
        let _ = expect::judge("widget/a", &expects, &[&object], reveal);
        let _ = expect::judge("widget/a", &expects, &[], reveal);
    }
});
