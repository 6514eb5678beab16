//! Differences between two merged trees and the images around them: image
//! vs image (each at its final layer or a chosen one) and layer A vs layer B
//! of one image. Plain data, no terminal code; the text and JSON renderings
//! live in [`crate::report::diff_text`] and [`crate::report::diff_json`].
//!
//! The path level is [`diff_trees`]: it walks both trees together from the
//! root, matching each directory's children by name (both child lists sorted
//! once, then merged), so the cost is linear in the paths present on either
//! side (times the log of a directory's width), never quadratic. Two
//! different [`FileTree`]s number their nodes independently, so an
//! [`Entry`] carries both [`NodeId`]s (`old`, `new`, either absent) and the
//! path; a UI can reach full attributes through `tree.attrs_at(id, layer)`.
//! [`TreeDiff::entries`] is in pre-order (children sorted by name bytes) and
//! holds every changed path plus the directories above them, each with the
//! totals of its subtree on both sides ([`Totals`]); [`TreeOptions::unchanged`]
//! keeps unchanged paths too (for a full tree view).
//!
//! [`diff_images`] and [`diff_layers`] add the layer level ([`LayerDiff`]:
//! shared diff IDs, where the histories diverge, sizes side by side), the
//! config level ([`ConfigChange`]) and a [`Summary`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use globset::GlobSet;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::layer::Kind;
use crate::load::Loaded;
use crate::tree::compare;
pub use crate::tree::compare::Changed;
use crate::tree::{Attrs, FileTree, NodeId, Status, ROOT};

/// The attributes of one side of an entry that the diff looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Brief {
    pub kind: Kind,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Content bytes (0 for directories, links and devices).
    pub size: u64,
}

impl Brief {
    fn of(a: &Attrs) -> Brief {
        Brief {
            kind: a.kind,
            mode: (a.mode & 0o7777).into(),
            uid: a.uid,
            gid: a.gid,
            size: a.size,
        }
    }
}

/// Bytes and change counts of a directory's subtree (itself excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub old_bytes: u64,
    pub new_bytes: u64,
    pub added: u64,
    pub deleted: u64,
    pub modified: u64,
    pub metadata: u64,
}

impl Totals {
    fn count(&mut self, s: Status) {
        match s {
            Status::Added => self.added += 1,
            Status::Deleted => self.deleted += 1,
            Status::Modified => self.modified += 1,
            Status::Metadata => self.metadata += 1,
            Status::Unchanged => {}
        }
    }
    fn absorb(&mut self, o: &Totals) {
        self.old_bytes += o.old_bytes;
        self.new_bytes += o.new_bytes;
        self.added += o.added;
        self.deleted += o.deleted;
        self.modified += o.modified;
        self.metadata += o.metadata;
    }
    /// Paths below with any change.
    pub fn changes(&self) -> u64 {
        self.added + self.deleted + self.modified + self.metadata
    }
}

/// One path of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Absolute path (`/etc/hosts`; `/` for the root), non-UTF-8 bytes shown lossily.
    pub path: String,
    /// Depth below the root (root = 0).
    pub depth: u32,
    /// Index of the parent entry (None for the root).
    pub parent: Option<u32>,
    /// The node in the old tree, when the path exists there.
    pub old: Option<NodeId>,
    /// The node in the new tree, when the path exists there.
    pub new: Option<NodeId>,
    /// `Unchanged` for a directory kept for what changed below it.
    pub status: Status,
    pub changed: Changed,
    pub old_attrs: Option<Brief>,
    pub new_attrs: Option<Brief>,
    /// Subtree totals, for a path that is a directory on either side.
    pub totals: Option<Totals>,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.totals.is_some()
    }
    /// Bytes on the old side: the file's size or the subtree's total.
    pub fn old_bytes(&self) -> u64 {
        let own = self.old_attrs.map_or(0, |a| a.size);
        own + self.totals.map_or(0, |t| t.old_bytes)
    }
    pub fn new_bytes(&self) -> u64 {
        let own = self.new_attrs.map_or(0, |a| a.size);
        own + self.totals.map_or(0, |t| t.new_bytes)
    }
    pub fn delta(&self) -> i64 {
        signed_delta(self.old_bytes(), self.new_bytes())
    }
}

fn signed_delta(old: u64, new: u64) -> i64 {
    (i128::from(new) - i128::from(old)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Counts of changed paths by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: u64,
    pub deleted: u64,
    pub modified: u64,
    pub metadata: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.added + self.deleted + self.modified + self.metadata
    }
}

/// The path-level diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    /// Pre-order, children sorted by name; `entries[0]` is the root.
    pub entries: Vec<Entry>,
}

impl TreeDiff {
    pub fn root(&self) -> Option<&Entry> {
        self.entries.first()
    }
    pub fn counts(&self) -> Counts {
        let t = self.root().and_then(|e| e.totals).unwrap_or_default();
        Counts {
            added: t.added,
            deleted: t.deleted,
            modified: t.modified,
            metadata: t.metadata,
        }
    }
    /// Entries whose own status is not `Unchanged`.
    pub fn changes(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.status != Status::Unchanged)
    }
    pub fn is_empty(&self) -> bool {
        self.counts().total() == 0
    }
    /// Which entries to show for a filter: the matching changed entries and
    /// the directories above them.
    pub fn keep_mask(&self, f: &PathFilter) -> Vec<bool> {
        let mut keep: Vec<bool> = self
            .entries
            .iter()
            .map(|e| e.status != Status::Unchanged && f.matches(e))
            .collect();
        for i in (1..self.entries.len()).rev() {
            if keep[i] {
                if let Some(p) = self.entries[i].parent {
                    keep[p as usize] = true;
                }
            }
        }
        keep
    }
    /// The `n` non-directory entries that grew the most, biggest first.
    pub fn top_growth(&self, n: usize) -> Vec<usize> {
        let mut v: Vec<(i64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_dir() && e.status != Status::Unchanged)
            .map(|(i, e)| (e.delta(), i))
            .filter(|(d, _)| *d > 0)
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v.into_iter().take(n).map(|(_, i)| i).collect()
    }
}

/// Options for [`diff_trees_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeOptions {
    /// Keep unchanged paths as entries (status `Unchanged`) too.
    pub unchanged: bool,
}

/// Compare the merged tree of `old` after layer `old.1` with that of `new`
/// after layer `new.1`. Only changed paths and their parent directories are kept.
pub fn diff_trees(old: (&FileTree, usize), new: (&FileTree, usize)) -> TreeDiff {
    diff_trees_with(old, new, TreeOptions::default())
}

fn attrs(tree: &FileTree, layer: Option<usize>, id: Option<NodeId>) -> Option<&Attrs> {
    tree.attrs_at(id?, layer?)
}

/// Children of `id` present after `layer`, sorted by name.
fn sorted_children(tree: &FileTree, id: NodeId, layer: usize) -> Vec<(&[u8], NodeId)> {
    let mut v: Vec<(&[u8], NodeId)> = tree
        .children(id)
        .iter()
        .filter(|&&c| tree.attrs_at(c, layer).is_some())
        .map(|&c| (tree.name(c), c))
        .collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

type Pair = (Option<NodeId>, Option<NodeId>);

/// Merge two sorted child lists by name.
fn merge(a: Vec<(&[u8], NodeId)>, b: Vec<(&[u8], NodeId)>) -> Vec<(Vec<u8>, Pair)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let ord = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(y.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                out.push((a[i].0.to_vec(), (Some(a[i].1), None)));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((b[j].0.to_vec(), (None, Some(b[j].1))));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0.to_vec(), (Some(a[i].1), Some(b[j].1))));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

struct Frame {
    entry: usize,
    kids: std::vec::IntoIter<(Vec<u8>, Pair)>,
    totals: Totals,
    keep_below: bool,
}

/// [`diff_trees`] with options. The walk uses an explicit stack, so deep
/// paths cannot overflow the call stack.
pub fn diff_trees_with(
    old: (&FileTree, usize),
    new: (&FileTree, usize),
    opts: TreeOptions,
) -> TreeDiff {
    let (ot, ol) = old;
    let (nt, nl) = new;
    // A tree without layers is empty: nothing exists in it.
    let ol = (ot.layer_count() > 0).then_some(ol);
    let nl = (nt.layer_count() > 0).then_some(nl);
    let kids_of = |o: Option<NodeId>, n: Option<NodeId>| {
        let is_dir = |t: &FileTree, l: Option<usize>, id: Option<NodeId>| {
            id == Some(ROOT) || attrs(t, l, id).is_some_and(|a| a.kind == Kind::Dir)
        };
        let a = match (o, ol) {
            (Some(id), Some(l)) if is_dir(ot, ol, o) => sorted_children(ot, id, l),
            _ => Vec::new(),
        };
        let b = match (n, nl) {
            (Some(id), Some(l)) if is_dir(nt, nl, n) => sorted_children(nt, id, l),
            _ => Vec::new(),
        };
        merge(a, b)
    };

    let mut entries = vec![Entry {
        path: "/".into(),
        depth: 0,
        parent: None,
        old: Some(ROOT),
        new: Some(ROOT),
        status: Status::Unchanged,
        changed: Changed::default(),
        old_attrs: None,
        new_attrs: None,
        totals: Some(Totals::default()),
    }];
    let mut stack = vec![Frame {
        entry: 0,
        kids: kids_of(Some(ROOT), Some(ROOT)).into_iter(),
        totals: Totals::default(),
        keep_below: false,
    }];
    while let Some(top) = stack.last_mut() {
        let Some((name, (o, n))) = top.kids.next() else {
            // Directory finished: settle its totals and whether it stays.
            let Some(f) = stack.pop() else { break };
            let e = &mut entries[f.entry];
            e.totals = Some(f.totals);
            let status = e.status;
            let keep =
                f.entry == 0 || status != Status::Unchanged || f.keep_below || opts.unchanged;
            let (own_old, own_new) = (
                e.old_attrs.map_or(0, |a| a.size),
                e.new_attrs.map_or(0, |a| a.size),
            );
            if !keep {
                entries.truncate(f.entry);
            }
            if let Some(p) = stack.last_mut() {
                p.totals.absorb(&f.totals);
                p.totals.old_bytes += own_old;
                p.totals.new_bytes += own_new;
                p.totals.count(status);
                p.keep_below |= keep;
            }
            continue;
        };
        let parent = top.entry;
        let oa = attrs(ot, ol, o);
        let na = attrs(nt, nl, n);
        let (status, changed) = match (oa, na) {
            (Some(a), Some(b)) => {
                let c = compare::changed((ot, a), (nt, b));
                (c.status(), c)
            }
            (Some(_), None) => (Status::Deleted, Changed::default()),
            _ => (Status::Added, Changed::default()),
        };
        let is_dir =
            oa.is_some_and(|a| a.kind == Kind::Dir) || na.is_some_and(|a| a.kind == Kind::Dir);
        let pe = &entries[parent];
        let mut path = String::with_capacity(pe.path.len() + name.len() + 1);
        if parent != 0 {
            path.push_str(&pe.path);
        }
        path.push('/');
        path.push_str(&String::from_utf8_lossy(&name));
        let entry = Entry {
            path,
            depth: pe.depth + 1,
            parent: Some(parent as u32),
            old: o,
            new: n,
            status,
            changed,
            old_attrs: oa.map(Brief::of),
            new_attrs: na.map(Brief::of),
            totals: is_dir.then(Totals::default),
        };
        if is_dir {
            let kids = kids_of(o, n);
            entries.push(entry);
            stack.push(Frame {
                entry: entries.len() - 1,
                kids: kids.into_iter(),
                totals: Totals::default(),
                keep_below: false,
            });
            continue;
        }
        let top = stack.last_mut();
        if let Some(f) = top {
            f.totals.old_bytes += oa.map_or(0, |a| a.size);
            f.totals.new_bytes += na.map_or(0, |a| a.size);
            f.totals.count(status);
            if status != Status::Unchanged || opts.unchanged {
                f.keep_below = true;
                entries.push(entry);
            }
        }
    }
    TreeDiff { entries }
}

/// Path and status filter for showing a diff.
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    globs: Option<GlobSet>,
    statuses: Vec<Status>,
}

impl PathFilter {
    /// Globs match absolute paths; a pattern without a leading `/` matches at
    /// any depth (as in the CI rules). Statuses: `added`, `deleted`,
    /// `modified`, `metadata` (or their markers `+ - ~ m`).
    pub fn new(globs: &[String], statuses: &[String]) -> Result<PathFilter> {
        let set = if globs.is_empty() {
            None
        } else {
            Some(crate::glob::globs(globs)?)
        };
        let mut st = Vec::new();
        for s in statuses
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let Some(status) = Status::parse_change(s) else {
                return Err(Error::Usage(format!(
                    "unknown status {s:?} (expected added, deleted, modified, metadata)"
                )));
            };
            if !st.contains(&status) {
                st.push(status);
            }
        }
        Ok(PathFilter {
            globs: set,
            statuses: st,
        })
    }
    pub fn is_active(&self) -> bool {
        self.globs.is_some() || !self.statuses.is_empty()
    }
    pub fn matches(&self, e: &Entry) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&e.status))
            && self.globs.as_ref().is_none_or(|g| g.is_match(&e.path))
    }
}

/// One layer as the layer table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerBrief {
    pub index: usize,
    pub digest: String,
    pub diff_id: String,
    pub size_bytes: u64,
    pub compressed_size_bytes: u64,
    pub command: String,
    /// The other image has a layer with the same diff ID (at any index).
    pub shared: bool,
}

/// Two layer lists side by side, by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerRow {
    pub index: usize,
    pub old: Option<LayerBrief>,
    pub new: Option<LayerBrief>,
    /// Both sides have this index with the same diff ID.
    pub same: bool,
}

/// The layer level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerDiff {
    pub rows: Vec<LayerRow>,
    /// Layers both images have (same diff ID), counted on the new side.
    pub shared: usize,
    /// Old layers whose diff ID the new image lacks.
    pub old_only: usize,
    /// New layers whose diff ID the old image lacks.
    pub new_only: usize,
    /// First index where the histories differ; None when the lists are equal.
    pub diverge_at: Option<usize>,
}

fn layer_diff(old: &[crate::image::LayerInfo], new: &[crate::image::LayerInfo]) -> LayerDiff {
    let old_ids: HashSet<&str> = old.iter().map(|l| l.diff_id.as_str()).collect();
    let new_ids: HashSet<&str> = new.iter().map(|l| l.diff_id.as_str()).collect();
    let brief = |l: &crate::image::LayerInfo, other: &HashSet<&str>| LayerBrief {
        index: l.index,
        digest: l.digest.clone(),
        diff_id: l.diff_id.clone(),
        size_bytes: l.size_bytes,
        compressed_size_bytes: l.compressed_size_bytes,
        command: l.command.clone(),
        shared: other.contains(l.diff_id.as_str()),
    };
    let n = old.len().max(new.len());
    let rows: Vec<LayerRow> = (0..n)
        .map(|i| {
            let o = old.get(i).map(|l| brief(l, &new_ids));
            let w = new.get(i).map(|l| brief(l, &old_ids));
            let same = matches!((&o, &w), (Some(a), Some(b)) if a.diff_id == b.diff_id);
            LayerRow {
                index: i,
                old: o,
                new: w,
                same,
            }
        })
        .collect();
    LayerDiff {
        diverge_at: rows.iter().position(|r| !r.same),
        shared: new
            .iter()
            .filter(|l| old_ids.contains(l.diff_id.as_str()))
            .count(),
        old_only: old
            .iter()
            .filter(|l| !new_ids.contains(l.diff_id.as_str()))
            .count(),
        new_only: new
            .iter()
            .filter(|l| !old_ids.contains(l.diff_id.as_str()))
            .count(),
        rows,
    }
}

/// One config field that differs: `platform`, `user`, `workdir`,
/// `entrypoint`, `cmd`, `env.NAME`, `labels.KEY`, `exposed_ports.PORT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl ConfigChange {
    pub fn status(&self) -> Status {
        match (&self.old, &self.new) {
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Deleted,
            _ => Status::Modified,
        }
    }
}

fn config_diff(old: &crate::image::Config, new: &crate::image::Config) -> Vec<ConfigChange> {
    let mut out = Vec::new();
    let mut push = |field: String, o: Option<String>, n: Option<String>| {
        if o != n {
            out.push(ConfigChange {
                field,
                old: o,
                new: n,
            });
        }
    };
    push(
        "platform".into(),
        Some(old.platform()),
        Some(new.platform()),
    );
    push("user".into(), old.user.clone(), new.user.clone());
    push("workdir".into(), old.workdir.clone(), new.workdir.clone());
    let list = |v: &[String]| (!v.is_empty()).then(|| serde_json::to_string(v).unwrap_or_default());
    push(
        "entrypoint".into(),
        list(&old.entrypoint),
        list(&new.entrypoint),
    );
    push("cmd".into(), list(&old.cmd), list(&new.cmd));
    let env = |v: &[String]| -> BTreeMap<String, String> {
        v.iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect()
    };
    let (oe, ne) = (env(&old.env), env(&new.env));
    let keys: BTreeSet<&String> = oe.keys().chain(ne.keys()).collect();
    for k in keys {
        push(format!("env.{k}"), oe.get(k).cloned(), ne.get(k).cloned());
    }
    let keys: BTreeSet<&String> = old.labels.keys().chain(new.labels.keys()).collect();
    for k in keys {
        push(
            format!("labels.{k}"),
            old.labels.get(k).cloned(),
            new.labels.get(k).cloned(),
        );
    }
    let (op, np): (BTreeSet<&String>, BTreeSet<&String>) = (
        old.exposed_ports.iter().collect(),
        new.exposed_ports.iter().collect(),
    );
    for p in op.union(&np) {
        let has = |s: &BTreeSet<&String>| s.contains(p).then(|| (*p).clone());
        push(format!("exposed_ports.{p}"), has(&op), has(&np));
    }
    out
}

/// Which image and layer one side of the diff is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideInfo {
    pub source: String,
    pub name: Option<String>,
    pub platform: String,
    pub config_digest: String,
    /// The layer whose merged tree was compared (None: the image has no layers).
    pub layer: Option<usize>,
    pub layer_count: usize,
    /// dive's image size of the compared layers: the sum of their sizes.
    pub size_bytes: u64,
    /// Bytes of file content in the compared tree.
    pub files_bytes: u64,
}

/// A path that grew, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Growth {
    pub path: String,
    pub status: Status,
    pub old_bytes: u64,
    pub new_bytes: u64,
    pub delta_bytes: i64,
}

/// Totals of the whole diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// new − old image size (sum of layer sizes).
    pub size_delta_bytes: i64,
    /// new − old bytes of file content in the compared trees.
    pub files_delta_bytes: i64,
    pub paths: Counts,
    /// The paths that grew most, biggest first (at most [`GROWTH_KEPT`]).
    pub growth: Vec<Growth>,
}

/// How many growth paths the summary keeps.
pub const GROWTH_KEPT: usize = 10;

/// Everything that differs between two images (or two layers of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub old: SideInfo,
    pub new: SideInfo,
    pub tree: TreeDiff,
    pub layers: LayerDiff,
    pub config: Vec<ConfigChange>,
    pub summary: Summary,
}

impl Diff {
    /// No path, config or layer difference.
    pub fn is_identical(&self) -> bool {
        self.tree.is_empty() && self.config.is_empty() && self.layers.diverge_at.is_none()
    }

    /// Do the images differ under `filter` (what `--exit-code` asks)? With
    /// an active filter only the paths it shows count; without one any
    /// path, config or layer difference does.
    pub fn differs(&self, filter: &PathFilter) -> bool {
        if !filter.is_active() {
            return !self.is_identical();
        }
        let keep = self.tree.keep_mask(filter);
        self.tree
            .entries
            .iter()
            .zip(keep)
            .any(|(e, k)| k && e.status != Status::Unchanged)
    }
}

/// Resolve a layer choice: None = the last layer. Errors when out of range.
fn pick_layer(l: &Loaded, layer: Option<usize>, what: &str) -> Result<Option<usize>> {
    let n = l.image.layers.len();
    match layer {
        None => Ok(n.checked_sub(1)),
        Some(i) if i < n => Ok(Some(i)),
        Some(i) => Err(Error::Usage(format!(
            "{what}: layer {i} out of range: {} has {n} layer{} (0..{})",
            l.image.source,
            if n == 1 { "" } else { "s" },
            n.saturating_sub(1)
        ))),
    }
}

fn side(l: &Loaded, layer: Option<usize>, tree_bytes: u64) -> SideInfo {
    let upto = layer.map_or(0, |i| i + 1);
    let img = &l.image;
    SideInfo {
        source: img.source.clone(),
        name: img.name.clone(),
        platform: img.config.platform(),
        config_digest: img.config_digest.clone(),
        layer,
        layer_count: img.layers.len(),
        size_bytes: img.layers.iter().take(upto).map(|l| l.size_bytes).sum(),
        files_bytes: tree_bytes,
    }
}

fn assemble(
    old: &Loaded,
    ol: Option<usize>,
    new: &Loaded,
    nl: Option<usize>,
    config: Vec<ConfigChange>,
    opts: TreeOptions,
) -> Diff {
    let tree = diff_trees_with(
        (&old.tree, ol.unwrap_or(0)),
        (&new.tree, nl.unwrap_or(0)),
        opts,
    );
    let (ob, nb) = tree
        .root()
        .map_or((0, 0), |r| (r.old_bytes(), r.new_bytes()));
    let o = side(old, ol, ob);
    let n = side(new, nl, nb);
    let upto = |l: Option<usize>| l.map_or(0, |i| i + 1);
    let layers = layer_diff(
        &old.image.layers[..upto(ol).min(old.image.layers.len())],
        &new.image.layers[..upto(nl).min(new.image.layers.len())],
    );
    let growth = tree
        .top_growth(GROWTH_KEPT)
        .into_iter()
        .map(|i| {
            let e = &tree.entries[i];
            Growth {
                path: e.path.clone(),
                status: e.status,
                old_bytes: e.old_bytes(),
                new_bytes: e.new_bytes(),
                delta_bytes: e.delta(),
            }
        })
        .collect();
    let summary = Summary {
        size_delta_bytes: signed_delta(o.size_bytes, n.size_bytes),
        files_delta_bytes: signed_delta(ob, nb),
        paths: tree.counts(),
        growth,
    };
    Diff {
        old: o,
        new: n,
        tree,
        layers,
        config,
        summary,
    }
}

/// Compare two images, each at a chosen layer (None: its last layer).
pub fn diff_images(
    old: &Loaded,
    old_layer: Option<usize>,
    new: &Loaded,
    new_layer: Option<usize>,
) -> Result<Diff> {
    diff_images_with(old, old_layer, new, new_layer, TreeOptions::default())
}

/// [`diff_images`] with tree options (a UI keeps unchanged paths too; the
/// summary and counts are the same either way).
pub fn diff_images_with(
    old: &Loaded,
    old_layer: Option<usize>,
    new: &Loaded,
    new_layer: Option<usize>,
    opts: TreeOptions,
) -> Result<Diff> {
    let ol = pick_layer(old, old_layer, "old image")?;
    let nl = pick_layer(new, new_layer, "new image")?;
    let config = config_diff(&old.image.config, &new.image.config);
    Ok(assemble(old, ol, new, nl, config, opts))
}

/// Compare the merged tree after layer `from` with the one after layer `to`
/// of the same image. The config is the image's own, so it never differs.
pub fn diff_layers(image: &Loaded, from: usize, to: usize) -> Result<Diff> {
    let ol = pick_layer(image, Some(from), "--from")?;
    let nl = pick_layer(image, Some(to), "--to")?;
    Ok(assemble(
        image,
        ol,
        image,
        nl,
        Vec::new(),
        TreeOptions::default(),
    ))
}
