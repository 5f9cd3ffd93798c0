//! `icmp://HOST`: an ICMP or ICMPv6 echo reply comes back. No port.

use std::net::IpAddr;
use std::time::Duration;

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::split_host_port;
use super::invalid::InvalidTarget;
use crate::cli::flags::Kinds;
use crate::probe::Probe;
use crate::probe::icmp::Icmp;

/// PortPatrol's default `ICMP_READ_TIMEOUT`.
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(1);

pub const ICMP: Def = Def {
    names: &["icmp"],
    check_type: true,
    port: Port::None,
    forms: &["icmp://HOST"],
    options: &[],
    help: "an echo reply comes back",
    probe: "ICMP/ICMPv6 echo",
    ready: "a matching echo reply comes from that host",
    honours: &[Kinds::Icmp],
    example: "icmp://gateway/",
    parse: Some(|_, rest| Ok(Box::new(parse(rest)?))),
};

/// The host to ping.
struct Address {
    host: String,
}

const FORM: &str = "icmp://host, without port or path";

fn parse(rest: &str) -> Result<Address, InvalidTarget> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(InvalidTarget::Extra(FORM));
    }
    // A bare IPv6 literal is unambiguous here: ICMP has no port.
    let host = if rest.parse::<IpAddr>().is_ok() {
        rest.to_owned()
    } else {
        match split_host_port(rest)? {
            (host, None) => host,
            (_, Some(_)) => return Err(InvalidTarget::Extra(FORM)),
        }
    };
    Ok(Address { host })
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        &ICMP
    }

    fn host(&self) -> &str {
        &self.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        Ok(Probe::Icmp(Icmp {
            host: self.host.clone(),
            dial_timeout: cx.dial_timeout,
            read_timeout: cx.options.icmp_read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT),
        }))
    }
}
