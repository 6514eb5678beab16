//! Build script: put the git commit into `layerscope --version` when built
//! from a checkout (`0.1.0 (git 1a2b3c4d5e6f)`). Built from a tarball, a
//! crates.io download, or a directory inside some other repository, the
//! version is the package version alone; a missing `git` is not an error.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Watch `path` for changes, if it exists (a missing watched file would make
/// cargo rerun this script, and rebuild, every time).
fn watch(dir: &Path, path: &str) {
    let p = dir.join(path);
    if p.exists() {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest);
    // Only this package's own checkout counts, not a repository that merely
    // contains an unpacked tarball of it.
    let own = git(dir, &["rev-parse", "--show-toplevel"])
        .and_then(|top| Path::new(&top).canonicalize().ok())
        .zip(dir.canonicalize().ok())
        .is_some_and(|(top, here)| top == here);
    let commit = own
        .then(|| git(dir, &["rev-parse", "--short=12", "HEAD"]))
        .flatten();
    let suffix = commit
        .as_deref()
        .map_or(String::new(), |c| format!(" (git {c})"));
    println!("cargo:rustc-env=LAYERSCOPE_VERSION_SUFFIX={suffix}");
    println!("cargo:rerun-if-changed=build.rs");
    if own {
        // Rebuild when HEAD moves: HEAD itself, the branch it names, packed refs.
        for what in ["HEAD", "packed-refs"] {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", what]) {
                watch(dir, &p);
            }
        }
        if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", &r]) {
                watch(dir, &p);
            }
        }
    }
}
