//! Shared test helpers: write synthesised archives to temp files, load them,
//! and read change sets back as plain maps.
#![allow(dead_code)]

#[cfg(feature = "tui")]
pub mod app;
#[cfg(feature = "tui")]
pub mod screen;
pub mod tmux;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use layerscope::analysis::{analyse, Analysis};
use layerscope::load::{load, LoadOptions, Loaded, Progress};
use layerscope::tree::Status;

/// A temp dir holding one archive file.
pub struct TempArchive {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn write_archive(bytes: &[u8], name: &str) -> TempArchive {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write archive");
    TempArchive { dir, path }
}

pub fn load_path(path: &Path) -> layerscope::Result<Loaded> {
    load(path, &LoadOptions::default(), &Progress::default())
}

pub fn load_with(path: &Path, opts: &LoadOptions) -> layerscope::Result<Loaded> {
    load(path, opts, &Progress::default())
}

pub fn load_bytes(bytes: &[u8]) -> (Loaded, Analysis) {
    let a = write_archive(bytes, "image.tar");
    let loaded = load_path(&a.path).expect("load");
    let analysis = analyse(&loaded);
    (loaded, analysis)
}

pub fn load_err(bytes: &[u8]) -> String {
    let a = write_archive(bytes, "image.tar");
    match load_path(&a.path) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e
            .to_string()
            .replace(&a.path.display().to_string(), "IMAGE"),
    }
}

/// Every path the layer touched with its status.
pub fn changes(l: &Loaded, layer: usize) -> BTreeMap<String, Status> {
    l.tree
        .layer_changes(layer)
        .iter()
        .map(|&id| {
            let v = l.tree.change_in(id, layer).expect("version");
            (l.tree.path(id), v.status)
        })
        .collect()
}

/// Same, as `path status` lines, for compact assertions.
pub fn change_lines(l: &Loaded, layer: usize) -> Vec<String> {
    changes(l, layer)
        .into_iter()
        .map(|(p, s)| format!("{p} {}", s.as_str()))
        .collect()
}

/// Paths present after the last layer (files, dirs, links), sorted.
pub fn final_paths(l: &Loaded) -> Vec<String> {
    let last = l.tree.final_layer();
    let mut v: Vec<String> = l
        .tree
        .ids()
        .skip(1)
        .filter(|&id| l.tree.exists_at(id, last))
        .map(|id| l.tree.path(id))
        .collect();
    v.sort();
    v
}

/// `../shared/fixtures` when present.
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    p.is_dir().then_some(p)
}

/// Like `load_bytes`, keeping the archive file for later content reads.
pub fn load_bytes_kept(bytes: &[u8]) -> (Loaded, TempArchive) {
    let a = write_archive(bytes, "image.tar");
    let loaded = load_path(&a.path).expect("load");
    (loaded, a)
}

/// A command that must have succeeded: exit 0, or its stderr in the failure.
pub fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
