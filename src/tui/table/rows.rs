//! The rows of a tree table, knowing nothing of what the keys name: a
//! depth-first order of [`Entry`]s keyed by `u32` (a node id or an entry
//! index), the rows left visible once collapsed subtrees are skipped, and
//! the cursor and scroll over them. Parents come from a [`Parents`] source.

use std::collections::HashSet;

/// One entry of a depth-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What the entry names (node id or entry index).
    pub key: u32,
    /// Depth below the top level (top-level entries: 0).
    pub depth: u16,
    /// Index in the order just past this entry's subtree.
    pub end: u32,
}

/// Where the parent of a key is found (None at the top level).
pub trait Parents {
    fn parent_of(&self, key: u32) -> Option<u32>;
}

/// Order, visible rows, collapsed set and cursor.
#[derive(Debug, Default)]
pub struct VisibleRows {
    /// Depth-first order of the entries passing the filter (root excluded).
    pub order: Vec<Entry>,
    /// Index in `order` of each key (u32::MAX: not in the order).
    pos: Vec<u32>,
    /// Visible rows: indices into `order`.
    pub rows: Vec<u32>,
    /// Collapsed directories (keys).
    pub collapsed: HashSet<u32>,
    /// Cursor: index into `rows`.
    pub selected: usize,
    /// First row drawn.
    pub scroll: usize,
    /// Rows the pane showed last (for paging).
    pub height: usize,
}

impl VisibleRows {
    /// Set the order to `full` narrowed to the entries `keep` accepts
    /// (ancestors of kept entries must be kept too, so depths stay valid;
    /// only the subtree ends change), over `keys` possible keys.
    pub fn set_order(&mut self, full: &[Entry], keep: Option<&[bool]>, keys: usize) {
        if self.pos.len() != keys {
            self.pos = vec![u32::MAX; keys];
        } else {
            self.pos.iter_mut().for_each(|p| *p = u32::MAX);
        }
        self.order.clear();
        match keep {
            None => self.order.extend_from_slice(full),
            Some(k) => {
                let mut open: Vec<usize> = Vec::new();
                for e in full.iter().filter(|e| k[e.key as usize]) {
                    let idx = self.order.len();
                    close_ends(&mut self.order, &mut open, e.depth, idx);
                    let mut e = *e;
                    e.end = idx as u32 + 1;
                    self.order.push(e);
                    open.push(idx);
                }
                let total = self.order.len() as u32;
                for i in open {
                    self.order[i].end = total;
                }
            }
        }
        for (i, e) in self.order.iter().enumerate() {
            self.pos[e.key as usize] = i as u32;
        }
    }

    /// Recompute the visible rows after a collapse change, keeping the
    /// cursor on `keep_on` (or its nearest shown ancestor).
    pub fn rebuild_rows<P: Parents + ?Sized>(&mut self, parents: &P, keep_on: Option<u32>) {
        self.rows.clear();
        if self.collapsed.is_empty() {
            self.rows.extend(0..self.order.len() as u32);
        } else {
            let mut i = 0usize;
            while i < self.order.len() {
                self.rows.push(i as u32);
                let e = self.order[i];
                // Only entries with children can hide anything: leaves
                // (most rows) skip the set lookup.
                let end = e.end as usize;
                i = if end > i + 1 && self.collapsed.contains(&e.key) {
                    end
                } else {
                    i + 1
                };
            }
        }
        self.selected = 0;
        let mut cur = keep_on;
        while let Some(key) = cur {
            if let Some(r) = self.row_of(key) {
                self.selected = r;
                break;
            }
            cur = parents.parent_of(key);
        }
        self.clamp();
    }

    /// The row showing `key`, if visible. Binary search: rows are increasing.
    pub fn row_of(&self, key: u32) -> Option<usize> {
        let p = *self.pos.get(key as usize)?;
        if p == u32::MAX {
            return None;
        }
        self.rows.binary_search(&p).ok()
    }

    /// Is the key in the current order (passes view and filter)?
    pub fn contains(&self, key: u32) -> bool {
        self.pos.get(key as usize).is_some_and(|&p| p != u32::MAX)
    }

    pub fn order_index(&self, key: u32) -> Option<usize> {
        self.pos
            .get(key as usize)
            .filter(|&&p| p != u32::MAX)
            .map(|&p| p as usize)
    }

    pub fn entry(&self, row: usize) -> Option<Entry> {
        self.rows.get(row).map(|&i| self.order[i as usize])
    }

    /// The key under the cursor.
    pub fn selected_key(&self) -> Option<u32> {
        self.entry(self.selected).map(|e| e.key)
    }

    /// The rows a pane `height` rows tall shows from the scroll offset.
    pub fn shown(&self, height: usize) -> std::ops::Range<usize> {
        self.scroll..(self.scroll + height).min(self.rows.len())
    }

    /// Does the row's entry have children in the order?
    pub fn has_children(&self, row: usize) -> bool {
        self.rows
            .get(row)
            .is_some_and(|&i| self.order[i as usize].end > i + 1)
    }

    fn clamp(&mut self) {
        if self.rows.is_empty() {
            self.selected = 0;
            self.scroll = 0;
            return;
        }
        self.selected = self.selected.min(self.rows.len() - 1);
        self.ensure_visible();
    }

    /// After a jump (a search match): if the cursor landed off screen or
    /// on its last row, scroll so it sits a third of the way down, with
    /// what follows it in view.
    pub fn scroll_for_jump(&mut self) {
        let h = self.height.max(1);
        if self.selected < self.scroll || self.selected + 1 >= self.scroll + h {
            self.scroll = self
                .selected
                .saturating_sub(h / 3)
                .min(self.rows.len().saturating_sub(h));
        }
    }

    /// Scroll so the cursor is on screen.
    pub fn ensure_visible(&mut self) {
        self.scroll = scroll_to_show(self.selected, self.scroll, self.height, self.rows.len());
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
        self.ensure_visible();
    }

    pub fn page(&mut self, pages: isize) {
        self.move_by(pages * self.height.max(1) as isize);
    }

    pub fn home(&mut self) {
        self.selected = 0;
        self.ensure_visible();
    }

    pub fn end(&mut self) {
        self.selected = self.rows.len().saturating_sub(1);
        self.ensure_visible();
    }

    /// Scroll the view without moving the cursor off screen (mouse wheel).
    pub fn scroll_by(&mut self, delta: isize) {
        let h = self.height.max(1);
        let max_scroll = self.rows.len().saturating_sub(h) as isize;
        self.scroll = (self.scroll as isize + delta).clamp(0, max_scroll.max(0)) as usize;
        if self.selected < self.scroll {
            self.selected = self.scroll;
        } else if self.selected >= self.scroll + h {
            self.selected = self.scroll + h - 1;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// Collapse or expand the directory at `row`.
    pub fn toggle<P: Parents + ?Sized>(&mut self, parents: &P, row: usize) {
        let Some(e) = self.entry(row) else { return };
        if !self.collapsed.remove(&e.key) {
            if !self.has_children(row) {
                return;
            }
            self.collapsed.insert(e.key);
        }
        self.rebuild_rows(parents, Some(e.key));
    }

    pub fn set_collapsed<P: Parents + ?Sized>(&mut self, parents: &P, row: usize, collapse: bool) {
        let Some(e) = self.entry(row) else { return };
        let changed = if collapse {
            self.has_children(row) && self.collapsed.insert(e.key)
        } else {
            self.collapsed.remove(&e.key)
        };
        if changed {
            self.rebuild_rows(parents, Some(e.key));
        }
    }

    /// Collapse every directory at depth `depth` or deeper (0: all).
    pub fn collapse_from_depth<P: Parents + ?Sized>(&mut self, parents: &P, depth: u16) {
        let keep = self.selected_key();
        self.collapsed.clear();
        for (i, e) in self.order.iter().enumerate() {
            if e.depth >= depth && e.end as usize > i + 1 {
                self.collapsed.insert(e.key);
            }
        }
        self.rebuild_rows(parents, keep);
    }

    pub fn expand_all<P: Parents + ?Sized>(&mut self, parents: &P) {
        let keep = self.selected_key();
        self.collapsed.clear();
        self.rebuild_rows(parents, keep);
    }

    /// Collapse the directory at `row`; when it is collapsed already or
    /// not a directory, move the cursor to its parent instead.
    pub fn collapse_or_parent<P: Parents + ?Sized>(&mut self, parents: &P, row: usize) {
        let collapsed = self
            .selected_key()
            .is_some_and(|k| self.collapsed.contains(&k));
        if self.has_children(row) && !collapsed {
            self.set_collapsed(parents, row, true);
        } else if let Some(p) = self.parent_row(parents, row) {
            self.selected = p;
            self.ensure_visible();
        }
    }

    /// Expand to one level deeper than `depth` (back to 1 past the
    /// deepest entry); returns the new depth.
    pub fn expand_deeper<P: Parents + ?Sized>(&mut self, parents: &P, depth: u16) -> u16 {
        let max = self.order.iter().map(|e| e.depth).max().unwrap_or(0);
        let depth = if depth > max { 1 } else { depth + 1 };
        self.collapse_from_depth(parents, depth);
        depth
    }

    /// A click on `row`: put the cursor there and toggle a directory.
    pub fn click<P: Parents + ?Sized>(&mut self, parents: &P, row: usize) {
        self.selected = row;
        self.ensure_visible();
        if self.has_children(row) {
            self.toggle(parents, row);
        }
    }

    /// Expand the ancestors of `key` and put the cursor on it; false when
    /// the key is not in the order (outside the view, or filtered out).
    pub fn reveal<P: Parents + ?Sized>(&mut self, parents: &P, key: u32) -> bool {
        if !self.contains(key) {
            return false;
        }
        let mut changed = false;
        let mut p = parents.parent_of(key);
        while let Some(a) = p {
            changed |= self.collapsed.remove(&a);
            p = parents.parent_of(a);
        }
        if changed {
            self.rebuild_rows(parents, Some(key));
        } else if let Some(r) = self.row_of(key) {
            self.selected = r;
            self.ensure_visible();
        }
        true
    }

    /// The row's parent directory row.
    pub fn parent_row<P: Parents + ?Sized>(&self, parents: &P, row: usize) -> Option<usize> {
        let e = self.entry(row)?;
        self.row_of(parents.parent_of(e.key)?)
    }
}

/// The scroll offset, moved from `scroll` as little as needed, that shows
/// row `selected` of `len` rows in a pane `height` rows tall.
pub fn scroll_to_show(selected: usize, scroll: usize, height: usize, len: usize) -> usize {
    let h = height.max(1);
    let scroll = if selected < scroll {
        selected
    } else if selected >= scroll + h {
        selected + 1 - h
    } else {
        scroll
    };
    scroll.min(len.saturating_sub(h))
}

/// Close the open subtrees at `depth` or deeper: they end at `idx`.
pub fn close_ends(order: &mut [Entry], open: &mut Vec<usize>, depth: u16, idx: usize) {
    while let Some(&i) = open.last() {
        if order[i].depth >= depth {
            order[i].end = idx as u32;
            open.pop();
        } else {
            break;
        }
    }
}
