//! The JSON rendering of a [`crate::diff::Diff`], schema version 1
//! (documented in the README's "Diff" section). Paths are absolute, sizes
//! are bytes, deltas are signed (new − old), digests `sha256:…`.

use serde::Serialize;

use super::DiffSubject;
use crate::diff::{Changed, ConfigChange, LayerDiff, PathFilter, SideInfo, Summary, Totals};
use crate::layer::Kind;
use crate::load::Loaded;
use crate::tree::{NodeId, Status};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Doc<'a> {
    pub schema_version: u32,
    pub identical: bool,
    pub old: &'a SideInfo,
    pub new: &'a SideInfo,
    pub summary: &'a Summary,
    pub layers: &'a LayerDiff,
    pub config: Vec<Config<'a>>,
    pub paths: Vec<Path>,
}

#[derive(Serialize)]
pub struct Config<'a> {
    pub status: Status,
    #[serde(flatten)]
    pub change: &'a ConfigChange,
}

#[derive(Serialize)]
pub struct Path {
    pub path: String,
    /// `unchanged` for a directory listed for what changed below it.
    pub status: Status,
    pub changed: Changed,
    pub dir: bool,
    pub old: Option<SideAttrs>,
    pub new: Option<SideAttrs>,
    pub old_bytes: u64,
    pub new_bytes: u64,
    pub delta_bytes: i64,
    /// Directories: bytes and change counts of the subtree.
    pub totals: Option<Totals>,
}

#[derive(Serialize)]
pub struct SideAttrs {
    pub kind: Kind,
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    pub size_bytes: u64,
    pub sha256: Option<String>,
    pub link_target: Option<String>,
}

fn side_attrs(l: &Loaded, layer: Option<usize>, id: Option<NodeId>) -> Option<SideAttrs> {
    let a = l.tree.attrs_at(id?, layer?)?;
    Some(SideAttrs {
        kind: a.kind,
        mode: format!("{:04o}", a.mode & 0o7777),
        uid: a.uid,
        gid: a.gid,
        size_bytes: a.size,
        sha256: a.sha256.map(|h| format!("sha256:{}", hex::encode(h))),
        link_target: l
            .tree
            .link(a)
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    })
}

/// Build the document; `filter` limits `paths` (the summary stays whole).
pub fn build<'a>(s: &'a DiffSubject, filter: &PathFilter) -> Doc<'a> {
    let d = s.diff;
    let keep = d.tree.keep_mask(filter);
    let paths = d
        .tree
        .entries
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(e, _)| Path {
            path: e.path.clone(),
            status: e.status,
            changed: e.changed,
            dir: e.is_dir(),
            old: side_attrs(s.old, d.old.layer, e.old),
            new: side_attrs(s.new, d.new.layer, e.new),
            old_bytes: e.old_bytes(),
            new_bytes: e.new_bytes(),
            delta_bytes: e.delta(),
            totals: e.totals,
        })
        .collect();
    Doc {
        schema_version: SCHEMA_VERSION,
        identical: d.is_identical(),
        old: &d.old,
        new: &d.new,
        summary: &d.summary,
        layers: &d.layers,
        config: d
            .config
            .iter()
            .map(|c| Config {
                status: c.status(),
                change: c,
            })
            .collect(),
        paths,
    }
}

/// The document as pretty JSON; a serializer failure is an error, never an
/// empty document.
pub fn render(s: &DiffSubject, filter: &PathFilter) -> crate::Result<String> {
    serde_json::to_string_pretty(&build(s, filter)).map_err(|e| crate::Error::Render {
        format: "diff JSON",
        source: Box::new(e),
    })
}
