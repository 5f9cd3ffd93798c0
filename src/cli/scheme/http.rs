//! `http://URL` and `https://URL`: one request, whose status is expected.

use ureq::http::Uri;

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::split_host_port;
use super::invalid::InvalidTarget;
use crate::cli::flags::Kinds;
use crate::probe::Probe;
use crate::probe::http::{self, header};
use crate::transport::agent::{self, AgentOptions};
use crate::transport::tls::Trust;

/// Redirects followed with `--follow-redirects` (Go's and curl's habit).
const MAX_REDIRECTS: u32 = 10;

pub const HTTP: Def = Def {
    names: &["http"],
    check_type: true,
    port: Port::Default(80),
    forms: &["http://URL"],
    options: &[],
    help: "the status is expected (--status, 200)",
    probe: "one request",
    ready: "the status is in `--status` (default `200`), and `--body-contains` and `--body-json` hold",
    // -k and --ca-file act only on https; as defaults they also reach an
    // https redirect target.
    honours: &[Kinds::Http],
    example: "http://postgres.default.svc.cluster.local:5432",
    parse: Some(parse),
};

pub const HTTPS: Def = Def {
    names: &["https"],
    port: Port::Default(443),
    forms: &["https://URL"],
    help: "the same over TLS (-k, --ca-file)",
    probe: "one request over TLS",
    ready: "as for `http://`, once the certificate is trusted",
    honours: &[Kinds::Http, Kinds::Tls],
    example: "https://[::1]/healthz?x=1",
    ..HTTP
};

/// An http(s) target: the URL, query and all (it is the server's, not
/// rdy's options).
pub struct Address {
    def: &'static Def,
    uri: Uri,
    host: String,
    port: u16,
}

fn parse(def: &'static Def, rest: &str) -> Result<Box<dyn Parsed>, InvalidTarget> {
    Ok(Box::new(parse_url(def, rest)?))
}

/// What follows `http://` or `https://`.
pub fn parse_url(def: &'static Def, rest: &str) -> Result<Address, InvalidTarget> {
    let url = format!("{}://{rest}", def.name());
    let uri: Uri = url
        .parse()
        .map_err(|e: ureq::http::uri::InvalidUri| InvalidTarget::BadUrl(e.to_string()))?;
    let authority = uri
        .authority()
        .ok_or_else(|| InvalidTarget::BadUrl("no host".to_owned()))?;
    if authority.as_str().contains('@') {
        return Err(InvalidTarget::Credentials);
    }
    let (host, port) = split_host_port(authority.as_str())?;
    let Port::Default(default) = def.port else {
        return Err(InvalidTarget::MissingPort);
    };
    Ok(Address {
        def,
        port: port.unwrap_or(default),
        uri,
        host,
    })
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        self.def
    }

    fn host(&self) -> &str {
        &self.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        Ok(Probe::Http(Box::new(self.request(cx)?)))
    }
}

impl Address {
    /// A whole `http://` or `https://` URL (`--then-post`).
    pub fn parse(url: &str) -> Result<Address, String> {
        let (name, rest) = url.split_once("://").unwrap_or(("", url));
        let def = match name.to_ascii_lowercase().as_str() {
            "http" => &HTTP,
            "https" => &HTTPS,
            _ => return Err("expected an http:// or https:// URL".to_owned()),
        };
        parse_url(def, rest).map_err(|e| e.to_string())
    }

    /// The configured request, also used for `--then-post`.
    pub fn request(&self, cx: &Context<'_>) -> Result<http::Http, String> {
        let options = cx.options;
        let headers = options.headers.clone().unwrap_or_default();
        header::check_duplicates(&headers, options.allow_duplicate_headers.unwrap_or(false))
            .map_err(|e| e.to_string())?;
        let https = self.def.honours(Kinds::Tls);
        let follow = options.follow_redirects.unwrap_or(false);
        // A plain http target needs roots only if it may redirect to https;
        // without a bundle that hop fails later with a TLS error.
        let explicit = options.insecure == Some(true) || options.ca.is_some();
        let trust = match https || explicit || follow {
            true => match cx.tls_trust() {
                Ok(trust) => trust,
                Err(e) if https || explicit => return Err(e),
                Err(_) => Trust::Roots(Default::default()),
            },
            false => Trust::Roots(Default::default()),
        };
        let proxy = (cx.shared.proxy)
            .for_target(https, &self.host, self.port)
            .map(str::to_owned);
        let agent = agent::build(&AgentOptions {
            trust,
            proxy,
            https,
            max_redirects: if follow { MAX_REDIRECTS } else { 0 },
            connect_to: None,
            client_cert: None,
        })
        .map_err(|e| format!("proxy: {e}"))?;
        Ok(http::Http {
            uri: self.uri.clone(),
            method: options.method.clone().unwrap_or(ureq::http::Method::GET),
            headers,
            status: options.status.clone().unwrap_or_default(),
            body_contains: options.body_contains.clone(),
            body_json: options.body_json.clone().map(|(_, expect)| expect),
            dial_timeout: cx.dial_timeout,
            agent,
        })
    }
}
