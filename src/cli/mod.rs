//! Command line and environment to a typed [`Command`].
//!
//! Parsing is hand-written over `lexopt`, in the manner of ripgrep: each
//! argument is looked up in the option table ([`flags::FLAGS`]) and its value
//! parsed on the spot, so the first mistake ends parsing with a message that
//! names it. Nothing here touches the network.

pub mod compose_wait;
pub mod env;
pub mod error;
pub mod flags;
pub mod help;
pub mod ignored;
pub mod options;
pub mod run;
pub mod scheme;
pub mod serve;
pub mod targets;

use std::ffi::OsString;

use lexopt::Arg;

pub use self::env::Env;
use self::env::{each_env, non_empty};
use self::error::{Source, UsageError};
use self::flags::{Flag, Id, Scope};
use self::options::{Given, RunOptions, TargetOptions};
pub use self::run::Run;
use crate::exec::Program;
use crate::kube::config::KubeOptions;
use crate::log;
use crate::probe::http::proxy::ProxyEnv;
use crate::target::Target;

/// What the user asked for.
#[derive(Debug)]
pub enum Command {
    /// `rdy wait`, or `rdy` with `TARGET_ADDRESS`.
    Wait(Run),
    /// `rdy check`.
    Check(Run),
    /// `rdy serve`: the server's settings, targets included.
    Serve(Box<crate::serve::Settings>),
    /// `--help`: the overview, or one command's page.
    Help(help::Page),
    /// `--version`.
    Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Wait,
    Check,
    Serve,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Wait => "wait",
            Mode::Check => "check",
            Mode::Serve => "serve",
        }
    }

    fn help(self) -> help::Page {
        match self {
            Mode::Wait => help::Page::Wait,
            Mode::Check => help::Page::Check,
            Mode::Serve => help::Page::Serve,
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>, env: Env<'_>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        let seeded = ["TARGET_ADDRESS", "WAIT_HOSTS"]
            .iter()
            .any(|var| non_empty(env, var).is_some());
        return match seeded {
            true => parse_run(Mode::Wait, Vec::new(), env),
            false => Err(UsageError::NoCommand),
        };
    };
    let rest: Vec<OsString> = args.collect();
    match utf8(first, "the command")?.as_str() {
        "wait" => parse_run(Mode::Wait, rest, env),
        "check" => parse_run(Mode::Check, rest, env),
        "serve" => parse_run(Mode::Serve, rest, env),
        "help" => Ok(Command::Help(help_topic(&rest))),
        "-h" | "--help" => Ok(Command::Help(help::Page::Overview)),
        "-V" | "--version" => Ok(Command::Version),
        other if other.starts_with('-') => Err(UsageError::OptionBeforeCommand {
            option: other.to_owned(),
            command: command_in(&rest).unwrap_or("wait"),
        }),
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
}

/// `rdy help wait`: the page of the command named after `help`.
fn help_topic(rest: &[OsString]) -> help::Page {
    match command_in(rest) {
        Some("wait") => help::Page::Wait,
        Some("check") => help::Page::Check,
        Some("serve") => help::Page::Serve,
        _ => help::Page::Overview,
    }
}

/// The first command word among `args` (`rdy -q wait …` meant `wait`).
fn command_in(args: &[OsString]) -> Option<&'static str> {
    args.iter().find_map(|a| {
        ["wait", "check", "serve"]
            .into_iter()
            .find(|c| a.as_os_str() == *c)
    })
}

/// A target string with the options written after it.
struct Written {
    text: String,
    options: TargetOptions,
}

/// Everything the command line said, before it is merged with the
/// environment.
#[derive(Default)]
struct CommandLine {
    run: RunOptions,
    defaults: TargetOptions,
    targets: Vec<Written>,
    /// Run options as spelled, so `rdy serve` can refuse wait's.
    run_given: Vec<(Id, String)>,
    /// Serve options as spelled.
    serve_given: Vec<(Id, String)>,
    serve: serve::ServeOptions,
    help: bool,
    version: bool,
}

fn parse_run(mode: Mode, args: Vec<OsString>, env: Env<'_>) -> Result<Command, UsageError> {
    let (args, command) = split_command(args);
    let mut line = read_command_line(args, mode.name())?;
    if line.help {
        return Ok(Command::Help(mode.help()));
    }
    if line.version {
        return Ok(Command::Version);
    }
    ignored::refuse_on_line(mode == Mode::Check, &line.run_given, &line.run)?;
    let serve_line = std::mem::take(&mut line.serve);
    // Target options serve refuses (--interval) count as run options here.
    let mut given = line.run_given.clone();
    if mode == Mode::Serve {
        let layers = std::iter::once(&line.defaults).chain(line.targets.iter().map(|t| &t.options));
        given.extend(layers.flat_map(|l| l.given.iter().cloned()));
    }
    serve::check_command(mode == Mode::Serve, &serve_line, &given, &command)?;
    let run = finish(mode, line, command, env)?;
    Ok(match mode {
        Mode::Wait => Command::Wait(run),
        Mode::Check => Command::Check(run),
        Mode::Serve => Command::Serve(Box::new(serve::settings(serve_line, run, env)?)),
    })
}

/// Splits at the first `--`: what follows is the command to run.
fn split_command(mut args: Vec<OsString>) -> (Vec<OsString>, Vec<OsString>) {
    match args.iter().position(|a| a == "--") {
        Some(i) => {
            let command = args.split_off(i + 1);
            args.pop();
            (args, command)
        }
        None => (args, Vec::new()),
    }
}

fn read_command_line(
    args: Vec<OsString>,
    command: &'static str,
) -> Result<CommandLine, UsageError> {
    let unknown = |option: String| UsageError::UnknownOption { option, command };
    let mut line = CommandLine::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| unknown(e.to_string()))? {
        let (flag, spelled) = match arg {
            Arg::Value(value) => {
                let text = utf8(value, "a target")?;
                line.targets.push(Written {
                    text,
                    options: TargetOptions::default(),
                });
                continue;
            }
            Arg::Short(c) => (flags::by_short(c), format!("-{c}")),
            Arg::Long(name) => (flags::by_long(name), format!("--{name}")),
        };
        let long = spelled.starts_with("--");
        let flag = flag.ok_or_else(|| unknown(spelled.clone()))?;
        match flag.id {
            Id::Help => line.help = true,
            Id::Version => line.version = true,
            _ => {
                let text = read_value(&mut parser, flag, &spelled, long)?;
                line.set(flag, spelled, &text)?;
            }
        }
    }
    Ok(line)
}

/// The value of an option: the next argument, or for a switch `true`
/// unless written `--switch=false`.
fn read_value(
    parser: &mut lexopt::Parser,
    flag: &Flag,
    spelled: &str,
    long: bool,
) -> Result<String, UsageError> {
    let raw = match flag.value {
        Some(value_name) => Some(parser.value().map_err(|_| UsageError::MissingValue {
            option: spelled.to_owned(),
            value: value_name,
        })?),
        // Only `--long=value` carries a value for a switch; in `-qv` the
        // `v` is another switch.
        None if long => parser.optional_value(),
        None => None,
    };
    match raw {
        Some(raw) => utf8(raw, spelled),
        None => Ok("true".to_owned()),
    }
}

impl CommandLine {
    fn set(&mut self, flag: &Flag, spelled: String, text: &str) -> Result<(), UsageError> {
        let source = Source::Flag(spelled.clone());
        let given = Given {
            source: &source,
            text,
        };
        match flag.scope {
            Scope::Run => {
                once(&self.run_given, flag.id, &spelled)?;
                self.run_given.push((flag.id, spelled.clone()));
                self.run.apply(flag.id, &given)
            }
            Scope::Serve => {
                once(&self.serve_given, flag.id, &spelled)?;
                self.serve_given.push((flag.id, spelled.clone()));
                self.serve.given.push(spelled.clone());
                self.serve.apply(flag.id, &given)
            }
            Scope::Target(_) => {
                let layer = match self.targets.last_mut() {
                    Some(target) => &mut target.options,
                    None => &mut self.defaults,
                };
                once(&layer.given, flag.id, &spelled)?;
                apply_target(layer, flag.id, &given)?;
                layer.given.push((flag.id, spelled));
                Ok(())
            }
        }
    }
}

/// Layers the environment under the command line and builds the targets.
fn finish(
    mode: Mode,
    mut line: CommandLine,
    command: Vec<OsString>,
    env: Env<'_>,
) -> Result<Run, UsageError> {
    if mode == Mode::Check && !command.is_empty() {
        return Err(UsageError::CommandAfterCheck);
    }
    // Targets come from the environment only when none are on the line.
    let from_env = line.targets.is_empty();
    let compose = compose_wait::read(env, from_env)?;
    let (env_run, env_targets) = read_env(env)?;
    ignored::refuse_in_env(env, !from_env, &env_run)?;
    let proxy = ProxyEnv::from_env(env).map_err(|e| UsageError::Invalid {
        source: Source::Env(e.var),
        given: e.shown(),
        expected: "a proxy URL such as http://proxy:3128".to_owned(),
    })?;
    if from_env && let Some(address) = non_empty(env, "TARGET_ADDRESS") {
        let options = TargetOptions {
            name: non_empty(env, "TARGET_NAME"),
            ..TargetOptions::default()
        };
        line.targets.push(Written {
            text: address,
            options,
        });
    }
    if from_env {
        for host in &compose.hosts {
            line.targets.push(Written {
                text: host.clone(),
                options: TargetOptions::default(),
            });
        }
    }
    if from_env && mode == Mode::Serve {
        line.targets.extend(sidecar_target(env)?);
    }
    // A server without targets still answers /api/healthz (checked when
    // its settings are built).
    if line.targets.is_empty() && mode != Mode::Serve {
        return Err(UsageError::NoTargets(mode.name()));
    }
    if line.defaults.name.is_some() && line.targets.len() > 1 {
        return Err(UsageError::NameForAll(line.targets.len()));
    }
    let mut run = compose.run.under(&env_run).under(&line.run);
    if mode == Mode::Serve {
        run.level = log_level(env)?;
    }
    // rdy serve: --timeout bounds each round of probes, and is also the
    // default --dial-timeout, so the seed's `--timeout 3s` gives every
    // target 3s as the seed did.
    let base = match mode {
        Mode::Serve => TargetOptions {
            dial_timeout: run.deadline(),
            ..TargetOptions::default()
        },
        Mode::Wait | Mode::Check => TargetOptions::default(),
    };
    let defaults = base
        .under(&compose.targets)
        .under(&env_targets)
        .under(&line.defaults);
    let shared = scheme::context::Shared {
        proxy,
        env,
        // serve makes one attempt per probe too.
        check: mode != Mode::Wait,
        kube: KubeOptions {
            kubeconfig: run.kubeconfig.clone(),
            context: run.context.clone(),
        },
        client: Default::default(),
    };
    let mut targets = line
        .targets
        .iter()
        .map(|t| targets::build(&t.text, &defaults.under(&t.options), &t.options, &shared))
        .collect::<Result<Vec<_>, _>>()?;
    let named: Vec<bool> = line
        .targets
        .iter()
        .map(|t| defaults.under(&t.options).name.is_some())
        .collect();
    if mode != Mode::Serve {
        same_names(&targets, &named)?;
    }
    targets::distinct_names(&mut targets, &named);
    let hooks = match mode {
        Mode::Wait => run.then_post.as_deref().unwrap_or_default(),
        Mode::Check | Mode::Serve => &[],
    };
    let hooks = hooks
        .iter()
        .map(|url| targets::hook(url, &defaults, &shared))
        .collect::<Result<Vec<_>, _>>()?;
    let command = Some(command).filter(|c| !c.is_empty()).or(compose.command);
    if mode == Mode::Wait && command.is_none() {
        ignored::refuse_supervise(&run, &line.run)?;
    }
    let program = command.map(|argv| Program {
        argv,
        supervise: run.supervise.unwrap_or(false) || !hooks.is_empty(),
    });
    Ok(Run {
        targets,
        timeout: run.deadline(),
        log: run.log_config(),
        before: run.wait_before.unwrap_or_default(),
        after: run.wait_after.unwrap_or_default(),
        program,
        hooks,
        kube: shared.kube.clone(),
        client: shared.client.get().cloned(),
        termination: run.termination_log.clone().unwrap_or_default(),
    })
}

/// Refuses two targets named alike with `--name` (serve refuses any two
/// alike names, as they name its paths).
fn same_names(targets: &[Target], named: &[bool]) -> Result<(), UsageError> {
    let named: Vec<&str> = targets
        .iter()
        .zip(named)
        .filter(|(_, named)| **named)
        .map(|(t, _)| t.name.as_str())
        .collect();
    for (i, name) in named.iter().enumerate() {
        if named[..i].contains(name) {
            return Err(UsageError::SameName((*name).to_owned()));
        }
    }
    Ok(())
}

/// Refuses an option that takes one value when its layer has it already.
fn once(given: &[(Id, String)], id: Id, spelled: &str) -> Result<(), UsageError> {
    match given.iter().find(|(i, _)| *i == id) {
        Some((_, first)) if !flags::REPEATABLE.contains(&id) => Err(UsageError::Repeated {
            first: first.clone(),
            again: spelled.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Sets one per-target option; `--type` here, as it names a row of the
/// scheme table, which builds on the options (no cycle).
fn apply_target(layer: &mut TargetOptions, id: Id, given: &Given<'_>) -> Result<(), UsageError> {
    if id != Id::CheckType {
        return layer.apply(id, given);
    }
    let def =
        scheme::by_check_type(given.text).ok_or_else(|| given.invalid(scheme::check_types()))?;
    layer.check_type = Some(def.name());
    Ok(())
}

/// The health sidecar's variables (http-healthcheck-sidecar): when any is
/// set, `rdy serve` without targets serves its own pod,
/// `k8s:pod/NAME[?container=C]`, NAME from `…_TARGET_POD_OVERRIDE`, else
/// `pod/self` (`POD_NAME`, else `HOSTNAME`).
fn sidecar_target(env: Env<'_>) -> Result<Option<Written>, UsageError> {
    const POD: &str = "HTTP_HEALTHCHECK_SIDECAR_TARGET_POD_OVERRIDE";
    const CONTAINER: &str = "HTTP_HEALTHCHECK_SIDECAR_TARGET_CONTAINER";
    const STATE: &str = "HTTP_HEALTHCHECK_SIDECAR_STATE_OVERRIDE";
    let (pod, container) = (non_empty(env, POD), non_empty(env, CONTAINER));
    if pod.is_none() && container.is_none() && non_empty(env, STATE).is_none() {
        return Ok(None);
    }
    let own = || non_empty(env, "POD_NAME").or_else(|| non_empty(env, "HOSTNAME"));
    if pod.is_none() && own().is_none() {
        return Err(UsageError::Invalid {
            source: Source::Env(POD),
            given: String::new(),
            expected: "the pod's name (POD_NAME and HOSTNAME are not set either)".to_owned(),
        });
    }
    let pod = pod.unwrap_or_else(|| "self".to_owned());
    let mut text = format!("k8s:pod/{}", pod.trim());
    if let Some(container) = container {
        text.push_str("?container=");
        text.push_str(container.trim());
    }
    Ok(Some(Written {
        text,
        options: TargetOptions::default(),
    }))
}

/// The heartbeat's `LOG_LEVEL` (logrus names) for `rdy serve`, below
/// `-q` and `-v`.
fn log_level(env: Env<'_>) -> Result<Option<log::Level>, UsageError> {
    let Some(text) = non_empty(env, "LOG_LEVEL") else {
        return Ok(None);
    };
    let level = match text.trim().to_ascii_lowercase().as_str() {
        "trace" | "debug" => log::Level::Debug,
        "info" => log::Level::Info,
        "warn" | "warning" => log::Level::Warn,
        "error" | "fatal" | "panic" => log::Level::Error,
        _ => {
            return Err(UsageError::Invalid {
                source: Source::Env("LOG_LEVEL"),
                given: text,
                expected: "debug, info, warn or error".to_owned(),
            });
        }
    };
    Ok(Some(level))
}

/// Reads every option's environment variable into an environment layer.
/// `TARGET_NAME` is left out: it names only the `TARGET_ADDRESS` target.
fn read_env(env: Env<'_>) -> Result<(RunOptions, TargetOptions), UsageError> {
    let mut run = RunOptions::default();
    let mut target = TargetOptions::default();
    each_env(env, |flag, given| match flag.scope {
        _ if flag.id == Id::Name => Ok(()),
        Scope::Run => run.apply(flag.id, given),
        Scope::Target(_) => apply_target(&mut target, flag.id, given),
        // Read by serve::settings, and only for rdy serve.
        Scope::Serve => Ok(()),
    })?;
    Ok((run, target))
}

fn utf8(value: OsString, what: &str) -> Result<String, UsageError> {
    value
        .into_string()
        .map_err(|_| UsageError::NotUtf8(what.to_owned()))
}
