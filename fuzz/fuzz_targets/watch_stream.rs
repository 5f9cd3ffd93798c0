//! `kube::client::WatchStream`, which reads the API server's watch
//! responses as a stream of JSON documents, never panics on any bytes:
//! every event's kept object is JSON, and a stream ends cleanly, as broken,
//! or never more often than it has bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::json::stream::Keep;
use rdy::kube::client::{StreamEnd, WatchStream};

const KEEP: Keep = Keep::Only(&[
    ("metadata", Keep::Only(&[("name", Keep::All), ("resourceVersion", Keep::All)])),
    ("status", Keep::All),
]);

fuzz_target!(|data: &[u8]| {
    let mut stream = WatchStream::new(data);
    // Every event takes at least one byte.
    for _ in 0..=data.len() {
        match stream.next_event(&KEEP) {
            Ok(event) => {
                let object = rdy::json::parse(&event.object).expect("kept objects are JSON");
                let _ = object.at(&["metadata", "resourceVersion"]);
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
