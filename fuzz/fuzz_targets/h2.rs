//! `grpc::h2::exchange` reads any byte stream as the server's side of an
//! HTTP/2 connection: a result, never a panic, and what it keeps stays
//! within the bounds (header lists, body) whatever the frames claim.
#![no_main]

use std::io::{self, Read, Write};

use libfuzzer_sys::fuzz_target;
use rdy::probe::grpc::{h2, health, hpack};

/// The server: reads come from the fuzzer's bytes, writes are counted.
struct Server<'a> {
    input: &'a [u8],
    written: usize,
}

impl Read for Server<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Server<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let block = h2::grpc_headers(false, "localhost:50051", health::PATH);
    let first = h2::request(&block, &health::request("shop.Cart"));
    let mut server = Server {
        input: data,
        written: 0,
    };
    if let Ok(response) = h2::exchange(&mut server, &first) {
        let size = |fields: &[hpack::Field]| -> usize {
            fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
        };
        assert!(size(&response.headers) <= hpack::LIST_LIMIT);
        assert!(size(&response.trailers) <= hpack::LIST_LIMIT);
        assert!(response.body.len() <= 64 * 1024);
        let _ = health::response(&response.body);
    }
    assert!(server.written >= first.len());
});
