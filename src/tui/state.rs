//! `AppState`: everything the explorer shows, changed only by
//! [`super::host::update`]. View state (collapse, filters, cursor) lives
//! here keyed by `NodeId`, never in the core tree.

use std::sync::Arc;

use super::config::{Action, Config, Theme};
use super::host::Ui;
use super::image_data::ImageData;
use super::layer_view::{LayerOrders, Sort, SortKey, ViewInfo, ViewMode};
use super::table::{Filter, TreeTable};
use crate::content::Window;
use crate::load::Progress;
use crate::tree::NodeId;

pub use super::host::Focus;

/// The content viewer.
#[derive(Debug, Clone)]
pub struct ContentView {
    /// The file whose bytes are read (a symlink's target, followed).
    pub id: NodeId,
    /// The state it is read in (the last one with content, when deleted).
    pub layer: usize,
    /// Where the bytes come from: the chain followed, the shipping layer.
    pub source: crate::content::Source,
    pub offset: u64,
    /// The window, or why it could not be read (the core's error, shared
    /// so the state stays `Clone`; made text only by the view).
    pub window: Option<Result<Window, Arc<crate::Error>>>,
    pub hex: bool,
    pub scroll: usize,
    /// Scroll to the window's end when it arrives (`G` / End).
    pub to_end: bool,
}

impl ContentView {
    /// How many lines the viewer makes of its window (text or hex).
    pub fn line_count(&self) -> usize {
        match &self.window {
            Some(Ok(w)) if self.hex => w.bytes.len().div_ceil(16),
            Some(Ok(w)) => String::from_utf8_lossy(&w.bytes).lines().count().max(1),
            _ => 1,
        }
    }
}

/// Overlays drawn over the panes; the top one gets the keys.
#[derive(Debug, Clone)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    /// The load's warnings (opened from the title's ⚠ marker, `W`).
    Warnings {
        scroll: usize,
    },
    /// `links`: the hardlink group, found when the popup opens (a scan of
    /// the tree, kept out of the per-frame render).
    FileDetails {
        id: NodeId,
        scroll: usize,
        links: Vec<NodeId>,
    },
    Content(Box<ContentView>),
    ImageDetails {
        selected: usize,
        scroll: usize,
    },
    /// A failure of the core (an extraction), shared so the state stays
    /// `Clone`; the view makes it text.
    Error(Arc<crate::Error>),
    /// An extraction waiting for `y`: what it would replace, create and warn about.
    ConfirmExtract(Box<ExtractConfirm>),
    /// Something to read and dismiss (an extraction's warnings).
    Notice {
        title: String,
        text: String,
    },
}

impl Popup {
    /// The action whose keys open the popup (and close it again).
    pub fn opener(&self) -> Option<Action> {
        match self {
            Popup::Help { .. } => Some(Action::Help),
            Popup::Warnings { .. } => Some(Action::Warnings),
            Popup::FileDetails { .. } => Some(Action::Details),
            Popup::ImageDetails { .. } => Some(Action::ImageDetails),
            Popup::Content(_) => Some(Action::Content),
            Popup::Error(_) | Popup::ConfirmExtract(_) | Popup::Notice { .. } => None,
        }
    }
}

/// An extraction planned by [`crate::extract::preview`], shown before it runs.
#[derive(Debug, Clone)]
pub struct ExtractConfirm {
    pub id: NodeId,
    pub layer: usize,
    pub preview: crate::extract::Preview,
}

/// Side effects the runtime performs after an update (reads, clipboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    ReadContent {
        id: NodeId,
        layer: usize,
        offset: u64,
    },
    Clipboard(String),
    /// Extract `id` as after `layer` into `dest` (`~` already expanded);
    /// `force` once the user has confirmed replacing what is there.
    Extract {
        id: NodeId,
        layer: usize,
        dest: std::path::PathBuf,
        force: bool,
    },
}

/// A jump offered when a path, search or filter finds nothing in the view
/// but something in other layers: Enter goes to `layer` (aggregated) and
/// shows `node` if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub layer: usize,
    pub node: Option<NodeId>,
}
/// Bytes of a content window.
pub const WINDOW_BYTES: usize = 64 * 1024;

/// The explorer's tree table.
pub type LayerTable = TreeTable<Sort, LayerOrders>;

pub struct AppState {
    pub image_path: String,
    pub progress: Arc<Progress>,
    pub data: Option<Arc<ImageData>>,
    /// Config, focus, layer cursor, prompt, message, layout, quit.
    pub ui: Ui,
    pub mode: ViewMode,
    /// Last non-range mode (restored when the range is cleared).
    pub base_mode: ViewMode,
    pub info: ViewInfo,
    /// Bumped whenever `info` is recomputed (keys the sorted-order cache).
    pub view_generation: u64,
    /// The file tree: sort, filter, search, rows and cursor.
    pub tree: LayerTable,
    pub popup: Option<Popup>,
    /// What `~` means in the extract prompt ($HOME when the state was made).
    pub home: Option<std::path::PathBuf>,
    /// "Not in this view; present in layers …": Enter shows it there.
    pub offer: Option<Offer>,
    pub effects: Vec<Effect>,
}

impl AppState {
    pub fn new(image_path: String, progress: Arc<Progress>, config: Config) -> AppState {
        let mode = match config.view.mode.as_deref() {
            Some("layer") => ViewMode::Layer,
            _ => ViewMode::Aggregated,
        };
        let sort = Sort {
            key: if config.view.sort.as_deref() == Some("size") {
                SortKey::Size
            } else {
                SortKey::Name
            },
            descending: config.view.descending,
        };
        let mut filter = Filter::default();
        if config.view.hide_unchanged {
            filter.statuses[4] = false;
        }
        AppState {
            image_path,
            progress,
            data: None,
            ui: Ui::new(config, Focus::Layers),
            mode,
            base_mode: mode,
            info: ViewInfo::default(),
            view_generation: 0,
            tree: TreeTable::new(sort, filter),
            popup: None,
            home: std::env::var_os("HOME").map(std::path::PathBuf::from),
            offer: None,
            effects: Vec::new(),
        }
    }

    /// A ready state over loaded data (tests, benchmarks).
    pub fn ready(data: ImageData, config: Config) -> AppState {
        let mut s = AppState::new(
            data.loaded.image.source.clone(),
            Arc::new(Progress::default()),
            config,
        );
        super::host::loaded(&mut s, Arc::new(data));
        s
    }

    pub fn theme(&self) -> &Theme {
        &self.ui.config.theme
    }

    /// The selected layer (B in range mode).
    pub fn layer(&self) -> usize {
        self.ui.layers.selected
    }

    pub fn layer_count(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.layer_count())
    }

    /// New data: the last layer selected, the view built for it (the
    /// host then applies the config's starting depth).
    pub fn set_data(&mut self, data: Arc<ImageData>) {
        self.ui.layers.selected = data.layer_count().saturating_sub(1);
        self.tree.forget();
        self.data = Some(data);
        self.recompute_view();
    }

    /// Stage 1: layer or mode changed.
    pub fn recompute_view(&mut self) {
        let Some(data) = self.data.clone() else {
            return;
        };
        self.info = ViewInfo::compute_with(
            &data.loaded.tree,
            &data.versions,
            self.mode,
            self.ui.layers.selected,
            std::mem::take(&mut self.info),
        );
        self.view_generation += 1;
        self.recompute_order();
    }

    /// Stage 2: filter or sort changed.
    pub fn recompute_order(&mut self) {
        super::host::rebuild(self);
    }

    pub fn selected_node(&self) -> Option<NodeId> {
        self.tree.selected_key()
    }

    pub fn ensure_layer_visible(&mut self) {
        let n = self.layer_count();
        self.ui.layers.ensure_visible(n);
    }

    /// The range's A layer when comparing.
    pub fn range_from(&self) -> Option<usize> {
        match self.mode {
            ViewMode::Range { from } => Some(from),
            _ => None,
        }
    }
}
