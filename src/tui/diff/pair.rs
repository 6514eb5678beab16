//! What the diff mode reads but never changes: both loaded images, the
//! [`Diff`] whose tree keeps unchanged paths too (one merged tree for the
//! view), lower-cased entry paths for search and filters, and the line diff
//! of one file's two versions (computed on a worker thread).

use std::sync::Arc;
use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

use crate::diff::{self, Diff, TreeOptions};
use crate::layer::Kind;
use crate::load::Loaded;
use crate::tree::Attrs;
use crate::tui::image_data::{LowerPaths, PathTable};
use crate::tui::untrusted::Untrusted;
use crate::tui::update::looks_binary;

/// Bytes read from each side for the content diff.
pub const DIFF_WINDOW: usize = 256 * 1024;

#[derive(Debug)]
pub struct ImagePair {
    pub old: Loaded,
    /// None: both sides are layers of `old`.
    pub new: Option<Loaded>,
    /// `tree` holds every path of both trees (unchanged ones too).
    pub diff: Diff,
    /// Entry paths lower-cased, empty where that changes nothing.
    lower: PathTable,
    /// Each entry's parent (0: none) and status, packed: a filter pass
    /// reads these 5 bytes per entry, not the entries (over 200 bytes each,
    /// a cache miss apiece on a 250k-entry diff).
    parents: Vec<u32>,
    statuses: Vec<crate::tree::Status>,
}

impl ImagePair {
    /// Compare `old` at `old_layer` with `new` (or `old` again) at
    /// `new_layer` (None: the last layer).
    pub fn build(
        old: Loaded,
        new: Option<Loaded>,
        old_layer: Option<usize>,
        new_layer: Option<usize>,
    ) -> crate::Result<ImagePair> {
        let n = new.as_ref().unwrap_or(&old);
        // One walk of both trees, keeping unchanged paths for the full view.
        let d = diff::diff_images_with(
            &old,
            old_layer,
            n,
            new_layer,
            TreeOptions { unchanged: true },
        )?;
        let lower = PathTable::lower_cased(d.tree.entries.iter().map(|e| e.path.as_str()));
        let parents = d
            .tree
            .entries
            .iter()
            .map(|e| e.parent.unwrap_or(0))
            .collect();
        let statuses = d.tree.entries.iter().map(|e| e.status).collect();
        Ok(ImagePair {
            old,
            new,
            diff: d,
            lower,
            parents,
            statuses,
        })
    }

    /// Entry `i`'s parent, other than the root (which is not a row).
    pub fn parent_of(&self, i: u32) -> Option<u32> {
        self.parents.get(i as usize).copied().filter(|&p| p != 0)
    }

    /// Entry `i`'s status.
    pub fn status(&self, i: u32) -> Option<crate::tree::Status> {
        self.statuses.get(i as usize).copied()
    }

    /// Entry `i`'s path lower-cased.
    pub fn lower(&self, i: usize) -> &str {
        match self.lower.get(i) {
            "" => self
                .diff
                .tree
                .entries
                .get(i)
                .map_or("", |e| e.path.as_str()),
            l => l,
        }
    }

    pub fn new_side(&self) -> &Loaded {
        self.new.as_ref().unwrap_or(&self.old)
    }

    pub fn len(&self) -> usize {
        self.diff.tree.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn entry(&self, i: u32) -> Option<&diff::Entry> {
        self.diff.tree.entries.get(i as usize)
    }

    /// Full attributes of the old side of entry `i`.
    pub fn old_attrs(&self, i: u32) -> Option<&Attrs> {
        let e = self.entry(i)?;
        self.old.tree.attrs_at(e.old?, self.diff.old.layer?)
    }

    pub fn new_attrs(&self, i: u32) -> Option<&Attrs> {
        let e = self.entry(i)?;
        self.new_side().tree.attrs_at(e.new?, self.diff.new.layer?)
    }

    /// The entry's name (last path component).
    /// Entry `i`'s own name, as archive text (shown only sanitised).
    pub fn name(&self, i: u32) -> Untrusted<'_> {
        Untrusted::new(
            self.entry(i)
                .map_or("", |e| e.path.rsplit('/').next().unwrap_or(&e.path)),
        )
    }

    /// Entry `i`'s path, as archive text (shown only sanitised).
    pub fn path(&self, i: u32) -> Untrusted<'_> {
        Untrusted::new(self.entry(i).map_or("", |e| e.path.as_str()))
    }

    /// The entry at an absolute path.
    pub fn find(&self, path: &str) -> Option<u32> {
        let p = path.trim();
        let p = if p.len() > 1 {
            p.trim_end_matches('/')
        } else {
            p
        };
        self.diff
            .tree
            .entries
            .iter()
            .position(|e| e.path == p)
            .map(|i| i as u32)
    }
}

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// ' ' same, '-' only old, '+' only new.
    pub tag: char,
    /// 1-based line numbers.
    pub old_no: Option<u32>,
    pub new_no: Option<u32>,
    pub text: String,
}

/// One side's content as the viewer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideContent {
    pub size: u64,
    pub sha256: Option<[u8; 32]>,
    /// Only the first [`DIFF_WINDOW`] bytes were compared.
    pub truncated: bool,
}

/// The two versions of a file compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentDiff {
    Text {
        lines: Vec<DiffLine>,
        /// Indices in `lines` where a run of changes starts.
        hunks: Vec<usize>,
        added: usize,
        removed: usize,
        old: Option<SideContent>,
        new: Option<SideContent>,
    },
    Binary {
        old: Option<SideContent>,
        new: Option<SideContent>,
    },
}

/// Why an entry's line diff cannot be shown: a kind, with the core's
/// error kept whole (shared, so the viewer's state stays `Clone`). Turned
/// into text only by the view, which sanitises it.
#[derive(Debug, Clone)]
pub enum ContentError {
    /// No entry has that index.
    NoEntry,
    /// A directory, link or device on both sides: its path.
    NotAFile(String),
    /// Reading one side's bytes failed.
    Read(Arc<crate::Error>),
}

impl std::fmt::Display for ContentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContentError::NoEntry => f.write_str("no such entry"),
            ContentError::NotAFile(path) => {
                write!(f, "{path} is not a regular file on either side")
            }
            ContentError::Read(e) => write!(f, "{e}"),
        }
    }
}

fn regular(a: Option<&Attrs>) -> bool {
    a.is_some_and(|a| matches!(a.kind, Kind::File | Kind::Hardlink))
}

fn read_side(
    l: &Loaded,
    id: Option<u32>,
    layer: Option<usize>,
    attrs: Option<&Attrs>,
) -> Result<Option<(Vec<u8>, SideContent)>, ContentError> {
    let (Some(id), Some(layer)) = (id, layer) else {
        return Ok(None);
    };
    if !regular(attrs) {
        return Ok(None);
    }
    let w = crate::content::read_window(l, id, layer, 0, DIFF_WINDOW)
        .map_err(|e| ContentError::Read(Arc::new(e)))?;
    let side = SideContent {
        size: w.total_size,
        sha256: attrs.and_then(|a| a.sha256),
        truncated: (w.bytes.len() as u64) < w.total_size,
    };
    Ok(Some((w.bytes, side)))
}

/// Read both versions of entry `i` (bounded) and compare them: a line diff
/// for text, sizes and hashes for binary content.
pub fn content_diff(data: &ImagePair, i: u32) -> Result<ContentDiff, ContentError> {
    let e = data.entry(i).ok_or(ContentError::NoEntry)?;
    let (oa, na) = (data.old_attrs(i), data.new_attrs(i));
    if !regular(oa) && !regular(na) {
        return Err(ContentError::NotAFile(e.path.to_string()));
    }
    let old = read_side(&data.old, e.old, data.diff.old.layer, oa)?;
    let new = read_side(data.new_side(), e.new, data.diff.new.layer, na)?;
    let binary = old.iter().chain(new.iter()).any(|(b, _)| looks_binary(b));
    let (ob, os) = old.map_or((Vec::new(), None), |(b, s)| (b, Some(s)));
    let (nb, ns) = new.map_or((Vec::new(), None), |(b, s)| (b, Some(s)));
    if binary {
        return Ok(ContentDiff::Binary { old: os, new: ns });
    }
    let (ot, nt) = (String::from_utf8_lossy(&ob), String::from_utf8_lossy(&nb));
    let td = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(Duration::from_secs(2))
        .diff_lines(ot.as_ref(), nt.as_ref());
    let mut lines = Vec::new();
    let mut hunks = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for c in td.iter_all_changes() {
        let tag = match c.tag() {
            ChangeTag::Equal => ' ',
            ChangeTag::Delete => {
                removed += 1;
                '-'
            }
            ChangeTag::Insert => {
                added += 1;
                '+'
            }
        };
        if tag != ' ' && lines.last().is_none_or(|l: &DiffLine| l.tag == ' ') {
            hunks.push(lines.len());
        }
        let text = c.value();
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        lines.push(DiffLine {
            tag,
            old_no: c.old_index().map(|n| n as u32 + 1),
            new_no: c.new_index().map(|n| n as u32 + 1),
            text: text.replace('\t', "    "),
        });
    }
    Ok(ContentDiff::Text {
        lines,
        hunks,
        added,
        removed,
        old: os,
        new: ns,
    })
}

impl LowerPaths for ImagePair {
    fn count(&self) -> usize {
        self.lower.len()
    }
    fn lower_of(&self, i: usize) -> &str {
        self.lower(i)
    }
    fn path_of(&self, i: usize) -> &str {
        self.diff
            .tree
            .entries
            .get(i)
            .map_or("", |e| e.path.as_str())
    }
}
