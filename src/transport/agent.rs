//! The ureq agent behind every HTTP request rdy makes: https probes, hooks
//! and the Kubernetes client.
//!
//! Two things differ from ureq's defaults: names resolve through
//! [`crate::resolve`] (so `localhost` works without `/etc/hosts` and lookups
//! end by the attempt's deadline), and no connection is pooled, because an
//! attempt must prove that the server accepts a *new* connection now.

use std::io;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::tls::ClientCert;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, RustlsConnector,
    TcpConnector, Transport, time,
};
use ureq::{Agent, Proxy, Timeout};

use super::dial;
use super::forward::AbsoluteForm;
use super::tls::Trust;
use crate::base64;
use crate::resolve::{self, ResolveError};

/// `User-Agent` of every request: `rdy/<version>`.
pub const USER_AGENT: &str = concat!("rdy/", env!("CARGO_PKG_VERSION"));

/// How one agent connects.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Certificate verification.
    pub trust: Trust,
    /// `http://host:port` of a forward proxy.
    pub proxy: Option<String>,
    /// Whether the target is `https://`: it reaches a proxy through a
    /// `CONNECT` tunnel, a plain `http://` target in absolute form.
    pub https: bool,
    /// Redirects followed before the 3xx itself is the answer; 0 = none.
    pub max_redirects: u32,
    /// Connect to this host and port instead of the URL's, which then only
    /// names the server for TLS (kubeconfig `tls-server-name`).
    pub connect_to: Option<(String, u16)>,
    /// A client certificate for servers that ask for one.
    pub client_cert: Option<ClientCert>,
}

/// Builds an agent; fails only for a proxy URL ureq cannot use.
pub fn build(options: &AgentOptions) -> Result<Agent, ureq::Error> {
    let direct = DeadlineResolver {
        fixed: options.connect_to.clone(),
    };
    // ureq's DefaultConnector, less what rdy never configures (SOCKS,
    // native-tls), with reads in slices.
    let tunnel_or_direct =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(Sliced)
            .chain(RustlsConnector::default());
    let Some(url) = &options.proxy else {
        return Ok(Agent::with_parts(
            config(options, None),
            tunnel_or_direct,
            direct,
        ));
    };
    let proxy = Proxy::new(url)?;
    if options.https {
        let config = config(options, Some(proxy));
        return Ok(Agent::with_parts(config, tunnel_or_direct, direct));
    }
    let proxy_authorization = proxy.username().map(|user| {
        let credentials = format!("{user}:{}", proxy.password().unwrap_or(""));
        format!("Basic {}", base64::encode(credentials.as_bytes()))
    });
    let connector =
        ().chain(TcpConnector::default())
            .chain(Sliced)
            .chain(AbsoluteForm {
                proxy_authorization,
            });
    let to_proxy = DeadlineResolver {
        fixed: Some((proxy.host().to_owned(), proxy.port())),
    };
    Ok(Agent::with_parts(
        config(options, None),
        connector,
        to_proxy,
    ))
}

fn config(options: &AgentOptions, tunnel: Option<Proxy>) -> Config {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(options.max_redirects)
        .max_redirects_will_error(false)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .user_agent(USER_AGENT)
        .proxy(tunnel)
        .tls_config(options.trust.tls_config(options.client_cert.clone()))
        .build()
}

/// Puts [`SlicedReads`] around the connection, under TLS.
#[derive(Debug)]
struct Sliced;

impl<In: Transport> Connector<In> for Sliced {
    type Out = SlicedReads<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<SlicedReads<In>>, ureq::Error> {
        Ok(chained.map(SlicedReads))
    }
}

/// A transport whose reads wait in shrinking pieces (see [`dial::SLICE`])
/// until ureq's own timeout, which ends them as before.
#[derive(Debug)]
struct SlicedReads<T>(T);

impl<T: Transport> Transport for SlicedReads<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if timeout.after.is_not_happening() {
            return self.0.await_input(timeout);
        }
        let end = Instant::now() + *timeout.after;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let piece = NextTimeout {
                after: time::Duration::Exact(dial::piece(left)),
                ..timeout
            };
            match self.0.await_input(piece) {
                Err(ureq::Error::Timeout(_)) if left > dial::SLICE => {}
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }
}

/// Resolves through [`resolve::resolve`] within ureq's remaining timeout;
/// with `fixed`, every request goes to that host and port (the proxy of
/// absolute-form requests) instead of the URL's.
#[derive(Debug)]
struct DeadlineResolver {
    fixed: Option<(String, u16)>,
}

impl Resolver for DeadlineResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (host, port) = match &self.fixed {
            Some((host, port)) => (host.as_str(), *port),
            None => {
                let https = uri.scheme_str() == Some("https");
                let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
                (host, uri.port_u16().unwrap_or(if https { 443 } else { 80 }))
            }
        };
        // `Uri::host` keeps the brackets of an IPv6 literal.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let wait = (*timeout.after).min(Duration::from_secs(86_400));
        match resolve::resolve(host, port, Instant::now() + wait) {
            Ok(addrs) => {
                let mut out = self.empty();
                for addr in addrs.into_iter().take(16) {
                    out.push(addr);
                }
                Ok(out)
            }
            Err(ResolveError::TimedOut { .. }) => Err(ureq::Error::Timeout(Timeout::Resolve)),
            Err(e) => Err(ureq::Error::Io(io::Error::other(e))),
        }
    }
}
