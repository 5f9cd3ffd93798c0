//! Starts etcd and kube-apiserver on free loopback ports, as
//! controller-runtime's envtest does: a fresh CA and serving certificate
//! (openssl), a static token file with an admin and a user without any
//! RBAC permission, a client certificate, and kubeconfigs for each, all in
//! one directory under cargo's `target/tmp`.
//!
//! The processes belong to the test binary: they are started from a thread
//! that never ends with `PR_SET_PDEATHSIG` set to SIGKILL, so they die with
//! the binary however it ends (Linux sends the signal when the spawning
//! *thread* exits, hence the thread kept alive). Nothing is left to stop.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// kube-apiserver's start (RBAC bootstrap included) takes about 10 s on an
/// idle machine; a loaded 2-core one takes several times that.
const START_LIMIT: Duration = Duration::from_secs(120);

/// The directory holding `kube-apiserver` and `etcd`: `RDY_TEST_KUBE_BIN`,
/// else `KUBEBUILDER_ASSETS` (what `setup-envtest use -p path` prints).
pub fn binaries() -> Option<PathBuf> {
    ["RDY_TEST_KUBE_BIN", "KUBEBUILDER_ASSETS"]
        .iter()
        .find_map(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

/// Starts both servers from `bin` and returns the state directory, laid
/// out as the tests read it: `pki/ca.crt`, `pki/admin.token`,
/// `admin.kubeconfig`, `limited.kubeconfig`, `admin-cert.kubeconfig`, logs.
pub fn start(bin: &Path) -> Result<PathBuf, String> {
    for name in ["etcd", "kube-apiserver"] {
        if !bin.join(name).is_file() {
            return Err(format!("no {name} in {}", bin.display()));
        }
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    remove_stale(tmp);
    let dir = tmp.join(format!("realkube-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).map_err(|e| format!("create {}: {e}", pki.display()))?;
    certificates(&pki)?;
    let [etcd_port, peer_port, api_port] = free_ports();
    let etcd = format!("http://127.0.0.1:{etcd_port}");
    spawn(
        &dir,
        "etcd",
        Command::new(bin.join("etcd"))
            .args(etcd_flags(bin, &etcd, peer_port))
            .arg("--data-dir")
            .arg(dir.join("etcd-data")),
    )?;
    until_up(&dir, "etcd", &["-s", &format!("{etcd}/health")], "true")?;
    let api = format!("https://127.0.0.1:{api_port}");
    spawn(
        &dir,
        "kube-apiserver",
        Command::new(bin.join("kube-apiserver")).args(apiserver_flags(&pki, &etcd, api_port)),
    )?;
    let token = std::fs::read_to_string(pki.join("admin.token")).map_err(|e| e.to_string())?;
    let ca = pki.join("ca.crt");
    until_up(
        &dir,
        "kube-apiserver",
        &[
            "-s",
            "--cacert",
            ca.to_str().unwrap_or_default(),
            "-H",
            &format!("Authorization: Bearer {}", token.trim()),
            &format!("{api}/readyz"),
        ],
        "ok",
    )?;
    kubeconfigs(&dir, &api)?;
    Ok(dir)
}

/// Removes the state of earlier runs whose test binary has gone.
fn remove_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("realkube-")) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Three ports the kernel handed out on 127.0.0.1, all held until the last
/// is chosen so they differ.
fn free_ports() -> [u16; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().expect("local address").port();
    [port(0), port(1), port(2)]
}

/// Upstream etcd takes `--listen-client-urls` and friends; a build made
/// for tests may take only `-client-url` and `-peer-url` (its `--help`
/// says which).
fn etcd_flags(bin: &Path, client: &str, peer_port: u16) -> Vec<String> {
    let peer = format!("http://127.0.0.1:{peer_port}");
    let help = Command::new(bin.join("etcd")).arg("--help").output();
    let help = help
        .map(|o| String::from_utf8_lossy(&[o.stdout, o.stderr].concat()).into_owned())
        .unwrap_or_default();
    if !help.contains("listen-client-urls") && help.contains("-client-url") {
        return vec![format!("-client-url={client}"), format!("-peer-url={peer}")];
    }
    vec![
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=default={peer}"),
        "--unsafe-no-fsync=true".to_owned(),
    ]
}

fn apiserver_flags(pki: &Path, etcd: &str, port: u16) -> Vec<String> {
    let file = |name: &str| pki.join(name).display().to_string();
    vec![
        format!("--etcd-servers={etcd}"),
        "--bind-address=127.0.0.1".to_owned(),
        "--advertise-address=127.0.0.1".to_owned(),
        format!("--secure-port={port}"),
        // No controller or kubelet runs: nothing would keep the
        // `kubernetes` Service's endpoints.
        "--endpoint-reconciler-type=none".to_owned(),
        format!("--tls-cert-file={}", file("apiserver.crt")),
        format!("--tls-private-key-file={}", file("apiserver.key")),
        format!("--client-ca-file={}", file("ca.crt")),
        format!("--service-account-key-file={}", file("sa.pub")),
        format!("--service-account-signing-key-file={}", file("sa.key")),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_owned(),
        "--service-cluster-ip-range=10.96.0.0/16".to_owned(),
        "--authorization-mode=RBAC".to_owned(),
        format!("--token-auth-file={}", file("tokens.csv")),
        // Watches resumed from an old resourceVersion can get 410 Gone
        // after one compaction interval, as in a long-lived cluster.
        "--etcd-compaction-interval=30s".to_owned(),
        "--profiling=false".to_owned(),
        format!("--cert-dir={}", file("apiserver-certs")),
    ]
}

/// Runs `openssl ARGS` in `dir`.
fn openssl(dir: &Path, args: &str) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .map_err(|e| format!("run openssl (the openssl package): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {args}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The CA, the API server's certificate for 127.0.0.1 and localhost, an
/// RSA 2048 client certificate of group `system:masters` (a client
/// certificate's O is the group, its CN the user), the service-account
/// key pair and the static tokens.
fn certificates(pki: &Path) -> Result<(), String> {
    let write = |name: &str, text: &str| {
        std::fs::write(pki.join(name), text).map_err(|e| format!("write {name}: {e}"))
    };
    write(
        "server.ext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )?;
    write("client.ext", "extendedKeyUsage=clientAuth\n")?;
    openssl(
        pki,
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=rdy-test-kube-ca",
    )?;
    for (name, subject, ext) in [
        ("apiserver", "/CN=kube-apiserver", "server.ext"),
        (
            "certadmin",
            "/O=system:masters/CN=rk-certadmin",
            "client.ext",
        ),
    ] {
        openssl(
            pki,
            &format!(
                "req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr -subj {subject}"
            ),
        )?;
        openssl(
            pki,
            &format!(
                "x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out {name}.crt -days 2 -extfile {ext}"
            ),
        )?;
    }
    openssl(pki, "genrsa -out sa.key 2048")?;
    openssl(pki, "rsa -in sa.key -pubout -out sa.pub")?;
    let admin = token();
    let limited = token();
    write("admin.token", &format!("{admin}\n"))?;
    write(
        "tokens.csv",
        &format!(
            "{admin},rk-admin,uid-rk-admin,\"system:masters\"\n{limited},rk-limited,uid-rk-limited\n"
        ),
    )?;
    write("limited.token", &format!("{limited}\n"))
}

/// 32 random hex digits from the kernel.
fn token() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `NAME.kubeconfig` for `admin`, `limited` and `admin-cert`.
fn kubeconfigs(dir: &Path, api: &str) -> Result<(), String> {
    let pki = dir.join("pki");
    let read = |name: &str| std::fs::read_to_string(pki.join(name)).unwrap_or_default();
    let path = |name: &str| pki.join(name).display().to_string();
    let users = [
        (
            "admin",
            "rk-admin",
            format!("    token: {}", read("admin.token").trim()),
        ),
        (
            "limited",
            "rk-limited",
            format!("    token: {}", read("limited.token").trim()),
        ),
        (
            "admin-cert",
            "rk-certadmin",
            format!(
                "    client-certificate: {}\n    client-key: {}",
                path("certadmin.crt"),
                path("certadmin.key")
            ),
        ),
    ];
    for (file, user, auth) in users {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {api}\n    certificate-authority: {}\nusers:\n- name: {user}\n  user:\n{auth}\ncontexts:\n- name: {user}@test\n  context:\n    cluster: test\n    user: {user}\n    namespace: default\ncurrent-context: {user}@test\n",
            path("ca.crt")
        );
        std::fs::write(dir.join(format!("{file}.kubeconfig")), text)
            .map_err(|e| format!("write {file}.kubeconfig: {e}"))?;
    }
    Ok(())
}

/// Starts `name` with its output in `DIR/NAME.log`, to be killed when the
/// calling thread ends.
fn spawn(dir: &Path, name: &str, cmd: &mut Command) -> Result<(), String> {
    let log = std::fs::File::create(dir.join(format!("{name}.log")))
        .map_err(|e| format!("create {name}.log: {e}"))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map(drop)
        .map_err(|e| format!("start {name}: {e}"))
}

/// Polls `curl ARGS` every 200 ms until its output is `answer`, at most
/// [`START_LIMIT`].
fn until_up(dir: &Path, name: &str, curl: &[&str], answer: &str) -> Result<(), String> {
    let end = Instant::now() + START_LIMIT;
    while Instant::now() < end {
        let out = Command::new("curl").args(["-m", "2"]).args(curl).output();
        if let Ok(out) = out
            && String::from_utf8_lossy(&out.stdout).contains(answer)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    Err(format!(
        "{name} not up after {} s; its log ends:\n{}",
        START_LIMIT.as_secs(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}
