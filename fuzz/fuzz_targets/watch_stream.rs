//! `kube::client::WatchStream`, which reads the API server's watch
//! responses as a stream of JSON documents, never panics on any bytes:
//! every event's kept object is JSON (save what its strings hold), and a stream ends cleanly, as broken,
//! or never more often than it has bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json::stream::Keep;
use rdy::kube::client::{StreamEnd, WatchStream};

const KEEP: Keep = Keep::Only(&[
    ("metadata", Keep::Only(&[("name", Keep::All), ("resourceVersion", Keep::All)])),
    ("status", Keep::All),
]);

/// What the stream does not check inside strings.
const STRING_CONTENT: &[&str] = &["UTF-8", "a low surrogate", "a high surrogate first", "a Unicode scalar value"];

fuzz_target!(|data: &[u8]| {
    let mut stream = WatchStream::new(data);
    // Every event takes at least one byte.
    for _ in 0..=data.len() {
        match stream.next_event(&KEEP) {
            Ok(event) => {
                // The stream leaves what strings hold (UTF-8, surrogate
                // pairs) to the parser of what it kept, which the reflector
                // calls on every event.
                match rdy::json::parse(&event.object) {
                    Ok(object) => drop(object.at(&["metadata", "resourceVersion"])),
                    Err(e) => assert!(STRING_CONTENT.contains(&e.reason), "kept objects are JSON: {e}"),
                }
            }
            Err(StreamEnd::Clean) => return,
            Err(StreamEnd::Broken(error)) => {
                assert!(!error.to_string().is_empty());
                return;
            }
            Err(StreamEnd::Deadline) => panic!("a byte slice never times out"),
        }
    }
    panic!("more events than bytes");
});
