//! A server that takes its time (issue 13 item 10): rdy waits for a
//! response in shrinking pieces, so that the kernel's coarse timer for long
//! socket timeouts cannot hold a wait past its deadline (measured by
//! bench/stall.py). A response slower than several pieces is still read.

mod common;

use std::time::Duration;

use common::Rdy;
use common::net::{HttpServer, Reply};

#[test]
fn a_response_slower_than_several_read_pieces_is_still_read() {
    // 3 s are read as 2.67 s, then 0.3 s: the answer comes in the second.
    let slow = HttpServer::start(|_| {
        std::thread::sleep(Duration::from_millis(2750));
        Reply::status(200)
    });
    Rdy::new(&["check", "--dial-timeout", "3s", &slow.url("/")])
        .run()
        .expect(0, "is ready ✓");
}
