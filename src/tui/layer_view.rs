//! The explorer's rows: which nodes one layer view shows, with their
//! status and size, and the orders a tree table narrows. Work is staged
//! so each step runs only when its inputs change:
//! 0. once per image: [`VersionTable`] (every node's versions packed flat)
//!    and [`NameOrder`] (children by name, sibling ranks, and the whole
//!    tree's depth-first name order each way);
//! 1. [`ViewInfo`]: per node, is it in the view, its status and size (on
//!    layer or mode change), one pass over the version table;
//! 2. [`LayerOrders`]: the depth-first order of the view, children sorted
//!    per directory (on sort or view change): by name, the whole tree's
//!    name order; by size, per-directory lists sorted once per view and
//!    walked either way. The table narrows it to what the filter keeps
//!    and skips collapsed subtrees ([`super::table`]).
//!
//! Every step is linear in the nodes but the size sort, and none allocates
//! per node. [`LayerRows`] is the explorer's [`RowSource`].

use std::sync::OnceLock;

use crate::layer::Kind;
use crate::tree::{compare, Attrs, FileTree, NodeId, Status, ROOT};

use super::image_data::ImageData;
use super::table::{Entry, Parents, RowSource, SortKeys};

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
        ViewInfo::compute_with(
            tree,
            &VersionTable::build(tree),
            mode,
            layer,
            ViewInfo::default(),
        )
    }

    /// The view of `mode` at `layer` from the packed `versions` of `tree`
    /// (a table of another tree gives an empty view), reusing the buffers
    /// of `reuse` (the previous view).
    pub fn compute_with(
        tree: &FileTree,
        versions: &VersionTable,
        mode: ViewMode,
        layer: usize,
        reuse: ViewInfo,
    ) -> ViewInfo {
        let n = tree.len();
        let mut info = reuse;
        refill(&mut info.in_view, n, false);
        refill(&mut info.status, n, None);
        refill(&mut info.size, n, 0);
        info.layer = layer;
        if tree.layer_count() == 0 || versions.parent.len() != n {
            info.in_view[ROOT as usize] = true;
            return info;
        }
        let aggregated = mode == ViewMode::Aggregated;
        let after = |vs: &[Packed], l: usize| vs.partition_point(|v| v.layer as usize <= l);
        for id in 1..n as NodeId {
            let i = id as usize;
            let vs = versions.of(id);
            let (shown, status, size) = match mode {
                ViewMode::Range { from } => {
                    let (ka, kb) = (after(vs, from), after(vs, layer));
                    let live = |k: usize| k.checked_sub(1).map(|j| &vs[j]).filter(|v| v.live);
                    match (live(ka), live(kb)) {
                        // The same version after A and B: no net change.
                        _ if ka == kb => (false, None, live(kb).map_or(0, |v| v.size)),
                        (None, None) => (false, None, 0),
                        (None, Some(b)) => (true, Some(Status::Added), b.size),
                        (Some(a), None) => (true, Some(Status::Deleted), a.size),
                        (Some(a), Some(_)) if !a.exact => {
                            let (s, attrs) = net_change(tree, id, from, layer);
                            (true, s, shown_size(attrs))
                        }
                        (Some(a), Some(b)) => {
                            let s = if a.content != b.content {
                                Status::Modified
                            } else if a.meta != b.meta {
                                Status::Metadata
                            } else {
                                Status::Unchanged
                            };
                            (true, Some(s), b.size)
                        }
                    }
                }
                // One binary search gives both the state after the layer
                // and whether the layer itself touched the path.
                _ => match after(vs, layer).checked_sub(1) {
                    Some(j) if vs[j].layer as usize == layer => {
                        if vs[j].status == Status::Deleted {
                            let before = j.checked_sub(1).map_or(0, |p| vs[p].size);
                            (true, Some(Status::Deleted), before)
                        } else {
                            (true, Some(vs[j].status), vs[j].size)
                        }
                    }
                    Some(j) if aggregated => (vs[j].live, None, vs[j].size),
                    _ => (false, None, 0),
                },
            };
            info.in_view[i] = shown;
            info.status[i] = status;
            info.size[i] = size;
        }
        info.in_view[ROOT as usize] = true;
        // Children come after parents in the arena: one reverse pass makes
        // ancestors of shown nodes shown and sums directory totals. Siblings
        // mostly have neighbouring ids: their sizes add up in a register,
        // written to the parent when the parent changes (always before the
        // parent's own turn, as the parent's id is lower).
        let (mut parent, mut sum) = (usize::MAX, 0u64);
        for i in (1..n).rev() {
            if !info.in_view[i] {
                continue;
            }
            let p = versions.parent[i] as usize;
            if p != parent {
                if let Some(s) = info.size.get_mut(parent) {
                    *s += sum;
                }
                (parent, sum) = (p, 0);
                info.in_view[p] = true;
            }
            if info.status[i] != Some(Status::Deleted) {
                sum += info.size[i];
            }
        }
        if let Some(s) = info.size.get_mut(parent) {
            *s += sum;
        }
        info
    }
}

/// Empty `v` and fill it with `n` copies of `x`, keeping its allocation.
fn refill<T: Copy>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

/// Bytes a node counts for in a view: files' sizes; directories hold nothing
/// of their own.
fn shown_size(a: Option<&Attrs>) -> u64 {
    a.map_or(0, |a| if a.kind == Kind::Dir { 0 } else { a.size })
}

/// What a view needs of one version.
#[derive(Debug, Clone, Copy)]
struct Packed {
    /// [`shown_size`] of its attributes (0 when deleted).
    size: u64,
    layer: u32,
    /// The first of the node's versions with the same kind, content, size
    /// and link target (what [`net_change`] calls modified when it differs)...
    content: u32,
    /// ...and with the same mode and owner (metadata).
    meta: u32,
    status: Status,
    live: bool,
    /// `content` and `meta` decide a range compare (else the attributes do).
    exact: bool,
}

/// Every node's versions as [`ViewInfo`] reads them, in one flat array
/// (CSR), with every node's parent: built once per image, so a layer or
/// mode change reads two sequential arrays instead of a version vector per
/// node and an attribute record per version, and a range compare compares
/// two small numbers instead of two attribute records.
#[derive(Debug, Default)]
pub struct VersionTable {
    start: Vec<u32>,
    versions: Vec<Packed>,
    parent: Vec<NodeId>,
}

impl VersionTable {
    pub fn build(tree: &FileTree) -> VersionTable {
        let n = tree.len();
        let mut t = VersionTable {
            start: Vec::with_capacity(n + 1),
            versions: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
        };
        // The core's comparator decides; classes of equal versions let a
        // range compare two numbers.
        let same_content =
            |x: &Attrs, y: &Attrs| !compare::changed((tree, x), (tree, y)).is_modification();
        let same_meta = |x: &Attrs, y: &Attrs| compare::same_metadata(x, y);
        for id in tree.ids() {
            let node = tree.node(id);
            t.start.push(t.versions.len() as u32);
            t.parent.push(node.parent);
            let vs = &node.versions;
            // A node has at most one version per layer: a few to compare.
            let first = |j: usize, same: &dyn Fn(&Attrs, &Attrs) -> bool| -> u32 {
                let Some(a) = tree.attrs_of(&vs[j]) else {
                    return j as u32;
                };
                (0..j)
                    .find(|&i| tree.attrs_of(&vs[i]).is_some_and(|b| same(a, b)))
                    .unwrap_or(j) as u32
            };
            // Hashed and unhashed files of one path make "same content" no
            // equivalence (size and mtime judge one pair, SHA-256s another):
            // such paths are compared version by version.
            let hashed = |h: bool| {
                vs.iter()
                    .filter_map(|v| tree.attrs_of(v))
                    .any(|a| a.kind == Kind::File && a.sha256.is_some() == h)
            };
            let exact = !(hashed(true) && hashed(false));
            for (j, v) in vs.iter().enumerate() {
                let a = tree.attrs_of(v);
                t.versions.push(Packed {
                    size: shown_size(a),
                    layer: v.layer,
                    content: first(j, &same_content),
                    meta: first(j, &same_meta),
                    status: v.status,
                    live: a.is_some(),
                    exact,
                });
            }
        }
        t.start.push(t.versions.len() as u32);
        t
    }

    fn of(&self, id: NodeId) -> &[Packed] {
        let i = id as usize;
        &self.versions[self.start[i] as usize..self.start[i + 1] as usize]
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
        (Some(x), Some(y)) => (
            Some(compare::changed((tree, x), (tree, y)).status()),
            Some(y),
        ),
    }
}

/// Each node's children in some order, in one flat array (CSR layout).
#[derive(Debug, Default)]
pub struct Kids {
    start: Vec<u32>,
    kids: Vec<NodeId>,
}

impl Kids {
    /// Start over for `nodes` nodes.
    fn clear(&mut self, nodes: usize) {
        self.start.clear();
        self.start.reserve(nodes + 1);
        self.kids.clear();
    }

    /// Open the next node's list (nodes come in id order).
    fn open(&mut self) -> usize {
        self.start.push(self.kids.len() as u32);
        self.kids.len()
    }

    fn close(&mut self) {
        self.start.push(self.kids.len() as u32);
    }

    pub fn of(&self, id: NodeId) -> Option<&[NodeId]> {
        let i = id as usize;
        let (a, b) = (*self.start.get(i)?, *self.start.get(i + 1)?);
        self.kids.get(a as usize..b as usize)
    }

    /// The depth-first order from the root's children (root excluded) into
    /// `order`, each node's children in list order or, if `reverse`, the
    /// other way.
    fn walk(&self, order: &mut Vec<Entry>, reverse: bool) {
        order.clear();
        let range = |id: NodeId| {
            let i = id as usize;
            match (self.start.get(i), self.start.get(i + 1)) {
                (Some(&a), Some(&b)) => (a, b),
                _ => (0, 0),
            }
        };
        // Open directories: the unvisited part of their list and the
        // index of their entry (u32::MAX for the root).
        let (a, b) = range(ROOT);
        let mut stack: Vec<(u32, u32, u32)> = vec![(a, b, u32::MAX)];
        while let Some(top) = stack.last_mut() {
            if top.0 == top.1 {
                let entry = top.2;
                stack.pop();
                let end = order.len() as u32;
                if let Some(e) = order.get_mut(entry as usize) {
                    e.end = end;
                }
                continue;
            }
            let c = if reverse {
                top.1 -= 1;
                self.kids[top.1 as usize]
            } else {
                top.0 += 1;
                self.kids[top.0 as usize - 1]
            };
            let idx = order.len() as u32;
            order.push(Entry {
                key: c,
                depth: (stack.len() - 1) as u16,
                end: idx + 1,
            });
            let (a, b) = range(c);
            if a < b {
                stack.push((a, b, idx));
            }
        }
    }
}

/// Every directory's children sorted by name, built once per image, each
/// node's place among its siblings by name (a size sort's tie-break
/// without comparing names), and, made on first use, the depth-first
/// order of the whole tree by name each way: a view's name order is that
/// order narrowed to what it shows, with no walk and no sorting.
#[derive(Debug, Default)]
pub struct NameOrder {
    kids: Kids,
    rank: Vec<u32>,
    /// Ascending, descending.
    whole: [OnceLock<Vec<Entry>>; 2],
}

impl NameOrder {
    pub fn build(tree: &FileTree) -> NameOrder {
        let mut kids = Kids::default();
        kids.clear(tree.len());
        let mut rank = vec![0u32; tree.len()];
        for id in tree.ids() {
            let from = kids.open();
            let k = &mut kids.kids;
            k.extend_from_slice(tree.children(id));
            k[from..].sort_unstable_by(|&a, &b| tree.name(a).cmp(tree.name(b)));
            for (r, &c) in k[from..].iter().enumerate() {
                rank[c as usize] = r as u32;
            }
        }
        kids.close();
        NameOrder {
            kids,
            rank,
            whole: Default::default(),
        }
    }

    pub fn children(&self, id: NodeId) -> Option<&[NodeId]> {
        self.kids.of(id)
    }

    /// The depth-first order of every node (root excluded), children by
    /// name, descending if asked; built on first use.
    pub fn whole(&self, descending: bool) -> &[Entry] {
        self.whole[descending as usize].get_or_init(|| {
            let mut order = Vec::with_capacity(self.kids.kids.len());
            self.kids.walk(&mut order, descending);
            order
        })
    }
}

/// What the explorer's table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Size,
}

impl SortKeys for SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Size,
            SortKey::Size => SortKey::Name,
        }
    }
    fn descending_first(self) -> bool {
        // Biggest first is what one wants when switching to size.
        self == SortKey::Size
    }
    fn name(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
        }
    }
}

/// How children are ordered inside each directory.
pub type Sort = crate::tui::table::Sort<SortKey>;

/// Parents by node id; the root is not a row, so it is nobody's parent here.
impl Parents for FileTree {
    fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        self.parent(id).filter(|&p| p != ROOT)
    }
}

/// The sorted orders of the views, for size sorts: each directory's
/// children in the view sorted by the key (both directions walk the same
/// lists) and the depth-first order they give, cached per view generation
/// and sort.
#[derive(Debug, Default)]
pub struct LayerOrders {
    full: Vec<Entry>,
    full_key: Option<(u64, Sort)>,
    sorted: Kids,
    sorted_key: Option<(u64, SortKey)>,
}

impl LayerOrders {
    /// The depth-first order of the view `info` (generation `generation`)
    /// for `sort`, with the mask that narrows it to the view. By name with
    /// `names`: the whole tree's name order, masked by the view. Otherwise
    /// the view sorted, cached per generation and sort, so a filter change
    /// is one linear pass with no sorting.
    pub fn order<'a>(
        &'a mut self,
        tree: &FileTree,
        info: &'a ViewInfo,
        sort: Sort,
        generation: u64,
        names: Option<&'a NameOrder>,
    ) -> (&'a [Entry], Option<&'a [bool]>) {
        if let Some(names) = names.filter(|_| sort.key == SortKey::Name) {
            return (names.whole(sort.descending), Some(&info.in_view));
        }
        if self.full_key != Some((generation, sort)) {
            if self.sorted_key != Some((generation, sort.key)) {
                sort_kids(&mut self.sorted, tree, info, sort.key, names);
                self.sorted_key = Some((generation, sort.key));
            }
            self.sorted.walk(&mut self.full, sort.descending);
            self.full_key = Some((generation, sort));
        }
        (&self.full, None)
    }
}

/// The explorer's rows: the nodes of one layer view of the image.
#[derive(Debug, Clone, Copy)]
pub struct LayerRows<'a> {
    pub data: &'a ImageData,
    pub info: &'a ViewInfo,
    pub mode: ViewMode,
    /// Bumped whenever `info` is recomputed (keys the order cache).
    pub generation: u64,
}

impl Parents for LayerRows<'_> {
    fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        self.data.parent_of(id)
    }
}

impl RowSource for LayerRows<'_> {
    type Sort = Sort;
    type Orders = LayerOrders;
    fn keys(&self) -> usize {
        self.data.loaded.tree.len()
    }
    fn in_view(&self, id: NodeId) -> bool {
        self.info.in_view.get(id as usize).copied().unwrap_or(false)
    }
    fn status(&self, id: NodeId) -> Option<Status> {
        self.info.status.get(id as usize).copied().flatten()
    }
    fn size(&self, id: NodeId) -> u64 {
        self.info.size.get(id as usize).copied().unwrap_or(0)
    }
    fn is_dir(&self, id: NodeId) -> bool {
        // It has children, or its last known state is one.
        let tree = &self.data.loaded.tree;
        !tree.children(id).is_empty()
            || tree
                .node(id)
                .versions
                .iter()
                .rev()
                .find_map(|v| tree.attrs_of(v))
                .is_some_and(|a| a.kind == Kind::Dir)
    }
    fn path(&self, id: NodeId) -> &str {
        self.data.path_raw(id)
    }
    fn lower(&self, id: NodeId) -> &str {
        self.data.lower(id)
    }
    fn find(&self, path: &str) -> Option<NodeId> {
        self.data.loaded.tree.lookup(path.as_bytes())
    }
    fn wasted(&self, id: NodeId) -> bool {
        self.data.wasted.get(id as usize).is_some_and(|&w| w > 0)
    }
    fn order<'a>(
        &'a self,
        orders: &'a mut LayerOrders,
        sort: Sort,
    ) -> (&'a [Entry], Option<&'a [bool]>) {
        let d = self.data;
        orders.order(
            &d.loaded.tree,
            self.info,
            sort,
            self.generation,
            Some(&d.names),
        )
    }
}

/// Each directory's children in the view, ascending by `key` (by size:
/// ties by name).
fn sort_kids(
    out: &mut Kids,
    tree: &FileTree,
    info: &ViewInfo,
    key: SortKey,
    names: Option<&NameOrder>,
) {
    out.clear(tree.len());
    let shown = |c: &&NodeId| info.in_view[**c as usize];
    let mut keys: Vec<u64> = Vec::new();
    let mut wide: Vec<u128> = Vec::new();
    for id in tree.ids() {
        let from = out.open();
        if !info.in_view[id as usize] {
            continue;
        }
        let Some(n) = names else {
            out.kids.extend(tree.children(id).iter().filter(shown));
            sort_children(tree, info, key, &mut out.kids[from..]);
            continue;
        };
        let by_name = n.children(id).unwrap_or(&[]);
        if key == SortKey::Name || by_name.len() < 2 {
            out.kids.extend(by_name.iter().filter(shown));
            continue;
        }
        // Sort integers: the size above the name rank (unique among
        // siblings), so one compare orders by size, then name. In 64 bits
        // when the sizes leave room for the ranks, else in 128.
        let bits = 64 - (by_name.len() as u64).leading_zeros();
        let max = by_name
            .iter()
            .map(|&c| info.size[c as usize])
            .max()
            .unwrap_or(0);
        if max.leading_zeros() >= bits {
            keys.clear();
            keys.extend(
                by_name
                    .iter()
                    .filter(shown)
                    .map(|&c| info.size[c as usize] << bits | n.rank[c as usize] as u64),
            );
            keys.sort_unstable();
            let mask = (1u64 << bits) - 1;
            out.kids
                .extend(keys.iter().map(|&k| by_name[(k & mask) as usize]));
        } else {
            wide.clear();
            wide.extend(
                by_name
                    .iter()
                    .filter(shown)
                    .map(|&c| (info.size[c as usize] as u128) << 32 | n.rank[c as usize] as u128),
            );
            wide.sort_unstable();
            out.kids
                .extend(wide.iter().map(|&k| by_name[k as u32 as usize]));
        }
    }
    out.close();
}

/// Ascending by `key` (by size: ties by name).
fn sort_children(tree: &FileTree, info: &ViewInfo, key: SortKey, kids: &mut [NodeId]) {
    match key {
        SortKey::Name => kids.sort_unstable_by(|&a, &b| tree.name(a).cmp(tree.name(b))),
        SortKey::Size => kids.sort_unstable_by(|&a, &b| {
            info.size[a as usize]
                .cmp(&info.size[b as usize])
                .then_with(|| tree.name(a).cmp(tree.name(b)))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Action, RawEntry};
    use crate::tree::Replay;
    use crate::tui::table::testing::{raw as e, Model};

    /// `/a/{x,y}`, `/b`, `/c/d/z`.
    fn base() -> [RawEntry; 7] {
        [
            e("a", Kind::Dir, 0),
            e("a/x", Kind::File, 5),
            e("a/y", Kind::File, 50),
            e("b", Kind::File, 20),
            e("c", Kind::Dir, 0),
            e("c/d", Kind::Dir, 0),
            e("c/d/z", Kind::File, 1),
        ]
    }

    /// The order cache and the rows, as a tree table keeps them.
    type TreeModel = Model<LayerOrders>;

    impl TreeModel {
        fn rebuild_order(
            &mut self,
            tree: &FileTree,
            info: &ViewInfo,
            keep: Option<&[bool]>,
            sort: Sort,
            generation: u64,
            names: Option<&NameOrder>,
        ) {
            let was = self.vis.selected_key();
            let (full, in_view) = self.orders.order(tree, info, sort, generation, names);
            self.vis.set_order(full, keep.or(in_view), tree.len());
            self.vis.rebuild_rows(tree, was);
        }
    }

    fn model() -> (FileTree, ViewInfo, TreeModel) {
        let mut r = Replay::new();
        r.apply(&base());
        let (tree, _) = r.finish();
        let info = ViewInfo::compute(&tree, ViewMode::Aggregated, 0);
        let mut m = TreeModel::default();
        m.vis.height = 3;
        m.rebuild_order(&tree, &info, None, Sort::default(), 1, None);
        (tree, info, m)
    }

    fn names_of(t: &FileTree, m: &TreeModel) -> Vec<String> {
        (0..m.rows.len())
            .map(|r| {
                let e = m.entry(r).expect("row");
                format!("{}{}", " ".repeat(e.depth as usize), t.path(e.key))
            })
            .collect()
    }

    #[test]
    fn order_sizes_and_subtree_ends() {
        let (t, info, m) = model();
        assert_eq!(
            names_of(&t, &m),
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
        assert_eq!(names_of(&t, &m), ["/a", " /a/x", " /a/y", "/b", "/c"]);
        assert_eq!(m.selected, 4);
        m.toggle(&t, 4);
        assert_eq!(m.rows.len(), 7);
        // Collapsing a leaf does nothing.
        m.toggle(&t, 3);
        assert_eq!(m.rows.len(), 7);
        m.collapse_from_depth(&t, 1);
        assert_eq!(
            names_of(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d"]
        );
        let z = t.lookup(b"/c/d/z").expect("z");
        assert!(m.reveal(&t, z));
        assert_eq!(m.selected_key(), Some(z));
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
        assert_eq!(names_of(&t, &m), ["/c", " /c/d", "  /c/d/z"]);
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
            names_of(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d", "  /c/d/z"]
        );
        m.rebuild_order(&t, &info, None, sort, 2, Some(&cache));
        assert_eq!(
            names_of(&t, &m),
            ["/a", " /a/y", " /a/x", "/b", "/c", " /c/d", "  /c/d/z"]
        );
    }

    /// The straightforward view computation the packed one must equal (the
    /// code before [`VersionTable`]).
    fn reference_info(tree: &FileTree, mode: ViewMode, layer: usize) -> ViewInfo {
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

    /// Deterministic numbers for generated trees.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// Six layers of puts (sizes with many ties), metadata-only changes,
    /// whiteouts of files and directories, opaque directories and type
    /// changes over a small namespace, so every status shows up.
    fn layered_tree(seed: u64) -> FileTree {
        let mut rng = Lcg(seed);
        let mut r = Replay::new();
        let sizes = [0u64, 5, 10, 10, 100, 7];
        for layer in 0..6 {
            let mut entries = Vec::new();
            let n = if layer == 0 { 60 } else { 15 };
            for _ in 0..n {
                let d = rng.below(3);
                let sd = rng.below(3);
                let f = rng.below(5);
                let dir = format!("d{d}/s{sd}");
                let file = format!("{dir}/f{f}");
                let mut x = match rng.below(10) {
                    0 => e(&dir, Kind::Dir, 0),
                    1 if layer > 0 => RawEntry {
                        action: Action::Whiteout,
                        ..e(&file, Kind::File, 0)
                    },
                    2 if layer > 0 => RawEntry {
                        action: Action::Whiteout,
                        ..e(&dir, Kind::Dir, 0)
                    },
                    3 if layer > 0 => RawEntry {
                        action: Action::Opaque,
                        ..e(&format!("d{d}"), Kind::Dir, 0)
                    },
                    4 => e(&file, Kind::Symlink, 0),
                    _ => e(&file, Kind::File, sizes[rng.below(6) as usize]),
                };
                if rng.below(4) == 0 {
                    x.mode = 0o600;
                }
                entries.push(x);
            }
            r.apply(&entries);
        }
        r.finish().0
    }

    fn views(t: &FileTree) -> Vec<(ViewMode, usize)> {
        let mut v = Vec::new();
        for layer in 0..t.layer_count() {
            v.push((ViewMode::Layer, layer));
            v.push((ViewMode::Aggregated, layer));
            for from in 0..t.layer_count() {
                v.push((ViewMode::Range { from }, layer));
            }
        }
        v
    }

    fn same_info(a: &ViewInfo, b: &ViewInfo, what: &str) {
        assert_eq!(a.layer, b.layer, "{what}: layer");
        assert_eq!(a.in_view, b.in_view, "{what}: in view");
        assert_eq!(a.status, b.status, "{what}: status");
        assert_eq!(a.size, b.size, "{what}: size");
    }

    #[test]
    fn packed_views_equal_the_reference() {
        for seed in 1..6 {
            let t = layered_tree(seed);
            let table = VersionTable::build(&t);
            let mut statuses = std::collections::HashSet::new();
            // Each view reuses the buffers of the one before.
            let mut last = ViewInfo::default();
            for (mode, layer) in views(&t) {
                let want = reference_info(&t, mode, layer);
                let got = ViewInfo::compute_with(&t, &table, mode, layer, last);
                same_info(&got, &want, &format!("seed {seed} {mode:?} at {layer}"));
                statuses.extend(got.status.iter().flatten().copied());
                last = got;
            }
            if seed == 1 {
                assert_eq!(statuses.len(), 5, "every status shown: {statuses:?}");
            }
        }
        // No layers: only the root.
        let t = FileTree::new();
        let info = ViewInfo::compute(&t, ViewMode::Aggregated, 0);
        assert_eq!(info.in_view, [true]);
    }

    /// A plain recursive walk, children sorted by comparing sizes and names.
    fn reference_order(
        t: &FileTree,
        info: &ViewInfo,
        keep: Option<&[bool]>,
        sort: Sort,
    ) -> Vec<Entry> {
        fn visit(
            t: &FileTree,
            info: &ViewInfo,
            keep: Option<&[bool]>,
            sort: Sort,
            id: NodeId,
            depth: u16,
            out: &mut Vec<Entry>,
        ) {
            let mut kids: Vec<NodeId> = t
                .children(id)
                .iter()
                .copied()
                .filter(|&c| info.in_view[c as usize] && keep.is_none_or(|k| k[c as usize]))
                .collect();
            kids.sort_by(|&a, &b| match sort.key {
                SortKey::Name => t.name(a).cmp(t.name(b)),
                SortKey::Size => info.size[a as usize]
                    .cmp(&info.size[b as usize])
                    .then_with(|| t.name(a).cmp(t.name(b))),
            });
            if sort.descending {
                kids.reverse();
            }
            for c in kids {
                let i = out.len();
                out.push(Entry {
                    key: c,
                    depth,
                    end: 0,
                });
                visit(t, info, keep, sort, c, depth + 1, out);
                out[i].end = out.len() as u32;
            }
        }
        let mut out = Vec::new();
        visit(t, info, keep, sort, ROOT, 0, &mut out);
        out
    }

    const SORTS: [Sort; 4] = [
        Sort {
            key: SortKey::Name,
            descending: false,
        },
        Sort {
            key: SortKey::Size,
            descending: true,
        },
        Sort {
            key: SortKey::Name,
            descending: true,
        },
        Sort {
            key: SortKey::Size,
            descending: false,
        },
    ];

    /// Some nodes of the view and their ancestors, like a filter keeps.
    fn some_kept(t: &FileTree, info: &ViewInfo, rng: &mut Lcg) -> Vec<bool> {
        let mut keep = vec![false; t.len()];
        for id in t.ids().skip(1) {
            if info.in_view[id as usize] && rng.below(3) == 0 {
                let mut a = Some(id);
                while let Some(x) = a {
                    keep[x as usize] = true;
                    a = t.parent(x);
                }
            }
        }
        keep[ROOT as usize] = true;
        keep
    }

    #[test]
    fn cached_orders_equal_a_plain_sorted_walk() {
        let mut rng = Lcg(99);
        for seed in 1..4 {
            let t = layered_tree(seed);
            let table = VersionTable::build(&t);
            let names = NameOrder::build(&t);
            // One model for everything, so its caches see every change of
            // view (generation), sort and filter in turn.
            let (mut fast, mut plain) = (TreeModel::default(), TreeModel::default());
            for (generation, (mode, layer)) in views(&t).into_iter().enumerate() {
                let info = ViewInfo::compute_with(&t, &table, mode, layer, ViewInfo::default());
                let kept = some_kept(&t, &info, &mut rng);
                for sort in SORTS {
                    for keep in [None, Some(&kept[..])] {
                        let want = reference_order(&t, &info, keep, sort);
                        let what = format!("seed {seed} {mode:?} at {layer}, {sort:?}");
                        let g = generation as u64;
                        fast.rebuild_order(&t, &info, keep, sort, g, Some(&names));
                        assert_eq!(fast.order, want, "{what}, keep {}", keep.is_some());
                        plain.rebuild_order(&t, &info, keep, sort, g, None);
                        assert_eq!(plain.order, want, "{what}, no name index");
                        assert_eq!(fast.rows.len(), want.len());
                    }
                }
            }
        }
    }

    /// Two layers: the second makes `/b` the biggest entry and empties
    /// `/a/y`.
    fn two_layers() -> (FileTree, VersionTable, NameOrder) {
        let mut r = Replay::new();
        r.apply(&base());
        r.apply(&[e("b", Kind::File, 90), e("a/y", Kind::File, 0)]);
        let (t, _) = r.finish();
        let table = VersionTable::build(&t);
        let names = NameOrder::build(&t);
        (t, table, names)
    }

    #[test]
    fn size_order_follows_layer_and_direction_changes() {
        let (t, table, names) = two_layers();
        let mut m = TreeModel::default();
        let by_size = |descending| Sort {
            key: SortKey::Size,
            descending,
        };
        let info0 = ViewInfo::compute_with(&t, &table, ViewMode::Aggregated, 0, Default::default());
        m.rebuild_order(&t, &info0, None, by_size(true), 1, Some(&names));
        assert_eq!(
            names_of(&t, &m),
            ["/a", " /a/y", " /a/x", "/b", "/c", " /c/d", "  /c/d/z"]
        );
        // Layer 1: new sizes, a new generation: sorted again.
        let info1 = ViewInfo::compute_with(&t, &table, ViewMode::Aggregated, 1, info0);
        m.rebuild_order(&t, &info1, None, by_size(true), 2, Some(&names));
        assert_eq!(
            names_of(&t, &m),
            ["/b", "/a", " /a/x", " /a/y", "/c", " /c/d", "  /c/d/z"]
        );
        // The other direction walks the same sorted lists backwards.
        m.rebuild_order(&t, &info1, None, by_size(false), 2, Some(&names));
        assert_eq!(
            names_of(&t, &m),
            ["/c", " /c/d", "  /c/d/z", "/a", " /a/y", " /a/x", "/b"]
        );
        // A filter narrows the cached order.
        let mut keep = vec![false; t.len()];
        for p in ["/", "/a", "/a/y", "/b"] {
            keep[t.lookup(p.as_bytes()).expect("p") as usize] = true;
        }
        m.rebuild_order(&t, &info1, Some(&keep), by_size(false), 2, Some(&names));
        assert_eq!(names_of(&t, &m), ["/a", " /a/y", "/b"]);
        // By name: the whole tree's order narrowed to the view and filter.
        let by_name = Sort {
            key: SortKey::Name,
            descending: true,
        };
        m.rebuild_order(&t, &info1, Some(&keep), by_name, 2, Some(&names));
        assert_eq!(names_of(&t, &m), ["/b", "/a", " /a/y"]);
        // Per-layer view of layer 1: only what it changed (and /a above).
        let only1 = ViewInfo::compute_with(&t, &table, ViewMode::Layer, 1, Default::default());
        m.rebuild_order(&t, &only1, None, by_name, 3, Some(&names));
        assert_eq!(names_of(&t, &m), ["/b", "/a", " /a/y"]);
        m.rebuild_order(&t, &only1, None, by_size(true), 3, Some(&names));
        assert_eq!(names_of(&t, &m), ["/b", "/a", " /a/y"]);
    }

    #[test]
    fn a_collapsed_directory_left_without_children_hides_nothing() {
        let (t, info, mut m) = model();
        m.toggle(&t, 4);
        assert_eq!(names_of(&t, &m), ["/a", " /a/x", " /a/y", "/b", "/c"]);
        // The filter leaves /c (still collapsed) without children.
        let mut keep = vec![false; t.len()];
        for p in ["/", "/a", "/a/x", "/c", "/b"] {
            keep[t.lookup(p.as_bytes()).expect("p") as usize] = true;
        }
        let names = NameOrder::build(&t);
        m.rebuild_order(&t, &info, Some(&keep), Sort::default(), 1, Some(&names));
        assert_eq!(names_of(&t, &m), ["/a", " /a/x", "/b", "/c"]);
        // Collapsing /a hides its child; expanding all shows it again.
        m.toggle(&t, 0);
        assert_eq!(names_of(&t, &m), ["/a", "/b", "/c"]);
        m.expand_all(&t);
        assert_eq!(names_of(&t, &m), ["/a", " /a/x", "/b", "/c"]);
    }
}
