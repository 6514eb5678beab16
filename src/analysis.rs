//! Figures over a loaded image: dive 0.13.1's (efficiency, wasted bytes,
//! user-wasted percent, inefficient files), and layerscope's corrected ones
//! (reclaimable bytes, duplicates, per-layer change bytes). Plain data, all
//! computed in one linear pass over the tree's versions.

use serde::Serialize;

use crate::layer::Kind;
use crate::load::Loaded;
use crate::tree::{FileTree, NodeId, Status};

/// dive's figures, computed with dive's definitions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiveFigures {
    pub image_size_bytes: u64,
    /// Sum of the sizes of every layer but the first.
    pub user_size_bytes: u64,
    pub efficiency: f64,
    pub wasted_bytes: u64,
    /// wasted / user size; None when there are no user layers.
    pub user_wasted_percent: Option<f64>,
    pub inefficient_files: Vec<InefficientFile>,
}

/// A path seen (as a leaf) in two or more layers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InefficientFile {
    pub path: String,
    pub count: u32,
    pub size_bytes: u64,
}

/// Count and bytes of one kind of change.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Tally {
    pub count: u64,
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes;
    }
}

/// What one layer did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LayerFigures {
    pub index: usize,
    pub added: Tally,
    pub modified: Tally,
    /// Bytes: what the deleted paths held below.
    pub deleted: Tally,
    pub metadata: Tally,
    pub unchanged: Tally,
    /// Bytes this layer ships that are not in the final tree.
    pub reclaimable_bytes: u64,
}

/// Waste that marks a layer as wasteful whatever its size.
pub const WASTEFUL_BYTES: u64 = 1 << 20;
/// Waste below which a layer is never marked.
pub const WASTEFUL_FLOOR: u64 = 16 << 10;

impl LayerFigures {
    /// Does the layer ship much waste? At least 1 MiB of bytes not in the
    /// final tree, or at least 16 KiB that are a quarter of the layer's
    /// `layer_bytes`: a quarter alone marked an 84-byte layer, which is not
    /// "much".
    pub fn is_wasteful(&self, layer_bytes: u64) -> bool {
        let r = self.reclaimable_bytes;
        r >= WASTEFUL_BYTES || (r >= WASTEFUL_FLOOR && r.saturating_mul(4) >= layer_bytes)
    }

    pub fn tally(&self, s: Status) -> Tally {
        match s {
            Status::Added => self.added,
            Status::Modified => self.modified,
            Status::Deleted => self.deleted,
            Status::Metadata => self.metadata,
            Status::Unchanged => self.unchanged,
        }
    }
}

/// Content present at several paths of the final tree.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DuplicateGroup {
    pub sha256: String,
    pub size_bytes: u64,
    pub paths: Vec<String>,
}

/// A path whose bytes were shipped and are not in the final tree.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WastedPath {
    pub path: String,
    pub wasted_bytes: u64,
    /// Layers that shipped the wasted copies.
    pub layers: Vec<usize>,
    #[serde(skip)]
    pub node: NodeId,
}

/// layerscope's own figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Corrected {
    /// Regular files (hardlinks excluded) in the final tree and their bytes.
    pub final_files: u64,
    pub final_bytes: u64,
    /// Bytes of regular-file content shipped in any layer (hardlinks count 0).
    pub shipped_bytes: u64,
    /// Shipped bytes that are not in the final tree.
    pub reclaimable_bytes: u64,
    /// final_bytes / shipped_bytes (1.0 when nothing is shipped).
    pub efficiency: f64,
    /// Bytes that extra copies of identical content take in the final tree.
    pub duplicate_bytes: u64,
    pub duplicate_groups: Vec<DuplicateGroup>,
    pub top_wasted: Vec<WastedPath>,
}

/// All figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Analysis {
    pub dive: DiveFigures,
    pub corrected: Corrected,
    pub layers: Vec<LayerFigures>,
}

/// How many wasted paths and duplicate groups to keep.
pub const TOP_N: usize = 50;

pub fn analyse(img: &Loaded) -> Analysis {
    Analysis {
        dive: dive_figures(img),
        corrected: corrected(img),
        layers: layer_figures(img),
    }
}

fn dive_figures(img: &Loaded) -> DiveFigures {
    dive_figures_filtered(img, |_| false)
}

/// dive's figures with the paths `ignore` accepts left out of the waste
/// tallies (layer sizes are unchanged).
pub fn dive_figures_filtered(img: &Loaded, ignore: impl Fn(&str) -> bool) -> DiveFigures {
    let sizes: Vec<u64> = img.image.layers.iter().map(|l| l.size_bytes).collect();
    let image_size_bytes = sizes.iter().sum();
    let user_size_bytes = sizes.iter().skip(1).sum();
    let (mut min_sum, mut cum_sum) = (0u128, 0u128);
    let ignored = |id: usize| ignore(&img.tree.path(id as NodeId));
    for (id, (cum, min, count)) in img.dive.iter() {
        if count == 1 || !ignored(id as usize) {
            min_sum += min as u128;
            cum_sum += cum as u128;
        }
    }
    let efficiency = if cum_sum == 0 {
        1.0
    } else {
        min_sum as f64 / cum_sum as f64
    };
    let mut inefficient_files: Vec<InefficientFile> = img
        .dive
        .inefficient_order
        .iter()
        .filter(|&&id| !ignored(id as usize))
        .map(|&id| {
            let (cum, _, count) = img.dive.get(id);
            InefficientFile {
                path: img.tree.path(id),
                count,
                size_bytes: cum,
            }
        })
        .collect();
    inefficient_files.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then(a.path.cmp(&b.path)));
    let wasted_bytes = inefficient_files.iter().map(|f| f.size_bytes).sum();
    DiveFigures {
        image_size_bytes,
        user_size_bytes,
        efficiency,
        wasted_bytes,
        user_wasted_percent: (user_size_bytes > 0)
            .then(|| wasted_bytes as f64 / user_size_bytes as f64),
        inefficient_files,
    }
}

/// Bytes a version's content occupies (regular files only; hardlinks are 0).
fn content_bytes(a: &crate::tree::Attrs) -> u64 {
    if a.kind == Kind::File {
        a.size
    } else {
        0
    }
}

fn corrected(img: &Loaded) -> Corrected {
    use std::cmp::Reverse;
    let tree = &img.tree;
    let last = tree.final_layer();
    let (mut final_files, mut final_bytes, mut shipped, mut reclaimable) = (0u64, 0u64, 0u64, 0u64);
    // Only the top paths are reported: keep them in a bounded heap (most
    // waste first, then lowest node) instead of a record per wasted path.
    let mut top: std::collections::BinaryHeap<Reverse<(u64, Reverse<NodeId>)>> = Default::default();
    // Final files with content, by digest; sorted below to find duplicates.
    let mut hashed: Vec<(&[u8; 32], NodeId)> = Vec::new();
    for id in tree.ids() {
        let node = tree.node(id);
        let Some(final_v) = node.versions.last() else {
            continue;
        };
        let final_live = final_v.is_live() && tree.layer_count() > 0;
        let mut w = 0u64;
        for (i, v) in node.versions.iter().enumerate() {
            let Some(a) = tree.attrs_of(v) else { continue };
            let b = content_bytes(a);
            shipped += b;
            if !(final_live && i == node.versions.len() - 1) {
                w += b;
            }
        }
        reclaimable += w;
        if w > 0 {
            let key = Reverse((w, Reverse(id)));
            if top.len() < TOP_N {
                top.push(key);
            } else if top.peek().is_some_and(|min| key < *min) {
                top.pop();
                top.push(key);
            }
        }
        if final_live {
            if let Some(a) = tree.attrs_at(id, last) {
                if a.kind == Kind::File {
                    final_files += 1;
                    final_bytes += a.size;
                    if let (Some(h), true) = (&a.sha256, a.size > 0) {
                        hashed.push((h, id));
                    }
                }
            }
        }
    }
    let mut wasted: Vec<WastedPath> = top
        .into_sorted_vec()
        .into_iter()
        .map(|Reverse((w, Reverse(id)))| {
            let vs = &tree.node(id).versions;
            let final_live = vs.last().is_some_and(|v| v.is_live());
            let layers = vs
                .iter()
                .enumerate()
                .filter(|&(i, v)| {
                    !(final_live && i == vs.len() - 1)
                        && tree.attrs_of(v).is_some_and(|a| content_bytes(a) > 0)
                })
                .map(|(_, v)| v.layer as usize)
                .collect();
            WastedPath {
                path: tree.path(id),
                wasted_bytes: w,
                layers,
                node: id,
            }
        })
        .collect();
    wasted.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then(a.node.cmp(&b.node))
    });
    hashed.sort_unstable();
    let mut groups: Vec<DuplicateGroup> = hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .map(|run| {
            let size = tree.attrs_at(run[0].1, last).map_or(0, |a| a.size);
            let mut paths: Vec<String> = run.iter().map(|&(_, i)| tree.path(i)).collect();
            paths.sort();
            DuplicateGroup {
                sha256: hex::encode(run[0].0),
                size_bytes: size,
                paths,
            }
        })
        .collect();
    let duplicate_bytes = groups
        .iter()
        .map(|g| g.size_bytes * (g.paths.len() as u64 - 1))
        .sum();
    groups.sort_by(|a, b| {
        let wa = a.size_bytes * (a.paths.len() as u64 - 1);
        let wb = b.size_bytes * (b.paths.len() as u64 - 1);
        wb.cmp(&wa).then(a.paths.cmp(&b.paths))
    });
    groups.truncate(TOP_N);
    Corrected {
        final_files,
        final_bytes,
        shipped_bytes: shipped,
        reclaimable_bytes: reclaimable,
        efficiency: if shipped == 0 {
            1.0
        } else {
            final_bytes as f64 / shipped as f64
        },
        duplicate_bytes,
        duplicate_groups: groups,
        top_wasted: wasted,
    }
}

fn layer_figures(img: &Loaded) -> Vec<LayerFigures> {
    let tree = &img.tree;
    let mut out: Vec<LayerFigures> = (0..tree.layer_count())
        .map(|index| LayerFigures {
            index,
            ..Default::default()
        })
        .collect();
    for id in tree.ids() {
        let vs = &tree.node(id).versions;
        let final_live = vs.last().is_some_and(|v| v.is_live());
        for (i, v) in vs.iter().enumerate() {
            let f = &mut out[v.layer as usize];
            let now = tree.attrs_of(v).map_or(0, content_bytes);
            match v.status {
                Status::Added => f.added.add(now),
                Status::Modified => f.modified.add(now),
                Status::Metadata => f.metadata.add(now),
                Status::Unchanged => f.unchanged.add(now),
                Status::Deleted => {
                    let before = i
                        .checked_sub(1)
                        .and_then(|p| tree.attrs_of(&vs[p]))
                        .map_or(0, content_bytes);
                    f.deleted.add(before)
                }
            }
            if !(final_live && i == vs.len() - 1) {
                f.reclaimable_bytes += now;
            }
        }
    }
    out
}

/// Bytes a path wastes: every version of it shipped as a regular file that
/// the final tree no longer holds (overwritten or deleted later).
pub fn node_waste(tree: &FileTree, id: NodeId) -> u64 {
    let vs = &tree.node(id).versions;
    let final_live = vs.last().is_some_and(|v| v.is_live());
    let mut wasted = 0u64;
    for (i, v) in vs.iter().enumerate() {
        let Some(a) = tree.attrs_of(v) else { continue };
        if a.kind == Kind::File && !(final_live && i + 1 == vs.len()) {
            wasted = wasted.saturating_add(a.size);
        }
    }
    wasted
}
