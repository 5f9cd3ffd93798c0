//! `kube::client::WatchStream`, which reads the API server's watch
//! responses line by line, never panics on any bytes: each non-blank line
//! is one event or ends the stream as broken, and a stream that ends
//! cleanly gave exactly one event per non-blank line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::kube::client::{StreamEnd, WatchStream};

fuzz_target!(|data: &[u8]| {
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .count();
    let mut stream = WatchStream::new(data);
    let mut events = 0;
    // Every event takes at least one byte.
    for _ in 0..=data.len() {
        match stream.next_event() {
            Ok(event) => {
                events += 1;
                let _ = event.get("type").and_then(rdy::json::Value::as_str);
                let _ = event.at(&["object", "metadata", "resourceVersion"]);
            }
            Err(StreamEnd::Clean) => {
                assert_eq!(events, lines);
                return;
            }
            Err(StreamEnd::Broken(error)) => {
                assert!(events < lines);
                assert!(!error.to_string().is_empty());
                return;
            }
            Err(StreamEnd::Deadline) => panic!("a byte slice never times out"),
        }
    }
    panic!("more events than bytes");
});
