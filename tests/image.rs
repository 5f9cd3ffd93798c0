//! The release artefacts: the static binary runs from an empty root, and the
//! scratch image holds nothing but it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::net::{HttpServer, Reply, TcpServer};
use common::{Rdy, skip_unless_root, temp_dir};

/// Builds `dist/rdy` and `dist/rdy-min` (the image's default) with
/// `build.sh --min` (incrementally) once per test run.
fn static_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut build = Command::new(root.join("build.sh"));
        for (key, _) in std::env::vars_os() {
            if set_by_cargo(&key.to_string_lossy()) {
                build.env_remove(&key);
            }
        }
        let out = build
            .arg("--min")
            .current_dir(root)
            .output()
            .expect("run build.sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "build.sh failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("dist/rdy: "), "{stdout}");
        assert!(stdout.contains("dist/rdy-min: "), "{stdout}");
        root.join("dist/rdy")
    })
}

/// Variables `cargo test` (and rustup) set for a test. Passed on to
/// `build.sh`, they change the fingerprints of its build (ring's build
/// script, `env!` in rdy), so `cargo test` and `./build.sh` would rebuild
/// everything each time one follows the other.
fn set_by_cargo(key: &str) -> bool {
    key == "CARGO"
        || (key.starts_with("CARGO_") && key != "CARGO_HOME")
        || key.starts_with("RUSTUP_TOOLCHAIN")
        || key.starts_with("RUSTFLAGS")
        || key.starts_with("RUSTC")
        || key.starts_with("RUSTDOC")
        || key == "RUST_RECURSION_COUNT"
        || key == "LD_LIBRARY_PATH"
}

#[test]
fn cargo_variables_do_not_reach_build_sh() {
    for key in [
        "CARGO",
        "CARGO_PKG_VERSION",
        "CARGO_MANIFEST_DIR",
        "RUSTUP_TOOLCHAIN",
        "LD_LIBRARY_PATH",
        "RUSTFLAGS",
    ] {
        assert!(set_by_cargo(key), "{key}");
    }
    for key in ["CARGO_HOME", "RUSTUP_HOME", "PATH", "HOME", "CC"] {
        assert!(!set_by_cargo(key), "{key}");
    }
}

#[test]
fn the_static_binary_runs_from_an_empty_root() {
    if skip_unless_root("the_static_binary_runs_from_an_empty_root") {
        return;
    }
    let root = temp_dir("chroot");
    std::fs::copy(static_binary(), root.join("rdy")).expect("copy binary");
    let entries: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert_eq!(entries.len(), 1, "the root holds only the binary");

    let tcp = TcpServer::start();
    let http = HttpServer::start(|_| Reply::status(200));
    let out = Rdy::new(&[
        "check",
        &format!("localhost:{}", tcp.port),
        &format!("http://localhost:{}/", http.port),
        "icmp://127.0.0.1",
    ])
    .wrapped(&["chroot", root.to_str().unwrap()], "/rdy")
    .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    let usage = Rdy::new(&["wait", "db"])
        .wrapped(&["chroot", root.to_str().unwrap()], "/rdy")
        .run();
    assert_eq!(usage.code, Some(2), "{}", usage.stderr);
}

fn buildah(args: &[&str]) -> String {
    let out = Command::new("buildah")
        .args(["--storage-driver", "vfs"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run buildah");
    assert!(
        out.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_scratch_image_holds_only_the_binary() {
    if skip_unless_root("the_scratch_image_holds_only_the_binary") {
        return;
    }
    if Command::new("buildah").arg("--version").output().is_err() {
        common::skip(
            "the_scratch_image_holds_only_the_binary",
            "buildah not installed (./test.sh installs it)",
        );
        return;
    }
    static_binary();
    let tag = format!("localhost/rdy-test:{}", std::process::id());
    buildah(&[
        "bud",
        "--isolation",
        "chroot",
        "-q",
        "-f",
        "Dockerfile.scratch",
        "-t",
        &tag,
        ".",
    ]);
    let config = buildah(&[
        "inspect",
        "--format",
        "{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}",
        &tag,
    ]);
    assert_eq!(config, "65532:65532 [/rdy]");

    let container = buildah(&["from", &tag]);
    let mount = buildah(&["mount", &container]);
    let files: Vec<String> = std::fs::read_dir(&mount)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let version = Rdy::new(&["--version"])
        .wrapped(&["chroot", &mount], "/rdy")
        .run();
    let shipped = std::fs::read(Path::new(&mount).join("rdy")).expect("read /rdy");
    buildah(&["umount", &container]);
    buildah(&["rm", &container]);
    buildah(&["rmi", &tag]);
    assert_eq!(files, ["rdy"]);
    let smallest = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/rdy-min");
    assert!(
        shipped == std::fs::read(smallest).expect("read dist/rdy-min"),
        "the image ships dist/rdy-min by default"
    );
    assert_eq!(
        version.stdout,
        concat!("rdy ", env!("CARGO_PKG_VERSION"), "\n")
    );
}
