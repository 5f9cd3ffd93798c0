//! Where the API server is and how to talk to it: the pod's service account
//! (client-go's `rest.InClusterConfig`) or a kubeconfig subset
//! (docs/kubernetes.md §1). Everything is read and checked before any network
//! activity; what rdy cannot honour is an error naming the field.
//!
//! Source order (docs/kubernetes.md §1.1): `--kubeconfig` or `$KUBECONFIG`,
//! then in-cluster, then `~/.kube/config`.

use std::fmt;
use std::path::{Path, PathBuf};

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey};

use super::credentials::{Credentials, ExecConfig, check_token};
use super::yaml;
use crate::json::Value;
use crate::os_error::words;
use crate::transport::tls::{self, Trust};
use crate::{base64, log};

/// The service-account mount (overridable for tests with
/// `RDY_SERVICEACCOUNT_DIR`).
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// `--kubeconfig` and `--context`.
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// One kubeconfig file, instead of `$KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// A context other than `current-context`.
    pub context: Option<String>,
}

/// Everything the client needs.
#[derive(Debug)]
pub struct ClusterConfig {
    /// `https://host:port[/prefix]`, no trailing slash.
    pub server: String,
    /// How the server certificate is verified.
    pub trust: Trust,
    /// Name to verify the server certificate against instead of the host.
    pub tls_server_name: Option<String>,
    /// A client certificate from the kubeconfig.
    pub client_cert: Option<ClientCert>,
    /// Bearer token source.
    pub credentials: Credentials,
    /// The namespace of targets that name none.
    pub namespace: String,
}

/// A configuration rdy cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// Finds and reads the configuration.
pub fn load(options: &KubeOptions, env: Env<'_>) -> Result<ClusterConfig, ConfigError> {
    if let Some(path) = &options.kubeconfig {
        return from_kubeconfig(std::slice::from_ref(path), true, options, env);
    }
    if let Some(list) = var(env, "KUBECONFIG") {
        let paths: Vec<PathBuf> = list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        return from_kubeconfig(&paths, false, options, env);
    }
    if var(env, "KUBERNETES_SERVICE_HOST").is_some()
        && var(env, "KUBERNETES_SERVICE_PORT").is_some()
    {
        return in_cluster(env);
    }
    if let Some(home) = var(env, "HOME") {
        let path = Path::new(&home).join(".kube/config");
        if path.is_file() {
            return from_kubeconfig(&[path], true, options, env);
        }
    }
    Err(ConfigError(
        "no Kubernetes configuration: not in a cluster (KUBERNETES_SERVICE_HOST is not set) \
         and no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config)"
            .to_owned(),
    ))
}

/// `host:port` as Go's `net.JoinHostPort` writes it: IPv6 in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn in_cluster(env: Env<'_>) -> Result<ClusterConfig, ConfigError> {
    let host = var(env, "KUBERNETES_SERVICE_HOST").unwrap_or_default();
    let port = var(env, "KUBERNETES_SERVICE_PORT").unwrap_or_default();
    let dir = PathBuf::from(
        var(env, "RDY_SERVICEACCOUNT_DIR").unwrap_or_else(|| SERVICE_ACCOUNT_DIR.to_owned()),
    );
    let token = dir.join("token");
    // client-go fails without the token; without the CA it would fall back to
    // system roots, but a scratch image has none, so that fails here too.
    let why = match crate::secret_file::read_to_string(&token) {
        Ok(text) => check_token(text.trim()).err().map(str::to_owned),
        Err(e) => Some(format!("cannot read it: {}", words(&e))),
    };
    if let Some(why) = why {
        return Err(ConfigError(format!(
            "in-cluster: {}: {why}",
            token.display()
        )));
    }
    let trust = Trust::from_ca_file(&dir.join("ca.crt"))
        .map_err(|e| ConfigError(format!("in-cluster: {e}")))?;
    let namespace = var(env, "POD_NAMESPACE")
        .or_else(|| {
            std::fs::read_to_string(dir.join("namespace"))
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".to_owned());
    Ok(ClusterConfig {
        server: format!("https://{}", join_host_port(&host, &port)),
        trust,
        tls_server_name: None,
        client_cert: None,
        credentials: Credentials::TokenFile {
            path: token,
            fallback: None,
        },
        namespace,
    })
}

/// One named entry of `clusters`, `contexts` or `users`, with the directory
/// of the file it came from (relative paths resolve against it).
#[derive(Debug, Clone)]
struct Entry {
    body: Value,
    file: PathBuf,
}

/// The merge of every kubeconfig file: the first file to set a name wins,
/// as does the first `current-context` (client-go `loader.go`).
#[derive(Debug, Default)]
struct Merged {
    clusters: Vec<(String, Entry)>,
    contexts: Vec<(String, Entry)>,
    users: Vec<(String, Entry)>,
    current_context: Option<String>,
}

fn from_kubeconfig(
    paths: &[PathBuf],
    must_exist: bool,
    options: &KubeOptions,
    env: Env<'_>,
) -> Result<ClusterConfig, ConfigError> {
    let mut merged = Merged::default();
    let mut read_any = false;
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            // client-go skips files of $KUBECONFIG that do not exist.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => continue,
            Err(e) => {
                let e = words(&e);
                return Err(ConfigError(format!("kubeconfig {}: {e}", path.display())));
            }
        };
        read_any = true;
        let doc = yaml::parse(&text)
            .map_err(|e| ConfigError(format!("kubeconfig {}: {e}", path.display())))?;
        check_shape(&doc, &text)
            .map_err(|e| ConfigError(format!("kubeconfig {}: {e}", path.display())))?;
        merge(&mut merged, &doc, path);
    }
    if !read_any {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(ConfigError(format!(
            "KUBECONFIG names no existing file ({})",
            list.join(":")
        )));
    }
    let context_name = options
        .context
        .clone()
        .or(merged.current_context.clone())
        .ok_or_else(|| {
            ConfigError("kubeconfig has no current-context; pass --context NAME".to_owned())
        })?;
    let context = find(&merged.contexts, &context_name, "context")?;
    let field = |name| {
        context
            .body
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let cluster_name = field("cluster")
        .ok_or_else(|| ConfigError(format!("context {context_name:?} names no cluster")))?;
    let cluster = find(&merged.clusters, cluster_name, "cluster")?;
    let user = field("user")
        .map(|name| find(&merged.users, name, "user").map(|u| (name, u)))
        .transpose()?;
    let namespace = var(env, "POD_NAMESPACE")
        .or_else(|| field("namespace").map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    let mut config = read_cluster(cluster_name, cluster)?;
    config.namespace = namespace;
    if let Some((name, user)) = user {
        read_user(name, user, &mut config)?;
    }
    if config.server.starts_with("http://") && !matches!(config.credentials, Credentials::None) {
        return Err(ConfigError(format!(
            "cluster {cluster_name:?}: refusing to send credentials to a plain http:// server"
        )));
    }
    log::debug("Kubernetes configuration")
        .field("context", &context_name)
        .field("server", &config.server)
        .emit();
    Ok(config)
}

/// Refuses a document that is not a kubeconfig, or whose lists have
/// another shape, naming the field and its line: merged as it is, such a
/// file would only show up later as "context not found". `text` is the
/// file `doc` was read from.
pub fn check_shape(doc: &Value, text: &str) -> Result<(), String> {
    const LISTS: [(&str, &str); 3] = [
        ("clusters", "cluster"),
        ("contexts", "context"),
        ("users", "user"),
    ];
    let at = |key: &str| match top_level_line(text, key) {
        Some(line) => format!("line {line}: {key}"),
        None => key.to_owned(),
    };
    // An empty file is an empty kubeconfig, as for kubectl.
    if *doc == Value::Null {
        return Ok(());
    }
    let Value::Object(members) = doc else {
        return Err("not a kubeconfig: expected a mapping of clusters, contexts and users".into());
    };
    if let Some(kind) = doc.get("kind").and_then(Value::as_str)
        && kind != "Config"
    {
        return Err(format!(
            "{} is {kind:?}, not a kubeconfig's \"Config\"",
            at("kind")
        ));
    }
    let known = ["clusters", "contexts", "users", "current-context"];
    if !members.iter().any(|(k, _)| known.contains(&k.as_str())) {
        return Err(
            "not a kubeconfig: it has no clusters, contexts, users or current-context".into(),
        );
    }
    for (list, body_key) in LISTS {
        let Some(value) = doc.get(list) else { continue };
        let items = match value {
            Value::Array(items) => items,
            Value::Null => continue,
            _ => {
                return Err(format!(
                    "{} must be a list of entries (\"- name: …\" with a {body_key}: below), not {}",
                    at(list),
                    shape_of(value)
                ));
            }
        };
        for (i, item) in items.iter().enumerate() {
            let problem = match item.get("name").and_then(Value::as_str) {
                _ if !matches!(item, Value::Object(_)) => {
                    format!("is {}, not a mapping", shape_of(item))
                }
                None | Some("") => "has no name".to_owned(),
                Some(_) => match item.get(body_key) {
                    None | Some(Value::Object(_)) => continue,
                    Some(other) => format!("{body_key}: is {}, not a mapping", shape_of(other)),
                },
            };
            return Err(format!("{}: entry {} {problem}", at(list), i + 1));
        }
    }
    Ok(())
}

/// A YAML value's kind, for an error.
fn shape_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "a mapping",
        Value::Array(_) => "a list",
        Value::Null => "empty",
        _ => "a single value",
    }
}

/// The 1-based line of a top-level `key:` in a YAML file.
fn top_level_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

fn merge(merged: &mut Merged, doc: &Value, file: &Path) {
    let lists = [
        ("clusters", "cluster", &mut merged.clusters),
        ("contexts", "context", &mut merged.contexts),
        ("users", "user", &mut merged.users),
    ];
    for (list, body_key, into) in lists {
        for item in doc.get(list).map(Value::items).unwrap_or_default() {
            let Some(name) = item.get("name").and_then(Value::as_str) else {
                continue;
            };
            if into.iter().any(|(n, _)| n == name) {
                continue;
            }
            let body = item
                .get(body_key)
                .cloned()
                .unwrap_or(Value::Object(Vec::new()));
            into.push((
                name.to_owned(),
                Entry {
                    body,
                    file: file.to_owned(),
                },
            ));
        }
    }
    if merged.current_context.is_none() {
        merged.current_context = doc
            .get("current-context")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
    }
}

fn find<'a>(list: &'a [(String, Entry)], name: &str, what: &str) -> Result<&'a Entry, ConfigError> {
    list.iter()
        .find(|(n, _)| n == name)
        .map(|(_, e)| e)
        .ok_or_else(|| ConfigError(format!("kubeconfig: {what} {name:?} not found")))
}

/// Refuses keys outside `known`, naming the field and why.
fn check_keys(
    body: &Value,
    what: &str,
    known: &[&str],
    refused: &[(&str, &str)],
) -> Result<(), ConfigError> {
    for (key, _) in body.members() {
        if let Some((_, why)) = refused.iter().find(|(k, _)| k == key) {
            return Err(ConfigError(format!(
                "kubeconfig: {what}: {key} is not supported; {why}"
            )));
        }
        if !known.contains(&key.as_str()) {
            return Err(ConfigError(format!(
                "kubeconfig: {what}: unknown field {key:?}"
            )));
        }
    }
    Ok(())
}

/// A kubeconfig string field.
fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A kubeconfig boolean: YAML writes `true`, JSON `true` too.
fn flag(body: &Value, key: &str) -> bool {
    match body.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A path relative to the kubeconfig file that names it.
fn resolve(entry: &Entry, path: &str) -> PathBuf {
    let path = Path::new(path);
    match entry.file.parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_owned(),
    }
}

/// A `*-data` field (base64) or the file named by its sibling.
fn data_or_file(
    entry: &Entry,
    what: &str,
    data_key: &str,
    file_key: &str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    if let Some(data) = text(&entry.body, data_key) {
        return base64::decode(data)
            .map(Some)
            .map_err(|_| ConfigError(format!("kubeconfig: {what}: {data_key} is not base64")));
    }
    match text(&entry.body, file_key) {
        Some(path) => {
            let path = resolve(entry, path);
            std::fs::read(&path).map(Some).map_err(|e| {
                ConfigError(format!(
                    "kubeconfig: {what}: {file_key} {}: {}",
                    path.display(),
                    words(&e)
                ))
            })
        }
        None => Ok(None),
    }
}

fn read_cluster(name: &str, entry: &Entry) -> Result<ClusterConfig, ConfigError> {
    let what = format!("cluster {name:?}");
    check_keys(
        &entry.body,
        &what,
        &[
            "server",
            "certificate-authority",
            "certificate-authority-data",
            "insecure-skip-tls-verify",
            "tls-server-name",
            // Informational only (minikube writes them); nothing to honour.
            "extensions",
            "disable-compression",
        ],
        &[("proxy-url", "use HTTPS_PROXY instead")],
    )?;
    let server = text(&entry.body, "server")
        .ok_or_else(|| ConfigError(format!("kubeconfig: {what}: no server")))?;
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(ConfigError(format!(
            "kubeconfig: {what}: server {server:?} is not an http(s) URL"
        )));
    }
    let ca = data_or_file(
        entry,
        &what,
        "certificate-authority-data",
        "certificate-authority",
    )?;
    let insecure = flag(&entry.body, "insecure-skip-tls-verify");
    let trust = match (ca, insecure) {
        (Some(_), true) => {
            return Err(ConfigError(format!(
                "kubeconfig: {what}: specifying a root certificates file with the insecure flag is not allowed"
            )));
        }
        (Some(pem), false) => {
            Trust::Roots(std::sync::Arc::new(tls::parse_certificates(&pem).map_err(
                |e| ConfigError(format!("kubeconfig: {what}: certificate authority: {e}")),
            )?))
        }
        (None, true) => Trust::Insecure,
        (None, false) => {
            Trust::system(None).map_err(|e| ConfigError(format!("kubeconfig: {what}: {e}")))?
        }
    };
    Ok(ClusterConfig {
        server: server.trim_end_matches('/').to_owned(),
        trust,
        tls_server_name: text(&entry.body, "tls-server-name").map(str::to_owned),
        client_cert: None,
        credentials: Credentials::None,
        namespace: String::new(),
    })
}

fn read_user(name: &str, entry: &Entry, config: &mut ClusterConfig) -> Result<(), ConfigError> {
    let what = format!("user {name:?}");
    check_keys(
        &entry.body,
        &what,
        &[
            "token",
            "tokenFile",
            "client-certificate",
            "client-certificate-data",
            "client-key",
            "client-key-data",
            "exec",
            "extensions",
        ],
        &[
            (
                "auth-provider",
                "use an exec plugin or a token (the gcp and azure providers were removed from client-go)",
            ),
            (
                "username",
                "basic auth was removed from the API server; use a token",
            ),
            (
                "password",
                "basic auth was removed from the API server; use a token",
            ),
            ("as", "impersonation is not supported"),
            ("as-uid", "impersonation is not supported"),
            ("as-groups", "impersonation is not supported"),
            ("as-user-extra", "impersonation is not supported"),
        ],
    )?;
    let cert = data_or_file(
        entry,
        &what,
        "client-certificate-data",
        "client-certificate",
    )?;
    let key = data_or_file(entry, &what, "client-key-data", "client-key")?;
    config.client_cert = match (cert, key) {
        (Some(cert), Some(key)) => Some(
            client_cert(&cert, &key)
                .map_err(|e| ConfigError(format!("kubeconfig: {what}: {e}")))?,
        ),
        (None, None) => None,
        _ => {
            return Err(ConfigError(format!(
                "kubeconfig: {what}: a client certificate needs both the certificate and the key"
            )));
        }
    };
    let token = text(&entry.body, "token").map(str::to_owned);
    // A token no request can carry is a configuration error naming its
    // file, not a failed request on every attempt.
    let bad_token = |field: String, why: &str| {
        let kubeconfig = entry.file.display();
        ConfigError(format!("kubeconfig {kubeconfig}: {what}: {field}: {why}"))
    };
    if let Some(why) = token.as_deref().and_then(|t| check_token(t).err()) {
        return Err(bad_token("token".to_owned(), why));
    }
    if let Some(file) = text(&entry.body, "tokenFile").map(|f| resolve(entry, f))
        && let Ok(text) = crate::secret_file::read_to_string(&file)
        && let Err(why) = check_token(text.trim())
    {
        return Err(bad_token(format!("tokenFile {}", file.display()), why));
    }
    config.credentials = match (
        text(&entry.body, "tokenFile"),
        token,
        entry.body.get("exec"),
    ) {
        (_, _, Some(exec)) if !matches!(exec, Value::Null) => {
            Credentials::Exec(read_exec(&what, exec, config)?)
        }
        (Some(file), fallback, _) => Credentials::TokenFile {
            path: resolve(entry, file),
            fallback,
        },
        (None, Some(token), _) => Credentials::Token(token),
        (None, None, _) => Credentials::None,
    };
    Ok(())
}

/// A certificate chain and private key in PEM, as ureq wants them.
pub fn client_cert(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientCert, String> {
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(cert_pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err("the client certificate holds no PEM certificate".to_owned());
    }
    let key: PrivateKey<'static> = ureq::tls::parse_pem(key_pem)
        .find_map(|item| match item {
            Ok(PemItem::PrivateKey(k)) => Some(k),
            _ => None,
        })
        .ok_or("the client key holds no PEM private key")?;
    Ok(ClientCert::new_with_certs(&certs, key))
}

fn read_exec(what: &str, exec: &Value, config: &ClusterConfig) -> Result<ExecConfig, ConfigError> {
    let what = format!("{what}: exec");
    check_keys(
        exec,
        &what,
        &[
            "command",
            "args",
            "env",
            "apiVersion",
            "installHint",
            "provideClusterInfo",
            "interactiveMode",
        ],
        &[],
    )?;
    let command = text(exec, "command")
        .ok_or_else(|| ConfigError(format!("kubeconfig: {what}: no command")))?;
    let api_version = text(exec, "apiVersion").unwrap_or("");
    if !matches!(
        api_version,
        "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1"
    ) {
        return Err(ConfigError(format!(
            "kubeconfig: {what}: apiVersion {api_version:?}; expected client.authentication.k8s.io/v1 or /v1beta1"
        )));
    }
    if text(exec, "interactiveMode") == Some("Always") {
        return Err(ConfigError(format!(
            "kubeconfig: {what}: interactiveMode Always needs a terminal; rdy never has one"
        )));
    }
    let args = exec
        .get("args")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let env = exec
        .get("env")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            Some((
                text(e, "name")?.to_owned(),
                e.get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ))
        })
        .collect();
    let cluster_info = flag(exec, "provideClusterInfo").then(|| cluster_info(config));
    Ok(ExecConfig {
        command: command.to_owned(),
        args,
        env,
        api_version: api_version.to_owned(),
        install_hint: text(exec, "installHint").map(str::to_owned),
        cluster_info,
    })
}

/// `spec.cluster` of `KUBERNETES_EXEC_INFO` (clientauthentication/v1
/// `Cluster`): server, CA, insecure flag, TLS server name.
fn cluster_info(config: &ClusterConfig) -> String {
    let mut out = String::from("{\"server\":");
    crate::json::write::write_string(&mut out, &config.server);
    if let Some(name) = &config.tls_server_name {
        out.push_str(",\"tls-server-name\":");
        crate::json::write::write_string(&mut out, name);
    }
    match &config.trust {
        Trust::Insecure => out.push_str(",\"insecure-skip-tls-verify\":true"),
        Trust::Roots(roots) => {
            let pem: String = roots.iter().map(|c| pem_block(c.der())).collect();
            out.push_str(",\"certificate-authority-data\":");
            crate::json::write::write_string(&mut out, &base64::encode(pem.as_bytes()));
        }
        #[cfg(feature = "webpki-roots")]
        Trust::WebPki => {}
    }
    out.push('}');
    out
}

fn pem_block(der: &[u8]) -> String {
    let body = base64::encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rdy-config-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn load_with(kubeconfig: &str) -> Result<ClusterConfig, ConfigError> {
        let env = move |name: &str| (name == "KUBECONFIG").then(|| kubeconfig.to_owned());
        load(&KubeOptions::default(), &env)
    }

    const A: &str = "current-context: a
clusters:
- name: c
  cluster:
    server: https://a.example:6443/
    insecure-skip-tls-verify: true
contexts:
- name: a
  context:
    cluster: c
    user: u
    namespace: ns-a
users:
- name: u
  user:
    tokenFile: tokens/t
";

    #[test]
    fn merged_files_first_wins_and_relative_paths_resolve() {
        let d = dir("merge");
        std::fs::write(d.join("a"), A).unwrap();
        std::fs::write(
            d.join("b"),
            A.replace("a.example", "b.example")
                .replace("current-context: a", "current-context: b"),
        )
        .unwrap();
        let list = format!(
            "{}:{}:{}",
            d.join("missing").display(),
            d.join("a").display(),
            d.join("b").display()
        );
        let config = load_with(&list).unwrap();
        assert_eq!(config.server, "https://a.example:6443");
        assert_eq!(config.namespace, "ns-a");
        assert!(matches!(config.trust, Trust::Insecure));
        match config.credentials {
            Credentials::TokenFile {
                path,
                fallback: None,
            } => assert_eq!(path, d.join("tokens/t")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_rdy_cannot_honour_is_named() {
        let d = dir("refuse");
        let cases = [
            (A.replace("    tokenFile: tokens/t", "    auth-provider: {name: gcp}"), "user \"u\": auth-provider is not supported"),
            (A.replace("    tokenFile: tokens/t", "    username: admin"), "username is not supported; basic auth"),
            (A.replace("    tokenFile: tokens/t", "    as: someone"), "as is not supported; impersonation"),
            (A.replace("    server:", "    proxy-url: http://p:1\n    server:"), "cluster \"c\": proxy-url is not supported"),
            (A.replace("    tokenFile: tokens/t", "    colour: blue"), "unknown field \"colour\""),
            (A.replace("    insecure-skip-tls-verify: true", "    insecure-skip-tls-verify: true\n    certificate-authority-data: eA=="), "with the insecure flag is not allowed"),
            (A.replace("    tokenFile: tokens/t", "    client-certificate-data: eA=="), "needs both the certificate and the key"),
            (A.replace("    tokenFile: tokens/t", "    exec:\n      command: x\n      apiVersion: v1"), "apiVersion \"v1\""),
            (A.replace("    tokenFile: tokens/t", "    exec:\n      command: x\n      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Always"), "interactiveMode Always"),
            (A.replace("current-context: a", "current-context: zz"), "context \"zz\" not found"),
            (A.replace("https://a.example:6443/", "ftp://a"), "is not an http(s) URL"),
            (A.replace("https://a.example:6443/", "http://a.example:8001"), "refusing to send credentials"),
            (A.replace("contexts:\n- name: a\n  context:", "contexts:\n  a:\n    context:").replace("    cluster: c\n    user: u\n    namespace: ns-a", "      cluster: c"), "line 7: contexts must be a list of entries (\"- name: …\" with a context: below), not a mapping"),
            (A.replace("users:\n- name: u\n", "users:\n- nom: u\n"), "line 13: users: entry 1 has no name"),
            (A.replace("  context:\n    cluster: c\n    user: u\n    namespace: ns-a", "  context: c"), "line 7: contexts: entry 1 context: is a single value, not a mapping"),
            ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n".to_owned(), "line 2: kind is \"Pod\", not a kubeconfig's \"Config\""),
            ("apiVersion: v1\nmetadata:\n  name: x\n".to_owned(), "not a kubeconfig: it has no clusters, contexts, users or current-context"),
            ("- a\n- b\n".to_owned(), "not a kubeconfig: expected a mapping"),
        ];
        for (i, (text, says)) in cases.iter().enumerate() {
            let path = d.join(format!("case{i}"));
            std::fs::write(&path, text).unwrap();
            let error = load_with(path.to_str().unwrap()).unwrap_err().to_string();
            assert!(error.contains(says), "case {i}: {error}");
        }
        let none = load(&KubeOptions::default(), &|_| None).unwrap_err();
        assert!(none.0.starts_with("no Kubernetes configuration"), "{none}");
    }

    #[test]
    fn ipv6_service_hosts_are_bracketed() {
        assert_eq!(join_host_port("fd00::1", "443"), "[fd00::1]:443");
        assert_eq!(join_host_port("10.96.0.1", "443"), "10.96.0.1:443");
    }
}
