//! The tree/selection model of the file-tree pane (gitui `filetreelist`
//! style), with no ratatui in it. Work is staged so each step runs only when
//! its inputs change:
//! 1. [`ViewInfo`]: per node, is it in the view, its status and size (on
//!    layer or mode change);
//! 2. [`VisibleRows::order`]: the depth-first order of the nodes that pass the
//!    filter, children sorted per directory (on filter or sort change);
//! 3. [`VisibleRows::rows`]: the visible rows, i.e. the order with collapsed
//!    subtrees skipped (on collapse change, linear in what is shown).
//!
//! Moving the cursor never rebuilds anything.

use std::ops::{Deref, DerefMut};

use crate::layer::Kind;
use crate::tree::{Attrs, FileTree, NodeId, Status, ROOT};

use super::visible::{close_ends, OrderEntry, Parents, VisibleRows};

/// What the tree pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// What the selected layer changed (and the directories above).
    Layer,
    /// The merged tree after the selected layer, its changes marked.
    Aggregated,
    /// Net change between a marked layer and the selected one.
    Range { from: usize },
}

/// Per-node facts for one view.
#[derive(Debug, Default)]
pub struct ViewInfo {
    pub in_view: Vec<bool>,
    /// Status in this view (None: untouched, or a context directory).
    pub status: Vec<Option<Status>>,
    /// Bytes (directories: total of what they hold, deleted entries excluded).
    pub size: Vec<u64>,
    /// The layer whose state the attributes come from.
    pub layer: usize,
}

impl ViewInfo {
    pub fn compute(tree: &FileTree, mode: ViewMode, layer: usize) -> ViewInfo {
        let n = tree.len();
        let mut info = ViewInfo {
            in_view: vec![false; n],
            status: vec![None; n],
            size: vec![0; n],
            layer,
        };
        if tree.layer_count() == 0 {
            info.in_view[ROOT as usize] = true;
            return info;
        }
        let aggregated = mode == ViewMode::Aggregated;
        for id in tree.ids().skip(1) {
            let i = id as usize;
            let (shown, status, attrs) = match mode {
                ViewMode::Range { from } => {
                    let (s, a) = net_change(tree, id, from, layer);
                    (s.is_some(), s, a)
                }
                // One binary search gives both the state after the layer
                // and whether the layer itself touched the path.
                _ => {
                    let vs = &tree.node(id).versions;
                    let k = vs.partition_point(|v| v.layer as usize <= layer);
                    match k.checked_sub(1).map(|j| (j, &vs[j])) {
                        Some((j, v)) if v.layer as usize == layer => {
                            if v.status == Status::Deleted {
                                let before = j.checked_sub(1).and_then(|p| tree.attrs_of(&vs[p]));
                                (true, Some(Status::Deleted), before)
                            } else {
                                (true, Some(v.status), tree.attrs_of(v))
                            }
                        }
                        Some((_, v)) if aggregated => {
                            let a = tree.attrs_of(v);
                            (a.is_some(), None, a)
                        }
                        _ => (false, None, None),
                    }
                }
            };
            info.in_view[i] = shown;
            info.status[i] = status;
            info.size[i] = attrs.map_or(0, |a| if a.kind == Kind::Dir { 0 } else { a.size });
        }
        info.in_view[ROOT as usize] = true;
        // Children come after parents in the arena: one reverse pass makes
        // ancestors of shown nodes shown and sums directory totals.
        for id in (1..tree.len() as NodeId).rev() {
            let i = id as usize;
            if !info.in_view[i] {
                continue;
            }
            let p = tree.node(id).parent as usize;
            info.in_view[p] = true;
            if info.status[i] != Some(Status::Deleted) {
                info.size[p] += info.size[i];
            }
        }
        info
    }
}

/// Net change of a path between the state after layer `a` and after `b`.
pub fn net_change(
    tree: &FileTree,
    id: NodeId,
    a: usize,
    b: usize,
) -> (Option<Status>, Option<&Attrs>) {
    let va = tree.version_at(id, a);
    let vb = tree.version_at(id, b);
    if va.map(|v| v.layer) == vb.map(|v| v.layer) {
        return (None, vb.and_then(|v| tree.attrs_of(v)));
    }
    let aa = va.and_then(|v| tree.attrs_of(v));
    let ab = vb.and_then(|v| tree.attrs_of(v));
    match (aa, ab) {
        (None, None) => (None, None),
        (None, Some(b)) => (Some(Status::Added), Some(b)),
        (Some(a), None) => (Some(Status::Deleted), Some(a)),
        (Some(x), Some(y)) => {
            let s = if x.kind != y.kind
                || x.sha256 != y.sha256
                || x.size != y.size
                || tree.link(x) != tree.link(y)
            {
                Status::Modified
            } else if x.mode != y.mode || x.uid != y.uid || x.gid != y.gid {
                Status::Metadata
            } else {
                Status::Unchanged
            };
            (Some(s), Some(y))
        }
    }
}

/// Every directory's children sorted by name, built once per image (CSR
/// layout: one flat array), so name-sorted views never sort again.
#[derive(Debug, Default)]
pub struct NameOrder {
    start: Vec<u32>,
    kids: Vec<NodeId>,
}

impl NameOrder {
    pub fn build(tree: &FileTree) -> NameOrder {
        let mut start = Vec::with_capacity(tree.len() + 1);
        let mut kids = Vec::with_capacity(tree.len());
        for id in tree.ids() {
            start.push(kids.len() as u32);
            let from = kids.len();
            kids.extend_from_slice(tree.children(id));
            kids[from..].sort_unstable_by(|&a, &b| tree.name(a).cmp(tree.name(b)));
        }
        start.push(kids.len() as u32);
        NameOrder { start, kids }
    }

    pub fn children(&self, id: NodeId) -> Option<&[NodeId]> {
        let i = id as usize;
        let (a, b) = (*self.start.get(i)?, *self.start.get(i + 1)?);
        self.kids.get(a as usize..b as usize)
    }
}

/// How children are ordered inside each directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Size,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Name,
            descending: false,
        }
    }
}

/// One entry of the depth-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: NodeId,
    pub depth: u16,
    /// Index in the order just past this node's subtree.
    pub end: u32,
}

impl OrderEntry for Entry {
    fn key(&self) -> u32 {
        self.id
    }
    fn depth(&self) -> u16 {
        self.depth
    }
    fn end(&self) -> u32 {
        self.end
    }
    fn set_end(&mut self, end: u32) {
        self.end = end;
    }
}

/// Parents by node id; the root is not a row, so it is nobody's parent here.
impl Parents for FileTree {
    fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        self.parent(id).filter(|&p| p != ROOT)
    }
}

/// Order, visible rows and cursor: the shared [`VisibleRows`] (reached
/// through `Deref`) plus the cached full order it is narrowed from.
#[derive(Debug, Default)]
pub struct TreeModel {
    /// Sorted depth-first order of every node in the view (root excluded).
    full: Vec<Entry>,
    full_key: Option<(u64, Sort)>,
    vis: VisibleRows<Entry>,
}

impl Deref for TreeModel {
    type Target = VisibleRows<Entry>;
    fn deref(&self) -> &Self::Target {
        &self.vis
    }
}

impl DerefMut for TreeModel {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.vis
    }
}

impl TreeModel {
    /// Rebuild the order: the sorted depth-first order of the view (cached
    /// per view generation and sort), narrowed to the nodes `keep` accepts.
    /// A filter change is one linear pass with no sorting.
    pub fn rebuild_order(
        &mut self,
        tree: &FileTree,
        info: &ViewInfo,
        keep: Option<&[bool]>,
        sort: Sort,
        generation: u64,
        names: Option<&NameOrder>,
    ) {
        let was = self.selected_id();
        if self.full_key != Some((generation, sort)) {
            self.full = full_order(tree, info, sort, names);
            self.full_key = Some((generation, sort));
        }
        self.vis.set_order(&self.full, keep, tree.len());
        self.vis.rebuild_rows(tree, was);
    }

    pub fn selected_id(&self) -> Option<NodeId> {
        self.selected_key()
    }

    /// Expand the ancestors of `id` and put the cursor on it.
    pub fn reveal(&mut self, tree: &FileTree, id: NodeId) -> bool {
        if !self.contains(id) {
            return false;
        }
        let mut changed = false;
        let mut p = tree.parent(id);
        while let Some(a) = p {
            if a == ROOT {
                break;
            }
            changed |= self.collapsed.remove(&a);
            p = tree.parent(a);
        }
        if changed {
            self.rebuild_rows(tree, Some(id));
        } else if let Some(r) = self.row_of(id) {
            self.selected = r;
            self.ensure_visible();
        }
        // Put the target mid-screen when it jumped.
        if self.selected >= self.scroll + self.height.max(1) || self.selected < self.scroll {
            self.ensure_visible();
        }
        true
    }
}

/// Depth-first order of the nodes in the view, children sorted per directory.
fn full_order(
    tree: &FileTree,
    info: &ViewInfo,
    sort: Sort,
    names: Option<&NameOrder>,
) -> Vec<Entry> {
    let mut order: Vec<Entry> = Vec::new();
    let mut stack: Vec<(NodeId, u16)> = Vec::new();
    let mut kids: Vec<NodeId> = Vec::new();
    let push_children =
        |id: NodeId, depth: u16, stack: &mut Vec<(NodeId, u16)>, kids: &mut Vec<NodeId>| {
            kids.clear();
            let cached = names
                .filter(|_| sort.key == SortKey::Name)
                .and_then(|n| n.children(id));
            let source = cached.unwrap_or(tree.children(id));
            kids.extend(source.iter().copied().filter(|&c| info.in_view[c as usize]));
            match cached {
                Some(_) if sort.descending => kids.reverse(),
                Some(_) => {}
                None => sort_children(tree, info, sort, kids),
            }
            stack.extend(kids.iter().rev().map(|&c| (c, depth)));
        };
    push_children(ROOT, 0, &mut stack, &mut kids);
    let mut open: Vec<usize> = Vec::new();
    while let Some((id, depth)) = stack.pop() {
        let idx = order.len();
        close_ends(&mut order, &mut open, depth, idx);
        order.push(Entry {
            id,
            depth,
            end: idx as u32 + 1,
        });
        open.push(idx);
        push_children(id, depth + 1, &mut stack, &mut kids);
    }
    let total = order.len() as u32;
    for i in open {
        order[i].end = total;
    }
    order
}

fn sort_children(tree: &FileTree, info: &ViewInfo, sort: Sort, kids: &mut [NodeId]) {
    match sort.key {
        SortKey::Name => kids.sort_unstable_by(|&a, &b| tree.name(a).cmp(tree.name(b))),
        SortKey::Size => kids.sort_unstable_by(|&a, &b| {
            info.size[a as usize]
                .cmp(&info.size[b as usize])
                .then_with(|| tree.name(a).cmp(tree.name(b)))
        }),
    }
    if sort.descending {
        kids.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Action, RawEntry};
    use crate::tree::Replay;

    fn e(path: &str, kind: Kind, size: u64) -> RawEntry {
        RawEntry {
            path: path.as_bytes().into(),
            action: Action::Put,
            kind,
            size,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            sha256: (kind == Kind::File).then_some([size as u8; 32]),
        }
    }

    fn model() -> (FileTree, ViewInfo, TreeModel) {
        let mut r = Replay::new();
        r.apply(&[
            e("a", Kind::Dir, 0),
            e("a/x", Kind::File, 5),
            e("a/y", Kind::File, 50),
            e("b", Kind::File, 20),
            e("c", Kind::Dir, 0),
            e("c/d", Kind::Dir, 0),
            e("c/d/z", Kind::File, 1),
        ]);
        let (tree, _) = r.finish();
        let info = ViewInfo::compute(&tree, ViewMode::Aggregated, 0);
        let mut m = TreeModel::default();
        m.vis.height = 3;
        m.rebuild_order(&tree, &info, None, Sort::default(), 1, None);
        (tree, info, m)
    }

    fn names(t: &FileTree, m: &TreeModel) -> Vec<String> {
        (0..m.rows.len())
            .map(|r| {
                let e = m.entry(r).expect("row");
                format!("{}{}", " ".repeat(e.depth as usize), t.path(e.id))
            })
            .collect()
    }

    #[test]
    fn order_sizes_and_subtree_ends() {
        let (t, info, m) = model();
        assert_eq!(
            names(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d", "  /c/d/z"]
        );
        let a = t.lookup(b"/a").expect("a");
        assert_eq!(info.size[a as usize], 55);
        assert_eq!(info.size[ROOT as usize], 76);
        assert_eq!(m.order[0].end, 3);
        assert_eq!(m.order[4].end, 7);
    }

    #[test]
    fn cursor_paging_and_scroll() {
        let (_, _, mut m) = model();
        m.move_by(5);
        assert_eq!((m.selected, m.scroll), (5, 3));
        m.page(-1);
        assert_eq!((m.selected, m.scroll), (2, 2));
        m.end();
        assert_eq!((m.selected, m.scroll), (6, 4));
        m.move_by(10);
        assert_eq!(m.selected, 6);
        m.home();
        assert_eq!((m.selected, m.scroll), (0, 0));
        m.scroll_by(2);
        assert_eq!((m.selected, m.scroll), (2, 2));
    }

    #[test]
    fn collapse_keeps_the_cursor_and_skips_subtrees() {
        let (t, _, mut m) = model();
        m.toggle(&t, 4);
        assert_eq!(names(&t, &m), ["/a", " /a/x", " /a/y", "/b", "/c"]);
        assert_eq!(m.selected, 4);
        m.toggle(&t, 4);
        assert_eq!(m.rows.len(), 7);
        // Collapsing a leaf does nothing.
        m.toggle(&t, 3);
        assert_eq!(m.rows.len(), 7);
        m.collapse_from_depth(&t, 1);
        assert_eq!(names(&t, &m), ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d"]);
        let z = t.lookup(b"/c/d/z").expect("z");
        assert!(m.reveal(&t, z));
        assert_eq!(m.selected_id(), Some(z));
        assert_eq!(m.rows.len(), 7);
    }

    #[test]
    fn filter_narrows_the_cached_order() {
        let (t, info, mut m) = model();
        let mut keep = vec![false; t.len()];
        for p in ["/", "/c", "/c/d", "/c/d/z"] {
            keep[t.lookup(p.as_bytes()).expect("p") as usize] = true;
        }
        m.rebuild_order(&t, &info, Some(&keep), Sort::default(), 1, None);
        assert_eq!(names(&t, &m), ["/c", " /c/d", "  /c/d/z"]);
        assert_eq!(m.order[0].end, 3);
        let sort = Sort {
            key: SortKey::Size,
            descending: true,
        };
        m.rebuild_order(&t, &info, None, sort, 1, None);
        // The name cache gives the same order as sorting.
        let cache = NameOrder::build(&t);
        m.rebuild_order(&t, &info, None, Sort::default(), 2, Some(&cache));
        assert_eq!(
            names(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d", "  /c/d/z"]
        );
        m.rebuild_order(&t, &info, None, sort, 2, Some(&cache));
        assert_eq!(
            names(&t, &m),
            ["/a", " /a/y", " /a/x", "/b", "/c", " /c/d", "  /c/d/z"]
        );
    }
}
