//! Every option in one table: its names, its environment variable, where it
//! may appear, and its help text. Parsing, environment reading and `--help`
//! come from here; the README's option table is written by hand and checked
//! against it cell by cell (names, value, variable) by `tests/cli.rs`.

/// Identifies an option independently of how it was spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Timeout,
    LogFormat,
    Quiet,
    Verbose,
    Help,
    Version,
    Supervise,
    ThenPost,
    WaitBefore,
    WaitAfter,
    Strict,
    Kubeconfig,
    Context,
    Name,
    CheckType,
    Interval,
    DialTimeout,
    Method,
    Header,
    AllowDuplicateHeaders,
    Status,
    BodyContains,
    BodyJson,
    FollowRedirects,
    Insecure,
    CaFile,
    IcmpReadTimeout,
    Listen,
    CacheTtl,
    Workers,
    MaxConnections,
    IdleTimeout,
    ClientTimeout,
    Force,
    TokenFile,
    RateLimit,
    Expose,
    MaxWatches,
    WatchIdle,
    For,
    FailedIf,
    TerminationLog,
}

/// Where an option may appear and what it affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere on the line; affects the whole run.
    Run,
    /// Before the first target (a default for every target) or after a
    /// target (that target only); applies to targets of these kinds.
    Target(Kinds),
    /// `rdy serve` only; the other commands refuse it.
    Serve,
}

/// The target kinds a per-target option applies to: each scheme's row
/// lists the kinds it honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// Every target.
    All,
    /// `http://` and `https://` targets.
    Http,
    /// `icmp://` targets.
    Icmp,
    /// `k8s:` targets.
    K8s,
    /// Targets that verify a TLS server (`-k`, `--ca-file`); which ones the
    /// scheme table says (cli/scheme.rs), as for every kind.
    Tls,
}

/// One option.
#[derive(Debug)]
pub struct Flag {
    /// Identity used by the parser.
    pub id: Id,
    /// `--long` name without dashes.
    pub long: &'static str,
    /// `-s` short name.
    pub short: Option<char>,
    /// The environment variable that sets it (PortPatrol's name where one
    /// exists, else `RDY_…`).
    pub env: Option<&'static str>,
    /// Name of the value in help, or `None` for a switch.
    pub value: Option<&'static str>,
    /// Where it may appear.
    pub scope: Scope,
    /// One or two sentences, with an example or the default. `{types}` and
    /// `{tls}` stand for the lists of the scheme table (see help.rs).
    pub help: &'static str,
}

const fn flag(
    id: Id,
    long: &'static str,
    short: Option<char>,
    env: Option<&'static str>,
    value: Option<&'static str>,
    scope: Scope,
    help: &'static str,
) -> Flag {
    Flag {
        id,
        long,
        short,
        env,
        value,
        scope,
        help,
    }
}

use Kinds::{All, Http, Icmp, K8s, Tls};
use Scope::{Run, Serve, Target};

/// All options, in the order `--help` lists them.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    flag(Id::Timeout, "timeout", Some('t'), Some("RDY_TIMEOUT"), Some("DUR"), Run,
        "Give up after DUR and exit 1, naming every target that is not ready \
         and its last error. 0 means no limit [default: none]. With serve: \
         the limit of one round of probes, and the default --dial-timeout. \
         Example: -t 2m"),
    flag(Id::Interval, "interval", Some('i'), Some("CHECK_INTERVAL"), Some("DUR"), Target(All),
        "Time from the start of one attempt to the start of the next \
         [default: 2s]. Example: -i 500ms"),
    flag(Id::DialTimeout, "dial-timeout", None, Some("DIAL_TIMEOUT"), Some("DUR"), Target(All),
        "Limit for one attempt: resolving and connecting, and for HTTP the whole \
         request [default: 1s]. Example: --dial-timeout 3s"),
    flag(Id::Name, "name", None, Some("TARGET_NAME"), Some("NAME"), Target(All),
        "Name of the target in log lines [default: its host]. TARGET_NAME names \
         the TARGET_ADDRESS target only. Example: db:5432 --name PostgreSQL"),
    flag(Id::CheckType, "type", None, Some("TARGET_CHECK_TYPE"), Some("TYPE"), Target(All),
        "Check type for an address written without a scheme: {types} \
         [default: tcp]. \
         Example: --type http web:8080"),
    flag(Id::For, "for", None, None, Some("EXPR"), Target(K8s),
        "Wait for this instead of the kind's rule (kubectl's syntax: condition=, \
         jsonpath=, create, delete); repeatable, all on one version. \
         Example: --for condition=Ready"),
    flag(Id::FailedIf, "failed-if", None, None, Some("EXPR"), Target(K8s),
        "End the wait at once with exit 3 when this holds (--for's condition= or \
         jsonpath=); repeatable, any one is enough. \
         Example: --failed-if condition=Failed"),
    flag(Id::Method, "method", Some('X'), Some("HTTP_METHOD"), Some("METHOD"), Target(Http),
        "HTTP method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS; no body is \
         sent [default: GET]. Example: -X HEAD"),
    flag(Id::Header, "header", Some('H'), Some("HTTP_HEADERS"), Some("NAME=VALUE"), Target(Http),
        "Request header; repeat it, or give a comma list. A header after a \
         target replaces a default of the same name. \
         Example: -H 'Authorization=Bearer abc'"),
    flag(Id::AllowDuplicateHeaders, "allow-duplicate-headers", None,
        Some("HTTP_ALLOW_DUPLICATE_HEADERS"), None, Target(Http),
        "Send a header name given twice as two fields instead of refusing it."),
    flag(Id::Status, "status", None, Some("HTTP_EXPECTED_STATUS_CODES"), Some("LIST"), Target(Http),
        "Statuses that count as ready: codes, ranges and classes \
         [default: 200]. Example: --status 200-299,304 or --status 2xx,3xx"),
    flag(Id::BodyContains, "body-contains", None, Some("RDY_BODY_CONTAINS"), Some("TEXT"), Target(Http),
        "Also require TEXT in the first 64 KiB of the body. \
         Example: --body-contains '\"status\":\"UP\"'"),
    flag(Id::BodyJson, "body-json", None, Some("RDY_BODY_JSON"), Some("EXPR"), Target(Http),
        "Also require the first 64 KiB of the body to be JSON where the JSONPath \
         holds, as --for jsonpath= reads it: {PATH}, {PATH}=V, {PATH}!=V or \
         {PATH} in (A,B). Example: --body-json '{.status} in (green,yellow)'"),
    flag(Id::FollowRedirects, "follow-redirects", None, Some("RDY_FOLLOW_REDIRECTS"), None, Target(Http),
        "Follow up to 10 redirects; without it a 3xx response is the answer \
         judged by --status."),
    flag(Id::Insecure, "insecure", Some('k'), Some("HTTP_SKIP_TLS_VERIFY"), None, Target(Tls),
        "Do not verify the server's TLS certificate ({tls})."),
    flag(Id::CaFile, "ca-file", None, Some("RDY_CA_FILE"), Some("FILE"), Target(Tls),
        "Trust the CA certificates in this PEM file instead of the system \
         bundle ({tls}); postgres TLS is verified only with it, as \
         libpq with a root certificate. Example: --ca-file /etc/rdy/ca.pem"),
    flag(Id::IcmpReadTimeout, "icmp-read-timeout", None, Some("ICMP_READ_TIMEOUT"), Some("DUR"), Target(Icmp),
        "How long to wait for the echo reply [default: 1s]."),
    flag(Id::Supervise, "supervise", None, Some("RDY_SUPERVISE"), None, Run,
        "Run the command after -- as a child instead of exec'ing it: forward \
         signals to it, reap zombies as PID 1, exit with its status."),
    flag(Id::ThenPost, "then-post", None, Some("RDY_THEN_POST"), Some("URL"), Run,
        "After the command exits, or the wait fails, POST to URL; repeatable \
         (the variable takes a comma list). Failures are logged and never \
         change the exit code. Implies --supervise. \
         Example: --then-post http://localhost:15020/quitquitquit"),
    flag(Id::WaitBefore, "wait-before", None, Some("WAIT_BEFORE"), Some("DUR"), Run,
        "Sleep DUR before the first attempt [default: 0]."),
    flag(Id::WaitAfter, "wait-after", None, Some("WAIT_AFTER"), Some("DUR"), Run,
        "Sleep DUR once every target is ready, before the command [default: 0]."),
    flag(Id::Strict, "strict", Some('s'), None, None, Run,
        "Accepted for wait-for-it's command line; rdy never runs the command \
         unless every target is ready."),
    flag(Id::Kubeconfig, "kubeconfig", None, Some("RDY_KUBECONFIG"), Some("FILE"), Run,
        "Kubernetes configuration for k8s: targets [default: $KUBECONFIG, else \
         the pod's service account, else ~/.kube/config]."),
    flag(Id::Context, "context", None, Some("RDY_CONTEXT"), Some("NAME"), Run,
        "kubeconfig context to use [default: current-context]."),
    flag(Id::Listen, "listen", None, Some("RDY_LISTEN"), Some("ADDR"), Serve,
        "Address and port to serve on; :PORT means every interface, IPv6 and \
         IPv4 [default: :8081]. Example: --listen 127.0.0.1:8081"),
    flag(Id::CacheTtl, "cache-ttl", None, Some("RDY_CACHE_TTL"), Some("DUR"), Serve,
        "Reuse a probe result for DUR; concurrent requests always share the \
         probe in flight. 0 disables reuse [default: 1s]. Example: --cache-ttl 5s"),
    flag(Id::Workers, "workers", None, Some("RDY_WORKERS"), Some("N"), Serve,
        "Threads that run probes [default: one per target, at most 16]."),
    flag(Id::MaxConnections, "max-connections", None, Some("RDY_MAX_CONNECTIONS"), Some("N"), Serve,
        "Open client connections at most; at the cap the idlest connection \
         makes room [default: 1024]."),
    flag(Id::IdleTimeout, "idle-timeout", None, Some("RDY_IDLE_TIMEOUT"), Some("DUR"), Serve,
        "Close a keep-alive connection idle this long [default: 30s]."),
    flag(Id::ClientTimeout, "client-timeout", None, Some("RDY_CLIENT_TIMEOUT"), Some("DUR"), Serve,
        "Time a client has to send a request head once it started, and to \
         take a response [default: 5s]."),
    flag(Id::Force, "force", None, Some("RDY_FORCE"), Some("STATE"), Serve,
        "Answer /all with ready (200) or unready (503) without probing, for \
         maintenance. Example: --force unready"),
    flag(Id::TokenFile, "token-file", None, Some("RDY_TOKEN_FILE"), Some("FILE"), Serve,
        "Require the token in this file (re-read when it changes) on every \
         endpoint but /self, as Authorization: Bearer T, Basic T or ?token=T. \
         RDY_TOKEN gives the token itself. Example: --token-file /run/secrets/rdy"),
    flag(Id::RateLimit, "rate-limit", None, Some("RDY_RATE_LIMIT"), Some("N/PERIOD"), Serve,
        "Answer 429 beyond N requests per PERIOD (a token bucket; /self is \
         exempt). Also RATE_LIMIT=N with RATE_LIMIT_PERIOD=PERIOD. \
         Example: --rate-limit 3600/1h"),
    flag(Id::Expose, "expose", None, Some("RDY_EXPOSE"), Some("NS[/RESOURCE]"), Serve,
        "Let /api/healthz/NS/RESOURCE/NAME answer for this namespace (and \
         kind or resource, by any of its names); repeat it, or give the \
         variable a comma list. Anything else is 404 [default: the server's \
         own namespace]. Example: --expose prod/deployment"),
    flag(Id::MaxWatches, "max-watches", None, Some("RDY_MAX_WATCHES"), Some("N"), Serve,
        "Kubernetes collections (a resource in a namespace) watched at once \
         at most; a request for one more gets 503 [default: 100]."),
    flag(Id::WatchIdle, "watch-idle", None, Some("RDY_WATCH_IDLE"), Some("DUR"), Serve,
        "Close the watch of an object nobody asked about for DUR [default: 10m]."),
    flag(Id::TerminationLog, "termination-log", None, Some("RDY_TERMINATION_LOG"), Some("FILE"), Run,
        "When wait or check fails, write which targets were not ready and \
         their last errors here (at most 4 KiB), where the kubelet reads the \
         container's termination message; none turns it off [default: \
         /dev/termination-log when it exists and is writable]. \
         Example: --termination-log none"),
    flag(Id::LogFormat, "log-format", None, Some("RDY_LOG_FORMAT"), Some("FORMAT"), Run,
        "logfmt or json [default: logfmt]."),
    flag(Id::Quiet, "quiet", Some('q'), Some("RDY_QUIET"), None, Run,
        "Log errors only."),
    flag(Id::Verbose, "verbose", Some('v'), Some("LOG_EXTRA_FIELDS"), None, Run,
        "Add target_address, check_type, interval, dial_timeout, attempt and \
         version to every line, and log debug lines."),
    flag(Id::Help, "help", Some('h'), None, None, Run, "Print this help."),
    flag(Id::Version, "version", Some('V'), None, None, Run, "Print the version."),
];

/// Looks up `--name`.
pub fn by_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

/// Looks up `-c`.
pub fn by_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// Looks up the table entry of an id.
pub fn by_id(id: Id) -> &'static Flag {
    FLAGS
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| unreachable!("every Id has a row in FLAGS"))
}

// Which command takes which option, and a suggestion for a mistyped one.

/// Run options only `rdy wait` acts on: the command it starts, the hooks
/// after it, and the pauses around it. `check` and `serve` refuse them.
pub const WAIT_ONLY: [Id; 5] = [
    Id::Supervise,
    Id::ThenPost,
    Id::WaitBefore,
    Id::WaitAfter,
    Id::Strict,
];

/// Options that may be given more than once in one layer: each adds to a
/// list. Any other given twice is an error, since the second value would
/// silently replace the first (`--timeout 1m ... --timeout 5s`).
pub const REPEATABLE: [Id; 4] = [Id::Header, Id::For, Id::ThenPost, Id::Expose];

/// Options `rdy serve` refuses although wait and check take them: it ends
/// with no verdict to write to a termination log, and probes when asked,
/// not every interval. Its help leaves them out.
pub const NOT_SERVE: [Id; 2] = [Id::TerminationLog, Id::Interval];

/// The option a mistyped `--name` most likely meant: the long name with the
/// fewest single-character edits, if at most two and fewer than half the
/// name (so `--timout` suggests `--timeout`, `--x` suggests nothing).
pub fn closest(name: &str) -> Option<&'static Flag> {
    let limit = (name.chars().count() / 2).min(2);
    FLAGS
        .iter()
        .map(|f| (edits(name, f.long), f))
        .filter(|(d, _)| *d <= limit && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

/// Levenshtein distance: insertions, deletions and substitutions.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_suggests_the_option_meant() {
        let long = |n: &str| closest(n).map(|f| f.long);
        assert_eq!(long("timout"), Some("timeout"));
        assert_eq!(long("intervall"), Some("interval"));
        assert_eq!(long("dial-timout"), Some("dial-timeout"));
        assert_eq!(long("bogus"), None);
        assert_eq!(long("x"), None);
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
