//! The native JSON report, schema version 1 (documented in the README).
//! Paths are absolute (`/etc/hosts`); sizes are bytes; digests `sha256:…`.

use serde::Serialize;

use super::Subject;
use crate::analysis::{Corrected, DiveFigures, LayerFigures};
use crate::image::{Config, HistoryEntry};
use crate::tree::{FileTree, NodeId, Status};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Report<'a> {
    pub schema_version: u32,
    pub image: ImageSection<'a>,
    pub layers: Vec<LayerSection<'a>>,
}

#[derive(Serialize)]
pub struct ImageSection<'a> {
    /// Where the image came from: `{kind, input, path | reference, endpoint, …}`.
    pub source: &'a crate::origin::Origin,
    pub name: Option<&'a str>,
    pub names: &'a [String],
    pub layout: crate::image::Layout,
    pub manifest_digest: Option<&'a str>,
    pub config_digest: &'a str,
    pub platform: String,
    pub config: &'a Config,
    pub history: &'a [HistoryEntry],
    pub size_bytes: u64,
    pub compressed_size_bytes: u64,
    pub layer_count: usize,
    pub dive: &'a DiveFigures,
    pub corrected: &'a Corrected,
    pub warnings: &'a [String],
}

#[derive(Serialize)]
pub struct LayerSection<'a> {
    pub index: usize,
    pub digest: &'a str,
    pub diff_id: &'a str,
    pub media_type: &'a str,
    pub compression: crate::layer::Compression,
    pub command: &'a str,
    pub created: Option<&'a str>,
    /// dive's layer size: the sum of the tar header sizes.
    pub size_bytes: u64,
    pub tar_size_bytes: u64,
    pub compressed_size_bytes: u64,
    pub entries: u64,
    pub figures: &'a LayerFigures,
    pub changes: ChangesOf<'a>,
}

/// A layer's changes, serialised one by one in path order so the report
/// never holds every change of the image at once.
pub struct ChangesOf<'a> {
    tree: &'a FileTree,
    layer: usize,
    /// Path-order rank of every node, shared by the layers.
    order: std::rc::Rc<[u32]>,
}

impl Serialize for ChangesOf<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let tree = self.tree;
        let mut ids = tree.layer_changes(self.layer).to_vec();
        ids.sort_unstable_by_key(|&id| self.order[id as usize]);
        let mut seq = ser.serialize_seq(Some(ids.len()))?;
        for id in ids {
            if let Some(c) = change(tree, id, self.layer, tree.path_bytes(id)) {
                seq.serialize_element(&c)?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
pub struct Change {
    pub path: String,
    pub status: Status,
    pub kind: Option<crate::layer::Kind>,
    pub size_bytes: u64,
    pub mode: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub link_target: Option<String>,
    pub sha256: Option<String>,
}

/// Build the report document.
pub fn build<'a>(s: &'a Subject) -> Report<'a> {
    let img = &s.loaded.image;
    let tree = &s.loaded.tree;
    let order: std::rc::Rc<[u32]> = tree.path_order().into();
    let layers = img
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerSection {
            index: i,
            digest: &l.digest,
            diff_id: &l.diff_id,
            media_type: &l.media_type,
            compression: l.compression,
            command: &l.command,
            created: l.created.as_deref(),
            size_bytes: l.size_bytes,
            tar_size_bytes: l.tar_size_bytes,
            compressed_size_bytes: l.compressed_size_bytes,
            entries: l.entries,
            figures: &s.analysis.layers[i],
            changes: ChangesOf {
                tree,
                layer: i,
                order: order.clone(),
            },
        })
        .collect();
    Report {
        schema_version: SCHEMA_VERSION,
        image: ImageSection {
            source: &img.origin,
            name: img.name.as_deref(),
            names: &img.names,
            layout: img.layout,
            manifest_digest: img.manifest_digest.as_deref(),
            config_digest: &img.config_digest,
            platform: img.config.platform(),
            config: &img.config,
            history: &img.history,
            size_bytes: s.analysis.dive.image_size_bytes,
            compressed_size_bytes: img.layers.iter().map(|l| l.compressed_size_bytes).sum(),
            layer_count: img.layers.len(),
            dive: &s.analysis.dive,
            corrected: &s.analysis.corrected,
            warnings: &img.warnings,
        },
        layers,
    }
}

fn change(tree: &FileTree, id: NodeId, layer: usize, path: Vec<u8>) -> Option<Change> {
    let v = tree.change_in(id, layer)?;
    let a = tree.attrs_of(v);
    Some(Change {
        path: String::from_utf8_lossy(&path).into_owned(),
        status: v.status,
        kind: a.map(|a| a.kind),
        size_bytes: a.map_or(0, |a| a.size),
        mode: a.map(|a| format!("{:04o}", a.mode & 0o7777)),
        uid: a.map(|a| a.uid),
        gid: a.map(|a| a.gid),
        link_target: a
            .and_then(|a| tree.link(a))
            .map(|l| String::from_utf8_lossy(l).into_owned()),
        sha256: a
            .and_then(|a| a.sha256)
            .map(|h| format!("sha256:{}", hex::encode(h))),
    })
}

/// Write the report, pretty-printed, followed by a newline.
pub fn write(s: &Subject, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(s))?;
    out.write_all(b"\n")
}

/// The report as a string (`write` streams it); a serializer failure is an
/// error, never an empty document.
pub fn render(s: &Subject) -> crate::Result<String> {
    serde_json::to_string_pretty(&build(s))
        .map(|mut t| {
            t.push('\n');
            t
        })
        .map_err(|e| crate::Error::Render {
            format: "JSON",
            source: Box::new(e),
        })
}
