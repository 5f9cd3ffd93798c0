//! rdy: is my dependency ready?
//!
//! One static binary in three roles: `rdy wait` gates an application's start
//! on TCP, HTTP(S) and ICMP targets, `rdy check` answers an exec readiness
//! probe with one attempt, and `rdy serve` reports the same over HTTP.
//! `docs/design.md` is the contract these modules implement.

pub mod base64;
pub mod cli;
pub mod duration;
pub mod exec;
pub mod footprint;
pub mod hooks;
pub mod json;
pub mod kube;
pub mod log;
pub mod os_error;
pub mod percent;
pub mod probe;
pub mod resolve;
pub mod secret_file;
pub mod serve;
pub mod signal;
pub mod supervise;
pub mod target;
pub mod termination;
pub mod timestamp;
pub mod transport;
pub mod wait;
