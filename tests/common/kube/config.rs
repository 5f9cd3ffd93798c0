//! Client configuration pointing at a [`FakeApi`]: an in-cluster
//! service-account directory plus environment, or a kubeconfig file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::FakeApi;
use crate::common::{Rdy, temp_dir, write_file};

/// Standard base64 with padding. Written here rather than borrowed from
/// rdy, so a bug in rdy's decoder cannot be mirrored by the test input.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A service-account directory laid out as the kubelet's projected volume
/// is: the files are symlinks through `..data`, which points at a
/// timestamped directory and is swapped atomically on rotation
/// (`AtomicWriter`). A client that caches an open file or inode instead of
/// re-reading the path misses rotations here as it would in a pod.
pub struct InCluster {
    /// The directory (`RDY_SERVICEACCOUNT_DIR`).
    pub dir: PathBuf,
    /// `KUBERNETES_SERVICE_PORT`.
    pub port: u16,
    namespace: String,
    ca_pem: String,
    generation: AtomicUsize,
}

impl InCluster {
    pub(super) fn new(api: &FakeApi, namespace: &str) -> InCluster {
        let sa = InCluster {
            dir: temp_dir("serviceaccount"),
            port: api.port(),
            namespace: namespace.to_owned(),
            ca_pem: api.ca_pem().to_owned(),
            generation: AtomicUsize::new(0),
        };
        for name in ["ca.crt", "namespace", "token"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), sa.dir.join(name))
                .expect("symlink");
        }
        sa.write_token(&api.token());
        sa
    }

    /// `dir/token`.
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("token")
    }

    /// Rotates the token as the kubelet does: a new timestamped directory
    /// with all three files, then `..data` swapped to it by rename.
    pub fn write_token(&self, token: &str) {
        let n = self.generation.fetch_add(1, Ordering::SeqCst);
        let version = format!("..2025_06_01_10_00_00.{n:09}");
        let data = self.dir.join(&version);
        std::fs::create_dir(&data).expect("create data dir");
        write_file(&data, "ca.crt", self.ca_pem.as_bytes());
        write_file(&data, "namespace", self.namespace.as_bytes());
        write_file(&data, "token", token.as_bytes());
        let tmp = self.dir.join("..data_tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&version, &tmp).expect("symlink ..data_tmp");
        std::fs::rename(&tmp, self.dir.join("..data")).expect("swap ..data");
        if n > 0 {
            let old = self.dir.join(format!("..2025_06_01_10_00_00.{:09}", n - 1));
            let _ = std::fs::remove_dir_all(old);
        }
    }

    /// The environment a pod has (`KUBERNETES_SERVICE_HOST`/`_PORT`) plus
    /// `RDY_SERVICEACCOUNT_DIR` pointing at [`InCluster::dir`].
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into()),
            ("KUBERNETES_SERVICE_PORT".into(), self.port.to_string()),
            (
                "RDY_SERVICEACCOUNT_DIR".into(),
                self.dir.to_string_lossy().into_owned(),
            ),
        ]
    }

    /// Adds [`InCluster::env`] to a command line.
    pub fn configure(&self, rdy: Rdy) -> Rdy {
        self.env()
            .into_iter()
            .fold(rdy, |rdy, (k, v)| rdy.env(&k, &v))
    }
}

/// How the kubeconfig names the CA.
#[derive(Debug, Clone)]
enum Ca {
    /// `certificate-authority-data`: base64 of the PEM.
    Data,
    /// `certificate-authority`: a path.
    File(PathBuf),
    /// `insecure-skip-tls-verify: true`.
    Insecure,
    /// Nothing: the system roots (which do not trust the fake).
    None,
}

/// How the kubeconfig authenticates.
#[derive(Debug, Clone)]
enum User {
    Token(String),
    TokenFile(PathBuf),
    None,
}

/// A kubeconfig with one cluster, one user and one context (all named
/// `fake`, `waiter`, `fake`), rendered in block style as kubectl writes it.
#[derive(Debug, Clone)]
pub struct Kubeconfig {
    server: String,
    ca: Ca,
    ca_pem: String,
    ca_file: PathBuf,
    user: User,
    namespace: Option<String>,
}

/// A YAML scalar: plain when that reads back as the same string, else
/// double-quoted (JSON escapes are valid YAML).
fn scalar(s: &str) -> String {
    let special = s.is_empty()
        || s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        || s.ends_with(' ')
        || s.contains(": ")
        || s.contains(" #")
        || s.parse::<f64>().is_ok()
        || ["true", "false", "yes", "no", "null", "~", "on", "off"]
            .contains(&s.to_lowercase().as_str());
    if special {
        serde_json::to_string(s).expect("string")
    } else {
        s.to_owned()
    }
}

impl Kubeconfig {
    pub(super) fn new(api: &FakeApi) -> Kubeconfig {
        Kubeconfig {
            server: api.url(),
            ca: Ca::Data,
            ca_pem: api.ca_pem().to_owned(),
            ca_file: api.ca_file().to_owned(),
            user: User::Token(api.token()),
            namespace: None,
        }
    }

    /// `certificate-authority: <the CA file>` instead of inline data.
    pub fn ca_file(mut self) -> Kubeconfig {
        self.ca = Ca::File(self.ca_file.clone());
        self
    }

    /// `certificate-authority: <path>` (relative paths resolve against the
    /// kubeconfig's directory).
    pub fn ca_path(mut self, path: &Path) -> Kubeconfig {
        self.ca = Ca::File(path.to_owned());
        self
    }

    /// `insecure-skip-tls-verify: true` and no CA.
    pub fn insecure(mut self) -> Kubeconfig {
        self.ca = Ca::Insecure;
        self
    }

    /// No CA at all.
    pub fn no_ca(mut self) -> Kubeconfig {
        self.ca = Ca::None;
        self
    }

    /// `token: <token>`.
    pub fn token(mut self, token: &str) -> Kubeconfig {
        self.user = User::Token(token.to_owned());
        self
    }

    /// `tokenFile: <path>`.
    pub fn token_file(mut self, path: &Path) -> Kubeconfig {
        self.user = User::TokenFile(path.to_owned());
        self
    }

    /// A user with no credentials.
    pub fn no_user(mut self) -> Kubeconfig {
        self.user = User::None;
        self
    }

    /// `namespace:` in the context.
    pub fn namespace(mut self, namespace: &str) -> Kubeconfig {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// Another `server:` URL.
    pub fn server(mut self, url: &str) -> Kubeconfig {
        self.server = url.to_owned();
        self
    }

    /// The YAML.
    pub fn render(&self) -> String {
        let mut cluster = Vec::new();
        match &self.ca {
            Ca::Data => cluster.push(format!(
                "certificate-authority-data: {}",
                base64(self.ca_pem.as_bytes())
            )),
            Ca::File(path) => cluster.push(format!(
                "certificate-authority: {}",
                scalar(&path.to_string_lossy())
            )),
            Ca::Insecure => cluster.push("insecure-skip-tls-verify: true".into()),
            Ca::None => {}
        }
        cluster.push(format!("server: {}", scalar(&self.server)));
        let mut context = vec!["cluster: fake".to_owned()];
        if let Some(ns) = &self.namespace {
            context.push(format!("namespace: {}", scalar(ns)));
        }
        context.push("user: waiter".into());
        let user = match &self.user {
            User::Token(t) => format!("  user:\n    token: {}\n", scalar(t)),
            User::TokenFile(p) => {
                format!("  user:\n    tokenFile: {}\n", scalar(&p.to_string_lossy()))
            }
            User::None => "  user: {}\n".to_owned(),
        };
        let indent = |lines: &[String]| {
            lines
                .iter()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        };
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n{}  name: fake\ncontexts:\n- context:\n{}  name: fake\ncurrent-context: fake\nkind: Config\npreferences: {{}}\nusers:\n- name: waiter\n{user}",
            indent(&cluster),
            indent(&context),
        )
    }

    /// Writes `dir/config` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        write_file(dir, "config", self.render().as_bytes())
    }

    /// Writes the file into a fresh temp dir and sets `KUBECONFIG` to it.
    pub fn configure(&self, rdy: Rdy) -> Rdy {
        let path = self.write(&temp_dir("kubeconfig"));
        rdy.env("KUBECONFIG", &path.to_string_lossy())
    }
}
