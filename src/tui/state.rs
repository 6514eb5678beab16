//! `AppState`: everything the explorer shows, changed only by
//! [`super::update::update`]. View state (collapse, filters, cursor) lives
//! here keyed by `NodeId`, never in the core tree.

use crate::tui::image_data::LowerPaths;
use std::sync::Arc;

use ratatui::layout::Rect;
use regex::Regex;

use super::config::{Config, Theme};
use super::image_data::ImageData;
use super::layer_view::{Sort, SortKey, TreeModel, ViewInfo, ViewMode};
use super::table::{scroll_to_show, OrderEntry, VisibleRows};
use crate::content::Window;
use crate::load::Progress;
use crate::size::Comparison;
use crate::tree::{NodeId, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
}

/// Path, status, size and waste filters. Judged per node; directories are
/// kept when a descendant passes. The size filter judges files only (a
/// directory's subtree total would let `>50M` show directories and no
/// file): directories appear only as the path to a match.
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    pub regex: Option<Regex>,
    /// Match against lower-cased paths (pattern had no upper case).
    pub fold_case: bool,
    /// Shown statuses, in [`Status::ALL`] order; "unchanged" also covers
    /// untouched paths.
    pub statuses: [bool; 5],
    pub size_text: String,
    pub size: Option<Comparison>,
    pub only_wasted: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            text: String::new(),
            regex: None,
            fold_case: true,
            statuses: [true; 5],
            size_text: String::new(),
            size: None,
            only_wasted: false,
        }
    }
}

impl Filter {
    pub fn is_active(&self) -> bool {
        self.regex.is_some()
            || self.statuses.iter().any(|s| !s)
            || self.size.is_some()
            || self.only_wasted
    }

    /// Compile `text` as a smart-case regex (case-insensitive unless it has
    /// an upper-case letter, as ripgrep's `--smart-case`).
    pub fn set_regex(&mut self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            self.text.clear();
            self.regex = None;
            return Ok(());
        }
        let fold = !has_upper(text);
        let re = Regex::new(text).map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .to_string()
        })?;
        self.text = text.to_string();
        self.regex = Some(re);
        self.fold_case = fold;
        Ok(())
    }

    /// Parse a size filter (`>10M`, `<=4KiB`: [`crate::size::parse_filter`]);
    /// empty clears it. An invalid one changes nothing (the header and the
    /// rows keep showing the filter in force).
    pub fn set_size(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        let size = if t.is_empty() {
            None
        } else {
            Some(crate::size::parse_filter(t).map_err(|e| e.to_string())?)
        };
        self.size = size;
        self.size_text = t.to_string();
        Ok(())
    }

    /// Does a node of `size` bytes pass the size filter? Directories never
    /// pass on their own (only as the path to a passing file).
    pub fn size_ok(&self, size: u64, is_dir: bool) -> bool {
        self.size.is_none_or(|f| !is_dir && f.matches(size))
    }

    fn status_ok(&self, s: Option<Status>) -> bool {
        let i = match s {
            Some(s) => Status::ALL.iter().position(|x| *x == s).unwrap_or(4),
            None => 4,
        };
        self.statuses[i]
    }

    /// Which nodes stay: in view and passing, or ancestors of such.
    /// `memo` remembers which paths the regex matched (they do not change
    /// with the layer or mode).
    pub fn keep(&self, data: &ImageData, info: &ViewInfo, memo: &mut KeyMemo) -> Option<Vec<bool>> {
        let tree = &data.loaded.tree;
        if !self.is_active() {
            return None;
        }
        let mut regex = self.regex.as_ref().map(|re| {
            let fold = if self.fold_case { "i" } else { "s" };
            (re, memo.with(&format!("{fold}{}", re.as_str()), tree.len()))
        });
        let mut keep = vec![false; info.in_view.len()];
        for id in tree.ids().skip(1) {
            let i = id as usize;
            if !info.in_view[i] {
                continue;
            }
            let mut ok = self.status_ok(info.status[i]);
            if ok && self.size.is_some() {
                ok = self.size_ok(info.size[i], is_dir(tree, id));
            }
            ok = ok && (!self.only_wasted || data.wasted[i] > 0);
            if ok {
                if let Some((re, memo)) = regex.as_mut() {
                    let hay = if self.fold_case {
                        data.lower(id)
                    } else {
                        data.path(id)
                    };
                    ok = memo.get(id, || re.is_match(hay));
                }
            }
            keep[i] = ok;
        }
        for id in (1..tree.len() as NodeId).rev() {
            if keep[id as usize] {
                keep[tree.node(id).parent as usize] = true;
            }
        }
        keep[0] = true;
        Some(keep)
    }
}

/// Smart case: does the query hold a capital (then it matches case)?
pub fn has_upper(text: &str) -> bool {
    text.chars().any(char::is_uppercase)
}

/// Is the node a directory (it has children, or its last known state is
/// one)?
fn is_dir(tree: &crate::tree::FileTree, id: NodeId) -> bool {
    !tree.children(id).is_empty()
        || tree
            .node(id)
            .versions
            .iter()
            .rev()
            .find_map(|v| tree.attrs_of(v))
            .is_some_and(|a| a.kind == crate::layer::Kind::Dir)
}

/// Memo of a yes/no question about each key (a node id or an entry index)
/// under one pattern, e.g. "does its path contain the query": the paths
/// never change, so each key is asked at most once per pattern however
/// often the order, layer or sort changes. Keyed by the pattern and the
/// number of keys; [`KeyMemo::clear`] it when the data is replaced.
#[derive(Debug, Clone, Default)]
pub struct KeyMemo {
    pattern: String,
    /// Per key: 0 not asked yet, 1 no, 2 yes.
    answers: Vec<u8>,
}

impl KeyMemo {
    /// Forget every answer (new data).
    pub fn clear(&mut self) {
        self.pattern.clear();
        self.answers = Vec::new();
    }

    /// Start answering for `pattern` over `keys` keys; answers for another
    /// pattern or key count are dropped.
    pub fn with(&mut self, pattern: &str, keys: usize) -> &mut Self {
        if self.pattern != pattern || self.answers.len() != keys {
            self.pattern.clear();
            self.pattern.push_str(pattern);
            self.answers.clear();
            self.answers.resize(keys, 0);
        }
        self
    }

    /// The answer for `key`, asking `ask` the first time.
    pub fn get(&mut self, key: u32, ask: impl FnOnce() -> bool) -> bool {
        let a = &mut self.answers[key as usize];
        if *a == 0 {
            *a = if ask() { 2 } else { 1 };
        }
        *a == 2
    }
}

/// Incremental path search over the current order.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: String,
    /// Matching nodes, in display order.
    pub matches: Vec<NodeId>,
    /// Index in `matches` of the current one.
    pub current: Option<usize>,
    /// Which keys' paths contain the (lower-cased) query.
    hits: KeyMemo,
}

impl Search {
    /// The current match's key.
    pub fn current_key(&self) -> Option<u32> {
        self.current.and_then(|i| self.matches.get(i)).copied()
    }

    /// Forget the remembered matches (new data).
    pub fn forget(&mut self) {
        self.hits.clear();
    }

    /// Recompute the matches of the query among the entries of `rows`'
    /// order (by their lower-cased paths, `lower[key]`); the current match
    /// is the first at or after order position `here`, if given. Which
    /// paths match is remembered per query, so a new order (layer, sort,
    /// filter) costs one pass over it.
    pub fn refresh<E: OrderEntry>(
        &mut self,
        rows: &VisibleRows<E>,
        lower: &(impl LowerPaths + ?Sized),
        here: Option<usize>,
    ) {
        self.matches.clear();
        self.current = None;
        if self.query.is_empty() {
            return;
        }
        // Smart case, as ripgrep: a query with a capital matches case.
        let exact = has_upper(&self.query);
        let q = if exact {
            self.query.clone()
        } else {
            self.query.to_lowercase()
        };
        let memo_key = format!("{}{q}", if exact { 's' } else { 'i' });
        let hits = self.hits.with(&memo_key, lower.count());
        self.matches
            .extend(rows.order.iter().map(|e| e.key()).filter(|&k| {
                hits.get(k, || {
                    let hay = if exact {
                        lower.path_of(k as usize)
                    } else {
                        lower.lower_of(k as usize)
                    };
                    hay.contains(q.as_str())
                })
            }));
        if let Some(here) = here {
            let i = self
                .matches
                .partition_point(|&m| rows.order_index(m).unwrap_or(0) < here);
            if !self.matches.is_empty() {
                self.current = Some(i.min(self.matches.len() - 1));
            }
        }
    }
}

/// A text input on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// What the field held before (restored on Esc).
    pub before: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Filter,
    Size,
    Jump,
    ExtractTo,
    /// The content viewer's byte offset.
    Offset,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "/",
            PromptKind::Filter => "filter regex: ",
            PromptKind::Size => "size (>10M, <=4KiB; M = 10⁶, MiB = 2²⁰): ",
            PromptKind::Jump => "go to path: ",
            PromptKind::ExtractTo => "extract to directory: ",
            PromptKind::Offset => "go to byte offset (1234, 0x4d2, 1MiB): ",
        }
    }
}

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
    pub window: Option<Result<Window, String>>,
    pub hex: bool,
    pub scroll: usize,
    /// Scroll to the window's end when it arrives (`G` / End).
    pub to_end: bool,
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
    Error(String),
    /// An extraction waiting for `y`: what it would replace, create and warn about.
    ConfirmExtract(Box<ExtractConfirm>),
    /// Something to read and dismiss (an extraction's warnings).
    Notice {
        title: String,
        text: String,
    },
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

/// Screen regions of the last layout, for mouse hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    pub layers: Rect,
    pub layer_details: Rect,
    pub image: Rect,
    pub tree: Rect,
    pub status: Rect,
}

impl Areas {
    /// The whole screen of the last layout.
    pub fn full(&self) -> Rect {
        Rect::new(
            0,
            0,
            self.status.width.max(self.title.width),
            self.status.bottom(),
        )
    }
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

pub struct AppState {
    pub image_path: String,
    pub progress: Arc<Progress>,
    pub data: Option<Arc<ImageData>>,
    pub load_error: Option<crate::Error>,
    pub config: Config,
    pub focus: Focus,
    /// Selected layer (B in range mode).
    pub layer: usize,
    pub layer_scroll: usize,
    pub layers_height: usize,
    pub mode: ViewMode,
    /// Last non-range mode (restored when the range is cleared).
    pub base_mode: ViewMode,
    pub sort: Sort,
    pub filter: Filter,
    pub search: Search,
    /// Which paths the filter regex matched.
    pub filter_hits: KeyMemo,
    pub info: ViewInfo,
    /// Bumped whenever `info` is recomputed (keys the sorted-order cache).
    pub view_generation: u64,
    pub tree: TreeModel,
    pub popup: Option<Popup>,
    pub prompt: Option<Prompt>,
    pub message: Option<String>,
    /// What `~` means in the extract prompt ($HOME when the state was made).
    pub home: Option<std::path::PathBuf>,
    pub areas: Areas,
    /// The whole screen at the last resize (empty until the first).
    pub screen: Rect,
    /// "Not in this view; present in layers …": Enter shows it there.
    pub offer: Option<Offer>,
    pub effects: Vec<Effect>,
    pub quit: bool,
    /// Depth used by the last "expand to depth".
    pub expand_depth: u16,
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
        // The config file's warnings (a key taken from another action)
        // greet the user on the status line.
        let message = (!config.warnings.is_empty()).then(|| config.warnings.join("; "));
        AppState {
            image_path,
            progress,
            data: None,
            load_error: None,
            config,
            focus: Focus::Layers,
            layer: 0,
            layer_scroll: 0,
            layers_height: 1,
            mode,
            base_mode: mode,
            sort,
            filter,
            search: Search::default(),
            filter_hits: KeyMemo::default(),
            info: ViewInfo::default(),
            view_generation: 0,
            tree: TreeModel::default(),
            popup: None,
            prompt: None,
            message,
            home: std::env::var_os("HOME").map(std::path::PathBuf::from),
            areas: Areas::default(),
            screen: Rect::default(),
            offer: None,
            effects: Vec::new(),
            quit: false,
            expand_depth: 0,
        }
    }

    /// A ready state over loaded data (tests, benchmarks).
    pub fn ready(data: ImageData, config: Config) -> AppState {
        let mut s = AppState::new(
            data.loaded.image.source.clone(),
            Arc::new(Progress::default()),
            config,
        );
        s.set_data(Arc::new(data));
        s
    }

    pub fn theme(&self) -> &Theme {
        &self.config.theme
    }

    pub fn set_data(&mut self, data: Arc<ImageData>) {
        self.layer = data.layer_count().saturating_sub(1);
        self.search.forget();
        self.filter_hits.clear();
        self.data = Some(data);
        self.recompute_view();
        let d = self.config.view.collapse_depth;
        if d > 0 {
            if let Some(data) = self.data.clone() {
                self.tree.collapse_from_depth(&data.loaded.tree, d);
            }
        }
        self.ensure_layer_visible();
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
            self.layer,
            std::mem::take(&mut self.info),
        );
        self.view_generation += 1;
        self.recompute_order();
    }

    /// Stage 2: filter or sort changed.
    pub fn recompute_order(&mut self) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let keep = self.filter.keep(&data, &self.info, &mut self.filter_hits);
        self.tree.rebuild_order(
            &data.loaded.tree,
            &self.info,
            keep.as_deref(),
            self.sort,
            self.view_generation,
            Some(&data.names),
        );
        self.recompute_search();
    }

    /// Matches of the search query among the nodes in the order.
    pub fn recompute_search(&mut self) {
        let Some(data) = self.data.clone() else {
            self.search.matches.clear();
            self.search.current = None;
            return;
        };
        let here = self
            .tree
            .selected_id()
            .map(|sel| self.tree.order_index(sel).unwrap_or(0));
        self.search.refresh(&self.tree, &*data, here);
    }

    pub fn selected_node(&self) -> Option<NodeId> {
        self.tree.selected_id()
    }

    pub fn ensure_layer_visible(&mut self) {
        let n = self.data.as_ref().map_or(0, |d| d.layer_count());
        self.layer_scroll = scroll_to_show(self.layer, self.layer_scroll, self.layers_height, n);
    }

    /// The range's A layer when comparing.
    pub fn range_from(&self) -> Option<usize> {
        match self.mode {
            ViewMode::Range { from } => Some(from),
            _ => None,
        }
    }
}
