//! A real kube-apiserver (with etcd; no controller manager, kubelet or
//! scheduler) for what only a real server shows: discovery, CRDs,
//! `/status`, RBAC, admission. The first test of a test binary that asks
//! starts one (`start.rs`) from the directory in `RDY_TEST_KUBE_BIN` or
//! `KUBEBUILDER_ASSETS` (controller-runtime's `setup-envtest` installs
//! there), and every test of that binary shares it, each in a namespace of
//! its own; it dies with the binary. One per binary rather than one for
//! the whole run: a start takes 5–10 s and four binaries need one, while a
//! server shared across binaries would need a teardown after the last,
//! which `cargo test` does not have. `RDY_TEST_REALKUBE` names the state
//! directory of one already running instead (same layout). Nothing acts on
//! objects but the API server: tests write status, ServiceAccounts and
//! whatever else controllers would. Requests go through `curl`.

mod start;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::skip;

/// A running real API server and its state directory.
#[derive(Clone)]
pub struct RealKube {
    /// Certificates (`pki/`), kubeconfigs, logs.
    pub dir: PathBuf,
}

/// The real API server, or `None` after recording `test` as skipped. A
/// server that was configured but failed to start fails the test.
pub fn realkube(test: &str) -> Option<RealKube> {
    if let Some(dir) = std::env::var_os("RDY_TEST_REALKUBE").map(PathBuf::from) {
        assert!(
            dir.join("admin.kubeconfig").is_file(),
            "RDY_TEST_REALKUBE: no admin.kubeconfig in {}",
            dir.display()
        );
        return Some(RealKube { dir });
    }
    let Some(bin) = start::binaries() else {
        skip(
            test,
            "no kube-apiserver: set KUBEBUILDER_ASSETS (setup-envtest use -p path) or RDY_TEST_KUBE_BIN",
        );
        return None;
    };
    static SHARED: OnceLock<Result<RealKube, String>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The servers die when this thread does (PR_SET_PDEATHSIG): it
        // lives as long as the test binary.
        std::thread::spawn(move || {
            let _ = tx.send(start::start(&bin).map(|dir| RealKube { dir }));
            loop {
                std::thread::park();
            }
        });
        rx.recv()
            .unwrap_or_else(|_| Err("the thread starting the API server died".to_owned()))
    });
    match shared {
        Ok(kube) => Some(kube.clone()),
        Err(why) => panic!("the real API server did not start: {why}"),
    }
}

/// An API response: status code and body.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON for the API).
    pub body: String,
}

impl RealKube {
    /// A kubeconfig: `admin` (token, group `system:masters`), `limited`
    /// (token of user `rk-limited`, no RBAC permissions), `admin-cert` (an
    /// RSA client certificate of group `system:masters`).
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
        self.namespace_labelled(prefix, &[])
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
        // The controller manager's ServiceAccount controller would make
        // `default`, without which the ServiceAccount admission plugin
        // refuses every pod that names no account.
        let account =
            r#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}"#;
        let made = self.request(
            "POST",
            &format!("/api/v1/namespaces/{name}/serviceaccounts"),
            Some(("application/json", account)),
        );
        assert!(
            made.status == 201 || made.status == 409,
            "create {name}/default ServiceAccount: {} {}",
            made.status,
            made.body
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

/// Helpers for custom resources and Secrets, made as a user or a controller
/// would make them.
impl RealKube {
    /// Sends a request and asserts its status is one of `ok`.
    #[track_caller]
    pub fn expect(
        &self,
        ok: &[u16],
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> String {
        let response = self.request(method, path, body);
        assert!(
            ok.contains(&response.status),
            "{method} {path}: {} {}",
            response.status,
            response.body
        );
        response.body
    }

    /// Creates a JSON object in the collection at `path`.
    #[track_caller]
    pub fn create(&self, path: &str, object: &str) {
        self.expect(&[201], "POST", path, Some(("application/json", object)));
    }

    /// Merge-patches an object (RFC 7386).
    #[track_caller]
    pub fn patch(&self, path: &str, patch: &str) {
        self.expect(
            &[200],
            "PATCH",
            path,
            Some(("application/merge-patch+json", patch)),
        );
    }

    /// Merge-patches an object's `/status` subresource, as its controller
    /// writes status.
    #[track_caller]
    pub fn patch_status(&self, path: &str, status: &str) {
        self.patch(
            &format!("{path}/status"),
            &format!(r#"{{"status":{status}}}"#),
        );
    }

    /// Deletes an object (gone already is fine).
    #[track_caller]
    pub fn delete(&self, path: &str) {
        self.expect(&[200, 202, 404], "DELETE", path, None);
    }

    /// Installs a namespaced CustomResourceDefinition `PLURAL.GROUP` (kind
    /// `KIND`, version v1, with a status subresource and any fields) and
    /// waits until the API server says `Established`. Returns its name.
    pub fn crd(&self, group: &str, kind: &str, short: &str) -> String {
        let plural = format!("{}s", kind.to_lowercase());
        let name = format!("{plural}.{group}");
        let body = format!(
            r#"{{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{{"name":"{name}"}},"spec":{{"group":"{group}","scope":"Namespaced","names":{{"kind":"{kind}","plural":"{plural}","singular":"{}","shortNames":["{short}"]}},"versions":[{{"name":"v1","served":true,"storage":true,"subresources":{{"status":{{}}}},"schema":{{"openAPIV3Schema":{{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}}]}}}}"#,
            kind.to_lowercase()
        );
        self.create(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &body,
        );
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        self.await_body(&path, r#""type":"Established","status":"True""#);
        name
    }

    /// Polls `GET path` (every 100 ms, at most [`super::LIMIT`]) until the
    /// compact body contains `needle`.
    #[track_caller]
    pub fn await_body(&self, path: &str, needle: &str) {
        let end = std::time::Instant::now() + super::LIMIT;
        loop {
            let body: String = self
                .request("GET", path, None)
                .body
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if body.contains(needle) {
                return;
            }
            assert!(
                std::time::Instant::now() < end,
                "{path} never had {needle}: {body}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// `rdy ARGS` as the admin user, or as another of the kubeconfigs.
    pub fn rdy(&self, user: &str, args: &[&str]) -> super::Rdy {
        super::Rdy::new(args).env(
            "KUBECONFIG",
            self.kubeconfig(user).to_str().expect("UTF-8 path"),
        )
    }
}
