//! Target strings (`tcp://db:5432`, `db:5432`, `https://api/health`,
//! `icmp://gw`) taken apart, and the configured [`Target`] built from one.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ureq::http::Uri;

use crate::probe::Probe;

mod service;
pub use service::params_of;

/// A fully configured target, ready to probe.
#[derive(Debug)]
pub struct Target {
    /// Display name used in log lines (`--name`, else inferred).
    pub name: String,
    /// The target string as the user wrote it.
    pub address: String,
    /// Time between the starts of two attempts in `rdy wait`.
    pub interval: Duration,
    /// How one attempt is made.
    pub probe: Probe,
}

/// The probe a target string selects; also the values of `--type` and
/// `TARGET_CHECK_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `tcp://host:port` or `host:port`.
    Tcp,
    /// `http://...`.
    Http,
    /// `https://...`.
    Https,
    /// `icmp://host`.
    Icmp,
    /// `grpc://host:port[?service=NAME]`: gRPC health over HTTP/2.
    Grpc,
    /// `grpcs://host:port[?service=NAME]`: the same over TLS.
    Grpcs,
    /// `dns://name[?type=T&server=IP]`: a DNS query.
    Dns,
    /// `postgres://host[:5432]` (`postgresql://`).
    Postgres,
    /// `mysql://host[:3306]`.
    Mysql,
    /// `redis://host[:6379]`.
    Redis,
    /// `rediss://host[:6379]`: Redis over TLS.
    Rediss,
}

/// What `--type` accepts; quoted in error messages.
pub const CHECK_TYPES: &str = "tcp, http, https, icmp, postgres, mysql, redis or rediss";

impl Scheme {
    /// Parses a check type name case-insensitively, as PortPatrol does.
    pub fn parse(text: &str) -> Option<Scheme> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tcp" => Some(Scheme::Tcp),
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            "icmp" => Some(Scheme::Icmp),
            "postgres" | "postgresql" => Some(Scheme::Postgres),
            "mysql" => Some(Scheme::Mysql),
            "redis" => Some(Scheme::Redis),
            "rediss" => Some(Scheme::Rediss),
            _ => None,
        }
    }

    /// Schemes that only a target string selects, not `--type` (PortPatrol
    /// knows tcp, http, https and icmp).
    fn parse_protocol(text: &str) -> Option<Scheme> {
        match text.to_ascii_lowercase().as_str() {
            "grpc" => Some(Scheme::Grpc),
            "grpcs" => Some(Scheme::Grpcs),
            "dns" => Some(Scheme::Dns),
            _ => None,
        }
    }

    /// The scheme's name: the check type of log lines and error messages.
    pub fn name(self) -> &'static str {
        self.prefix().trim_end_matches("://")
    }

    fn prefix(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp://",
            Scheme::Http => "http://",
            Scheme::Https => "https://",
            Scheme::Icmp => "icmp://",
            Scheme::Grpc => "grpc://",
            Scheme::Grpcs => "grpcs://",
            Scheme::Dns => "dns://",
            Scheme::Postgres => "postgres://",
            Scheme::Mysql => "mysql://",
            Scheme::Redis => "redis://",
            Scheme::Rediss => "rediss://",
        }
    }

    fn is_http(self) -> bool {
        matches!(self, Scheme::Http | Scheme::Https)
    }
}

/// A target string taken apart.
#[derive(Debug, Clone)]
pub struct Address {
    /// Which probe it selects.
    pub scheme: Scheme,
    /// Host name or IP literal, without IPv6 brackets.
    pub host: String,
    /// The port; `None` only for ICMP.
    pub port: Option<u16>,
    /// The full URL of an HTTP(S) target.
    pub uri: Option<Uri>,
    /// What follows `?` in a grpc or dns target (its options), raw.
    pub query: Option<String>,
    /// Query parameters of a database target, percent-decoded, each name
    /// once and one the scheme accepts (see [`params_of`]).
    pub params: Vec<(String, String)>,
}

/// Why a target string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidTarget {
    /// Nothing was given.
    Empty,
    /// A scheme rdy does not probe.
    UnknownScheme(String),
    /// `--type` says one thing, the scheme another.
    TypeConflict { check_type: String, scheme: String },
    /// A TCP target without `:port`.
    MissingPort,
    /// The port is not 1-65535.
    BadPort(String),
    /// The host is empty or has characters no host name has.
    BadHost(String),
    /// An IPv6 literal without brackets next to a port.
    Ipv6NeedsBrackets,
    /// The URL does not parse.
    BadUrl(String),
    /// `user:password@` in the URL.
    Credentials,
    /// Something after the host of an `icmp://` target.
    IcmpExtra,
    /// Something after `host:port` of a TCP target.
    TcpExtra,
    /// Whitespace inside: most often two targets in one list item.
    Whitespace,
    /// A path, fragment or userinfo in a grpc or dns target.
    ProtocolExtra(Scheme),
    /// A dns target whose name is an IP address or empty.
    DnsName(String),
    /// A database target with a query parameter it does not take, twice,
    /// or not percent-decodable.
    Parameter(String),
    /// A database target with a path it does not take.
    ServicePath(&'static str),
    /// `user:password@` in a database target.
    ServiceCredentials(&'static str),
}

impl fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidTarget::Empty => f.write_str("empty target"),
            InvalidTarget::UnknownScheme(s) => write!(
                f,
                "unknown scheme {s:?}; accepted: tcp://host:port, host:port, \
                 http://..., https://..., icmp://host, grpc://host:port, \
                 grpcs://host:port, dns://name, postgres://host, mysql://host, \
                 redis://host, rediss://host, k8s:kind/name"
            ),
            InvalidTarget::TypeConflict { check_type, scheme } => write!(
                f,
                "check type {check_type} conflicts with the {scheme}:// scheme of the address"
            ),
            InvalidTarget::MissingPort => f.write_str("missing port; expected host:port"),
            InvalidTarget::BadPort(p) => write!(f, "port {p:?} is not a number from 1 to 65535"),
            InvalidTarget::BadHost(h) => write!(f, "host {h:?} is not a host name or IP address"),
            InvalidTarget::Ipv6NeedsBrackets => {
                f.write_str("an IPv6 address with a port needs brackets, e.g. [::1]:8080")
            }
            InvalidTarget::BadUrl(e) => write!(f, "not a valid URL: {e}"),
            InvalidTarget::Credentials => f.write_str(
                "credentials in the URL are not supported; \
                 send them with --header Authorization=...",
            ),
            InvalidTarget::IcmpExtra => {
                f.write_str("an icmp target is icmp://host, without port or path")
            }
            InvalidTarget::TcpExtra => {
                f.write_str("a tcp target is host:port, without path or query")
            }
            InvalidTarget::ProtocolExtra(Scheme::Dns) => f.write_str(
                "a dns target is dns://name[?type=A|AAAA|CNAME|SRV|TXT|MX|NS][&server=IP[:PORT]], \
                 without port or path",
            ),
            InvalidTarget::ProtocolExtra(scheme) => write!(
                f,
                "a {} target is {}host:port[?service=NAME], without path",
                scheme.name(),
                scheme.prefix()
            ),
            InvalidTarget::DnsName(name) => {
                write!(f, "{name:?} is not a DNS name to look up")
            }
            InvalidTarget::Whitespace => f.write_str(
                "a target contains no spaces; lists of targets (WAIT_HOSTS) are separated by commas",
            ),
            InvalidTarget::Parameter(why) => f.write_str(why),
            InvalidTarget::ServicePath(form) => write!(f, "expected {form}, without a path"),
            InvalidTarget::ServiceCredentials(how) => write!(
                f,
                "credentials do not belong in the target (it is logged); {how}"
            ),
        }
    }
}

/// Parses a target string. `check_type` (`--type`, `TARGET_CHECK_TYPE`)
/// supplies the scheme of an address written without one; without either,
/// an address is TCP, as in PortPatrol.
pub fn parse(text: &str, check_type: Option<Scheme>) -> Result<Address, InvalidTarget> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidTarget::Empty);
    }
    if text.contains(char::is_whitespace) {
        return Err(InvalidTarget::Whitespace);
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((written, rest)) => {
            let scheme = Scheme::parse(written)
                .or_else(|| Scheme::parse_protocol(written))
                .ok_or_else(|| InvalidTarget::UnknownScheme(format!("{written}://")))?;
            check_agreement(check_type, scheme)?;
            (scheme, rest)
        }
        None => (check_type.unwrap_or(Scheme::Tcp), text),
    };
    match scheme {
        Scheme::Tcp => parse_tcp(rest),
        Scheme::Icmp => parse_icmp(rest),
        Scheme::Http | Scheme::Https => parse_url(&format!("{}{rest}", scheme.prefix()), scheme),
        Scheme::Grpc | Scheme::Grpcs | Scheme::Dns => parse_protocol(rest, scheme),
        Scheme::Postgres | Scheme::Mysql | Scheme::Redis | Scheme::Rediss => {
            service::parse(scheme, rest)
        }
    }
}

/// `host:port[?query]` of a grpc target, `name[?query]` of a dns target;
/// the probe reads the query's options.
fn parse_protocol(rest: &str, scheme: Scheme) -> Result<Address, InvalidTarget> {
    let (authority, query) = match rest.split_once('?') {
        Some((authority, query)) => (authority, Some(query.to_owned())),
        None => (rest, None),
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains(['/', '#', '@']) {
        return Err(InvalidTarget::ProtocolExtra(scheme));
    }
    let (host, port) = match scheme {
        Scheme::Dns => match split_host_port(authority) {
            Ok((name, None)) if name.parse::<IpAddr>().is_err() => (name, None),
            Ok((_, Some(_))) => return Err(InvalidTarget::ProtocolExtra(scheme)),
            _ => return Err(InvalidTarget::DnsName(authority.to_owned())),
        },
        _ => {
            let (host, port) = split_host_port(authority)?;
            (host, Some(port.ok_or(InvalidTarget::MissingPort)?))
        }
    };
    Ok(Address {
        scheme,
        host,
        port,
        uri: None,
        query,
        params: Vec::new(),
    })
}

fn check_agreement(check_type: Option<Scheme>, scheme: Scheme) -> Result<(), InvalidTarget> {
    match check_type {
        None => Ok(()),
        // PortPatrol treats http and https as one check type.
        Some(t) if t == scheme || (t.is_http() && scheme.is_http()) => Ok(()),
        Some(t) => Err(InvalidTarget::TypeConflict {
            check_type: t.name().to_owned(),
            scheme: scheme.name().to_owned(),
        }),
    }
}

fn parse_tcp(rest: &str) -> Result<Address, InvalidTarget> {
    if rest.contains(['/', '?', '#']) {
        return Err(InvalidTarget::TcpExtra);
    }
    let (host, port) = split_host_port(rest)?;
    let port = port.ok_or(InvalidTarget::MissingPort)?;
    Ok(Address {
        scheme: Scheme::Tcp,
        host,
        port: Some(port),
        uri: None,
        query: None,
        params: Vec::new(),
    })
}

fn parse_icmp(rest: &str) -> Result<Address, InvalidTarget> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(InvalidTarget::IcmpExtra);
    }
    // A bare IPv6 literal is unambiguous here: ICMP has no port.
    let host = if rest.parse::<IpAddr>().is_ok() {
        rest.to_owned()
    } else {
        match split_host_port(rest)? {
            (host, None) => host,
            (_, Some(_)) => return Err(InvalidTarget::IcmpExtra),
        }
    };
    Ok(Address {
        scheme: Scheme::Icmp,
        host,
        port: None,
        uri: None,
        query: None,
        params: Vec::new(),
    })
}

fn parse_url(url: &str, scheme: Scheme) -> Result<Address, InvalidTarget> {
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
    let default_port = if scheme == Scheme::Https { 443 } else { 80 };
    Ok(Address {
        scheme,
        host,
        port: Some(port.unwrap_or(default_port)),
        uri: Some(uri),
        query: None,
        params: Vec::new(),
    })
}

/// Splits `host[:port]` or `[v6][:port]`, validating both parts.
fn split_host_port(text: &str) -> Result<(String, Option<u16>), InvalidTarget> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| InvalidTarget::BadHost(text.to_owned()))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(InvalidTarget::BadHost(host.to_owned()));
        }
        match tail {
            "" => (host, None),
            _ => match tail.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(InvalidTarget::BadHost(text.to_owned())),
            },
        }
    } else {
        match text.split_once(':') {
            Some((_, tail)) if tail.contains(':') => return Err(InvalidTarget::Ipv6NeedsBrackets),
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if !is_host(host) {
        return Err(InvalidTarget::BadHost(host.to_owned()));
    }
    let port = port.map(parse_port).transpose()?;
    Ok((host.to_owned(), port))
}

fn parse_port(text: &str) -> Result<u16, InvalidTarget> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(InvalidTarget::BadPort(text.to_owned())),
    }
}

/// An IP literal or a DNS name: labels of letters, digits, `-` and `_`
/// (service records and some cluster names use it), at most 253 bytes.
fn is_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A target string as it may appear in a log line or an error: the query,
/// which may carry a token (`?token=…`), is cut off, and so is the
/// userinfo of a URL (`user:password@`, RFC 3986 §3.2.1).
pub fn redacted(address: &str) -> std::borrow::Cow<'_, str> {
    let (before, query) = match address.split_once('?') {
        Some((before, _)) => (before, "?…"),
        None => (address, ""),
    };
    let userinfo = before.split_once("://").and_then(|(scheme, rest)| {
        let authority = rest.split('/').next().unwrap_or(rest);
        let (_, host) = authority.rsplit_once('@')?;
        Some((scheme, host, &rest[authority.len()..]))
    });
    match (userinfo, query) {
        (Some((scheme, host, path)), _) => format!("{scheme}://…@{host}{path}{query}").into(),
        (None, "") => address.into(),
        (None, _) => format!("{before}{query}").into(),
    }
}

/// The display name of a target without `--name`: its host, as PortPatrol
/// infers `TARGET_NAME` (`http://postgres.default.svc:5432` →
/// `postgres.default.svc`).
pub fn infer_name(address: &Address) -> String {
    address.host.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Address {
        parse(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn tcp_forms() {
        let a = ok("db:5432");
        assert_eq!(
            (a.scheme, a.host.as_str(), a.port),
            (Scheme::Tcp, "db", Some(5432))
        );
        let a = ok("tcp://[::1]:80");
        assert_eq!((a.host.as_str(), a.port), ("::1", Some(80)));
        let a = ok("127.0.0.1:1");
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(
            ok("postgres.default.svc.cluster.local.:5432").port,
            Some(5432)
        );
    }

    #[test]
    fn http_forms_and_names() {
        let a = ok("http://postgres.default.svc.cluster.local:5432");
        assert_eq!(a.scheme, Scheme::Http);
        assert_eq!(infer_name(&a), "postgres.default.svc.cluster.local");
        let a = ok("https://[::1]/healthz?x=1");
        assert_eq!((a.host.as_str(), a.port), ("::1", Some(443)));
        assert_eq!(ok("HTTP://web").scheme, Scheme::Http);
        assert_eq!(ok("TCP://db:1").scheme, Scheme::Tcp);
    }

    #[test]
    fn icmp_forms() {
        assert_eq!(ok("icmp://127.0.0.1").host, "127.0.0.1");
        assert_eq!(ok("icmp://::1").host, "::1");
        assert_eq!(ok("icmp://[::1]").host, "::1");
        assert_eq!(ok("icmp://gateway/").host, "gateway");
    }

    #[test]
    fn grpc_and_dns_forms() {
        let a = ok("grpc://api:50051?service=shop.Cart");
        assert_eq!(
            (a.scheme, a.host.as_str(), a.port, a.query.as_deref()),
            (Scheme::Grpc, "api", Some(50051), Some("service=shop.Cart"))
        );
        assert_eq!(ok("GRPCS://[::1]:443/").scheme, Scheme::Grpcs);
        let a = ok("dns://db.internal.?type=SRV");
        assert_eq!((a.scheme, a.host.as_str()), (Scheme::Dns, "db.internal."));
        assert_eq!(infer_name(&ok("dns://db")), "db");
        let refused = [
            ("grpc://api", InvalidTarget::MissingPort),
            ("grpc://api:1/x", InvalidTarget::ProtocolExtra(Scheme::Grpc)),
            ("dns://db:53", InvalidTarget::ProtocolExtra(Scheme::Dns)),
            ("dns://10.0.0.1", InvalidTarget::DnsName("10.0.0.1".into())),
            ("dns://?type=A", InvalidTarget::DnsName(String::new())),
        ];
        for (text, want) in refused {
            assert_eq!(parse(text, None).unwrap_err(), want, "{text:?}");
        }
        assert!(parse("grpc://api:1", Some(Scheme::Tcp)).is_err());
    }

    #[test]
    fn check_type_fills_in_the_scheme() {
        let a = parse("web:8080", Some(Scheme::Http)).unwrap();
        assert_eq!(a.uri.unwrap().to_string(), "http://web:8080/");
        assert_eq!(
            parse("gw", Some(Scheme::Icmp)).unwrap().scheme,
            Scheme::Icmp
        );
        assert!(parse("https://web", Some(Scheme::Http)).is_ok());
        assert_eq!(
            parse("http://web", Some(Scheme::Tcp)).unwrap_err(),
            InvalidTarget::TypeConflict {
                check_type: "tcp".into(),
                scheme: "http".into()
            }
        );
    }

    #[test]
    fn queries_are_cut_from_logged_addresses() {
        assert_eq!(
            redacted("https://api/health?token=s3cret"),
            "https://api/health?…"
        );
        assert_eq!(redacted("db:5432"), "db:5432");
        assert_eq!(redacted("http://u:pw@db:80/x?t=1"), "http://…@db:80/x?…");
        assert_eq!(redacted("https://tok@db"), "https://…@db");
        assert_eq!(redacted("http://db/a@b"), "http://db/a@b");
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", InvalidTarget::Empty),
            ("db", InvalidTarget::MissingPort),
            ("db:0", InvalidTarget::BadPort("0".into())),
            ("db:65536", InvalidTarget::BadPort("65536".into())),
            ("db:+80", InvalidTarget::BadPort("+80".into())),
            ("::1:80", InvalidTarget::Ipv6NeedsBrackets),
            ("ftp://x", InvalidTarget::UnknownScheme("ftp://".into())),
            ("udp://x:1", InvalidTarget::UnknownScheme("udp://".into())),
            ("db host:1", InvalidTarget::Whitespace),
            ("a:1 b:2", InvalidTarget::Whitespace),
            (":80", InvalidTarget::BadHost(String::new())),
            ("db:80/x", InvalidTarget::TcpExtra),
            ("icmp://gw:80", InvalidTarget::IcmpExtra),
            ("icmp://gw/x", InvalidTarget::IcmpExtra),
            ("http://u:p@web/", InvalidTarget::Credentials),
            ("[zz]:80", InvalidTarget::BadHost("zz".into())),
            ("a..b:1", InvalidTarget::BadHost("a..b".into())),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, None).unwrap_err(), want, "{text:?}");
        }
        assert!(matches!(
            parse("http://", None),
            Err(InvalidTarget::BadUrl(_))
        ));
        assert!(parse("http://web:99999/", None).is_err());
    }
}
