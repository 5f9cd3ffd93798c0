//! Credentials for the API server, kept fresh for long waits.
//!
//! - A token file (the service account's projected token, or kubeconfig
//!   `tokenFile`) is re-read once the cached copy is 50 s old — client-go's
//!   one minute minus its ten-second leeway — and after a 401, because the
//!   kubelet rotates projected tokens (every 48 min for the default 1 h
//!   token). A failed re-read keeps the last good token, as client-go does.
//! - An `exec` plugin (kubeconfig `users[].user.exec`) is run for an
//!   `ExecCredential`, cached until its `expirationTimestamp`, and re-run
//!   after a 401. It is never interactive.
//!
//! Tokens are never logged or put in error messages.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::error::ApiError;
use crate::json::{self, Value};
use crate::os_error::words;
use crate::{signal, timestamp};

/// How long a token read from a file is trusted before it is read again.
const FILE_TOKEN_TTL: Duration = Duration::from_secs(50);
/// A credential plugin that takes longer than this has failed.
const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// Where credentials come from.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// No `Authorization` header (client certificates only, or `kubectl proxy`).
    None,
    /// A fixed bearer token.
    Token(String),
    /// A bearer token re-read from a file; `fallback` is kubeconfig's
    /// `token` for when the file cannot be read.
    TokenFile {
        path: PathBuf,
        fallback: Option<String>,
    },
    /// A credential plugin.
    Exec(ExecConfig),
}

/// kubeconfig's `exec` stanza.
#[derive(Debug, Clone, Default)]
pub struct ExecConfig {
    /// Program to run (`PATH` lookup as a shell does).
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// `client.authentication.k8s.io/v1` or `/v1beta1`.
    pub api_version: String,
    /// Shown when the program is missing.
    pub install_hint: Option<String>,
    /// `spec.cluster` for `KUBERNETES_EXEC_INFO` when
    /// `provideClusterInfo` is set: the JSON object, ready to embed.
    pub cluster_info: Option<String>,
}

/// What a credential source produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fresh {
    token: Option<String>,
    /// PEM certificate and key from a plugin.
    client_cert: Option<(String, String)>,
    /// When to fetch again.
    refresh_at: Option<Instant>,
    expires_at: Option<SystemTime>,
}

/// Credentials plus their cache.
#[derive(Debug)]
pub struct Auth {
    source: Credentials,
    cache: Mutex<Option<Fresh>>,
}

impl Auth {
    /// Wraps a credential source.
    pub fn new(source: Credentials) -> Auth {
        Auth {
            source,
            cache: Mutex::new(None),
        }
    }

    /// Whether a 401 may be cured by fetching the credentials again.
    pub fn refreshable(&self) -> bool {
        matches!(
            self.source,
            Credentials::TokenFile { .. } | Credentials::Exec(_)
        )
    }

    /// Forgets the cached credentials after a 401.
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    /// The bearer token to send, if any, fetching it when the cache is
    /// stale.
    pub fn token(&self) -> Result<Option<String>, ApiError> {
        Ok(self.current()?.token)
    }

    /// A client certificate and key (PEM) supplied by the plugin.
    pub fn client_cert(&self) -> Result<Option<(String, String)>, ApiError> {
        Ok(self.current()?.client_cert)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Fresh>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(&self) -> Result<Fresh, ApiError> {
        let mut cache = self.lock();
        if let Some(fresh) = cache.as_ref().filter(|f| still_fresh(f)) {
            return Ok(fresh.clone());
        }
        let previous = cache.take();
        let fresh = match &self.source {
            Credentials::None => Ok(Fresh::default()),
            Credentials::Token(token) => Ok(Fresh {
                token: Some(token.clone()),
                ..Fresh::default()
            }),
            Credentials::TokenFile { path, fallback } => {
                read_token_file(path, fallback.as_deref(), previous)
            }
            Credentials::Exec(exec) => run_plugin(exec),
        }?;
        *cache = Some(fresh.clone());
        Ok(fresh)
    }
}

fn still_fresh(fresh: &Fresh) -> bool {
    let now_ok = fresh.refresh_at.is_none_or(|at| Instant::now() < at);
    let unexpired = fresh.expires_at.is_none_or(|at| SystemTime::now() < at);
    now_ok && unexpired
}

/// Why `token` cannot be sent as `Authorization: Bearer …`: a header value
/// carries no control characters (RFC 9110 §5.5), and the client would
/// refuse the request with a misleading "failed to parse header value".
pub fn check_token(token: &str) -> Result<(), &'static str> {
    match token.chars().any(|c| c.is_control() && c != '\t') {
        true => Err("the token holds a control character, which an HTTP header cannot carry"),
        false => Ok(()),
    }
}

fn read_token_file(
    path: &Path,
    fallback: Option<&str>,
    previous: Option<Fresh>,
) -> Result<Fresh, ApiError> {
    let read = crate::secret_file::read_to_string(path);
    let token = match (read, fallback, previous.and_then(|p| p.token)) {
        (Ok(text), _, _) if check_token(text.trim()).is_err() => {
            let why = check_token(text.trim()).unwrap_err();
            return Err(ApiError::Credentials(format!(
                "token file {}: {why}",
                path.display()
            )));
        }
        (Ok(text), _, _) if !text.trim().is_empty() => text.trim().to_owned(),
        (_, _, Some(last)) => last,
        (_, Some(fallback), None) => fallback.to_owned(),
        (Ok(_), None, None) => {
            return Err(ApiError::Credentials(format!(
                "token file {} is empty",
                path.display()
            )));
        }
        (Err(e), None, None) => {
            return Err(ApiError::Credentials(format!(
                "cannot read token file {}: {}",
                path.display(),
                words(&e)
            )));
        }
    };
    Ok(Fresh {
        token: Some(token),
        refresh_at: Some(Instant::now() + FILE_TOKEN_TTL),
        ..Fresh::default()
    })
}

/// Runs the plugin and reads its `ExecCredential`
/// (client-go `plugin/pkg/client/auth/exec`).
fn run_plugin(exec: &ExecConfig) -> Result<Fresh, ApiError> {
    let mut info = format!(
        r#"{{"kind":"ExecCredential","apiVersion":"{}","spec":{{"interactive":false"#,
        exec.api_version
    );
    if let Some(cluster) = &exec.cluster_info {
        info.push_str(",\"cluster\":");
        info.push_str(cluster);
    }
    info.push_str("}}");
    let mut command = Command::new(&exec.command);
    command
        .args(&exec.args)
        .envs(exec.env.iter().map(|(k, v)| (k, v)))
        .env("KUBERNETES_EXEC_INFO", info)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only pthread_sigmask runs between fork and exec; it is
    // async-signal-safe. rdy's threads block signals (signal.rs) and the
    // plugin must not inherit that.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, signal::unblock_all);
    }
    let name = &exec.command;
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ApiError::CredentialsMissing(format!(
            "credential plugin {name:?} not found{}",
            exec.install_hint
                .as_deref()
                .map(|h| format!(": {}", h.trim().replace('\n', " ")))
                .unwrap_or_default()
        )),
        _ => ApiError::CredentialsMissing(format!(
            "credential plugin {name:?} cannot run: {}",
            words(&e)
        )),
    })?;
    let output = wait_bounded(&mut child, EXEC_TIMEOUT)
        .map_err(|why| ApiError::Credentials(format!("credential plugin {name:?} {why}")))?;
    if !output.success {
        let last = output.stderr.lines().last().unwrap_or("").trim().to_owned();
        return Err(ApiError::Credentials(format!(
            "credential plugin {name:?} failed: {last}"
        )));
    }
    parse_exec_credential(&output.stdout, &exec.api_version)
        .map_err(|why| ApiError::Credentials(format!("credential plugin {name:?}: {why}")))
}

struct PluginOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

/// Waits for the plugin, killing it after `limit`. Output is read on helper
/// threads so a chatty plugin cannot block on a full pipe.
fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> Result<PluginOutput, String> {
    let stdout = child.stdout.take().map(read_all);
    let stderr = child.stderr.take().map(read_all);
    let end = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {}s", limit.as_secs()));
            }
            Err(e) => return Err(format!("could not be waited for: {}", words(&e))),
        }
    };
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(PluginOutput {
        success: status.success(),
        stdout: collect(stdout),
        stderr: String::from_utf8_lossy(&collect(stderr)).into_owned(),
    })
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut pipe).take(1 << 20).read_to_end(&mut out);
        out
    })
}

/// Checks an `ExecCredential` the way client-go does: same apiVersion, a
/// status, a token or a certificate *and* key.
fn parse_exec_credential(stdout: &[u8], api_version: &str) -> Result<Fresh, String> {
    let credential =
        json::parse(stdout).map_err(|e| format!("output is not an ExecCredential ({e})"))?;
    if credential.get("kind").and_then(Value::as_str) != Some("ExecCredential") {
        return Err("output is not an ExecCredential".to_owned());
    }
    let got = credential
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if got != api_version {
        return Err(format!(
            "apiVersion {got:?} does not match the configured {api_version:?}"
        ));
    }
    let status = credential
        .get("status")
        .ok_or("the ExecCredential has no status")?;
    let text = |key| {
        status
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let token = text("token");
    let client_cert =
        match (text("clientCertificateData"), text("clientKeyData")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err(
                "the ExecCredential has a client certificate without a key, or a key without one"
                    .to_owned(),
            ),
        };
    if token.is_none() && client_cert.is_none() {
        return Err("the ExecCredential has neither a token nor a client certificate".to_owned());
    }
    let expires_at = match text("expirationTimestamp") {
        Some(ts) => Some(
            timestamp::parse(&ts)
                .ok_or_else(|| format!("expirationTimestamp {ts:?} is not RFC 3339"))?,
        ),
        None => None,
    };
    Ok(Fresh {
        token,
        client_cert,
        refresh_at: None,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "client.authentication.k8s.io/v1";

    #[test]
    fn exec_credentials_are_checked_like_client_go() {
        let ok = br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#;
        let fresh = parse_exec_credential(ok, V1).unwrap();
        assert_eq!(fresh.token.as_deref(), Some("t"));
        assert!(fresh.expires_at.is_some());
        let cases: [(&[u8], &str); 5] = [
            (br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}"#, "does not match"),
            (br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}"#, "no status"),
            (br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}"#, "neither a token"),
            (br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientKeyData":"k"}}"#, "without"),
            (b"token: x", "not an ExecCredential"),
        ];
        for (output, says) in cases {
            let e = parse_exec_credential(output, V1).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn token_files_keep_the_last_good_token() {
        let dir = std::env::temp_dir().join(format!("rdy-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "first\n").unwrap();
        let auth = Auth::new(Credentials::TokenFile {
            path: path.clone(),
            fallback: None,
        });
        assert_eq!(auth.token().unwrap().as_deref(), Some("first"));
        std::fs::write(&path, "second").unwrap();
        assert_eq!(
            auth.token().unwrap().as_deref(),
            Some("first"),
            "cached for 50 s"
        );
        auth.invalidate();
        assert_eq!(
            auth.token().unwrap().as_deref(),
            Some("second"),
            "re-read after a 401"
        );
        std::fs::remove_file(&path).unwrap();
        auth.invalidate();
        assert!(
            auth.token().is_err(),
            "no previous token survives invalidate"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
