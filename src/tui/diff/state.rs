//! `DiffState`: everything the diff explorer shows, changed only by
//! [`crate::tui::host::update`]. The tree is the shared tree table over the
//! diff's entries ([`EntryRows`]); prompts, focus, the layer cursor and
//! the config work as in the explorer.

use std::sync::Arc;

use super::entries::{EntryOrders, Sort};
use super::pair::{ContentDiff, ContentError, ImagePair};
use crate::diff::PathFilter;
use crate::load::Progress;
use crate::tree::Status;
use crate::tui::config::{Action, Config, Theme};
use crate::tui::host::{Focus, Ui};
use crate::tui::table::{Filter, TreeTable};

/// The line-diff viewer.
#[derive(Debug, Clone)]
pub struct ContentView {
    pub idx: u32,
    pub result: Option<Result<ContentDiff, ContentError>>,
    pub scroll: usize,
}

#[derive(Debug, Clone)]
pub enum DiffPopup {
    Help { scroll: usize },
    Details { idx: u32, scroll: usize },
    Content(Box<ContentView>),
    Summary { scroll: usize },
}

impl DiffPopup {
    /// The action whose keys open the popup (and close it again).
    pub fn opener(&self) -> Action {
        match self {
            DiffPopup::Help { .. } => Action::Help,
            DiffPopup::Details { .. } => Action::Details,
            DiffPopup::Content(_) => Action::Content,
            DiffPopup::Summary { .. } => Action::ImageDetails,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffEffect {
    /// Compare the two versions of an entry's content.
    ReadDiff {
        idx: u32,
    },
    Clipboard(String),
}

/// The diff's tree table.
pub type EntryTable = TreeTable<Sort, EntryOrders>;

pub struct DiffState {
    pub old_path: String,
    pub new_path: String,
    pub progress: [Arc<Progress>; 2],
    pub data: Option<Arc<ImagePair>>,
    /// Config, focus, layer cursor (the side-by-side layer table),
    /// prompt, message, layout, quit.
    pub ui: Ui,
    /// `--path` globs from the command line (fixed).
    pub paths: Option<PathFilter>,
    pub paths_text: String,
    /// The merged tree: sort, filter, search, rows and cursor.
    pub tree: EntryTable,
    pub popup: Option<DiffPopup>,
    pub effects: Vec<DiffEffect>,
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
        DiffState {
            old_path,
            new_path,
            progress,
            data: None,
            ui: Ui::new(config, Focus::Tree),
            paths: None,
            paths_text: String::new(),
            tree: TreeTable::new(Sort::default(), filter),
            popup: None,
            effects: Vec::new(),
        }
    }

    /// A ready state over built data (tests).
    pub fn ready(data: ImagePair, config: Config) -> DiffState {
        let old = data.old.image.source.clone();
        let new = data.new_side().image.source.clone();
        let p = || Arc::new(Progress::default());
        let mut s = DiffState::new(old, new, [p(), p()], config);
        crate::tui::host::loaded(&mut s, Arc::new(data));
        s
    }

    pub fn theme(&self) -> &Theme {
        &self.ui.config.theme
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
            let shown = &mut self.tree.filter.statuses;
            *shown = [false; 5];
            for s in statuses.iter().flat_map(|s| s.split(',')) {
                // The toggles follow `Status::ALL`'s order.
                let Some(i) = Status::parse_change(s)
                    .and_then(|st| Status::ALL.iter().position(|&x| x == st))
                else {
                    continue;
                };
                shown[i] = true;
            }
        }
        self.recompute_order();
        Ok(())
    }

    /// New data: the first layer where the sides diverge selected, the
    /// rows built (the host then applies the config's starting depth).
    pub fn set_data(&mut self, data: Arc<ImagePair>) {
        self.ui.layers.selected = data
            .diff
            .layers
            .diverge_at
            .unwrap_or(0)
            .min(data.diff.layers.rows.len().saturating_sub(1));
        self.tree.forget();
        self.data = Some(data);
        self.recompute_order();
    }

    /// Filter or sort changed.
    pub fn recompute_order(&mut self) {
        crate::tui::host::rebuild(self);
    }

    pub fn selected_entry(&self) -> Option<u32> {
        self.tree.selected_key()
    }

    pub fn layer_rows(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.diff.layers.rows.len())
    }

    pub fn ensure_layer_visible(&mut self) {
        let n = self.layer_rows();
        self.ui.layers.ensure_visible(n);
    }
}
