//! Real database servers for the protocol probes: PostgreSQL, MariaDB and
//! Redis from the Debian packages, each started on a free loopback port in
//! a temp dir and stopped when dropped. PostgreSQL refuses to run as root,
//! so it runs as `nobody` through `setpriv`. Every wait is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::{LIMIT, skip, temp_dir};

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The first of `candidates` that exists, else `name` found on `PATH`.
fn program(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Some(found.clone());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A PostgreSQL program of the newest installed major version.
fn pg_program(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.reverse();
    program(name, &versions)
}

/// Runs a setup command to completion, bounded by [`LIMIT`]; its output
/// is returned in the error.
fn run(cmd: &mut Command) -> Result<(), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let end = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{cmd:?} did not finish within {LIMIT:?}"));
        }
        thread::sleep(Duration::from_millis(20));
    };
    if status.success() {
        return Ok(());
    }
    let mut out = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    Err(format!("{cmd:?}: {status}: {out}"))
}

/// A server process, its log lines (stdout and stderr) and its directory.
/// Dropping it stops the process (SIGTERM, then SIGKILL after 10 s).
pub struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// The server's own directory (data, sockets).
    pub dir: PathBuf,
}

impl Server {
    fn spawn(mut cmd: Command, dir: PathBuf) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        for pipe in [out, err] {
            let log = log.clone();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    log.lock().expect("log").push(line);
                }
            });
        }
        Server { child, log, dir }
    }

    /// Waits (at most [`LIMIT`]) for a log line containing `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let end = Instant::now() + LIMIT;
        while Instant::now() < end {
            if self
                .log
                .lock()
                .expect("log")
                .iter()
                .any(|l| l.contains(needle))
            {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("no log line {needle:?} within {LIMIT:?}:\n{}", self.logs());
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Stops the server and waits (bounded) for it to exit.
    pub fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stops the server and hands its directory over instead of deleting
    /// it (a Redis dump to load again).
    pub fn stop_keeping_dir(mut self) -> PathBuf {
        self.stop();
        std::mem::take(&mut self.dir)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Waits (at most [`LIMIT`]) until `addr` accepts TCP connections.
pub fn wait_listening(addr: &str) {
    let end = Instant::now() + LIMIT;
    while Instant::now() < end {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("{addr} did not listen within {LIMIT:?}");
}

/// `setpriv` to `nobody`: PostgreSQL refuses to run as root.
fn as_nobody(program: &Path) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .current_dir("/");
    cmd
}

/// Copies a template directory (ownership kept: we are root).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    run(Command::new("cp").arg("-a").arg(from).arg(to))
}

/// One template made per test process: `make` runs once, later callers
/// copy its result. `None` when it failed (the reason was printed).
fn template(
    cell: &'static OnceLock<Option<PathBuf>>,
    label: &str,
    make: impl FnOnce(&Path) -> Result<(), String>,
) -> Option<PathBuf> {
    cell.get_or_init(|| {
        let dir = temp_dir(label).join("data");
        match make(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                eprintln!("{label}: {e}");
                None
            }
        }
    })
    .clone()
}

// ---------------------------------------------------------------- PostgreSQL

/// A PostgreSQL data directory (copied from a per-process `initdb`), owned
/// by `nobody`, trust authentication, superuser `postgres`.
pub struct PgData {
    dir: PathBuf,
}

impl PgData {
    /// A fresh cluster, or `None` after recording a skip for `test`.
    pub fn new(test: &str) -> Option<PgData> {
        static TEMPLATE: OnceLock<Option<PathBuf>> = OnceLock::new();
        let Some(initdb) = pg_program("initdb") else {
            skip(
                test,
                "PostgreSQL is not installed (apt-get install postgresql)",
            );
            return None;
        };
        let template = template(&TEMPLATE, "pg-template", |dir| {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            run(Command::new("chown").arg("65534:65534").arg(dir))?;
            run(as_nobody(&initdb).arg("-D").arg(dir).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]))
        });
        let Some(template) = template else {
            skip(test, "initdb failed (see above)");
            return None;
        };
        let dir = temp_dir("pg");
        let data = dir.join("data");
        copy_tree(&template, &data).expect("copy the PostgreSQL template");
        Some(PgData { dir })
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Appends settings to `postgresql.conf`.
    pub fn configure(&self, lines: &str) {
        let conf = self.data().join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(conf)
            .expect("postgresql.conf");
        writeln!(file, "{lines}").expect("write postgresql.conf");
    }

    /// Makes the cluster start as a standby without hot standby: until
    /// promoted it answers every connection with 57P03.
    pub fn standby(&self) {
        self.configure("hot_standby = off");
        let signal = self.data().join("standby.signal");
        std::fs::write(&signal, "").expect("standby.signal");
        run(Command::new("chown").arg("65534:65534").arg(&signal)).expect("chown");
    }

    /// Turns TLS on with the certificate of `pki` (key file owned by the
    /// server's user, mode 0600, as PostgreSQL demands).
    pub fn tls(&self, pki: &super::pki::Pki) {
        use std::os::unix::fs::PermissionsExt;
        for (name, pem) in [("server.crt", &pki.cert_pem), ("server.key", &pki.key_pem)] {
            let path = self.data().join(name);
            std::fs::write(&path, pem).expect("write certificate");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            run(Command::new("chown").arg("65534:65534").arg(&path)).expect("chown");
        }
        self.configure("ssl = on");
    }

    /// Starts the server on 127.0.0.1:`port`; returns once it listens.
    pub fn start(self, port: u16) -> Postgres {
        let postgres = pg_program("postgres").expect("postgres next to initdb");
        let mut cmd = as_nobody(&postgres);
        cmd.arg("-D").arg(self.data()).args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", self.data().display()),
            "-c",
            "fsync=off",
            "-c",
            "shared_buffers=8MB",
            "-c",
            "max_connections=20",
        ]);
        let server = Server::spawn(cmd, self.dir.clone());
        wait_listening(&format!("127.0.0.1:{port}"));
        Postgres {
            server,
            data: self,
            port,
        }
    }
}

/// A running PostgreSQL.
pub struct Postgres {
    /// The process and its log.
    pub server: Server,
    data: PgData,
    /// The port on 127.0.0.1.
    pub port: u16,
}

impl Postgres {
    /// Waits until the server accepts connections (not only TCP).
    pub fn server_ready(&self) {
        self.server.wait_for_log("ready to accept connections");
    }

    /// Ends recovery (`pg_ctl promote`) and waits until it accepts
    /// connections.
    pub fn promote(&mut self) {
        let pg_ctl = pg_program("pg_ctl").expect("pg_ctl");
        run(as_nobody(&pg_ctl)
            .arg("promote")
            .arg("-D")
            .arg(self.data.data())
            .arg("-W"))
        .expect("pg_ctl promote");
    }
}

// ------------------------------------------------------------------ MariaDB

/// A MariaDB data directory copied from a per-process
/// `mariadb-install-db`.
pub struct MariaData {
    dir: PathBuf,
}

impl MariaData {
    /// A fresh data directory, or `None` after recording a skip for `test`.
    pub fn new(test: &str) -> Option<MariaData> {
        static TEMPLATE: OnceLock<Option<PathBuf>> = OnceLock::new();
        let (Some(install), Some(_)) = (
            program("mariadb-install-db", &[]),
            program("mariadbd", &[PathBuf::from("/usr/sbin/mariadbd")]),
        ) else {
            skip(
                test,
                "MariaDB is not installed (apt-get install mariadb-server)",
            );
            return None;
        };
        let template = template(&TEMPLATE, "maria-template", |dir| {
            run(Command::new(&install).arg("--no-defaults").args([
                &format!("--datadir={}", dir.display()),
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]))
        });
        let Some(template) = template else {
            skip(test, "mariadb-install-db failed (see above)");
            return None;
        };
        let dir = temp_dir("maria");
        copy_tree(&template, &dir.join("data")).expect("copy the MariaDB template");
        Some(MariaData { dir })
    }

    /// Starts `mariadbd` listening on `addr:port` with `extra` settings
    /// (`--max-connect-errors=10`), inside network namespace `netns` if one
    /// is given; returns once it is ready for connections.
    pub fn start(self, addr: &str, port: u16, extra: &[&str], netns: Option<&str>) -> Server {
        let mariadbd =
            program("mariadbd", &[PathBuf::from("/usr/sbin/mariadbd")]).expect("mariadbd");
        let mut cmd = match netns {
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns]).arg(mariadbd);
                cmd
            }
            None => Command::new(mariadbd),
        };
        let data = self.dir.join("data");
        // An account for every host, as an application's would be: without
        // one the server answers other hosts with ERR 1130 instead of its
        // handshake.
        let init = self.dir.join("init.sql");
        std::fs::write(
            &init,
            "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'secret';\n",
        )
        .expect("init.sql");
        cmd.arg("--no-defaults").args([
            format!("--init-file={}", init.display()),
            format!("--datadir={}", data.display()),
            format!("--socket={}", self.dir.join("sock").display()),
            format!("--pid-file={}", self.dir.join("pid").display()),
            "--user=root".into(),
            format!("--bind-address={addr}"),
            format!("--port={port}"),
            "--skip-log-bin".into(),
            "--innodb-buffer-pool-size=8M".into(),
        ]);
        cmd.args(extra);
        let server = Server::spawn(cmd, self.dir.clone());
        server.wait_for_log("ready for connections");
        server
    }
}

// -------------------------------------------------------------------- Redis

/// Starts `redis-server` on 127.0.0.1:`port` with extra `--name value`
/// settings, in a fresh directory (or `dir`, to load its dump); returns once
/// it listens. `None` after recording a skip for `test`.
pub fn redis(test: &str, port: u16, dir: Option<PathBuf>, extra: &[&str]) -> Option<Server> {
    let Some(redis) = program("redis-server", &[]) else {
        skip(
            test,
            "Redis is not installed (apt-get install redis-server)",
        );
        return None;
    };
    let dir = dir.unwrap_or_else(|| temp_dir("redis"));
    let mut cmd = Command::new(redis);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(&dir)
        .args(["--appendonly", "no", "--daemonize", "no", "--logfile", ""])
        .args(extra);
    let server = Server::spawn(cmd, dir);
    wait_listening(&format!("127.0.0.1:{port}"));
    Some(server)
}

/// Sends one command to the Redis at `port` and returns its reply's first
/// line (test setup only: `MSET`, `SAVE`).
pub fn redis_command(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).expect("send");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("reply");
    line.trim_end().to_owned()
}

/// Checks that the TLS target `target` is ready when its server's CA is
/// given with `--ca-file`, refused in the words of an https target with
/// another CA's, and that `-k` with `--ca-file` is a usage error, as for
/// https: every TLS target takes one path.
pub fn verified_by_ca_file(target: &str, pki: &super::pki::Pki) {
    let ca = pki.ca_file.to_str().expect("utf-8 path");
    super::Rdy::new(&["check", target, "--ca-file", ca])
        .run()
        .expect(0, "is ready ✓");
    let other = super::pki::pki(&["localhost"]);
    let other_ca = other.ca_file.to_str().expect("utf-8 path");
    let out = super::Rdy::new(&["check", target, "--ca-file", other_ca]).run();
    out.expect(
        1,
        "error=\"tls: the server's certificate is not signed by a CA rdy trusts \
         (give the CA that signed it with --ca-file)\"",
    );
    assert!(!out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
    super::Rdy::new(&["check", target, "-k", "--ca-file", ca])
        .run()
        .expect(2, "--insecure and --ca-file cannot be used together");
}

/// Checks that the TLS target `target`, whose server presents the CA
/// certificate of `ca` ([`super::pki::ca_as_server`]) as its own, is
/// refused in the words of an https target, not rustls's Rust names.
pub fn a_ca_certificate_is_refused_in_words(target: &str, ca: &super::pki::Pki) {
    let ca = ca.ca_file.to_str().expect("utf-8 path");
    let out = super::Rdy::new(&["check", target, "--ca-file", ca]).run();
    out.expect(
        1,
        "error=\"tls: the server's certificate is a CA certificate, not a server certificate\"",
    );
    for rust_name in ["CaUsedAsEndEntity", "Other(", "invalid peer certificate"] {
        assert!(!out.stderr.contains(rust_name), "{}", out.stderr);
    }
}

// --------------------------------------------------------- Network namespaces

/// Two network namespaces joined by a veth pair: the server's holds
/// 10.201.N.1/24, the client's 10.201.N.2/24. Nothing in the host's own
/// namespace changes. Dropping it deletes both.
pub struct NetnsPair {
    /// Where the server runs.
    pub server: String,
    /// Where the probes run.
    pub client: String,
    /// The server's address.
    pub server_ip: String,
}

impl NetnsPair {
    /// Creates the pair, or `None` after recording a skip for `test`.
    pub fn new(test: &str) -> Option<NetnsPair> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        if super::skip_unless_root(test) {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}-{n}", std::process::id() % 100_000);
        let pair = NetnsPair {
            server: format!("rdydb-s{tag}"),
            client: format!("rdydb-c{tag}"),
            server_ip: format!("10.201.{}.1", n % 250),
        };
        let client_ip = format!("10.201.{}.2/24", n % 250);
        let (veth_s, veth_c) = (format!("rs{tag}"), format!("rc{tag}"));
        let ip = |args: &[&str]| run(Command::new("ip").args(args));
        let steps = || -> Result<(), String> {
            ip(&["netns", "add", &pair.server])?;
            ip(&["netns", "add", &pair.client])?;
            ip(&[
                "link",
                "add",
                &veth_s,
                "netns",
                &pair.server,
                "type",
                "veth",
                "peer",
                "name",
                &veth_c,
                "netns",
                &pair.client,
            ])?;
            for (ns, dev, addr) in [
                (&pair.server, &veth_s, format!("{}/24", pair.server_ip)),
                (&pair.client, &veth_c, client_ip.clone()),
            ] {
                ip(&["-n", ns, "addr", "add", &addr, "dev", dev])?;
                ip(&["-n", ns, "link", "set", dev, "up"])?;
                ip(&["-n", ns, "link", "set", "lo", "up"])?;
            }
            Ok(())
        };
        // MariaDB keeps (and blocks) only hosts whose reverse lookup gave an
        // answer; a lookup that times out is transient and never cached. In
        // the server's namespace /etc/hosts names the client (`ip netns
        // exec` mounts /etc/netns/NAME/hosts over /etc/hosts).
        let hosts = format!(
            "127.0.0.1 localhost\n{} rdy-probe-client\n",
            &client_ip[..client_ip.len() - 3]
        );
        let etc = Path::new("/etc/netns").join(&pair.server);
        let steps = || -> Result<(), String> {
            std::fs::create_dir_all(&etc).map_err(|e| e.to_string())?;
            std::fs::write(etc.join("hosts"), &hosts).map_err(|e| e.to_string())?;
            steps()
        };
        if let Err(e) = steps() {
            skip(test, &format!("cannot create network namespaces: {e}"));
            return None;
        }
        Some(pair)
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            let _ = run(Command::new("ip").args(["netns", "del", ns]));
        }
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.server));
    }
}
