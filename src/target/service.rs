//! `host[:port][/path][?name=value&...]`: the targets of the protocol
//! probes (PostgreSQL, MySQL, Redis), each with a default port and the
//! query parameters its scheme takes.

use super::{Address, InvalidTarget, Scheme, split_host_port};

/// The query parameters a database scheme takes, its default port and the
/// form quoted in errors.
pub fn params_of(scheme: Scheme) -> (&'static [&'static str], u16, &'static str) {
    match scheme {
        Scheme::Postgres => (
            &["user", "dbname", "sslmode"],
            5432,
            "postgres://host[:port][/dbname][?user=U&dbname=D&sslmode=M]",
        ),
        Scheme::Mysql => (&[], 3306, "mysql://host[:port]"),
        Scheme::Redis | Scheme::Rediss => (
            &["user", "password_file"],
            6379,
            "redis://host[:port][?user=U&password_file=FILE]",
        ),
        _ => (&[], 0, ""),
    }
}

/// `host[:port][/path][?query]` of a database target. Only PostgreSQL takes
/// a path, its database name (`postgres://db/app`, as libpq's URIs).
pub(super) fn parse(scheme: Scheme, rest: &str) -> Result<Address, InvalidTarget> {
    let (accepted, default_port, form) = params_of(scheme);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(InvalidTarget::ServiceCredentials(match scheme {
            Scheme::Redis | Scheme::Rediss => {
                "give the password in REDISCLI_AUTH or password_file=FILE"
            }
            _ => "the probe logs in without a password",
        }));
    }
    if rest.contains('#') || (scheme != Scheme::Postgres && !path.is_empty()) {
        return Err(InvalidTarget::ServicePath(form));
    }
    let (host, port) = split_host_port(authority)?;
    let mut params = parse_query(query, accepted, form)?;
    if !path.is_empty() {
        let dbname = crate::percent::decode(path).filter(|d| !d.contains(['/', '\0']));
        let dbname = dbname.ok_or_else(|| {
            InvalidTarget::Parameter(format!(
                "database name {path:?} is not percent-encoded text"
            ))
        })?;
        if params.iter().any(|(name, _)| name == "dbname") {
            return Err(InvalidTarget::Parameter(
                "the database is named twice: in the path and in dbname=".into(),
            ));
        }
        params.push(("dbname".into(), dbname));
    }
    Ok(Address {
        scheme,
        host,
        port: Some(port.unwrap_or(default_port)),
        uri: None,
        params,
        query: None,
    })
}

/// `name=value&...`, percent-decoded; every name in `accepted`, once, with
/// a non-empty value free of NUL (they go into NUL-terminated fields).
fn parse_query(
    query: &str,
    accepted: &[&str],
    form: &str,
) -> Result<Vec<(String, String)>, InvalidTarget> {
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !accepted.contains(&name) {
            let takes = match accepted {
                [] => "no parameters".to_owned(),
                names => names.join(", "),
            };
            return Err(InvalidTarget::Parameter(format!(
                "unknown parameter {name:?}; {form} takes {takes}"
            )));
        }
        let value = crate::percent::decode(value).filter(|v| !v.is_empty() && !v.contains('\0'));
        let value = value.ok_or_else(|| {
            InvalidTarget::Parameter(format!("{name}= needs a non-empty, percent-encoded value"))
        })?;
        if params.iter().any(|(n, _)| n == name) {
            return Err(InvalidTarget::Parameter(format!("{name}= is given twice")));
        }
        params.push((name.to_owned(), value));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Address {
        super::super::parse(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn parse(text: &str, check_type: Option<Scheme>) -> Result<Address, InvalidTarget> {
        super::super::parse(text, check_type)
    }

    #[test]
    fn database_forms() {
        let a = ok("postgresql://db/app?user=u%20x&sslmode=require");
        assert_eq!((a.scheme, a.port), (Scheme::Postgres, Some(5432)));
        let params: Vec<(&str, &str)> = a
            .params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            params,
            [("user", "u x"), ("sslmode", "require"), ("dbname", "app")]
        );
        assert_eq!(ok("mysql://[::1]").port, Some(3306));
        assert_eq!(ok("rediss://cache:6380/").port, Some(6380));
        assert_eq!(ok("redis://cache").port, Some(6379));
        assert_eq!(parse("db", Some(Scheme::Mysql)).unwrap().port, Some(3306));
        let refused = |text: &str| parse(text, None).unwrap_err().to_string();
        assert!(refused("redis://cache/0").contains("without a path"));
        assert!(refused("mysql://db?x=1").contains("takes no parameters"));
        assert!(refused("postgres://db?user=a&user=b").contains("given twice"));
        assert!(refused("postgres://db?user=%00").contains("non-empty"));
        assert!(refused("redis://u:p@cache").contains("REDISCLI_AUTH"));
    }
}
