//! The one reader of a target's `?name=value&...` options, for every
//! scheme: values percent-decoded (RFC 3986 §2.1), an option the scheme
//! does not take refused with the list of those it takes, and an option
//! given twice refused unless it is a list (a second value would silently
//! replace the first).

use super::invalid::InvalidTarget;

/// One option a scheme takes.
#[derive(Debug)]
pub struct Opt {
    /// `service`, as in `?service=NAME`.
    pub name: &'static str,
    /// The value's name in help and errors: `NAME`.
    pub value: &'static str,
    /// Whether it may be given more than once.
    pub list: bool,
    /// Whether an empty value means something (gRPC's service `""` is the
    /// server as a whole).
    pub empty: bool,
}

/// A one-value option.
pub const fn opt(name: &'static str, value: &'static str) -> Opt {
    Opt {
        name,
        value,
        list: false,
        empty: false,
    }
}

/// The options of one target, decoded, in the order given.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options(Vec<(&'static str, String)>);

impl Options {
    /// The value of a one-value option.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an option, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `name=VALUE, ...` as a scheme's errors and help list them.
pub fn describe(accepted: &[Opt]) -> String {
    match accepted {
        [] => "no options".to_owned(),
        opts => opts
            .iter()
            .map(|o| format!("{}={}", o.name, o.value))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Reads `query` (what follows `?`, without it). Every value is free of
/// NUL (some go into NUL-terminated protocol fields) and, unless the option
/// says otherwise, non-empty.
pub fn parse(
    query: &str,
    accepted: &'static [Opt],
    form: &'static str,
) -> Result<Options, InvalidTarget> {
    let mut options = Options::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = crate::percent::decode(raw).unwrap_or_else(|| raw.to_owned());
        let Some(opt) = accepted.iter().find(|o| o.name == name) else {
            return Err(InvalidTarget::UnknownOption {
                name,
                form,
                takes: describe(accepted),
            });
        };
        let value = crate::percent::decode(value)
            .filter(|v| (opt.empty || !v.is_empty()) && !v.contains('\0'));
        let value = value.ok_or_else(|| {
            InvalidTarget::Value(format!(
                "{}= needs a non-empty, percent-encoded value",
                opt.name
            ))
        })?;
        if !opt.list && options.get(opt.name).is_some() {
            return Err(InvalidTarget::Repeated(opt.name));
        }
        options.0.push((opt.name, value));
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAKES: &[Opt] = &[
        opt("user", "U"),
        Opt {
            list: true,
            ..opt("tag", "T")
        },
    ];

    #[test]
    fn options_are_decoded_and_repeated_only_when_a_list() {
        let o = parse("user=a%20b&tag=x&tag=y", TAKES, "x://H").unwrap();
        assert_eq!(o.get("user"), Some("a b"));
        assert_eq!(o.all("tag").collect::<Vec<_>>(), ["x", "y"]);
        let refused = |q: &str| parse(q, TAKES, "x://H").unwrap_err().to_string();
        assert_eq!(
            refused("user=a&user=b"),
            "user= is given twice; it takes one value"
        );
        assert_eq!(
            refused("db=1"),
            "unknown option \"db\"; x://H takes user=U, tag=T"
        );
        assert!(refused("user=").contains("non-empty"));
        assert!(refused("user=%00").contains("non-empty"));
        assert!(refused("user=%zz").contains("percent-encoded"));
        assert_eq!(
            parse("a=1", &[], "m://H").unwrap_err().to_string(),
            "unknown option \"a\"; m://H takes no options"
        );
    }
}
