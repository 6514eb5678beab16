//! The tree table both explorers show: [`TreeTable`] owns the sort, the
//! filters, the search, the order cache, the visible rows and the cursor,
//! and does the navigation, collapsing, revealing and filtering the
//! explorer and the diff explorer share. What the rows are comes from a
//! [`RowSource`]: the explorer's nodes in one layer view
//! ([`super::layer_view::LayerRows`]) or the diff's entries
//! ([`super::diff::entries::EntryRows`]). Work is staged so each step runs
//! only when its inputs change: the source's sorted order (on a view or
//! sort change), the order narrowed by the filter (on a filter change),
//! the visible rows (on a collapse change); moving the cursor rebuilds
//! nothing. No ratatui here: the pane is drawn by [`super::view::table`].

pub mod filter;
pub mod rows;
#[cfg(test)]
pub(crate) mod testing;

use std::ops::{Deref, DerefMut};

use super::config::Action;
use crate::tree::Status;
pub use filter::{has_upper, Filter, KeyMemo, Search};
pub use rows::{Entry, Parents, VisibleRows};

/// How a table sorts: the key cycles and the direction flips.
pub trait TableSort: Copy + PartialEq + std::fmt::Debug {
    /// The next sort key, in the direction that key is wanted first.
    fn next_key(self) -> Self;
    fn reversed(self) -> Self;
    /// As the pane's title shows it (`size ↓`).
    fn label(self) -> String;
}

/// The keys a table sorts by, in the order `s` cycles through them.
pub trait SortKeys: Copy + PartialEq + std::fmt::Debug {
    fn next(self) -> Self;
    /// Is it wanted descending when switched to (biggest first)?
    fn descending_first(self) -> bool;
    fn name(self) -> &'static str;
}

/// A sort key and direction; children are sorted per directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort<K> {
    pub key: K,
    pub descending: bool,
}

impl<K: SortKeys> TableSort for Sort<K> {
    fn next_key(self) -> Self {
        let key = self.key.next();
        Sort {
            key,
            descending: key.descending_first(),
        }
    }
    fn reversed(self) -> Self {
        Sort {
            descending: !self.descending,
            ..self
        }
    }
    fn label(self) -> String {
        let arrow = if self.descending { "↓" } else { "↑" };
        format!("{} {arrow}", self.key.name())
    }
}

/// What a tree table needs of its rows. Keys are `u32` below
/// [`RowSource::keys`]; key 0 is the root, never a row; a key's parent
/// comes before it.
pub trait RowSource: Parents {
    type Sort: TableSort;
    /// The source's cache of sorted orders, kept by the table.
    type Orders: Default;
    /// How many keys there are.
    fn keys(&self) -> usize;
    /// Is the key in the view before any filter?
    fn in_view(&self, key: u32) -> bool;
    /// The key's status in the view (None: untouched).
    fn status(&self, key: u32) -> Option<Status>;
    /// The bytes the size filter judges.
    fn size(&self, key: u32) -> u64;
    /// Is the key a directory (the size filter passes files only)?
    fn is_dir(&self, key: u32) -> bool;
    /// The absolute path (lossy UTF-8).
    fn path(&self, key: u32) -> &str;
    /// The path lower-cased, for case-insensitive search and filters.
    fn lower(&self, key: u32) -> &str;
    /// The key at an absolute path (`:` jumps there).
    fn find(&self, path: &str) -> Option<u32>;
    /// Did the key's versions ship bytes the final tree lacks (`w`)?
    fn wasted(&self, _key: u32) -> bool {
        false
    }
    /// Is a filter of the source's own set (the diff's `--path` globs)?
    fn own_filter(&self) -> bool {
        false
    }
    /// Does the key pass that filter?
    fn passes_own_filter(&self, _key: u32) -> bool {
        true
    }
    /// The depth-first order of the view for `sort` (root excluded), made
    /// or reused from `orders`, with the mask narrowing it to the view
    /// (None: it holds only the view).
    fn order<'a>(
        &'a self,
        orders: &'a mut Self::Orders,
        sort: Self::Sort,
    ) -> (&'a [Entry], Option<&'a [bool]>);
}

/// What [`TreeTable::act`] did with an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Not a table action.
    No,
    Done,
    /// Done; the table wants the focus (collapse, expand, a search match).
    Focus,
    /// `enter` on a leaf: show its details.
    Details,
    /// Done, with a message for the status line.
    Message(String),
}

/// One tree table: sort, filter, search, the cached orders of the source
/// `C`, and the visible rows with the cursor (reached through `Deref`).
#[derive(Debug, Default)]
pub struct TreeTable<So, C> {
    pub sort: So,
    pub filter: Filter,
    pub search: Search,
    /// Which paths the filter regex matched.
    filter_hits: KeyMemo,
    orders: C,
    rows: VisibleRows,
    /// Depth of the last "expand to depth".
    pub expand_depth: u16,
}

impl<So, C> Deref for TreeTable<So, C> {
    type Target = VisibleRows;
    fn deref(&self) -> &VisibleRows {
        &self.rows
    }
}

impl<So, C> DerefMut for TreeTable<So, C> {
    fn deref_mut(&mut self) -> &mut VisibleRows {
        &mut self.rows
    }
}

impl<So: TableSort, C: Default> TreeTable<So, C> {
    pub fn new(sort: So, filter: Filter) -> Self {
        TreeTable {
            sort,
            filter,
            search: Search::default(),
            filter_hits: KeyMemo::default(),
            orders: C::default(),
            rows: VisibleRows::default(),
            expand_depth: 0,
        }
    }

    /// New data: forget what was remembered about its keys.
    pub fn forget(&mut self) {
        self.search.forget();
        self.filter_hits.clear();
        self.orders = C::default();
    }

    /// The view, the filter or the sort changed: narrow the source's order
    /// to what passes, rebuild the rows (keeping the cursor on its key or
    /// the nearest shown ancestor) and the search matches.
    pub fn rebuild<S: RowSource<Sort = So, Orders = C>>(&mut self, src: &S) {
        let keep = self.filter.keep(src, &mut self.filter_hits);
        let was = self.rows.selected_key();
        let (full, in_view) = src.order(&mut self.orders, self.sort);
        self.rows
            .set_order(full, keep.as_deref().or(in_view), src.keys());
        self.rows.rebuild_rows(src, was);
        self.refresh_search(src);
    }

    /// Recompute the search matches (the query changed).
    pub fn refresh_search<S: RowSource>(&mut self, src: &S) {
        let here = self
            .rows
            .selected_key()
            .map(|k| self.rows.order_index(k).unwrap_or(0));
        self.search.refresh(&self.rows, src, here);
    }

    /// Move to the search match `step` away from the current one (0: the
    /// nearest at or after the cursor) and reveal it; false without one.
    pub fn jump_to_match<S: RowSource>(&mut self, src: &S, step: isize) -> bool {
        let n = self.search.matches.len();
        if n == 0 {
            return false;
        }
        let i = match (self.search.current, step) {
            (None, _) => 0,
            (Some(c), 0) => c,
            (Some(c), d) => (c as isize + d).rem_euclid(n as isize) as usize,
        };
        self.search.current = Some(i);
        let key = self.search.matches[i];
        let shown = self.rows.reveal(src, key);
        if shown {
            // A match is read with what follows it, not on the last row.
            self.rows.scroll_for_jump();
        }
        shown
    }

    /// Show the row at `path`, or say why not.
    pub fn jump_to_path<S: RowSource>(&mut self, src: &S, text: &str) -> Result<(), String> {
        let Some(key) = src.find(text.trim()).filter(|&k| k != 0) else {
            return Err(format!("no such path: {}", text.trim()));
        };
        if self.rows.reveal(src, key) {
            Ok(())
        } else if src.in_view(key) {
            Err(format!("{} is hidden by the filter", src.path(key)))
        } else {
            Err(format!("{} is not in this view", src.path(key)))
        }
    }

    /// Do a table action on the rows (movement, collapsing, status and
    /// waste filters, sorting, stepping through matches).
    pub fn act<S: RowSource<Sort = So, Orders = C>>(&mut self, src: &S, a: Action) -> Acted {
        let row = self.rows.selected;
        let rows = &mut self.rows;
        match a {
            Action::Up => rows.move_by(-1),
            Action::Down => rows.move_by(1),
            Action::PageUp => rows.page(-1),
            Action::PageDown => rows.page(1),
            Action::Home => rows.home(),
            Action::End => rows.end(),
            Action::Collapse => {
                rows.collapse_or_parent(src, row);
                return Acted::Focus;
            }
            Action::Expand => {
                rows.set_collapsed(src, row, false);
                return Acted::Focus;
            }
            Action::Toggle => rows.toggle(src, row),
            Action::Open => {
                if !rows.has_children(row) {
                    return Acted::Details;
                }
                rows.toggle(src, row);
            }
            Action::CollapseAll => {
                self.expand_depth = 0;
                rows.collapse_from_depth(src, 0);
            }
            Action::ExpandAll => rows.expand_all(src),
            Action::ExpandDepth => {
                self.expand_depth = rows.expand_deeper(src, self.expand_depth);
                return Acted::Message(format!("expanded to depth {}", self.expand_depth));
            }
            Action::NextMatch | Action::PrevMatch => {
                let step = if a == Action::NextMatch { 1 } else { -1 };
                return if self.jump_to_match(src, step) {
                    Acted::Focus
                } else {
                    Acted::Done
                };
            }
            Action::ToggleAdded
            | Action::ToggleModified
            | Action::ToggleDeleted
            | Action::ToggleMetadata
            | Action::ToggleUnchanged => {
                let i = match a {
                    Action::ToggleAdded => 0,
                    Action::ToggleModified => 1,
                    Action::ToggleDeleted => 2,
                    Action::ToggleMetadata => 3,
                    _ => 4,
                };
                self.filter.statuses[i] = !self.filter.statuses[i];
                self.rebuild(src);
            }
            Action::OnlyWasted => {
                self.filter.only_wasted = !self.filter.only_wasted;
                self.rebuild(src);
            }
            Action::ClearFilters => {
                // Everything shown, unchanged paths included.
                self.filter = Filter::default();
                self.search = Search::default();
                self.rebuild(src);
            }
            Action::SortKey => {
                self.sort = self.sort.next_key();
                self.rebuild(src);
            }
            Action::SortDirection => {
                self.sort = self.sort.reversed();
                self.rebuild(src);
            }
            _ => return Acted::No,
        }
        Acted::Done
    }
}
