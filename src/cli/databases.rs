//! Builds the database probes (`postgres://`, `mysql://`, `redis://`,
//! `rediss://`) from a parsed target and its options, before any network
//! activity: TLS trust, the Redis password, the query parameters' values.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

use super::flags::Id;
use super::options::TargetOptions;
use super::targets::Shared;
use crate::os_error::words;
use crate::probe::Probe;
use crate::probe::mysql::Mysql;
use crate::probe::postgres::{Postgres, SslMode};
use crate::probe::redis::Redis;
use crate::target::{Address, Scheme};
use crate::transport::tls::Trust;

/// The user of the `StartupMessage` without `user=`: the one role every
/// cluster has, so a trust-authenticated server logs no failed login.
const POSTGRES_USER: &str = "postgres";

/// redis-cli's variable for the password, which rdy reads too.
const REDIS_PASSWORD_VARIABLE: &str = "REDISCLI_AUTH";

/// Builds the probe of a database target; an error is the problem text of
/// an exit-2 line.
pub fn build(
    address: &Address,
    options: &TargetOptions,
    own: &TargetOptions,
    dial_timeout: Duration,
    shared: &Shared<'_>,
) -> Result<Probe, String> {
    let param = |name: &str| {
        address
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let host = address.host.clone();
    let port = address.port.unwrap_or_default();
    let tls_option = own
        .given
        .iter()
        .find(|(id, _)| matches!(id, Id::Insecure | Id::CaFile))
        .map(|(_, spelled)| spelled.as_str());
    Ok(match address.scheme {
        Scheme::Postgres => {
            let sslmode = match param("sslmode") {
                Some(mode) => SslMode::parse(&mode).ok_or_else(|| {
                    format!("sslmode={mode:?} is not one of {}", SslMode::ACCEPTED)
                })?,
                None => SslMode::Disable,
            };
            if let (SslMode::Disable, Some(option)) = (sslmode, tls_option) {
                return Err(format!(
                    "{option} does nothing without sslmode=prefer or require"
                ));
            }
            // libpq verifies a server only when given a root certificate.
            let trust = Trust::choose(options.insecure, options.ca.as_ref(), || {
                Ok(Trust::Insecure)
            })
            .map_err(|e| e.to_string())?;
            Probe::Postgres(Box::new(Postgres {
                host,
                port,
                user: param("user").unwrap_or_else(|| POSTGRES_USER.to_owned()),
                dbname: param("dbname"),
                sslmode,
                tls: tls_config(&trust),
                dial_timeout,
            }))
        }
        Scheme::Mysql => Probe::Mysql(Mysql {
            host,
            port,
            dial_timeout,
        }),
        Scheme::Redis | Scheme::Rediss => {
            // --insecure and --ca-file after a redis:// target were refused
            // by kind already; as defaults they do not concern it.
            let tls = match address.scheme {
                Scheme::Rediss => Some(tls_config(&https_trust(options, shared)?)),
                _ => None,
            };
            let password = match param("password_file") {
                Some(path) => Some(read_password(&path)?),
                None => (shared.env)(REDIS_PASSWORD_VARIABLE).filter(|p| !p.is_empty()),
            };
            let user = param("user");
            if user.is_some() && password.is_none() {
                return Err(format!(
                    "user= needs a password: set {REDIS_PASSWORD_VARIABLE} or password_file=FILE"
                ));
            }
            Probe::Redis(Box::new(Redis {
                host,
                port,
                tls,
                user,
                password,
                dial_timeout,
            }))
        }
        _ => unreachable!("not a database scheme"),
    })
}

/// The rustls configuration of a database probe: the https probe's trust
/// store, through its builder.
fn tls_config(trust: &Trust) -> Arc<ClientConfig> {
    trust.client_config(&[])
}

/// Trust as for an https target: `--insecure`, `--ca-file`, else the system
/// bundle (an error without one).
fn https_trust(options: &TargetOptions, shared: &Shared<'_>) -> Result<Trust, String> {
    Trust::choose(options.insecure, options.ca.as_ref(), || {
        Trust::system((shared.env)("SSL_CERT_FILE").as_deref())
    })
    .map_err(|e| e.to_string())
}

/// The first line of a password file (a mounted Secret); its text is never
/// part of an error.
fn read_password(path: &str) -> Result<String, String> {
    let text = crate::secret_file::read_to_string(std::path::Path::new(path))
        .map_err(|e| format!("password_file={path}: cannot read it: {}", words(&e)))?;
    match text.lines().next().filter(|line| !line.is_empty()) {
        Some(line) => Ok(line.to_owned()),
        None => Err(format!("password_file={path}: the file is empty")),
    }
}
