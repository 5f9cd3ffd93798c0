//! The real kube-apiserver (with etcd and the controller manager) that
//! `.ci/run` starts from `../shared/realkube` and names in
//! `RDY_TEST_REALKUBE` (its state directory). Tests use it for what only a
//! real server shows: discovery, CRDs, `/status`, RBAC, admission. Each test
//! works in a namespace of its own; requests go through `curl`, which
//! `.ci/run` installs for `up.sh` anyway.

use std::path::PathBuf;
use std::process::Command;

use super::skip;

/// A running real API server, as `up.sh` left it under its state directory.
pub struct RealKube {
    /// `$RK_RUN`: certificates, kubeconfigs, logs.
    pub dir: PathBuf,
}

/// The real API server, or `None` after recording `test` as skipped.
pub fn realkube(test: &str) -> Option<RealKube> {
    let Some(dir) = std::env::var_os("RDY_TEST_REALKUBE").map(PathBuf::from) else {
        skip(
            test,
            "no real API server: RDY_TEST_REALKUBE is unset (.ci/run starts ../shared/realkube)",
        );
        return None;
    };
    if !dir.join("admin.kubeconfig").is_file() {
        skip(test, &format!("no admin.kubeconfig in {}", dir.display()));
        return None;
    }
    Some(RealKube { dir })
}

/// An API response: status code and body.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON for the API).
    pub body: String,
}

impl RealKube {
    /// A kubeconfig of `up.sh`: `admin`, `limited`, `admin-cert`, ...
    pub fn kubeconfig(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.kubeconfig"))
    }

    /// The API server's URL (`https://127.0.0.1:PORT`).
    pub fn server(&self) -> String {
        let config = std::fs::read_to_string(self.kubeconfig("admin")).expect("read kubeconfig");
        config
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .expect("server in kubeconfig")
            .trim()
            .to_owned()
    }

    /// Sends one request as the admin user. `content_type` is for PATCH
    /// (`application/merge-patch+json`, ...); POST and PUT send JSON.
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Response {
        let token = std::fs::read_to_string(self.dir.join("pki/admin.token")).expect("read token");
        let mut curl = Command::new("curl");
        curl.args(["-sS", "--max-time", "20", "-X", method])
            .arg("--cacert")
            .arg(self.dir.join("pki/ca.crt"))
            .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
            .args(["-o", "-", "-w", "\n%{http_code}"]);
        if let Some((content_type, data)) = body {
            curl.args(["-H", &format!("Content-Type: {content_type}")])
                .args(["--data-binary", data]);
        }
        let out = curl
            .arg(format!("{}{path}", self.server()))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout);
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        Response {
            status: status.trim().parse().unwrap_or(0),
            body: body.to_owned(),
        }
    }

    /// Creates a namespace for one test (deleted by nobody: the server's
    /// state is thrown away with the run) and returns its name.
    pub fn namespace(&self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", std::process::id());
        let body =
            format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#);
        let response = self.request(
            "POST",
            "/api/v1/namespaces",
            Some(("application/json", &body)),
        );
        assert!(
            response.status == 201 || response.status == 409,
            "create namespace {name}: {} {}",
            response.status,
            response.body
        );
        name
    }
}

// Pod Security and dry runs (examples.rs).
impl RealKube {
    /// Like [`RealKube::namespace`], with labels such as
    /// `pod-security.kubernetes.io/enforce: restricted` (set when it is
    /// created; a second call with the same prefix returns the same one).
    pub fn namespace_labelled(&self, prefix: &str, labels: &[(&str, &str)]) -> String {
        let name = format!("{prefix}-{}", std::process::id());
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}","labels":{{{}}}}}}}"#,
            labels.join(",")
        );
        let response = self.request(
            "POST",
            "/api/v1/namespaces",
            Some(("application/json", &body)),
        );
        assert!(
            response.status == 201 || response.status == 409,
            "create namespace {name}: {} {}",
            response.status,
            response.body
        );
        name
    }

    /// The collection path of an object's kind: `/api/v1/namespaces/NS/pods`,
    /// `/apis/apps/v1/namespaces/NS/deployments`, or without the namespace
    /// for cluster-wide kinds.
    pub fn collection(api_version: &str, kind: &str, namespace: Option<&str>) -> String {
        let base = match api_version {
            "v1" => "/api/v1".to_owned(),
            group => format!("/apis/{group}"),
        };
        let lower = kind.to_ascii_lowercase();
        let plural = match lower.strip_suffix('y') {
            Some(stem) => format!("{stem}ies"),
            None if lower.ends_with('s') => format!("{lower}es"),
            None => format!("{lower}s"),
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
            None => format!("{base}/{plural}"),
        }
    }

    /// Creates `object` (JSON) with `?dryRun=All`: every admission check
    /// runs, nothing is stored.
    pub fn dry_run(&self, collection: &str, object: &str) -> Response {
        self.request(
            "POST",
            &format!("{collection}?dryRun=All"),
            Some(("application/json", object)),
        )
    }
}
