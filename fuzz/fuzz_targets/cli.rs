//! `rdy::cli::parse` never panics on any argument vector and environment.
//!
//! The input is split at NUL bytes. A piece starting with 0x01 sets an
//! environment variable: its next byte picks the name from `VARS`, the rest
//! is the value. Every other piece is an argument (any bytes, as on Unix).
//!
//! cli::parse does no network activity but may read files, so the fuzzer
//! keeps it away from them: `--ca-file`/`--kubeconfig`/`--token-file`
//! arguments are dropped, and the environment never has `RDY_CA_FILE`, `RDY_KUBECONFIG`,
//! `SSL_CERT_FILE`, `KUBECONFIG`, `HOME` or `KUBERNETES_SERVICE_*`, so a
//! `k8s:` target fails to find a configuration and is a plain error.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use rdy::cli::{self, Command};

/// The variables the fuzzer may set.
const VARS: &[&str] = &[
    "TARGET_ADDRESS",
    "TARGET_NAME",
    "TARGET_CHECK_TYPE",
    "CHECK_INTERVAL",
    "DIAL_TIMEOUT",
    "HTTP_METHOD",
    "HTTP_HEADERS",
    "HTTP_ALLOW_DUPLICATE_HEADERS",
    "HTTP_EXPECTED_STATUS_CODES",
    "HTTP_SKIP_TLS_VERIFY",
    "ICMP_READ_TIMEOUT",
    "LOG_EXTRA_FIELDS",
    "RDY_BODY_CONTAINS",
    "RDY_CONTEXT",
    "RDY_FOLLOW_REDIRECTS",
    "RDY_LOG_FORMAT",
    "RDY_QUIET",
    "RDY_SUPERVISE",
    "RDY_THEN_POST",
    "RDY_TIMEOUT",
    "WAIT_BEFORE",
    "WAIT_AFTER",
    "WAIT_HOSTS",
    "WAIT_PATHS",
    "WAIT_TIMEOUT",
    "WAIT_HOSTS_TIMEOUT",
    "WAIT_BEFORE_HOSTS",
    "WAIT_AFTER_HOSTS",
    "WAIT_SLEEP_INTERVAL",
    "WAIT_HOST_CONNECT_TIMEOUT",
    "WAIT_COMMAND",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "HOSTNAME",
    // `rdy serve` and the seed sidecars' variables (never RDY_TOKEN_FILE).
    "RDY_LISTEN",
    "RDY_CACHE_TTL",
    "RDY_WORKERS",
    "RDY_MAX_CONNECTIONS",
    "RDY_IDLE_TIMEOUT",
    "RDY_CLIENT_TIMEOUT",
    "RDY_FORCE",
    "RDY_RATE_LIMIT",
    "RDY_EXPOSE",
    "RDY_MAX_WATCHES",
    "RDY_WATCH_IDLE",
    "RDY_TOKEN",
    "PORT",
    "AUTH_TOKEN_BASIC",
    "RATE_LIMIT",
    "RATE_LIMIT_PERIOD",
    "LOG_LEVEL",
    "HTTP_HEALTHCHECK_SIDECAR_TARGET_CONTAINER",
    "HTTP_HEALTHCHECK_SIDECAR_TARGET_POD_OVERRIDE",
    "HTTP_HEALTHCHECK_SIDECAR_STATE_OVERRIDE",
    // Only looks whether the directory exists; nothing is written at parse.
    "RDY_TERMINATION_LOG",
];

/// Arguments that would make cli::parse read a file.
const FILE_OPTIONS: &[&[u8]] = &[b"--ca-file", b"--kubeconfig", b"--token-file"];

fuzz_target!(|data: &[u8]| {
    let mut args = Vec::new();
    let mut env: Vec<(&str, String)> = Vec::new();
    for piece in data.split(|&b| b == 0) {
        match piece {
            [1, pick, value @ ..] => {
                let Ok(value) = std::str::from_utf8(value) else {
                    continue;
                };
                let name = VARS[usize::from(*pick) % VARS.len()];
                // The first setting wins, as if the rest were never written.
                if !env.iter().any(|(n, _)| *n == name) {
                    env.push((name, value.to_owned()));
                }
            }
            arg if FILE_OPTIONS.iter().any(|o| arg.starts_with(o)) => {}
            arg => args.push(OsString::from_vec(arg.to_vec())),
        }
    }
    let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    match cli::parse(args, &lookup) {
        Ok(Command::Wait(run)) | Ok(Command::Check(run)) => {
            assert!(!run.targets.is_empty());
            for target in &run.targets {
                assert!(!target.interval.is_zero());
            }
        }
        Ok(Command::Serve(settings)) => {
            for target in &settings.targets {
                assert!(!target.interval.is_zero());
            }
        }
        Ok(Command::Help(_) | Command::Version) => {}
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
