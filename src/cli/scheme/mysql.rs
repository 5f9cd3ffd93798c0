//! `mysql://HOST[:3306]`: a login exchange as a user that does not exist.

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{Endpoint, endpoint, split_query};
use super::invalid::InvalidTarget;
use super::query;
use crate::probe::Probe;
use crate::probe::mysql::Mysql;

pub const MYSQL: Def = Def {
    names: &["mysql"],
    check_type: true,
    port: Port::Default(3306),
    forms: &["mysql://HOST[:3306]"],
    options: &[],
    help: "a login is answered (OK or access denied); never counts toward \
           max_connect_errors",
    probe: "handshake and a login as a user that does not exist",
    ready: "`OK` or `Access denied` (ERR 1045)",
    honours: &[],
    example: "mysql://[::1]",
    parse: Some(|_, rest| Ok(Box::new(parse(rest)?))),
};

/// The MySQL target: only where the server is.
struct Address(Endpoint);

fn parse(rest: &str) -> Result<Address, InvalidTarget> {
    let (rest, options) = split_query(rest);
    query::parse(options, MYSQL.options, MYSQL.forms[0])?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('@') {
        return Err(InvalidTarget::ServiceCredentials(
            "the probe logs in without a password",
        ));
    }
    if authority.contains(['/', '#']) {
        return Err(InvalidTarget::Extra("mysql://host[:port], without a path"));
    }
    Ok(Address(endpoint(authority, Some(3306))?))
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        &MYSQL
    }

    fn host(&self) -> &str {
        &self.0.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        Ok(Probe::Mysql(Mysql {
            host: self.0.host.clone(),
            port: self.0.port,
            dial_timeout: cx.dial_timeout,
        }))
    }
}
