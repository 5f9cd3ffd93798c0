//! Why a target string was refused: the problem half of an exit-2 line.

use std::fmt;

/// Why a target string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidTarget {
    /// Nothing was given.
    Empty,
    /// A scheme rdy does not probe, and the forms it does.
    UnknownScheme { given: String, accepted: String },
    /// `--type` says one thing, the scheme another.
    TypeConflict {
        check_type: &'static str,
        scheme: &'static str,
    },
    /// A target without the `:port` its scheme needs.
    MissingPort,
    /// The port is not 1-65535.
    BadPort(String),
    /// The host is empty or has characters no host name has.
    BadHost(String),
    /// An IPv6 literal without brackets next to a port.
    Ipv6NeedsBrackets,
    /// The URL does not parse.
    BadUrl(String),
    /// `user:password@` in a URL.
    Credentials,
    /// `user:password@` in a database target, and where the secret goes.
    ServiceCredentials(&'static str),
    /// A port, path, query or fragment the scheme does not take; its form.
    Extra(&'static str),
    /// Whitespace inside: most often two targets in one list item.
    Whitespace,
    /// A dns target whose name is an IP address or empty.
    DnsName(String),
    /// A `?name=value` option the scheme does not take, and what it takes.
    UnknownOption {
        name: String,
        form: &'static str,
        takes: String,
    },
    /// An option given twice that is not a list.
    Repeated(&'static str),
    /// An option's value: what is wrong with it.
    Value(String),
}

impl fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidTarget::Empty => f.write_str("empty target"),
            InvalidTarget::UnknownScheme { given, accepted } => {
                write!(f, "unknown scheme {given:?}; accepted: {accepted}")
            }
            InvalidTarget::TypeConflict { check_type, scheme } => write!(
                f,
                "check type {check_type} conflicts with the {scheme}:// scheme of the address"
            ),
            InvalidTarget::MissingPort => f.write_str("missing port; expected host:port"),
            InvalidTarget::BadPort(p) => write!(f, "port {p:?} is not a number from 1 to 65535"),
            InvalidTarget::BadHost(h) => write!(f, "host {h:?} is not a host name or IP address"),
            InvalidTarget::Ipv6NeedsBrackets => {
                f.write_str("an IPv6 address with a port needs brackets, e.g. [::1]:8080")
            }
            InvalidTarget::BadUrl(e) => write!(f, "not a valid URL: {e}"),
            InvalidTarget::Credentials => f.write_str(
                "credentials in the URL are not supported; \
                 send them with --header Authorization=...",
            ),
            InvalidTarget::ServiceCredentials(how) => write!(
                f,
                "credentials do not belong in the target (it is logged); {how}"
            ),
            InvalidTarget::Extra(form) => write!(f, "expected {form}"),
            InvalidTarget::Whitespace => f.write_str(
                "a target contains no spaces; lists of targets (WAIT_HOSTS) are separated by commas",
            ),
            InvalidTarget::DnsName(name) => write!(f, "{name:?} is not a DNS name to look up"),
            InvalidTarget::UnknownOption { name, form, takes } => {
                write!(f, "unknown option {name:?}; {form} takes {takes}")
            }
            InvalidTarget::Repeated(name) => {
                write!(f, "{name}= is given twice; it takes one value")
            }
            InvalidTarget::Value(why) => f.write_str(why),
        }
    }
}
