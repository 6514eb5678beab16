//! The diff explorer's rows: the entries of a [`TreeDiff`] (indices,
//! parents by index; entry 0 is the root), sorted per directory by name,
//! size or size change, with the command line's `--path` globs as a filter
//! of their own. [`EntryRows`] is the diff's [`RowSource`]; the sorted
//! order is cached per sort in [`EntryOrders`].

use super::pair::ImagePair;
use crate::diff::{Entry as DiffEntry, PathFilter, TreeDiff};
use crate::tree::Status;
use crate::tui::table::rows::close_ends;
use crate::tui::table::{Entry, Parents, RowSource, SortKeys};

/// What the diff's table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    /// The larger of the old and new size.
    Size,
    /// The size change, either way.
    Delta,
}

impl SortKeys for SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Size,
            SortKey::Size => SortKey::Delta,
            SortKey::Delta => SortKey::Name,
        }
    }
    fn descending_first(self) -> bool {
        self != SortKey::Name
    }
    fn name(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Delta => "Δ",
        }
    }
}

/// How children are ordered inside each directory.
pub type Sort = crate::tui::table::Sort<SortKey>;

/// Bytes an entry shows (the larger side).
pub fn shown_size(e: &DiffEntry) -> u64 {
    e.old_bytes().max(e.new_bytes())
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

fn full_order(t: &TreeDiff, sort: Sort) -> Vec<Entry> {
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
                SortKey::Name => 0,
                SortKey::Size => shown_size(e),
                SortKey::Delta => e.delta().unsigned_abs(),
            }
        };
        if sort.key != SortKey::Name {
            // Stable: equal keys stay in name order.
            s.sort_by_key(key);
        }
        if sort.descending {
            s.reverse();
        }
    }
    let mut order: Vec<Entry> = Vec::with_capacity(n.saturating_sub(1));
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
        order.push(Entry {
            key: i,
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

/// The diff's depth-first order for the last sort asked.
#[derive(Debug, Default)]
pub struct EntryOrders {
    full: Vec<Entry>,
    full_key: Option<Sort>,
}

impl EntryOrders {
    /// The depth-first order of `t` for `sort` (root excluded), made on
    /// a sort change.
    pub fn order(&mut self, t: &TreeDiff, sort: Sort) -> &[Entry] {
        if self.full_key != Some(sort) || self.full.len() + 1 != t.entries.len().max(1) {
            self.full = full_order(t, sort);
            self.full_key = Some(sort);
        }
        &self.full
    }
}

/// The diff explorer's rows: the entries of both merged trees.
#[derive(Debug, Clone, Copy)]
pub struct EntryRows<'a> {
    pub data: &'a ImagePair,
    /// `--path` globs from the command line.
    pub paths: Option<&'a PathFilter>,
}

impl Parents for EntryRows<'_> {
    fn parent_of(&self, idx: u32) -> Option<u32> {
        self.data.diff.tree.parent_of(idx)
    }
}

impl RowSource for EntryRows<'_> {
    type Sort = Sort;
    type Orders = EntryOrders;
    fn keys(&self) -> usize {
        self.data.len()
    }
    fn in_view(&self, _idx: u32) -> bool {
        true
    }
    fn status(&self, idx: u32) -> Option<Status> {
        self.data.entry(idx).map(|e| e.status)
    }
    fn size(&self, idx: u32) -> u64 {
        self.data.entry(idx).map_or(0, shown_size)
    }
    fn is_dir(&self, idx: u32) -> bool {
        self.data.entry(idx).is_some_and(|e| e.is_dir())
    }
    fn path(&self, idx: u32) -> &str {
        self.data.entry(idx).map_or("", |e| e.path.as_str())
    }
    fn lower(&self, idx: u32) -> &str {
        self.data.lower(idx as usize)
    }
    fn find(&self, path: &str) -> Option<u32> {
        self.data.find(path)
    }
    fn own_filter(&self) -> bool {
        self.paths.is_some()
    }
    fn passes_own_filter(&self, idx: u32) -> bool {
        match (self.paths, self.data.entry(idx)) {
            (Some(p), Some(e)) => p.matches(e),
            _ => true,
        }
    }
    fn order<'a>(
        &'a self,
        orders: &'a mut EntryOrders,
        sort: Sort,
    ) -> (&'a [Entry], Option<&'a [bool]>) {
        (orders.order(&self.data.diff.tree, sort), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff_trees_with, TreeOptions};
    use crate::layer::Kind;
    use crate::tui::table::testing::{raw as e, replay as tree, Model};

    /// The order cache and the rows, as a tree table keeps them.
    type DiffTree = Model<EntryOrders>;

    impl DiffTree {
        fn rebuild_order(&mut self, t: &TreeDiff, keep: Option<&[bool]>, sort: Sort) {
            let was = self.vis.selected_key();
            let full = self.orders.order(t, sort);
            self.vis.set_order(full, keep, t.entries.len());
            self.vis.rebuild_rows(t, was);
        }
    }

    /// old: a/x(5) a/y(50) b(20) c/d/z(1); new: a/x(5) a/y(70) c/d/z(1) c/w(300)
    fn model(sort: Sort) -> (TreeDiff, DiffTree) {
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
                let p = &t.entries[row.key as usize].path;
                format!("{}{p}", " ".repeat(row.depth as usize))
            })
            .collect()
    }

    #[test]
    fn order_follows_the_entries_and_subtree_ends() {
        let (t, m) = model(Sort::default());
        assert_eq!(
            names(&t, &m),
            ["/a", " /a/x", " /a/y", "/b", "/c", " /c/d", "  /c/d/z", " /c/w"]
        );
        assert_eq!(m.order[0].end, 3);
        assert_eq!(m.order[4].end, 8);
    }

    #[test]
    fn sorts_by_size_and_by_change_per_directory() {
        let by = |key| Sort {
            key,
            descending: true,
        };
        let (t, m) = model(by(SortKey::Size));
        assert_eq!(
            names(&t, &m),
            ["/c", " /c/w", " /c/d", "  /c/d/z", "/a", " /a/y", " /a/x", "/b"]
        );
        let (t, m) = model(by(SortKey::Delta));
        // c +300, a +20, b -20: equal changes keep name order (reversed).
        assert_eq!(names(&t, &m)[0], "/c");
        assert_eq!(names(&t, &m)[4], "/b");
        assert_eq!(names(&t, &m)[5], "/a");
    }

    #[test]
    fn filter_collapse_reveal_and_cursor() {
        let (t, mut m) = model(Sort::default());
        // Keep only changed entries and their parents.
        let keep: Vec<bool> = t
            .entries
            .iter()
            .map(|e| {
                e.status != crate::tree::Status::Unchanged
                    || e.totals.is_some_and(|x| x.changes() > 0)
            })
            .collect();
        m.rebuild_order(&t, Some(&keep), Sort::default());
        assert_eq!(names(&t, &m), ["/a", " /a/y", "/b", "/c", " /c/w"]);
        m.toggle(&t, 3);
        assert_eq!(names(&t, &m), ["/a", " /a/y", "/b", "/c"]);
        assert_eq!(m.selected, 3);
        let w = t.entries.iter().position(|e| e.path == "/c/w").expect("w") as u32;
        assert!(m.reveal(&t, w));
        assert_eq!(m.selected_key(), Some(w));
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
