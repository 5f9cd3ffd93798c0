//! TLS against servers rdy did not write: `openssl s_server` with RSA and
//! ECDSA certificates over TLS 1.2 and 1.3, and the real API server with an
//! RSA client certificate. They prove that the cut-down crypto provider
//! (src/transport/crypto.rs) still speaks what servers use.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{Rdy, skip, temp_dir};

/// Runs openssl with `args` in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for `localhost` signed by it, both with keys made
/// by `genpkey` with `key` (`RSA` + bits, or `EC` + curve); returns the
/// directory holding ca.pem, leaf.pem and leaf.key.
fn certificates(key: &[&str]) -> PathBuf {
    let dir = temp_dir("openssl");
    let genpkey = |out: &str| {
        let mut args = vec!["genpkey", "-out", out, "-algorithm"];
        args.extend_from_slice(key);
        openssl(&dir, &args);
    };
    genpkey("ca.key");
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=rdy test CA",
        ],
    );
    genpkey("leaf.key");
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    dir
}

/// `openssl s_server -www` on a free loopback port; killed on drop.
struct SServer {
    child: Child,
    port: u16,
}

impl SServer {
    /// `s_server` with these extra arguments (`-tls1_2`, `-ciphersuites`).
    fn start(dir: &Path, args: &[&str]) -> SServer {
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-accept", "127.0.0.1:0"])
            .args(args)
            .args(["-cert", "leaf.pem", "-key", "leaf.key"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        // s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
        let stdout = child.stdout.take().expect("stdout");
        let port = BufReader::new(stdout)
            .lines()
            .take(20)
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("ACCEPT 127.0.0.1:")?.trim().parse().ok())
            .expect("s_server did not say where it listens");
        SServer { child, port }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl_missing(test: &str) -> bool {
    if Command::new("openssl").arg("version").output().is_ok() {
        return false;
    }
    skip(test, "openssl not installed (./test.sh installs it)");
    true
}

#[test]
fn rsa_and_ecdsa_servers_over_tls_1_2_and_1_3() {
    if openssl_missing("rsa_and_ecdsa_servers_over_tls_1_2_and_1_3") {
        return;
    }
    let keys: [&[&str]; 4] = [
        &["RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        &["RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        &["EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &["EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    ];
    for key in keys {
        let dir = certificates(key);
        let ca = dir.join("ca.pem");
        for version in ["-tls1_2", "-tls1_3"] {
            let server = SServer::start(&dir, &[version]);
            let url = format!("https://localhost:{}/", server.port);
            let out = Rdy::new(&["check", "--ca-file", ca.to_str().unwrap(), &url]).run();
            assert_eq!(out.code, Some(0), "{key:?} {version}: {}", out.stderr);
        }
    }
}

#[test]
fn a_server_that_offers_only_chacha20_is_refused_in_words() {
    if openssl_missing("a_server_that_offers_only_chacha20_is_refused_in_words") {
        return;
    }
    let dir = certificates(&["EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    let server = SServer::start(
        &dir,
        &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
    );
    let ca = dir.join("ca.pem");
    let url = format!("https://localhost:{}/", server.port);
    let out = Rdy::new(&["check", "--ca-file", ca.to_str().unwrap(), &url]).run();
    out.expect(1, "is not ready");
}

#[test]
fn an_rsa_client_certificate_authenticates_to_the_real_api_server() {
    let Some(kube) = common::realkube::realkube(
        "an_rsa_client_certificate_authenticates_to_the_real_api_server",
    ) else {
        return;
    };
    // The admin-cert kubeconfig: an RSA 2048 client certificate of
    // group system:masters, no token.
    let ns = kube.namespace("tls-client-cert");
    let deployment = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"zero"},
        "spec":{"replicas":0,"selector":{"matchLabels":{"app":"zero"}},
        "template":{"metadata":{"labels":{"app":"zero"}},
        "spec":{"containers":[{"name":"c","image":"scratch"}]}}}}"#;
    let created = kube.request(
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        Some(("application/json", deployment)),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let kubeconfig = kube.kubeconfig("admin-cert");
    let target = format!("k8s:{ns}/deployment/zero");
    let check = || {
        Rdy::new(&[
            "check",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            &target,
        ])
    };
    // Read with the certificate: the object is there, its status not yet.
    check()
        .run()
        .expect(1, "Waiting for deployment spec update to be observed");
    // What the deployment controller would write for zero replicas.
    let path = format!("/apis/apps/v1/namespaces/{ns}/deployments/zero");
    kube.patch_status(&path, r#"{"observedGeneration":1}"#);
    let out = check().run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}
