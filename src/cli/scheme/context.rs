//! What a scheme's probe is built from besides its address: the target's
//! options, merged and as written after it, and what every target of the
//! run shares (the environment, the proxy, the Kubernetes client).

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::env::Env;
use crate::cli::error::UsageError;
use crate::cli::flags::Id;
use crate::cli::options::TargetOptions;
use crate::kube::client::Client;
use crate::kube::config::{self, KubeOptions};
use crate::probe::http::proxy::ProxyEnv;
use crate::transport::tls::Trust;

/// PortPatrol's default for one attempt.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings shared by all targets of a run, read once.
pub struct Shared<'a> {
    /// The proxy variables.
    pub proxy: ProxyEnv,
    /// The environment, for `SSL_CERT_FILE`, `POD_NAME`, `HOSTNAME` and
    /// Kubernetes.
    pub env: Env<'a>,
    /// `rdy check` (one look) rather than `rdy wait`.
    pub check: bool,
    /// `--kubeconfig`, `--context`.
    pub kube: KubeOptions,
    /// The Kubernetes client, created for the first `k8s:` target.
    pub client: OnceCell<Arc<Client>>,
}

impl Shared<'_> {
    /// The client of the run's Kubernetes configuration, made once.
    pub fn kube_client(&self) -> Result<Arc<Client>, UsageError> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let config =
            config::load(&self.kube, self.env).map_err(|e| UsageError::Kube(e.to_string()))?;
        let client = Arc::new(Client::new(config).map_err(UsageError::Kube)?);
        Ok(self.client.get_or_init(|| client).clone())
    }
}

/// One target's settings.
pub struct Context<'a> {
    /// Every layer merged.
    pub options: &'a TargetOptions,
    /// The layer written after this target.
    pub own: &'a TargetOptions,
    /// `--dial-timeout`, or its default.
    pub dial_timeout: Duration,
    /// The run's.
    pub shared: &'a Shared<'a>,
}

impl Context<'_> {
    /// The trust store of a TLS target: `-k`, else `--ca-file`, else the
    /// system bundle (an error when there is none).
    pub fn tls_trust(&self) -> Result<Trust, String> {
        Trust::choose(self.options.insecure, self.options.ca.as_ref(), || {
            Trust::system((self.shared.env)("SSL_CERT_FILE").as_deref())
        })
        .map_err(|e| e.to_string())
    }

    /// The rustls configuration, with these ALPN protocols, of a scheme
    /// that speaks TLS; `None` for its plain twin (grpc, redis).
    pub fn tls_if(
        &self,
        tls: bool,
        alpn: &[&[u8]],
    ) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
        match tls {
            true => Ok(Some(self.tls_trust()?.client_config(alpn))),
            false => Ok(None),
        }
    }

    /// `-k` or `--ca-file` as written after this target, if one was.
    pub fn tls_option(&self) -> Option<&str> {
        self.own
            .given
            .iter()
            .find(|(id, _)| matches!(id, Id::Insecure | Id::CaFile))
            .map(|(_, spelled)| spelled.as_str())
    }
}
