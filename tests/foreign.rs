//! The aarch64 and armv7 binaries, run under qemu-user against the same
//! real loopback servers as the native one: TCP, HTTP, HTTPS, ICMP (both
//! socket kinds, in a network namespace the test creates), `rdy serve`,
//! a `k8s:` target against the fake API server, and `-- COMMAND`.
//!
//! The binaries are those `./build.sh --target ARCH` wrote:
//! `dist/rdy-aarch64` and `dist/rdy-armv7` (and their `-min` builds when
//! present; a test fails on one older than the sources), or the directory
//! in `RDY_TEST_DIST`, taken as it is. qemu is called
//! explicitly (`qemu-aarch64-static` or `qemu-aarch64`, `qemu-arm-static`
//! or `qemu-arm`), so no binfmt_misc registration is needed. qemu-user
//! passes socket system calls to the host kernel: everything runs as on
//! the hardware except timing, which no test here asserts.

mod common;

use std::path::{Path, PathBuf};

use common::kube::FakeApi;
use common::kube::fixtures::deployment;
use common::net::{HttpServer, Reply, ReservedPort, TcpServer};
use common::pki::pki;
use common::serve::{Server, serve_args};
use common::{Rdy, skip, skip_unless_root};

/// A foreign binary and the qemu that runs it.
struct Foreign {
    qemu: PathBuf,
    binary: PathBuf,
}

impl Foreign {
    /// `rdy ARGS...` under qemu.
    fn rdy(&self, args: &[&str]) -> Rdy {
        Rdy::new(args).wrapped(
            &[self.qemu.to_str().unwrap()],
            self.binary.to_str().unwrap(),
        )
    }
}

/// The binaries of `arch` (the stable build, then `-min` when built) with
/// their qemu, or a recorded skip when the build or qemu is missing.
fn foreign(test: &str, arch: &str, qemu: &str) -> Vec<Foreign> {
    let given = std::env::var_os("RDY_TEST_DIST").map(PathBuf::from);
    let dist = given
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"));
    let binary = dist.join(format!("rdy-{arch}"));
    if !binary.is_file() {
        skip(
            test,
            &format!(
                "{} is not built (./build.sh --target {arch})",
                binary.display()
            ),
        );
        return Vec::new();
    }
    let Some(qemu) = [format!("{qemu}-static"), qemu.to_owned()]
        .iter()
        .flat_map(|name| ["/usr/bin", "/usr/local/bin"].map(|dir| Path::new(dir).join(name)))
        .find(|path| path.is_file())
    else {
        skip(test, &format!("{qemu} is not installed (qemu-user-static)"));
        return Vec::new();
    };
    let min = dist.join(format!("rdy-{arch}-min"));
    let built: Vec<PathBuf> = [binary, min].into_iter().filter(|b| b.is_file()).collect();
    if given.is_none() {
        for binary in &built {
            common::dist::assert_fresh(binary, &format!("./build.sh --target {arch} [--min]"));
        }
    }
    built
        .into_iter()
        .map(|binary| Foreign {
            qemu: qemu.clone(),
            binary,
        })
        .collect()
}

/// The binary really is the architecture's: ELF `e_machine`.
fn is_built_for(binary: &Path, machine: u16) {
    let head = std::fs::read(binary).expect("read the binary");
    assert_eq!(&head[..4], b"\x7fELF", "{}", binary.display());
    let e_machine = u16::from_le_bytes([head[18], head[19]]);
    assert_eq!(e_machine, machine, "{}", binary.display());
}

fn tcp(rdy: &Foreign) {
    let up = TcpServer::start();
    rdy.rdy(&["check", &up.addr()])
        .run()
        .expect(0, "is ready ✓");
    assert_eq!(up.accepted(), 1);
    let down = ReservedPort::new();
    rdy.rdy(&["check", &down.addr()])
        .run()
        .expect(1, "error=\"connection refused\"");
}

fn http(rdy: &Foreign) {
    let web = HttpServer::start(|r| match r.target.as_str() {
        "/ready" => Reply::status(200).body("UP"),
        _ => Reply::status(503),
    });
    rdy.rdy(&["check", &web.url("/ready"), "--body-contains", "UP"])
        .run()
        .expect(0, "is ready ✓");
    rdy.rdy(&["check", &web.url("/down")])
        .run()
        .expect(1, "status 503, expected 200");
    assert_eq!(web.requests().len(), 2);
}

fn https(rdy: &Foreign) {
    let ours = pki(&["localhost"]);
    let web = HttpServer::start_tls(ours.server.clone(), |_| Reply::status(200));
    let url = format!("https://localhost:{}/ready", web.port);
    // Emulated crypto: a handshake takes far longer than on hardware.
    let rdy = |args: &[&str]| rdy.rdy(&[&["check", "--dial-timeout", "15s"], args].concat());
    rdy(&[&url, "--ca-file", ours.ca_file.to_str().unwrap()])
        .run()
        .expect(0, "is ready ✓");
    let other = pki(&["elsewhere"]);
    rdy(&[&url, "--ca-file", other.ca_file.to_str().unwrap()])
        .run()
        .expect(1, "error=\"tls:");
    assert_eq!(
        web.requests().len(),
        1,
        "only the trusted handshake gets a request"
    );
}

/// Echo requests to both loopbacks in a network namespace of the test's
/// own: first through an unprivileged datagram socket as a user without
/// capabilities, then through a raw socket as root with no ping group.
fn icmp(test: &str, rdy: &Foreign) {
    if skip_unless_root(test) {
        return;
    }
    let unprivileged = "setpriv --reuid=65534 --regid=65534 --clear-groups \
                        --inh-caps=-all --bounding-set=-all ";
    for (range, drop, socket) in [
        ("0 2147483647", unprivileged, "socket=datagram"),
        ("1 0", "", "socket=raw"),
    ] {
        let script = format!(
            "ip link set lo up && echo '{range}' > /proc/sys/net/ipv4/ping_group_range \
             && exec {drop}{} \"$0\" \"$@\"",
            rdy.qemu.display()
        );
        Rdy::new(&["check", "-v", "icmp://127.0.0.1", "icmp://[::1]"])
            .wrapped(
                &["unshare", "--net", "sh", "-c", &script],
                rdy.binary.to_str().unwrap(),
            )
            .run()
            .expect(0, socket);
    }
}

fn serve(rdy: &Foreign) {
    let up = TcpServer::start();
    let down = ReservedPort::new();
    let server = Server::with(rdy.rdy(&serve_args(
        "127.0.0.1:0",
        &[&up.addr(), "--name", "up", &down.addr(), "--name", "down"],
    )));
    let own = server.get("/self");
    assert_eq!((own.status, own.body.as_str()), (200, "ok\n"));
    let all = server.get("/all");
    assert_eq!(all.status, 503);
    assert_eq!(all.body, "ok   up\nfail down: connection refused\n");
    let one = server.get("/ready/up");
    assert_eq!(one.status, 200);
    server.stop().expect(143, "");
}

fn k8s(rdy: &Foreign) {
    let api = FakeApi::start();
    api.apply(deployment("web", "apps").replicas(2));
    api.in_cluster("apps")
        .configure(rdy.rdy(&["wait", "--timeout", "20s", "k8s:deployment/web"]))
        .run()
        .expect(0, "msg=\"deployment/web is ready ✓\"");
}

fn exec(rdy: &Foreign) {
    let up = TcpServer::start();
    let out = rdy
        .rdy(&[
            "wait",
            &up.addr(),
            "--",
            "/bin/sh",
            "-c",
            "echo started; exit 7",
        ])
        .run();
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    assert_eq!(out.stdout, "started\n");
}

macro_rules! architecture {
    ($arch:ident, $qemu:literal, $machine:literal) => {
        mod $arch {
            use super::*;

            fn each(test: &str, check: impl Fn(&Foreign)) {
                let test = concat!(stringify!($arch), "::").to_owned() + test;
                for rdy in foreign(&test, stringify!($arch), $qemu) {
                    check(&rdy);
                }
            }

            #[test]
            fn is_the_architecture() {
                each("is_the_architecture", |rdy| {
                    is_built_for(&rdy.binary, $machine)
                });
            }

            #[test]
            fn tcp() {
                each("tcp", super::tcp);
            }

            #[test]
            fn http() {
                each("http", super::http);
            }

            #[test]
            fn https() {
                each("https", super::https);
            }

            #[test]
            fn icmp() {
                each("icmp", |rdy| {
                    super::icmp(concat!(stringify!($arch), "::icmp"), rdy)
                });
            }

            #[test]
            fn serve() {
                each("serve", super::serve);
            }

            #[test]
            fn k8s() {
                each("k8s", super::k8s);
            }

            #[test]
            fn exec() {
                each("exec", super::exec);
            }
        }
    };
}

// e_machine: EM_AARCH64 = 183, EM_ARM = 40.
architecture!(aarch64, "qemu-aarch64", 183);
architecture!(armv7, "qemu-arm", 40);
