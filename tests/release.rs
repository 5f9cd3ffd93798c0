//! release.sh over the binaries in dist/ (x86_64, aarch64, armv7, which
//! ./test.sh builds first; one older than the sources fails the test): one scratch image per architecture holding only
//! a `/rdy` of that architecture, a manifest list naming each platform,
//! true OCI labels, and SHA256SUMS and SBOMs that match what was built.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{skip, skip_unless_root};

const TEST: &str = "release_makes_a_manifest_list_of_single_binary_images";
const SOURCE: &str = "https://example.invalid/rdy.git";

/// (arch, binary in dist/, OCI architecture, variant, ELF e_machine)
const ARCHES: [(&str, &str, &str, &str, u16); 3] = [
    ("x86_64", "rdy", "amd64", "", 62),
    ("aarch64", "rdy-aarch64", "arm64", "", 183),
    ("armv7", "rdy-armv7", "arm", "v7", 40),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn buildah(args: &[&str]) -> String {
    let out = Command::new("buildah")
        .args(["--storage-driver", "vfs"])
        .args(args)
        .output()
        .expect("run buildah");
    assert!(
        out.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn e_machine(path: &Path) -> u16 {
    let head = std::fs::read(path).expect("read /rdy");
    assert_eq!(&head[..4], b"\x7fELF");
    u16::from_le_bytes([head[18], head[19]])
}

/// Removes the test's images and list even when an assertion fails.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let run = |args: &[&str]| {
            let _ = Command::new("buildah")
                .args(["--storage-driver", "vfs"])
                .args(args)
                .output();
        };
        run(&[
            "manifest",
            "rm",
            &format!("{}:{}", self.0, env!("CARGO_PKG_VERSION")),
        ]);
        for (arch, ..) in ARCHES {
            run(&[
                "rmi",
                &format!("{}:{}-{arch}", self.0, env!("CARGO_PKG_VERSION")),
            ]);
        }
    }
}

#[test]
fn release_makes_a_manifest_list_of_single_binary_images() {
    if skip_unless_root(TEST) {
        return;
    }
    if Command::new("buildah").arg("--version").output().is_err() {
        skip(TEST, "buildah not installed (./test.sh installs it)");
        return;
    }
    let dist = root().join("dist");
    if let Some((arch, binary, ..)) = ARCHES.iter().find(|a| !dist.join(a.1).is_file()) {
        skip(
            TEST,
            &format!("dist/{binary} is not built (./build.sh --target {arch})"),
        );
        return;
    }
    for (_, binary, ..) in ARCHES {
        common::dist::assert_fresh(&dist.join(binary), "./build.sh --all");
    }
    let image = format!("localhost/rdy-release-test-{}", std::process::id());
    let _cleanup = Cleanup(image.clone());
    let out = Command::new(root().join("release.sh"))
        .args(["--no-build", "--image", &image])
        .env("SOURCE_URL", SOURCE)
        .env("STORAGE_DRIVER", "vfs")
        .current_dir(root())
        .output()
        .expect("run release.sh");
    assert!(
        out.status.success(),
        "release.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let version = env!("CARGO_PKG_VERSION");

    // The list names each platform once.
    let list: Value = serde_json::from_str(&buildah(&[
        "manifest",
        "inspect",
        &format!("{image}:{version}"),
    ]))
    .expect("manifest JSON");
    let platforms: BTreeSet<(String, String)> = list["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            let p = &m["platform"];
            assert_eq!(p["os"], "linux");
            let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
            (text(&p["architecture"]), text(&p["variant"]))
        })
        .collect();
    let wanted: BTreeSet<(String, String)> = ARCHES
        .iter()
        .map(|a| (a.2.to_owned(), a.3.to_owned()))
        .collect();
    assert_eq!(platforms, wanted);

    for (arch, _, oci_arch, _, machine) in ARCHES {
        let tag = format!("{image}:{version}-{arch}");
        let inspected: Value =
            serde_json::from_str(&buildah(&["inspect", &tag])).expect("image JSON");
        let config = &inspected["OCIv1"];
        assert_eq!(config["architecture"], oci_arch);
        assert_eq!(config["config"]["User"], "65532:65532");
        let labels = &config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.source"], SOURCE);
        assert_eq!(labels["org.opencontainers.image.version"], version);
        assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
        assert_eq!(
            labels["org.opencontainers.image.description"],
            env!("CARGO_PKG_DESCRIPTION")
        );

        let container = buildah(&["from", &tag]);
        let mount = buildah(&["mount", &container]);
        let files: Vec<String> = std::fs::read_dir(&mount)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let found = e_machine(&Path::new(&mount).join("rdy"));
        buildah(&["umount", &container]);
        buildah(&["rm", &container]);
        assert_eq!(files, ["rdy"], "{tag}");
        assert_eq!(found, machine, "{tag}: /rdy is not built for {arch}");
    }

    // The checksums verify, and cover each binary and its SBOM.
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    for (_, binary, ..) in ARCHES {
        for file in [binary.to_owned(), format!("{binary}.cdx.json")] {
            assert!(
                sums.lines().any(|l| l.ends_with(&format!("  {file}"))),
                "{file} missing from SHA256SUMS:\n{sums}"
            );
        }
    }
    let check = Command::new("sha256sum")
        .args(["--check", "--quiet", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .expect("run sha256sum");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // The SBOM lists the crates compiled in, with Cargo.lock's hashes, and
    // none of the test-only ones.
    let sbom: Value = serde_json::from_str(
        &std::fs::read_to_string(dist.join("rdy-armv7.cdx.json")).expect("SBOM"),
    )
    .expect("SBOM JSON");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let components = sbom["components"].as_array().expect("components");
    let named = |name: &str| components.iter().find(|c| c["name"] == name);
    for name in [
        "rustls", "ring", "ureq", "httparse", "lexopt", "nix", "socket2",
    ] {
        let component = named(name).unwrap_or_else(|| panic!("{name} missing from the SBOM"));
        let purl = component["purl"].as_str().unwrap();
        assert!(purl.starts_with(&format!("pkg:cargo/{name}@")), "{purl}");
        assert_eq!(component["hashes"][0]["alg"], "SHA-256");
        assert_eq!(
            component["hashes"][0]["content"].as_str().unwrap().len(),
            64
        );
    }
    for dev_only in ["rcgen", "serde_json", "serde_yaml"] {
        assert!(
            named(dev_only).is_none(),
            "{dev_only} is not compiled into rdy"
        );
    }
}
