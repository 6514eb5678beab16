//! The tree/selection model of the diff tree, like [`crate::tui::layer_view`] but
//! over the entries of a [`TreeDiff`] (indices, parents by index) instead of
//! one [`crate::tree::FileTree`]'s nodes; both share the visible-rows model
//! of [`crate::tui::table`]. The sorted order is rebuilt on a sort change,
//! narrowed in one pass on a filter change, and the visible rows on a
//! collapse change; moving the cursor rebuilds nothing.

use std::ops::{Deref, DerefMut};

use crate::diff::{Entry, TreeDiff};
use crate::tui::table::{close_ends, OrderEntry, Parents, VisibleRows};

/// How children are ordered inside each directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffSortKey {
    Name,
    /// The larger of the old and new size.
    Size,
    /// The size change, either way.
    Delta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffSort {
    pub key: DiffSortKey,
    pub descending: bool,
}

impl Default for DiffSort {
    fn default() -> Self {
        DiffSort {
            key: DiffSortKey::Name,
            descending: false,
        }
    }
}

/// Bytes an entry shows (the larger side).
pub fn shown_size(e: &Entry) -> u64 {
    e.old_bytes().max(e.new_bytes())
}

/// One entry of the depth-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Index in `TreeDiff::entries`.
    pub idx: u32,
    /// Depth below the top level (top-level entries: 0).
    pub depth: u16,
    /// Index in the order just past this entry's subtree.
    pub end: u32,
}

impl OrderEntry for Row {
    fn key(&self) -> u32 {
        self.idx
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

/// Parents by entry index; entry 0 is the root, which is not a row.
impl Parents for TreeDiff {
    fn parent_of(&self, idx: u32) -> Option<u32> {
        self.entries
            .get(idx as usize)
            .and_then(|e| e.parent)
            .filter(|&p| p != 0)
    }
}

/// Order, visible rows and cursor: the shared [`VisibleRows`] (reached
/// through `Deref`) plus the cached full order it is narrowed from.
#[derive(Debug, Default)]
pub struct DiffTree {
    full: Vec<Row>,
    full_key: Option<DiffSort>,
    vis: VisibleRows<Row>,
}

impl Deref for DiffTree {
    type Target = VisibleRows<Row>;
    fn deref(&self) -> &Self::Target {
        &self.vis
    }
}

impl DerefMut for DiffTree {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.vis
    }
}

fn full_order(t: &TreeDiff, sort: DiffSort) -> Vec<Row> {
    let n = t.entries.len();
    // Children lists in one flat array (entries are in pre-order by name).
    let mut count = vec![0u32; n + 1];
    for e in &t.entries {
        if let Some(p) = e.parent {
            count[p as usize + 1] += 1;
        }
    }
    for i in 1..=n {
        count[i] += count[i - 1];
    }
    let mut fill = count.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for (i, e) in t.entries.iter().enumerate() {
        if let Some(p) = e.parent {
            let slot = &mut fill[p as usize];
            if let Some(k) = kids.get_mut(*slot as usize) {
                *k = i as u32;
            }
            *slot += 1;
        }
    }
    for p in 0..n {
        let s = &mut kids[count[p] as usize..count[p + 1] as usize];
        let key = |i: &u32| {
            let e = &t.entries[*i as usize];
            match sort.key {
                DiffSortKey::Name => 0,
                DiffSortKey::Size => shown_size(e),
                DiffSortKey::Delta => e.delta().unsigned_abs(),
            }
        };
        if sort.key != DiffSortKey::Name {
            // Stable: equal keys stay in name order.
            s.sort_by_key(key);
        }
        if sort.descending {
            s.reverse();
        }
    }
    let mut order: Vec<Row> = Vec::with_capacity(n.saturating_sub(1));
    let mut stack: Vec<(u32, u16)> = Vec::new();
    if n > 0 {
        stack.extend(
            kids[count[0] as usize..count[1] as usize]
                .iter()
                .rev()
                .map(|&c| (c, 0)),
        );
    }
    let mut open = Vec::new();
    while let Some((i, depth)) = stack.pop() {
        let idx = order.len();
        close_ends(&mut order, &mut open, depth, idx);
        order.push(Row {
            idx: i,
            depth,
            end: idx as u32 + 1,
        });
        open.push(idx);
        let (a, b) = (count[i as usize] as usize, count[i as usize + 1] as usize);
        stack.extend(kids[a..b].iter().rev().map(|&c| (c, depth + 1)));
    }
    let total = order.len() as u32;
    for i in open {
        order[i].end = total;
    }
    order
}

impl DiffTree {
    /// Rebuild the order for `sort` (cached), narrowed to what `keep` accepts
    /// (ancestors of kept entries must be kept too).
    pub fn rebuild_order(&mut self, t: &TreeDiff, keep: Option<&[bool]>, sort: DiffSort) {
        let was = self.selected_idx();
        if self.full_key != Some(sort) || self.full.len() + 1 != t.entries.len().max(1) {
            self.full = full_order(t, sort);
            self.full_key = Some(sort);
        }
        self.vis.set_order(&self.full, keep, t.entries.len());
        self.vis.rebuild_rows(t, was);
    }

    pub fn selected_idx(&self) -> Option<u32> {
        self.selected_key()
    }

    /// Expand the ancestors of `idx` and put the cursor on it.
    pub fn reveal(&mut self, t: &TreeDiff, idx: u32) -> bool {
        if !self.contains(idx) {
            return false;
        }
        let mut p = t.entries.get(idx as usize).and_then(|e| e.parent);
        while let Some(a) = p {
            self.collapsed.remove(&a);
            p = t.entries.get(a as usize).and_then(|e| e.parent);
        }
        self.rebuild_rows(t, Some(idx));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff_trees_with, TreeOptions};
    use crate::layer::{Action, Kind, RawEntry};
    use crate::tree::{FileTree, Replay};

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

    fn tree(entries: &[RawEntry]) -> FileTree {
        let mut r = Replay::new();
        r.apply(entries);
        r.finish().0
    }

    /// old: a/x(5) a/y(50) b(20) c/d/z(1); new: a/x(5) a/y(70) c/d/z(1) c/w(300)
    fn model(sort: DiffSort) -> (TreeDiff, DiffTree) {
        let old = tree(&[
            e("a", Kind::Dir, 0),
            e("a/x", Kind::File, 5),
            e("a/y", Kind::File, 50),
            e("b", Kind::File, 20),
            e("c", Kind::Dir, 0),
            e("c/d", Kind::Dir, 0),
            e("c/d/z", Kind::File, 1),
        ]);
        let new = tree(&[
            e("a", Kind::Dir, 0),
            e("a/x", Kind::File, 5),
            e("a/y", Kind::File, 70),
            e("c", Kind::Dir, 0),
            e("c/d", Kind::Dir, 0),
            e("c/d/z", Kind::File, 1),
            e("c/w", Kind::File, 300),
        ]);
        let t = diff_trees_with((&old, 0), (&new, 0), TreeOptions { unchanged: true });
        let mut m = DiffTree::default();
        m.vis.height = 3;
        m.rebuild_order(&t, None, sort);
        (t, m)
    }

    fn names(t: &TreeDiff, m: &DiffTree) -> Vec<String> {
        (0..m.rows.len())
            .map(|r| {
                let row = m.entry(r).expect("row");
                let p = &t.entries[row.idx as usize].path;
                format!("{}{p}", " ".repeat(row.depth as usize))
            })
            .collect()
    }

    #[test]
    fn order_follows_the_entries_and_subtree_ends() {
        let (t, m) = model(DiffSort::default());
        assert_eq!(
            names(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d", "  /c/d/z", " /c/w"]
        );
        assert_eq!(m.order[0].end, 3);
        assert_eq!(m.order[4].end, 8);
    }

    #[test]
    fn sorts_by_size_and_by_change_per_directory() {
        let by = |key| DiffSort {
            key,
            descending: true,
        };
        let (t, m) = model(by(DiffSortKey::Size));
        assert_eq!(
            names(&t, &m),
            ["/c", " /c/w", " /c/d", "  /c/d/z", "/a", " /a/y", " /a/x", "/b"]
        );
        let (t, m) = model(by(DiffSortKey::Delta));
        // c +300, a +20, b -20: equal changes keep name order (reversed).
        assert_eq!(names(&t, &m)[0], "/c");
        assert_eq!(names(&t, &m)[4], "/b");
        assert_eq!(names(&t, &m)[5], "/a");
    }

    #[test]
    fn filter_collapse_reveal_and_cursor() {
        let (t, mut m) = model(DiffSort::default());
        // Keep only changed entries and their parents.
        let keep: Vec<bool> = t
            .entries
            .iter()
            .map(|e| {
                e.status != crate::tree::Status::Unchanged
                    || e.totals.is_some_and(|x| x.changes() > 0)
            })
            .collect();
        m.rebuild_order(&t, Some(&keep), DiffSort::default());
        assert_eq!(names(&t, &m), ["/a", " /a/y", "/b", "/c", " /c/w"]);
        m.toggle(&t, 3);
        assert_eq!(names(&t, &m), ["/a", " /a/y", "/b", "/c"]);
        assert_eq!(m.selected, 3);
        let w = t.entries.iter().position(|e| e.path == "/c/w").expect("w") as u32;
        assert!(m.reveal(&t, w));
        assert_eq!(m.selected_idx(), Some(w));
        assert_eq!(m.parent_row(&t, m.selected), Some(3));
        m.move_by(-10);
        assert_eq!((m.selected, m.scroll), (0, 0));
        m.end();
        assert_eq!((m.selected, m.scroll), (4, 2));
        m.collapse_from_depth(&t, 0);
        assert_eq!(names(&t, &m), ["/a", "/b", "/c"]);
        assert_eq!(m.selected, 2, "the cursor moves to the collapsed ancestor");
    }
}
