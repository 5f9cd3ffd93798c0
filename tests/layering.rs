//! The layers of the crate: `cli` reads the command line and builds each
//! mode's settings; the modes (`wait`, `serve`), probes and protocols
//! below it never name it, so that each can be used and tested on its own
//! settings. Checked on the source, as the compiler does not.

mod common;

use std::fs;
use std::path::Path;

use common::sources;

/// Whether a line names the `cli` module (not `client`).
fn names_cli(line: &str) -> bool {
    ["crate::cli", "super::cli"].iter().any(|path| {
        line.match_indices(path).any(|(at, _)| {
            let next = line[at + path.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn nothing_below_cli_imports_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut offenders = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        // main.rs sits above cli; cli may name itself.
        if relative.starts_with("cli") || relative == Path::new("main.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if names_cli(line) {
                offenders.push(format!(
                    "src/{}:{}: {}",
                    relative.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// The lines of the files under `src/DIR` that name any of `paths`.
fn naming(dir: &str, paths: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(!files.is_empty(), "found src/{dir}");
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if paths.iter().any(|p| line.contains(p)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

/// Transport (dialling, TLS, the HTTP agent) sits below the probes and the
/// Kubernetes client, and the Kubernetes client below the `k8s:` probe and
/// `serve`: neither names a layer above it.
#[test]
fn transport_and_kube_never_import_the_layers_above() {
    let above = ["crate::probe", "crate::kube", "crate::serve", "crate::wait"];
    let transport = naming("transport", &above);
    assert!(transport.is_empty(), "{}", transport.join("\n"));
    let kube = naming("kube", &["crate::probe", "crate::serve", "crate::wait"]);
    assert!(kube.is_empty(), "{}", kube.join("\n"));
}
