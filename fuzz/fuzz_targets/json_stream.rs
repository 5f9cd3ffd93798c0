//! `rdy::json::stream`, the filter that LIST and WATCH bodies go through,
//! never panics and agrees with `rdy::json::parse`: kept whole, a document
//! it accepts is the same tree; filtered, what it keeps is JSON; and it
//! refuses every document the parser refuses (save trailing bytes, which a
//! stream leaves for the next value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json::stream::{Keep, Stream};
use rdy::json::{self, Value};

const SOME: Keep = Keep::Only(&[
    ("metadata", Keep::Only(&[("name", Keep::All)])),
    ("items", Keep::Only(&[("status", Keep::All), ("a", Keep::All)])),
    ("status", Keep::All),
]);

fuzz_target!(|data: &[u8]| {
    let whole = filtered(data, &Keep::All);
    let some = filtered(data, &SOME);
    match json::parse(data) {
        Ok(tree) => {
            let (whole, _) = whole.expect("a document the parser accepts is streamed");
            assert_eq!(json::parse(&whole).ok(), Some(tree));
            let (some, _) = some.expect("and filtered");
            let kept: Value = json::parse(&some).expect("what is kept is JSON");
            let _ = kept.get("status");
        }
        // A stream reads one value and leaves what follows; it leaves
        // what strings hold (UTF-8, surrogate pairs) to the parser of what
        // it kept.
        Err(_) => {
            if let Ok((whole, at_end)) = whole {
                assert!(!at_end || json::parse(&whole).is_err());
            }
        }
    }
});

/// What `keep` keeps of the first value, and whether only blanks follow.
fn filtered(data: &[u8], keep: &Keep) -> Result<(Vec<u8>, bool), String> {
    let mut stream = Stream::new(data);
    stream.limit(1 << 20, 1 << 20);
    let mut out = Vec::new();
    stream.value(Some(keep), &mut out).map_err(|e| e.to_string())?;
    let at_end = stream.at_end().unwrap_or(false);
    Ok((out, at_end))
}
