//! Proxy choice from `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`, with the
//! semantics of Go's `net/http.ProxyFromEnvironment` that PortPatrol users
//! relied on:
//!
//! - `http://` targets use `HTTP_PROXY`, `https://` targets `HTTPS_PROXY`
//!   (no fallback between them); upper case wins over lower case.
//! - `localhost` and loopback addresses never go through a proxy.
//! - `NO_PROXY` is a comma list of `*`, IP addresses, CIDR blocks, and domain
//!   names (`example.com` matches it and its subdomains, `.example.com` and
//!   `*.example.com` only subdomains), each optionally with `:port`.
//! - A proxy value without a scheme means `http://`.

use std::net::IpAddr;

/// Proxy settings read once from the environment.
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    http: Option<String>,
    https: Option<String>,
    no_proxy: Vec<NoProxyRule>,
}

/// A proxy variable held something other than an `http(s)://host[:port]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidProxy {
    /// The variable that was read.
    pub var: &'static str,
    /// Its value.
    pub value: String,
}

impl InvalidProxy {
    /// The value as an error may show it: the userinfo, which holds the
    /// proxy's password (`http://user:pw@proxy:3128`), cut to `…`.
    pub fn shown(&self) -> String {
        let value = self.value.trim();
        let (scheme, rest) = match value.split_once("://") {
            Some((scheme, rest)) => (&value[..scheme.len() + 3], rest),
            None => ("", value),
        };
        let authority = rest.find(['/', '?', '#']).map_or(rest, |end| &rest[..end]);
        match authority.rfind('@') {
            Some(at) => format!("{scheme}…{}", &rest[at..]),
            None => value.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxyRule {
    All,
    Ip(IpAddr, Option<u16>),
    Cidr(IpAddr, u8),
    /// `suffix` starts with a dot; `exact` also matches the bare domain.
    Domain {
        suffix: String,
        exact: bool,
        port: Option<u16>,
    },
}

impl ProxyEnv {
    /// Reads the proxy variables through `env`, refusing unusable URLs.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<ProxyEnv, InvalidProxy> {
        let read = |upper: &'static str, lower: &'static str| {
            [upper, lower]
                .into_iter()
                .find_map(|var| env(var).filter(|v| !v.trim().is_empty()).map(|v| (var, v)))
        };
        let url = |found: Option<(&'static str, String)>| {
            found.map(|(var, value)| proxy_url(&value).ok_or(InvalidProxy { var, value }))
        };
        Ok(ProxyEnv {
            http: url(read("HTTP_PROXY", "http_proxy")).transpose()?,
            https: url(read("HTTPS_PROXY", "https_proxy")).transpose()?,
            no_proxy: read("NO_PROXY", "no_proxy")
                .map(|(_, list)| parse_no_proxy(&list))
                .unwrap_or_default(),
        })
    }

    /// The proxy URL for a request to `host:port`, if any.
    pub fn for_target(&self, https: bool, host: &str, port: u16) -> Option<&str> {
        let proxy = if https { &self.https } else { &self.http };
        let proxy = proxy.as_deref()?;
        let host = host.to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let ip = host.parse::<IpAddr>().ok();
        if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return None;
        }
        let bypass = self
            .no_proxy
            .iter()
            .any(|rule| rule.matches(host, ip, port));
        (!bypass).then_some(proxy)
    }
}

/// Normalises a proxy value to a URL ureq accepts, or `None`.
fn proxy_url(value: &str) -> Option<String> {
    let value = value.trim();
    let url = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.trim_end_matches('/');
    let host_ok = !authority.is_empty() && !authority.contains(['/', '?', '#', ' ']);
    (matches!(scheme, "http" | "https") && host_ok).then_some(url)
}

fn parse_no_proxy(list: &str) -> Vec<NoProxyRule> {
    list.split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| parse_rule(&entry))
        .collect()
}

fn parse_rule(entry: &str) -> Option<NoProxyRule> {
    if entry == "*" {
        return Some(NoProxyRule::All);
    }
    if let Some((ip, bits)) = entry.split_once('/') {
        let ip: IpAddr = ip.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits.parse().ok().filter(|b| *b <= max)?;
        return Some(NoProxyRule::Cidr(ip, bits));
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(NoProxyRule::Ip(ip, None));
    }
    let (host, port) = split_host_port(entry);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(NoProxyRule::Ip(ip, port));
    }
    let host = host.strip_prefix('*').unwrap_or(host);
    if host.is_empty() || host == "." {
        return None;
    }
    let exact = !host.starts_with('.');
    let suffix = if exact {
        format!(".{host}")
    } else {
        host.to_owned()
    };
    Some(NoProxyRule::Domain {
        suffix,
        exact,
        port,
    })
}

/// `host:port`, `[v6]:port`, or a bare host.
fn split_host_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (entry, None),
    }
}

impl NoProxyRule {
    fn matches(&self, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        match self {
            NoProxyRule::All => true,
            NoProxyRule::Ip(rule, p) => ip == Some(*rule) && port_ok(p),
            NoProxyRule::Cidr(net, bits) => ip.is_some_and(|ip| in_cidr(ip, *net, *bits)),
            NoProxyRule::Domain {
                suffix,
                exact,
                port: p,
            } => {
                let hit = host.ends_with(suffix.as_str()) || (*exact && host == &suffix[1..]);
                hit && port_ok(p)
            }
        }
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn scheme_picks_the_variable_and_loopback_is_direct() {
        let env = ProxyEnv::from_env(&env_of(&[
            ("HTTP_PROXY", "proxy:3128"),
            ("https_proxy", "https://secure:443"),
        ]))
        .unwrap();
        assert_eq!(
            env.for_target(false, "api.example", 80),
            Some("http://proxy:3128")
        );
        assert_eq!(
            env.for_target(true, "api.example", 443),
            Some("https://secure:443")
        );
        assert_eq!(env.for_target(false, "localhost", 80), None);
        assert_eq!(env.for_target(false, "127.0.0.9", 80), None);
        assert_eq!(env.for_target(false, "::1", 80), None);
    }

    #[test]
    fn no_proxy_rules() {
        let env = ProxyEnv::from_env(&env_of(&[
            ("HTTP_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                " example.com, .internal,*.corp, 10.0.0.0/8, 192.168.1.1, db:5432, [fd00::1]:80",
            ),
        ]))
        .unwrap();
        let direct = |host: &str, port| env.for_target(false, host, port).is_none();
        assert!(direct("example.com", 80));
        assert!(direct("api.example.com", 80));
        assert!(!direct("notexample.com", 80));
        assert!(direct("a.internal", 80));
        assert!(!direct("internal", 80));
        assert!(direct("x.corp", 80));
        assert!(!direct("corp", 80));
        assert!(direct("10.1.2.3", 80));
        assert!(!direct("11.1.2.3", 80));
        assert!(direct("192.168.1.1", 8080));
        assert!(direct("db", 5432));
        assert!(!direct("db", 80));
        assert!(direct("fd00::1", 80));
        assert!(!direct("fd00::1", 81));
        let all = ProxyEnv::from_env(&env_of(&[("HTTP_PROXY", "p:1"), ("no_proxy", "*")])).unwrap();
        assert_eq!(all.for_target(false, "anything", 80), None);
    }

    #[test]
    fn a_refused_proxy_never_shows_its_password() {
        for value in [
            "socks5://user:s3cret@proxy:1080",
            "user:s3cret@proxy:3128/x y",
            "http://us er:s3cret@proxy:3128",
        ] {
            let e = ProxyEnv::from_env(&|var| (var == "HTTP_PROXY").then(|| value.to_owned()))
                .unwrap_err();
            let shown = e.shown();
            assert!(
                !shown.contains("s3cret") && shown.contains("…@proxy"),
                "{shown}"
            );
        }
    }

    #[test]
    fn refuses_unusable_proxy_urls() {
        let err = ProxyEnv::from_env(&env_of(&[("HTTPS_PROXY", "socks5://p:1080")])).unwrap_err();
        assert_eq!(err.var, "HTTPS_PROXY");
        assert!(ProxyEnv::from_env(&env_of(&[("HTTP_PROXY", "http://")])).is_err());
        assert!(ProxyEnv::from_env(&env_of(&[("HTTP_PROXY", "")])).is_ok());
    }
}
