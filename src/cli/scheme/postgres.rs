//! `postgres://HOST[:5432][/DBNAME]` (`postgresql://`): libpq's ping rule,
//! as `pg_isready`.

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{Endpoint, endpoint, split_query};
use super::invalid::InvalidTarget;
use super::query::{self, Opt, opt};
use crate::cli::flags::Kinds;
use crate::probe::Probe;
use crate::probe::postgres::{Postgres, SslMode};
use crate::transport::tls::Trust;

/// The user of the `StartupMessage` without `user=`: the one role every
/// cluster has, so a trust-authenticated server logs no failed login.
const DEFAULT_USER: &str = "postgres";

const OPTIONS: &[Opt] = &[opt("user", "U"), opt("dbname", "D"), opt("sslmode", "MODE")];

pub const POSTGRES: Def = Def {
    names: &["postgres", "postgresql"],
    check_type: true,
    port: Port::Default(5432),
    forms: &["postgres://HOST[:5432][/DBNAME]"],
    options: OPTIONS,
    help: "it answers a login (pg_isready's rule); ?user=U&dbname=D&sslmode=MODE",
    probe: "a `StartupMessage`",
    ready: "an authentication request, or any error but 57P03 (see below)",
    honours: &[Kinds::Tls],
    example: "postgresql://db:6432/app?user=app&sslmode=require",
    parse: Some(|_, rest| Ok(Box::new(parse(rest)?))),
};

/// Where the server is and what the `StartupMessage` says.
struct Address {
    at: Endpoint,
    user: Option<String>,
    dbname: Option<String>,
    sslmode: SslMode,
}

/// The path is the database name, as in libpq's URIs.
fn parse(rest: &str) -> Result<Address, InvalidTarget> {
    let (rest, options) = split_query(rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(InvalidTarget::ServiceCredentials(
            "the probe logs in without a password",
        ));
    }
    if rest.contains('#') {
        return Err(InvalidTarget::Extra(POSTGRES.forms[0]));
    }
    let at = endpoint(authority, Some(5432))?;
    let options = query::parse(options, OPTIONS, POSTGRES.forms[0])?;
    let mut dbname = options.get("dbname").map(str::to_owned);
    if !path.is_empty() {
        let named = crate::percent::decode(path).filter(|d| !d.contains(['/', '\0']));
        let named = named.ok_or_else(|| {
            InvalidTarget::Value(format!(
                "database name {path:?} is not percent-encoded text"
            ))
        })?;
        if dbname.is_some() {
            return Err(InvalidTarget::Value(
                "the database is named twice: in the path and in dbname=".into(),
            ));
        }
        dbname = Some(named);
    }
    let sslmode = match options.get("sslmode") {
        Some(mode) => SslMode::parse(mode).ok_or_else(|| {
            InvalidTarget::Value(format!(
                "sslmode={mode:?} is not one of {}",
                SslMode::ACCEPTED
            ))
        })?,
        None => SslMode::Disable,
    };
    Ok(Address {
        at,
        user: options.get("user").map(str::to_owned),
        dbname,
        sslmode,
    })
}

impl Parsed for Address {
    fn def(&self) -> &'static Def {
        &POSTGRES
    }

    fn host(&self) -> &str {
        &self.at.host
    }

    fn build(&self, cx: &Context<'_>) -> Result<Probe, String> {
        if let (SslMode::Disable, Some(option)) = (self.sslmode, cx.tls_option()) {
            return Err(format!(
                "{option} does nothing without sslmode=prefer or require"
            ));
        }
        // libpq verifies a server only when given a root certificate.
        let trust = match cx.options.ca {
            Some(_) => cx.tls_trust()?,
            None => Trust::Insecure,
        };
        Ok(Probe::Postgres(Box::new(Postgres {
            host: self.at.host.clone(),
            port: self.at.port,
            user: self.user.clone().unwrap_or_else(|| DEFAULT_USER.to_owned()),
            dbname: self.dbname.clone(),
            sslmode: self.sslmode,
            tls: trust.client_config(&[]),
            dial_timeout: cx.dial_timeout,
        })))
    }
}
