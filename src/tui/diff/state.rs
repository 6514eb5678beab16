//! `DiffState`: everything the diff mode shows, changed only by
//! [`super::update::update`]. Reuses the explorer's filter (regex, size,
//! status toggles), prompts and config; the tree model is [`DiffTree`].

use std::sync::Arc;

use ratatui::layout::Rect;

use super::entries::{shown_size, DiffSort, DiffTree};
use super::pair::{ContentDiff, ImagePair};
use crate::diff::PathFilter;
use crate::load::Progress;
use crate::tree::Status;
use crate::tui::config::{Config, Theme};
use crate::tui::state::{Filter, Prompt, Search};
use crate::tui::table::scroll_to_show;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFocus {
    Layers,
    Tree,
}

/// The line-diff viewer.
#[derive(Debug, Clone)]
pub struct ContentView {
    pub idx: u32,
    pub result: Option<Result<ContentDiff, String>>,
    pub scroll: usize,
}

#[derive(Debug, Clone)]
pub enum DiffPopup {
    Help { scroll: usize },
    Details { idx: u32, scroll: usize },
    Content(Box<ContentView>),
    Summary { scroll: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffEffect {
    /// Compare the two versions of an entry's content.
    ReadDiff {
        idx: u32,
    },
    Clipboard(String),
}

/// Screen regions of the last layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffAreas {
    pub title: Rect,
    pub old_layers: Rect,
    pub new_layers: Rect,
    pub layer_details: Rect,
    pub summary: Rect,
    pub tree: Rect,
    pub status: Rect,
}

pub struct DiffState {
    pub old_path: String,
    pub new_path: String,
    pub progress: [Arc<Progress>; 2],
    pub data: Option<Arc<ImagePair>>,
    pub load_error: Option<crate::Error>,
    pub config: Config,
    pub focus: DiffFocus,
    /// Selected row of the side-by-side layer table.
    pub layer: usize,
    pub layer_scroll: usize,
    pub layers_height: usize,
    pub sort: DiffSort,
    pub filter: Filter,
    /// `--path` globs from the command line (fixed).
    pub paths: Option<PathFilter>,
    pub paths_text: String,
    pub search: Search,
    pub tree: DiffTree,
    pub popup: Option<DiffPopup>,
    pub prompt: Option<Prompt>,
    pub message: Option<String>,
    pub areas: DiffAreas,
    /// The whole screen at the last resize (empty until the first).
    pub screen: Rect,
    pub effects: Vec<DiffEffect>,
    pub quit: bool,
    pub expand_depth: u16,
}

impl DiffState {
    pub fn new(
        old_path: String,
        new_path: String,
        progress: [Arc<Progress>; 2],
        config: Config,
    ) -> DiffState {
        let mut filter = Filter::default();
        // A diff is about what changed: unchanged paths start hidden (5 shows them).
        filter.statuses[4] = false;
        // The config file's warnings (a key taken from another action)
        // greet the user on the status line.
        let message = (!config.warnings.is_empty()).then(|| config.warnings.join("; "));
        DiffState {
            old_path,
            new_path,
            progress,
            data: None,
            load_error: None,
            config,
            focus: DiffFocus::Tree,
            layer: 0,
            layer_scroll: 0,
            layers_height: 1,
            sort: DiffSort::default(),
            filter,
            paths: None,
            paths_text: String::new(),
            search: Search::default(),
            tree: DiffTree::default(),
            popup: None,
            prompt: None,
            message,
            areas: DiffAreas::default(),
            screen: Rect::default(),
            effects: Vec::new(),
            quit: false,
            expand_depth: 0,
        }
    }

    /// A ready state over built data (tests).
    pub fn ready(data: ImagePair, config: Config) -> DiffState {
        let old = data.old.image.source.clone();
        let new = data.new_side().image.source.clone();
        let p = || Arc::new(Progress::default());
        let mut s = DiffState::new(old, new, [p(), p()], config);
        s.set_data(Arc::new(data));
        s
    }

    pub fn theme(&self) -> &Theme {
        &self.config.theme
    }

    /// Start with the command line's `--path` globs and `--status` list.
    pub fn set_cli_filter(&mut self, globs: &[String], statuses: &[String]) -> crate::Result<()> {
        if !globs.is_empty() {
            self.paths = Some(PathFilter::new(globs, &[])?);
            self.paths_text = globs.join(",");
        }
        if !statuses.is_empty() {
            // Validates the names; then only the listed statuses are shown.
            PathFilter::new(&[], statuses)?;
            self.filter.statuses = [false; 5];
            for s in statuses.iter().flat_map(|s| s.split(',')) {
                // The toggles follow `Status::ALL`'s order.
                let Some(i) = Status::parse_change(s)
                    .and_then(|st| Status::ALL.iter().position(|&x| x == st))
                else {
                    continue;
                };
                self.filter.statuses[i] = true;
            }
        }
        self.recompute_order();
        Ok(())
    }

    pub fn set_data(&mut self, data: Arc<ImagePair>) {
        self.layer = data
            .diff
            .layers
            .diverge_at
            .unwrap_or(0)
            .min(data.diff.layers.rows.len().saturating_sub(1));
        self.search.forget();
        self.data = Some(data);
        self.recompute_order();
        self.ensure_layer_visible();
    }

    fn filter_active(&self) -> bool {
        self.filter.is_active() || self.paths.is_some()
    }

    /// Which entries stay: passing every filter, or ancestors of such.
    pub fn keep(&self, data: &ImagePair) -> Option<Vec<bool>> {
        if !self.filter_active() {
            return None;
        }
        let f = &self.filter;
        let entries = &data.diff.tree.entries;
        let mut keep = vec![false; entries.len()];
        for (i, e) in entries.iter().enumerate().skip(1) {
            let si = Status::ALL.iter().position(|x| *x == e.status).unwrap_or(4);
            let mut ok = f.statuses[si];
            if ok && f.size.is_some() {
                ok = f.size_ok(shown_size(e), e.is_dir());
            }
            if ok {
                if let Some(re) = &f.regex {
                    ok = if f.fold_case {
                        re.is_match(data.lower(i))
                    } else {
                        re.is_match(&e.path)
                    };
                }
            }
            if ok {
                if let Some(p) = &self.paths {
                    ok = p.matches(e);
                }
            }
            keep[i] = ok;
        }
        for i in (1..entries.len()).rev() {
            if keep[i] {
                if let Some(p) = entries[i].parent {
                    keep[p as usize] = true;
                }
            }
        }
        if let Some(k) = keep.first_mut() {
            *k = true;
        }
        Some(keep)
    }

    /// Filter or sort changed.
    pub fn recompute_order(&mut self) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let keep = self.keep(&data);
        self.tree
            .rebuild_order(&data.diff.tree, keep.as_deref(), self.sort);
        self.recompute_search();
    }

    pub fn recompute_search(&mut self) {
        let Some(data) = self.data.clone() else {
            self.search.matches.clear();
            self.search.current = None;
            return;
        };
        let here = self
            .tree
            .selected_idx()
            .and_then(|i| self.tree.order_index(i))
            .unwrap_or(0);
        self.search.refresh(&self.tree, data.as_ref(), Some(here));
    }

    pub fn selected_entry(&self) -> Option<u32> {
        self.tree.selected_idx()
    }

    pub fn layer_rows(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.diff.layers.rows.len())
    }

    pub fn ensure_layer_visible(&mut self) {
        self.layer_scroll = scroll_to_show(
            self.layer,
            self.layer_scroll,
            self.layers_height,
            self.layer_rows(),
        );
    }
}
