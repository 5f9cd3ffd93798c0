//! `redis://HOST[:6379]` and `rediss://` (TLS): `PING` answers `PONG`.

use super::context::Context;
use super::def::{Def, Parsed, Port};
use super::host::{Endpoint, endpoint, split_query};
use super::invalid::InvalidTarget;
use super::query::{self, Opt, opt};
use crate::cli::flags::Kinds;
use crate::probe::Probe;
use crate::probe::redis::Redis;

/// redis-cli's variable for the password, which rdy reads too.
const PASSWORD_VARIABLE: &str = "REDISCLI_AUTH";

const OPTIONS: &[Opt] = &[opt("user", "U"), opt("password_file", "FILE")];

pub const REDIS: Def = Def {
    names: &["redis"],
    check_type: true,
    port: Port::Default(6379),
    forms: &["redis://HOST[:6379]"],
    options: OPTIONS,
    help: "PING answers PONG (or NOAUTH); LOADING, BUSY, MASTERDOWN are not \
           ready; password: REDISCLI_AUTH or ?password_file=FILE",
    probe: "`PING`",
    ready: "`+PONG`, or `-NOAUTH`/`-WRONGPASS`",
    honours: &[],
    example: "redis://cache",
    parse: Some(parse),
};

pub const REDISS: Def = Def {
    names: &["rediss"],
    forms: &["rediss://HOST[:6379]"],
    help: "the same over TLS (-k, --ca-file)",
    probe: "`PING` over TLS",
    ready: "as for `redis://`, once the certificate is trusted",
    honours: &[Kinds::Tls],
    example: "rediss://cache:6380?user=default&password_file=/run/secrets/redis",
    ..REDIS
};

/// Where the server is and who logs in.
struct Address {
    def: &'static Def,
    at: Endpoint,
    user: Option<String>,
    password_file: Option<String>,
}

fn parse(def: &'static Def, rest: &str) -> Result<Box<dyn Parsed>, InvalidTarget> {
    let (rest, options) = split_query(rest);
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('@') {
        return Err(InvalidTarget::ServiceCredentials(
            "give the password in REDISCLI_AUTH or password_file=FILE",
        ));
    }
    if authority.contains(['/', '#']) {
        return Err(InvalidTarget::Extra(
            "redis://host[:port][?user=U&password_file=FILE], without a path",
        ));
    }
    let at = endpoint(authority, Some(6379))?;
    let options = query::parse(options, OPTIONS, def.forms[0])?;
    Ok(Box::new(Address {
        def,
        at,
        user: options.get("user").map(str::to_owned),
        password_file: options.get("password_file").map(str::to_owned),
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
        // -k and --ca-file after a redis:// target were refused already;
        // as defaults they do not concern it.
        let tls = cx.tls_if(self.def.honours(Kinds::Tls), &[])?;
        let password = match &self.password_file {
            Some(path) => Some(read_password(path)?),
            None => (cx.shared.env)(PASSWORD_VARIABLE).filter(|p| !p.is_empty()),
        };
        if self.user.is_some() && password.is_none() {
            return Err(format!(
                "user= needs a password: set {PASSWORD_VARIABLE} or password_file=FILE"
            ));
        }
        Ok(Probe::Redis(Box::new(Redis {
            host: self.at.host.clone(),
            port: self.at.port,
            tls,
            user: self.user.clone(),
            password,
            dial_timeout: cx.dial_timeout,
        })))
    }
}

/// The first line of a password file (a mounted Secret); its text is never
/// part of an error.
fn read_password(path: &str) -> Result<String, String> {
    let text = crate::secret_file::read_to_string(std::path::Path::new(path)).map_err(|e| {
        format!(
            "password_file={path}: cannot read it: {}",
            crate::os_error::words(&e)
        )
    })?;
    match text.lines().next().filter(|line| !line.is_empty()) {
        Some(line) => Ok(line.to_owned()),
        None => Err(format!("password_file={path}: the file is empty")),
    }
}
