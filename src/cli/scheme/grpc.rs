//! `grpc://HOST:PORT` and `grpcs://HOST:PORT`: the gRPC health check
//! (`grpc.health.v1.Health/Check`) answers SERVING.

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{Endpoint, endpoint, split_query};
use super::invalid::InvalidTarget;
use super::query::{self, Opt, opt};
use crate::cli::flags::Kinds;
use crate::probe::Probe;
use crate::probe::grpc::Grpc;

const OPTIONS: &[Opt] = &[Opt {
    empty: true,
    ..opt("service", "NAME")
}];

pub const GRPC: Def = Def {
    names: &["grpc"],
    check_type: false,
    port: Port::Required,
    forms: &["grpc://HOST:PORT"],
    options: OPTIONS,
    help: "the gRPC health check answers SERVING",
    probe: "`grpc.health.v1.Health/Check` over HTTP/2",
    ready: "the answer is `SERVING` (see below)",
    honours: &[],
    example: "grpc://api:50051?service=shop.Cart",
    parse: Some(parse),
};

pub const GRPCS: Def = Def {
    names: &["grpcs"],
    forms: &["grpcs://HOST:PORT"],
    help: "the same over TLS (-k, --ca-file)",
    probe: "the same over TLS with ALPN `h2`",
    ready: "as for `grpc://`, once the certificate is trusted",
    honours: &[Kinds::Tls],
    example: "grpcs://[::1]:443/",
    ..GRPC
};

/// Where the server is and which service is asked about.
struct Address {
    def: &'static Def,
    at: Endpoint,
    /// Empty: the server as a whole.
    service: String,
}

fn parse(def: &'static Def, rest: &str) -> Result<Box<dyn Parsed>, InvalidTarget> {
    let (authority, options) = split_query(rest);
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains(['/', '#', '@']) {
        return Err(InvalidTarget::Extra(match def.name() {
            "grpcs" => "grpcs://host:port[?service=NAME], without path",
            _ => "grpc://host:port[?service=NAME], without path",
        }));
    }
    let options = query::parse(options, OPTIONS, def.forms[0])?;
    Ok(Box::new(Address {
        def,
        at: endpoint(authority, None)?,
        service: options.get("service").unwrap_or_default().to_owned(),
    }))
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        self.def
    }

    fn host(&self) -> &str {
        &self.at.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        let tls = cx.tls_if(self.def.honours(Kinds::Tls), &[b"h2"])?;
        Ok(Probe::Grpc(Box::new(Grpc {
            host: self.at.host.clone(),
            port: self.at.port,
            service: self.service.clone(),
            tls,
            dial_timeout: cx.dial_timeout,
        })))
    }
}
