//! `grpc::health::response` reads any bytes as a framed HealthCheckResponse:
//! a result, never a panic; a request rdy frames is one well-formed message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdy::probe::grpc::health;

fuzz_target!(|data: &[u8]| {
    let _ = health::response(data);
    if let Ok(service) = std::str::from_utf8(data) {
        let request = health::request(service);
        let len = u32::from_be_bytes([request[1], request[2], request[3], request[4]]);
        assert_eq!(len as usize, request.len() - 5);
    }
});
