//! `dns://NAME`: the name has a record of the type asked for.

use std::net::{IpAddr, SocketAddr};

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{split_host_port, split_query};
use super::invalid::InvalidTarget;
use super::query::{self, Opt, opt};
use crate::probe::Probe;
use crate::probe::dns::message::{self, RecordType, TYPES};
use crate::probe::dns::{self as probe, Dns};

const OPTIONS: &[Opt] = &[opt("type", "T"), opt("server", "IP[:PORT]")];

const FORM: &str = "dns://name[?type=A|AAAA|CNAME|SRV|TXT|MX|NS][&server=IP[:PORT]], \
                    without port or path";

pub const DNS: Def = Def {
    names: &["dns"],
    check_type: false,
    port: Port::None,
    forms: &["dns://NAME"],
    options: OPTIONS,
    help: "NAME has a record (?type=A, AAAA, CNAME, SRV, TXT, MX or NS; \
           ?server=IP[:PORT])",
    probe: "one DNS query, asked afresh every attempt",
    ready: "the answer has a record of type `T` (default `A`)",
    honours: &[],
    example: "dns://db.internal.?type=SRV&server=127.0.0.1:5353",
    parse: Some(|_, rest| Ok(Box::new(parse(rest)?))),
};

/// The question and where it is asked.
struct Address {
    /// As written (absolute: no search list).
    name: String,
    /// The name in wire form.
    qname: Vec<u8>,
    qtype: RecordType,
    /// `server=`; else the nameservers of `/etc/resolv.conf`.
    server: Option<SocketAddr>,
}

fn parse(rest: &str) -> Result<Address, InvalidTarget> {
    let (authority, options) = split_query(rest);
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains(['/', '#', '@']) {
        return Err(InvalidTarget::Extra(FORM));
    }
    let name = match split_host_port(authority) {
        Ok((name, None)) if name.parse::<IpAddr>().is_err() => name,
        Ok((_, Some(_))) => return Err(InvalidTarget::Extra(FORM)),
        _ => return Err(InvalidTarget::DnsName(authority.to_owned())),
    };
    let options = query::parse(options, OPTIONS, DNS.forms[0])?;
    let qtype = match options.get("type") {
        None => TYPES[0],
        Some(value) => *TYPES
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                InvalidTarget::Value(format!(
                    "type={value:?} is not one of A, AAAA, CNAME, SRV, TXT, MX, NS"
                ))
            })?,
    };
    let server = options.get("server").map(|value| {
        probe::parse_server(value).ok_or_else(|| {
            InvalidTarget::Value(format!(
                "server={value:?} is not an IP address with an optional port \
                 (10.0.0.10, 10.0.0.10:5353, [fd00::a]:53)"
            ))
        })
    });
    let qname = message::encode_name(&name)
        .ok_or_else(|| InvalidTarget::Value(format!("{name:?} is too long for DNS")))?;
    Ok(Address {
        server: server.transpose()?,
        name,
        qname,
        qtype,
    })
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        &DNS
    }

    fn host(&self) -> &str {
        &self.name
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        Ok(Probe::Dns(Dns {
            name: self.name.clone(),
            qname: self.qname.clone(),
            qtype: self.qtype,
            server: self.server,
            dial_timeout: cx.dial_timeout,
        }))
    }
}
