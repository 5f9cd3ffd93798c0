//! `host[:port]` and `[v6][:port]`: the authority every scheme but http(s)
//! takes apart by hand, validated the same way for all.

use std::net::{IpAddr, Ipv6Addr};

use super::invalid::InvalidTarget;

/// A host and the port to reach it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP literal, without IPv6 brackets.
    pub host: String,
    /// 1-65535.
    pub port: u16,
}

/// `host:port`, or `host` alone when the scheme has a `default` port.
pub fn endpoint(authority: &str, default: Option<u16>) -> Result<Endpoint, InvalidTarget> {
    let (host, port) = split_host_port(authority)?;
    let port = port.or(default).ok_or(InvalidTarget::MissingPort)?;
    Ok(Endpoint { host, port })
}

/// Splits off what follows the first `?`: the target's options.
pub fn split_query(rest: &str) -> (&str, &str) {
    rest.split_once('?').unwrap_or((rest, ""))
}

/// Splits `host[:port]` or `[v6][:port]`, validating both parts.
pub fn split_host_port(text: &str) -> Result<(String, Option<u16>), InvalidTarget> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| InvalidTarget::BadHost(text.to_owned()))?;
        if host.parse::<Ipv6Addr>().is_err() {
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
pub fn is_host(host: &str) -> bool {
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
