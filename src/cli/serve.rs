//! The options of `rdy serve`, layered like the others (command line over
//! environment over defaults) into [`Settings`], and the checks that keep
//! each command's options to that command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::env::{Env, each_env, non_empty};
use super::error::{Source, UsageError};
use super::flags::{Id, NOT_SERVE, Scope, WAIT_ONLY};
use super::options::Given;
use super::run::Run;
use crate::kube::cache::WatchCache;
use crate::kube::config;
use crate::kube::health::{self, Exposure};
use crate::probe::Probe;
use crate::probe::k8s::ApiServer;
use crate::serve::auth::{Token, TokenFile};
use crate::serve::listen::{self, Listen};
use crate::serve::rate::{self, Rate};
use crate::serve::routes::{FORCE_VALUES, Force};
use crate::serve::{KubeHealth, Settings};
use crate::target::Target;

const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_WORKERS: usize = 256;
const DEFAULT_MAX_WATCHES: usize = 100;
const MAX_WATCHES: usize = 10_000;
const DEFAULT_WATCH_IDLE: Duration = Duration::from_secs(600);
const MAX_CONNECTIONS: usize = 1 << 20;

/// One layer of serve options; `None` means "not set here".
#[derive(Debug, Default)]
pub struct ServeOptions {
    listen: Option<Listen>,
    cache_ttl: Option<Duration>,
    workers: Option<usize>,
    max_connections: Option<usize>,
    idle_timeout: Option<Duration>,
    client_timeout: Option<Duration>,
    force: Option<Force>,
    /// Opened when the settings are built, so that `rdy wait --token-file`
    /// is refused for being the wrong command, not for a missing file.
    token_file: Option<(Source, PathBuf)>,
    rate_limit: Option<Rate>,
    expose: Option<Vec<String>>,
    max_watches: Option<usize>,
    watch_idle: Option<Duration>,
    /// The options as spelled on the command line.
    pub given: Vec<String>,
}

impl ServeOptions {
    /// Sets one option from its text.
    pub fn apply(&mut self, id: Id, value: &Given<'_>) -> Result<(), UsageError> {
        match id {
            Id::Listen => {
                let parsed = Listen::parse(value.text);
                self.listen = Some(parsed.ok_or_else(|| value.invalid(listen::ACCEPTED))?);
            }
            Id::CacheTtl => self.cache_ttl = Some(value.duration()?),
            Id::Workers => self.workers = Some(count(value, MAX_WORKERS)?),
            Id::MaxConnections => self.max_connections = Some(count(value, MAX_CONNECTIONS)?),
            Id::IdleTimeout => self.idle_timeout = Some(value.positive_duration()?),
            Id::ClientTimeout => self.client_timeout = Some(value.positive_duration()?),
            Id::Force => {
                let parsed = Force::parse(value.text);
                self.force = Some(parsed.ok_or_else(|| value.invalid(FORCE_VALUES))?);
            }
            Id::TokenFile => {
                let path = PathBuf::from(value.non_empty("a file name")?);
                self.token_file = Some((value.source.clone(), path));
            }
            Id::RateLimit => {
                let parsed = Rate::parse(value.text);
                self.rate_limit = Some(parsed.ok_or_else(|| value.invalid(rate::ACCEPTED))?);
            }
            Id::Expose => {
                let list = self.expose.get_or_insert_with(Vec::new);
                for item in value
                    .text
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                {
                    // Checked here so the error names the option.
                    Exposure::parse(&[item.to_owned()], "default").map_err(|_| {
                        value.invalid(format!(
                            "NAMESPACE or NAMESPACE/KIND, KIND one of {}",
                            health::KINDS
                        ))
                    })?;
                    list.push(item.to_owned());
                }
            }
            Id::MaxWatches => self.max_watches = Some(count(value, MAX_WATCHES)?),
            Id::WatchIdle => self.watch_idle = Some(value.positive_duration()?),
            _ => unreachable!("{id:?} is not a serve option"),
        }
        Ok(())
    }

    /// This layer with `top` laid over it.
    fn under(self, top: ServeOptions) -> ServeOptions {
        ServeOptions {
            listen: top.listen.or(self.listen),
            cache_ttl: top.cache_ttl.or(self.cache_ttl),
            workers: top.workers.or(self.workers),
            max_connections: top.max_connections.or(self.max_connections),
            idle_timeout: top.idle_timeout.or(self.idle_timeout),
            client_timeout: top.client_timeout.or(self.client_timeout),
            force: top.force.or(self.force),
            token_file: top.token_file.or(self.token_file),
            rate_limit: top.rate_limit.or(self.rate_limit),
            expose: top.expose.or(self.expose),
            max_watches: top.max_watches.or(self.max_watches),
            watch_idle: top.watch_idle.or(self.watch_idle),
            given: top.given,
        }
    }
}

/// A whole number from 1 to `max`.
fn count(value: &Given<'_>, max: usize) -> Result<usize, UsageError> {
    match value.text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(value.invalid(format!("a whole number from 1 to {max}"))),
    }
}

/// Refuses an option written for another command: serve's options outside
/// `rdy serve`, and `wait`'s command and hooks inside it. Silently ignoring
/// either would leave the user believing it works.
pub fn check_command(
    serving: bool,
    serve: &ServeOptions,
    run_given: &[(Id, String)],
    command: &[OsString],
) -> Result<(), UsageError> {
    let only_for = |option: &str, command: &'static str| UsageError::OnlyFor {
        option: option.to_owned(),
        command,
    };
    if !serving {
        return match serve.given.first() {
            Some(spelled) => Err(only_for(spelled, "serve")),
            None => Ok(()),
        };
    }
    if !command.is_empty() {
        return Err(only_for("-- COMMAND", "wait"));
    }
    // A server does not end with a verdict to report, and probes when
    // asked rather than every --interval.
    if let Some((_, spelled)) = run_given.iter().find(|(id, _)| NOT_SERVE.contains(id)) {
        return Err(only_for(spelled, "wait and rdy check"));
    }
    match run_given.iter().find(|(id, _)| WAIT_ONLY.contains(id)) {
        Some((_, spelled)) => Err(only_for(spelled, "wait")),
        None => Ok(()),
    }
}

/// Builds the settings: the environment under the command line, the token
/// read, target names checked (they name `/ready/NAME` and label the
/// metrics, so they must be unique), and the Kubernetes health API set up
/// when there is a Kubernetes configuration.
pub fn settings(line: ServeOptions, mut run: Run, env: Env<'_>) -> Result<Settings, UsageError> {
    let targets = &run.targets;
    for (i, target) in targets.iter().enumerate() {
        if targets[..i].iter().any(|t| t.name == target.name) {
            return Err(UsageError::DuplicateName(target.name.clone()));
        }
    }
    let options = seed_options(env)?.under(env_options(env)?).under(line);
    let kube = kube_health(&options, &mut run, env)?;
    let token = token(options.token_file, env)?;
    Ok(Settings {
        targets: run.targets,
        round: run.timeout,
        log: run.log,
        listen: options.listen.unwrap_or(listen::DEFAULT),
        cache_ttl: options.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL),
        workers: options.workers,
        max_connections: options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        idle_timeout: options.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT),
        client_timeout: options.client_timeout.unwrap_or(DEFAULT_CLIENT_TIMEOUT),
        force: options.force,
        token,
        rate_limit: options.rate_limit,
        kube,
    })
}

/// The `RDY_…` variables of the serve options.
fn env_options(env: Env<'_>) -> Result<ServeOptions, UsageError> {
    let mut options = ServeOptions::default();
    each_env(env, |flag, given| match flag.scope {
        Scope::Serve => options.apply(flag.id, given),
        _ => Ok(()),
    })?;
    Ok(options)
}

/// The seed tools' variables, below rdy's own: the heartbeat's `PORT`
/// (Go's `:PORT`, every interface) and `RATE_LIMIT` per
/// `RATE_LIMIT_PERIOD` (1h); the health sidecar's
/// `HTTP_HEALTHCHECK_SIDECAR_STATE_OVERRIDE` (`true` forces ready,
/// `false` unready).
fn seed_options(env: Env<'_>) -> Result<ServeOptions, UsageError> {
    let mut options = ServeOptions::default();
    if let Some(port) = non_empty(env, "PORT") {
        let parsed = port.trim().parse::<u16>().ok().map(Listen::Any);
        options.listen = Some(parsed.ok_or(UsageError::Invalid {
            source: Source::Env("PORT"),
            given: port,
            expected: "a port number from 0 to 65535".to_owned(),
        })?);
    }
    if let Some(count) = non_empty(env, "RATE_LIMIT") {
        let period = non_empty(env, "RATE_LIMIT_PERIOD").unwrap_or_else(|| "1h".to_owned());
        let text = format!("{}/{}", count.trim(), period.trim());
        options.rate_limit = Some(Rate::parse(&text).ok_or_else(|| UsageError::Invalid {
            source: Source::Env("RATE_LIMIT"),
            given: text,
            expected: "a count, with a duration in RATE_LIMIT_PERIOD (3600 and 1h)".to_owned(),
        })?);
    }
    const STATE: &str = "HTTP_HEALTHCHECK_SIDECAR_STATE_OVERRIDE";
    if let Some(state) = non_empty(env, STATE) {
        options.force = Some(match super::options::parse_bool(&state) {
            Some(true) => Force::Ready,
            Some(false) => Force::Unready,
            None => {
                return Err(UsageError::Invalid {
                    source: Source::Env(STATE),
                    given: state,
                    expected: super::options::BOOLEANS.to_owned(),
                });
            }
        });
    }
    Ok(options)
}

/// The token: a token file (the form that can rotate) over `RDY_TOKEN`
/// over the heartbeat's `AUTH_TOKEN_BASIC`.
fn token(file: Option<(Source, PathBuf)>, env: Env<'_>) -> Result<Option<Token>, UsageError> {
    if let Some((source, path)) = file {
        return match TokenFile::open(path.clone()) {
            Ok(file) => Ok(Some(Token::File(file))),
            Err(e) => Err(UsageError::Invalid {
                source,
                given: path.display().to_string(),
                expected: format!("a readable file that holds the token ({e})"),
            }),
        };
    }
    // Set but empty (a Secret key with no value) would serve without a
    // token while the manifest says otherwise.
    if env("RDY_TOKEN").is_some_and(|t| t.trim().is_empty()) {
        return Err(UsageError::Invalid {
            source: Source::Env("RDY_TOKEN"),
            given: env("RDY_TOKEN").unwrap_or_default(),
            expected: "a token; unset RDY_TOKEN to serve without one".to_owned(),
        });
    }
    let fixed = non_empty(env, "RDY_TOKEN").or_else(|| non_empty(env, "AUTH_TOKEN_BASIC"));
    Ok(fixed.map(|t| Token::Fixed(t.trim().as_bytes().to_vec())))
}

/// The Kubernetes health API (`/api/healthz/…`, `/healthz`): needed when
/// objects are exposed or there is nothing else to serve, offered whenever
/// a configuration is at hand. It adds the API server as a hidden last
/// target, which `/healthz` reports.
fn kube_health(
    options: &ServeOptions,
    run: &mut Run,
    env: Env<'_>,
) -> Result<Option<KubeHealth>, UsageError> {
    let required = options.expose.is_some() || run.targets.is_empty();
    let client = match &run.client {
        Some(client) => client.clone(),
        None => match config::load(&run.kube, env) {
            Ok(config) => std::sync::Arc::new(
                crate::kube::client::Client::new(config).map_err(UsageError::Kube)?,
            ),
            Err(e) if run.targets.is_empty() => {
                return Err(UsageError::NoTargetsNorKube(e.to_string()));
            }
            Err(e) if required => return Err(UsageError::Kube(e.to_string())),
            Err(_) => return Ok(None),
        },
    };
    let exposure = Exposure::parse(
        options.expose.as_deref().unwrap_or_default(),
        &client.namespace,
    )
    .map_err(UsageError::Kube)?;
    let cache = WatchCache::new(
        client.clone(),
        options.max_watches.unwrap_or(DEFAULT_MAX_WATCHES),
        options.watch_idle.unwrap_or(DEFAULT_WATCH_IDLE),
    );
    let visible = run.targets.len();
    run.targets.push(Target {
        name: "kubernetes-api".to_owned(),
        address: "k8s:/version".to_owned(),
        interval: Duration::from_secs(2),
        probe: Probe::K8sApi(ApiServer { client }),
    });
    Ok(Some(KubeHealth {
        cache,
        exposure,
        visible,
    }))
}
