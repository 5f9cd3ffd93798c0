//! `tcp://HOST:PORT`, or `HOST:PORT` alone: a TCP connection is accepted.

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{Endpoint, endpoint};
use super::invalid::InvalidTarget;
use crate::probe::Probe;
use crate::probe::tcp::Tcp;

pub const TCP: Def = Def {
    names: &["tcp"],
    check_type: true,
    port: Port::Required,
    forms: &["tcp://HOST:PORT", "HOST:PORT", "[IPv6]:PORT"],
    options: &[],
    help: "a TCP connection is accepted",
    probe: "TCP connect to every resolved address in turn",
    ready: "a connection is accepted (and closed at once)",
    honours: &[],
    example: "db:5432",
    parse: Some(|_, rest| Ok(Box::new(parse(rest)?))),
};

/// `host:port`, nothing after it.
fn parse(rest: &str) -> Result<Endpoint, InvalidTarget> {
    if rest.contains(['/', '?', '#']) {
        return Err(InvalidTarget::Extra("host:port, without path or query"));
    }
    endpoint(rest, None)
}

impl Parsed for Endpoint {
    fn def(&self) -> &'static Def {
        &TCP
    }

    fn host(&self) -> &str {
        &self.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        Ok(Probe::Tcp(Tcp {
            host: self.host.clone(),
            port: self.port,
            dial_timeout: cx.dial_timeout,
        }))
    }
}
