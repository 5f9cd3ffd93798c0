//! The release binaries in `dist/` that some tests run (the foreign
//! architectures under qemu, the release images): `./build.sh` writes them,
//! cargo does not, so a test must make sure one is not older than the code
//! it claims to test.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a build reads: a change to any of these makes `dist/` stale.
const INPUTS: [&str; 6] = [
    "src",
    "Cargo.toml",
    "Cargo.lock",
    "build.sh",
    "layout",
    ".cargo",
];

/// Panics, naming the newer file and the command that rebuilds, when
/// `binary` is older than any input of the build: a test of it would test
/// other code than the tree's, and pass or fail for the wrong reason.
#[track_caller]
pub fn assert_fresh(binary: &Path, rebuild: &str) {
    let built = modified(binary).expect("the binary's modification time");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest = INPUTS
        .iter()
        .flat_map(|input| files(&root.join(input)))
        .filter_map(|file| Some((modified(&file)?, file)))
        .max();
    if let Some((time, file)) = newest
        && time > built
    {
        panic!(
            "{} is older than {}: rebuild it ({rebuild}) or run ./test.sh",
            binary.display(),
            file.strip_prefix(root).unwrap_or(&file).display()
        );
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `path` itself, or every file under it (none when it does not exist).
fn files(path: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return if path.is_file() {
            vec![path.to_owned()]
        } else {
            Vec::new()
        };
    };
    entries
        .flatten()
        .flat_map(|entry| files(&entry.path()))
        .collect()
}
