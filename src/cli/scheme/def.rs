//! What a scheme says about itself: one [`Def`] per scheme, a row of the
//! table in scheme.rs, and the typed address its parser returns.

use std::fmt;

use super::context::Context;
use super::invalid::InvalidTarget;
use super::query::Opt;
use crate::cli::flags::Kinds;
use crate::probe::Probe;

/// The port of a scheme's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The target must say it (`tcp://db:5432`).
    Required,
    /// Used when the target does not say it.
    Default(u16),
    /// The scheme has none (ICMP, DNS).
    None,
}

/// A scheme's parser: its row and what follows `NAME://`.
pub type Parser = fn(&'static Def, &str) -> Result<Box<dyn Parsed>, InvalidTarget>;

/// One target scheme: everything the command line, `--help`, the README
/// and the fuzz seeds say about it.
#[derive(Debug)]
pub struct Def {
    /// What selects it, lower case: before `://` and as `--type`; the
    /// first is its name in log lines (`check_type=`).
    pub names: &'static [&'static str],
    /// Whether `--type` (`TARGET_CHECK_TYPE`) may name it; PortPatrol's
    /// types and the databases. Other schemes need their `://`.
    pub check_type: bool,
    /// Its port.
    pub port: Port,
    /// How a target is written, for `--help`, errors and the README.
    pub forms: &'static [&'static str],
    /// The `?name=value` options it takes.
    pub options: &'static [Opt],
    /// `--help`'s line: when it is ready.
    pub help: &'static str,
    /// The README's "probe" cell.
    pub probe: &'static str,
    /// The README's "ready when" cell.
    pub ready: &'static str,
    /// The per-target options beyond those for every target that act on
    /// it (TLS trust, HTTP's); any other after it is refused.
    pub honours: &'static [Kinds],
    /// A target that parses: a fuzz seed, checked by a unit test.
    pub example: &'static str,
    /// Parses what follows `NAME://` (or a whole address without a scheme
    /// when `--type` names this one); `None` for `k8s:` targets, which are
    /// built with the Kubernetes client (src/kube/target.rs).
    pub parse: Option<Parser>,
}

impl Def {
    /// The name in log lines and error messages.
    pub fn name(&self) -> &'static str {
        self.names[0]
    }

    /// How its targets begin: `http://`, `k8s:`.
    pub fn prefix(&self) -> &'static str {
        let form = self.forms[0];
        let end = form
            .find("://")
            .map_or_else(|| form.find(':').map_or(0, |i| i + 1), |i| i + 3);
        &form[..end]
    }

    /// Whether per-target options of `kinds` act on its targets.
    pub fn honours(&self, kinds: Kinds) -> bool {
        kinds == Kinds::All || self.honours.contains(&kinds)
    }
}

/// A target of one scheme, parsed: its typed address and options. Not
/// `Debug`: a vtable entry per scheme would keep eight printers in the
/// binary that nothing calls.
pub trait Parsed {
    /// The scheme's row.
    fn def(&self) -> &'static Def;
    /// Its host: the display name without `--name`, as PortPatrol infers
    /// `TARGET_NAME` (`http://postgres.default.svc:5432` →
    /// `postgres.default.svc`).
    fn host(&self) -> &str;
    /// The probe, with everything checked that can be before any network
    /// activity; an error is the problem text of an exit-2 line.
    fn build(&self, cx: &Context<'_>) -> Result<Probe, String>;
}

/// For tests' `unwrap_err`: the scheme and host.
impl fmt::Debug for dyn Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.def().name(), self.host())
    }
}
