//! Every target scheme in one table, [`SCHEMES`], the way [`FLAGS`] holds
//! every option: each row is one scheme's module (its names, port, forms,
//! options, help, the shared options it honours, and its parser, whose
//! typed address builds the probe). The scheme list of errors, `--type`,
//! `--help`'s targets, the option kinds of errors and the README's target
//! table all come from here; docs/decisions.md says how to add a scheme.
//!
//! [`FLAGS`]: super::flags::FLAGS

pub mod context;
pub mod def;
mod dns;
mod grpc;
pub mod host;
mod http;
mod icmp;
pub mod invalid;
mod mysql;
mod postgres;
pub mod query;
mod redis;
mod tcp;

use self::def::{Def, Parsed, Port};
use self::invalid::InvalidTarget;
use super::flags::Kinds;

pub use self::http::Address as HttpAddress;

/// The `k8s:` targets: parsed by src/kube/target.rs and built with the
/// Kubernetes client (cli/targets.rs), listed here for help and errors.
pub const K8S: Def = Def {
    names: &["k8s"],
    check_type: false,
    port: Port::None,
    forms: &["k8s:[NS/]RESOURCE[.GROUP]/NAME[?OPTS]"],
    options: &[],
    help: "the object is ready: kubectl's rule for the built-in kinds, else \
           its Ready condition (kstatus); RESOURCE is any served resource \
           (pod, deploy, certificate.cert-manager.io), or pods?selector=LABELS",
    probe: "Kubernetes API: LIST, then WATCH",
    ready: "kubectl's rule for the kind, kstatus for other resources, or `--for` (see below)",
    honours: &[Kinds::K8s],
    example: "k8s:deployment/api",
    parse: None,
};

/// Every scheme, in the order `--help` and the README list them.
pub static SCHEMES: &[&Def] = &[
    &tcp::TCP,
    &http::HTTP,
    &http::HTTPS,
    &icmp::ICMP,
    &K8S,
    &grpc::GRPC,
    &grpc::GRPCS,
    &dns::DNS,
    &postgres::POSTGRES,
    &mysql::MYSQL,
    &redis::REDIS,
    &redis::REDISS,
];

/// The scheme a name selects, case-insensitively.
pub fn by_name(name: &str) -> Option<&'static Def> {
    let name = name.trim().to_ascii_lowercase();
    SCHEMES
        .iter()
        .copied()
        .find(|d| d.parse.is_some() && d.names.contains(&name.as_str()))
}

/// The scheme `--type` names, as PortPatrol's `TARGET_CHECK_TYPE` does.
pub fn by_check_type(name: &str) -> Option<&'static Def> {
    by_name(name).filter(|d| d.check_type)
}

/// What `--type` accepts: `tcp, http, ... or rediss`.
pub fn check_types() -> String {
    let names: Vec<&str> = SCHEMES
        .iter()
        .filter(|d| d.check_type)
        .map(|d| d.name())
        .collect();
    match names.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The forms of every scheme, for the error about an unknown one.
pub fn accepted() -> String {
    let forms: Vec<&str> = SCHEMES
        .iter()
        .flat_map(|d| d.forms.iter().copied())
        .collect();
    forms.join(", ")
}

/// The targets per-target options of `kinds` act on, for errors and help.
pub fn applies_to(kinds: Kinds) -> String {
    if kinds == Kinds::All {
        return "every target".to_owned();
    }
    let names: Vec<&str> = SCHEMES
        .iter()
        .filter(|d| d.honours.contains(&kinds))
        .map(|d| d.prefix())
        .collect();
    match names.split_last() {
        Some((last, [])) => format!("{last} targets"),
        Some((last, rest)) => format!("{} and {last} targets", rest.join(", ")),
        None => "no target".to_owned(),
    }
}

/// Parses a target string. `check_type` (`--type`, `TARGET_CHECK_TYPE`)
/// supplies the scheme of an address written without one; without either,
/// an address is TCP, as in PortPatrol.
pub fn parse(
    text: &str,
    check_type: Option<&'static Def>,
) -> Result<Box<dyn Parsed>, InvalidTarget> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidTarget::Empty);
    }
    if text.contains(char::is_whitespace) {
        return Err(InvalidTarget::Whitespace);
    }
    let (def, rest) = match text.split_once("://") {
        Some((written, rest)) => {
            let def = by_name(written).ok_or_else(|| InvalidTarget::UnknownScheme {
                given: format!("{written}://"),
                accepted: accepted(),
            })?;
            check_agreement(check_type, def)?;
            (def, rest)
        }
        None => (check_type.unwrap_or(&tcp::TCP), text),
    };
    match def.parse {
        Some(parse) => parse(def, rest),
        None => Err(InvalidTarget::Empty),
    }
}

/// Whether `--type` and the written scheme agree; PortPatrol treats http
/// and https as one check type.
fn check_agreement(
    check_type: Option<&'static Def>,
    def: &'static Def,
) -> Result<(), InvalidTarget> {
    let web = |d: &Def| d.honours.contains(&Kinds::Http);
    match check_type {
        None => Ok(()),
        Some(t) if t.name() == def.name() || (web(t) && web(def)) => Ok(()),
        Some(t) => Err(InvalidTarget::TypeConflict {
            check_type: t.name(),
            scheme: def.name(),
        }),
    }
}

/// `--help`'s list of targets: each scheme's forms and when it is ready.
pub fn targets_help(out: &mut String, wrap: impl Fn(&mut String, &str, usize)) {
    const COLUMN: usize = 31;
    out.push_str("\nTargets:\n");
    for def in SCHEMES {
        let left = format!("  {}", def.forms.join(", "));
        out.push_str(&left);
        if left.len() + 2 > COLUMN {
            out.push('\n');
            wrap(out, def.help, COLUMN);
        } else {
            out.push_str(&" ".repeat(COLUMN - left.len()));
            let mut rest = String::new();
            wrap(&mut rest, def.help, COLUMN);
            out.push_str(rest.trim_start());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Box<dyn Parsed> {
        parse(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_example_parses_as_its_scheme() {
        for def in SCHEMES.iter().filter(|d| d.parse.is_some()) {
            let parsed = parse(def.example, Some(&tcp::TCP))
                .or_else(|_| parse(def.example, None))
                .unwrap_or_else(|e| panic!("{}: {e}", def.example));
            assert_eq!(parsed.def().name(), def.name(), "{}", def.example);
            assert!(!parsed.host().is_empty());
        }
    }

    #[test]
    fn names_and_check_types() {
        assert_eq!(ok("db:5432").def().name(), "tcp");
        assert_eq!(ok("HTTP://web").def().name(), "http");
        assert_eq!(ok("postgresql://db").def().name(), "postgres");
        assert_eq!(ok("GRPCS://[::1]:443/").def().name(), "grpcs");
        assert_eq!(
            check_types(),
            "tcp, http, https, icmp, postgres, mysql, redis or rediss"
        );
        assert!(by_check_type("grpc").is_none());
        assert_eq!(
            applies_to(Kinds::Tls),
            "https://, grpcs://, postgres:// and rediss:// targets"
        );
        let http = by_check_type("http");
        assert_eq!(parse("web:8080", http).unwrap().def().name(), "http");
        assert!(parse("https://web", http).is_ok());
        assert_eq!(
            parse("http://web", Some(&tcp::TCP)).unwrap_err(),
            InvalidTarget::TypeConflict {
                check_type: "tcp",
                scheme: "http"
            }
        );
        assert_eq!(ok("icmp://::1").host(), "::1");
        assert_eq!(ok("dns://db").host(), "db");
        assert_eq!(
            ok("http://postgres.default.svc.cluster.local:5432").host(),
            "postgres.default.svc.cluster.local"
        );
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", InvalidTarget::Empty),
            ("db", InvalidTarget::MissingPort),
            ("grpc://api", InvalidTarget::MissingPort),
            ("db:0", InvalidTarget::BadPort("0".into())),
            ("db:65536", InvalidTarget::BadPort("65536".into())),
            ("db:+80", InvalidTarget::BadPort("+80".into())),
            ("::1:80", InvalidTarget::Ipv6NeedsBrackets),
            ("db host:1", InvalidTarget::Whitespace),
            (":80", InvalidTarget::BadHost(String::new())),
            ("http://u:p@web/", InvalidTarget::Credentials),
            ("[zz]:80", InvalidTarget::BadHost("zz".into())),
            ("a..b:1", InvalidTarget::BadHost("a..b".into())),
            ("dns://10.0.0.1", InvalidTarget::DnsName("10.0.0.1".into())),
            ("dns://?type=A", InvalidTarget::DnsName(String::new())),
            ("dns://x?type=A&type=AAAA", InvalidTarget::Repeated("type")),
            (
                "grpc://x:1?service=a&service=b",
                InvalidTarget::Repeated("service"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, None).unwrap_err(), want, "{text:?}");
        }
        let refused = |text: &str| parse(text, None).unwrap_err().to_string();
        assert!(refused("ftp://x").starts_with("unknown scheme \"ftp://\"; accepted: tcp://"));
        assert!(refused("k8s://x").starts_with("unknown scheme"));
        for extra in [
            "db:80/x",
            "icmp://gw:80",
            "icmp://gw/x",
            "grpc://api:1/x",
            "dns://db:53",
        ] {
            assert!(refused(extra).starts_with("expected "), "{extra}");
        }
        assert!(refused("redis://cache/0").contains("without a path"));
        assert!(refused("mysql://db?x=1").contains("takes no options"));
        assert!(refused("postgres://db?user=a&user=b").contains("given twice"));
        assert!(refused("postgres://db/a?dbname=b").contains("named twice"));
        assert!(refused("postgres://db?user=%00").contains("non-empty"));
        assert!(refused("redis://u:p@cache").contains("REDISCLI_AUTH"));
        assert!(refused("dns://db?ttl=5").contains("dns://NAME takes type=T, server=IP[:PORT]"));
        assert!(matches!(
            parse("http://", None),
            Err(InvalidTarget::BadUrl(_))
        ));
        assert!(parse("http://web:99999/", None).is_err());
    }

    /// The README's "Targets" table is this table, cell by cell.
    #[test]
    fn the_readme_target_table_is_the_registry() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Targets\n")
            .nth(1)
            .expect("a Targets section");
        let rows: Vec<Vec<String>> = section
            .lines()
            .skip_while(|l| !l.starts_with("| target |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells = l.trim_matches('|').split(" | ");
                cells.map(|c| c.trim().to_owned()).collect()
            })
            .collect();
        let want: Vec<Vec<String>> = SCHEMES
            .iter()
            .map(|d| {
                let mut forms: Vec<String> = d.forms.iter().map(|f| format!("`{f}`")).collect();
                if !d.options.is_empty() {
                    let options: Vec<String> = d
                        .options
                        .iter()
                        .map(|o| format!("{}={}", o.name, o.value))
                        .collect();
                    forms[0] = format!("`{}[?{}]`", d.forms[0], options.join("&"));
                }
                let mut first = forms.join(", ");
                for alias in &d.names[1..] {
                    first.push_str(&format!(" (`{alias}://`)"));
                }
                vec![first, d.probe.to_owned(), d.ready.to_owned()]
            })
            .collect();
        let table: Vec<String> = want
            .iter()
            .map(|r| format!("| {} |", r.join(" | ")))
            .collect();
        assert_eq!(rows, want, "the README's rows:\n{}", table.join("\n"));
    }
}
