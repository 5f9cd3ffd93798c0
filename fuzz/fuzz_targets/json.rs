//! `rdy::json::parse` never panics, and on small UTF-8 inputs it agrees with
//! serde_json: both accept or both refuse, with the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json::{self, Value};

/// Differential checks only on inputs this small: serde_json is the slow
/// half, and nothing interesting needs more.
const DIFF_MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let ours = json::parse(data);
    if data.len() > DIFF_MAX || std::str::from_utf8(data).is_err() {
        return;
    }
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => assert_eq!(
            to_serde(&ours),
            theirs,
            "different trees for {:?}",
            String::from_utf8_lossy(data)
        ),
        (Err(e), Ok(_)) if e.reason == "less nesting" => {}
        (Ok(_), Err(e)) if e.to_string().contains("recursion limit") => {}
        // RFC 8259 §6 lets a parser limit the range of numbers; rdy keeps
        // their text, serde_json refuses what overflows an f64.
        (Ok(_), Err(e)) if e.to_string().contains("number out of range") => {}
        (Err(_), Err(_)) => {}
        (ours, theirs) => panic!(
            "rdy and serde_json disagree on {:?}: rdy {:?}, serde_json {:?}",
            String::from_utf8_lossy(data),
            ours.map(|_| ()),
            theirs.map(|_| ())
        ),
    }
});

/// rdy's tree as serde_json builds it: numbers through serde_json's own
/// number parser, duplicate members last-wins (serde_json's map).
fn to_serde(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(text) => serde_json::from_str(text).expect("rdy's number text is JSON"),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(members) => {
            let mut map = serde_json::Map::new();
            for (key, value) in members {
                map.insert(key.clone(), to_serde(value));
            }
            serde_json::Value::Object(map)
        }
    }
}
