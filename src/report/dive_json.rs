//! dive 0.13.1's `--json` export, field for field, so scripts written
//! against dive keep working.

use serde::Serialize;

use super::Subject;
use crate::layer::Kind;
use crate::tree::{FileTree, NodeId, ROOT};

#[derive(Serialize)]
struct Export {
    layer: Vec<Layer>,
    image: Image,
}

#[derive(Serialize)]
struct Layer {
    index: usize,
    id: String,
    #[serde(rename = "digestId")]
    digest_id: String,
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    command: String,
    #[serde(rename = "fileList")]
    file_list: Vec<FileInfo>,
}

/// dive's per-entry record (Go's tar header fields and os.FileMode bits).
#[derive(Serialize)]
struct FileInfo {
    path: String,
    #[serde(rename = "typeFlag")]
    type_flag: u8,
    #[serde(rename = "linkName")]
    link_name: String,
    size: u64,
    #[serde(rename = "fileMode")]
    file_mode: u32,
    uid: u32,
    gid: u32,
    #[serde(rename = "isDir")]
    is_dir: bool,
}

#[derive(Serialize)]
struct Image {
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    #[serde(rename = "inefficientBytes")]
    inefficient_bytes: u64,
    #[serde(rename = "efficiencyScore")]
    efficiency_score: f64,
    #[serde(rename = "fileReference")]
    file_reference: Vec<FileRef>,
}

#[derive(Serialize)]
struct FileRef {
    count: u32,
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    file: String,
}

/// dive's JSON document, pretty-printed as dive prints it; a serializer
/// failure is an error, never an empty document.
pub fn render(s: &Subject) -> crate::Result<String> {
    let img = &s.loaded.image;
    let d = &s.analysis.dive;
    let export = Export {
        layer: img
            .layers
            .iter()
            .map(|l| Layer {
                index: l.index,
                id: dive_layer_id(&l.member, &l.digest),
                digest_id: l.diff_id.clone(),
                size_bytes: l.size_bytes,
                // dive shows RUN commands without the shell prefix.
                command: l
                    .command
                    .strip_prefix("/bin/sh -c ")
                    .unwrap_or(&l.command)
                    .to_string(),
                file_list: file_list(&s.loaded.tree, l.index),
            })
            .collect(),
        image: Image {
            size_bytes: d.image_size_bytes,
            inefficient_bytes: d.wasted_bytes,
            efficiency_score: d.efficiency,
            file_reference: d
                .inefficient_files
                .iter()
                .map(|f| FileRef {
                    count: f.count,
                    size_bytes: f.size_bytes,
                    file: f.path.clone(),
                })
                .collect(),
        },
    };
    serde_json::to_string_pretty(&export).map_err(|e| crate::Error::Render {
        format: "dive JSON",
        source: Box::new(e),
    })
}

/// dive names a layer by the first component of its member name
/// (`<id>/layer.tar` → `<id>`); for `blobs/sha256/<hex>` it would say
/// `blobs`, so the digest's hex is used there instead.
fn dive_layer_id(member: &str, digest: &str) -> String {
    match member.split('/').next() {
        Some(first) if !first.is_empty() && first != "blobs" => first.to_string(),
        _ => digest.rsplit(':').next().unwrap_or(digest).to_string(),
    }
}

/// Go's os.FileMode for a tar entry.
fn go_file_mode(kind: Kind, mode: u32) -> u32 {
    let mut m = mode & 0o777;
    if mode & 0o4000 != 0 {
        m |= 1 << 23;
    }
    if mode & 0o2000 != 0 {
        m |= 1 << 22;
    }
    if mode & 0o1000 != 0 {
        m |= 1 << 20;
    }
    m | match kind {
        Kind::Dir => 1 << 31,
        Kind::Symlink => 1 << 27,
        Kind::CharDevice => (1 << 26) | (1 << 21),
        Kind::BlockDevice => 1 << 26,
        Kind::Fifo => 1 << 25,
        _ => 0,
    }
}

fn type_flag(kind: Kind) -> u8 {
    match kind {
        Kind::File | Kind::Other => b'0',
        Kind::Hardlink => b'1',
        Kind::Symlink => b'2',
        Kind::CharDevice => b'3',
        Kind::BlockDevice => b'4',
        Kind::Dir => b'5',
        Kind::Fifo => b'6',
    }
}

/// The layer's tar entries as dive lists them, rebuilt from the tree:
/// explicit entries and whiteouts, in the order the layer first touched them.
fn file_list(tree: &FileTree, layer: usize) -> Vec<FileInfo> {
    let rel = |id: NodeId| {
        let p = tree.path(id);
        p.trim_start_matches('/').to_string()
    };
    let mut out = Vec::new();
    for &id in tree.layer_changes(layer) {
        let Some(v) = tree.change_in(id, layer) else {
            continue;
        };
        match tree.attrs_of(v) {
            Some(a) if !a.implicit() => out.push(FileInfo {
                path: rel(id),
                type_flag: type_flag(a.kind),
                link_name: tree
                    .link(a)
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .unwrap_or_default(),
                size: tree.tar_size(v),
                file_mode: go_file_mode(a.kind, a.mode.into()),
                uid: a.uid,
                gid: a.gid,
                is_dir: a.kind == Kind::Dir,
            }),
            Some(_) => {}
            None if v.whiteout => {
                let name = String::from_utf8_lossy(tree.name(id)).into_owned();
                out.push(marker(
                    &rel(tree.parent(id).unwrap_or(ROOT)),
                    &format!(".wh.{name}"),
                ));
            }
            None => {}
        }
    }
    // dive leaves opaque markers out of its list.
    out
}

/// A whiteout entry (empty regular file, mode 0644: the
/// mode is not kept).
fn marker(dir: &str, name: &str) -> FileInfo {
    FileInfo {
        path: if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        },
        type_flag: b'0',
        link_name: String::new(),
        size: 0,
        file_mode: 0o644,
        uid: 0,
        gid: 0,
        is_dir: false,
    }
}
