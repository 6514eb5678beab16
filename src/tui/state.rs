//! `AppState`: everything the explorer shows, changed only by
//! [`super::update::update`]. View state (collapse, filters, cursor) lives
//! here keyed by `NodeId`, never in the core tree.

use crate::tui::data::LowerPaths;
use std::sync::Arc;

use ratatui::layout::Rect;
use regex::Regex;

use super::config::{Config, Theme};
use super::data::Data;
use super::rows::{Sort, SortKey, TreeModel, ViewInfo, ViewMode};
use super::visible::{scroll_to_show, OrderEntry, VisibleRows};
use crate::content::Window;
use crate::load::Progress;
use crate::tree::{NodeId, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
}

/// Path, status, size and waste filters. Judged per node; directories are
/// kept when a descendant passes.
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
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
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
            min_size: None,
            max_size: None,
            only_wasted: false,
        }
    }
}

impl Filter {
    pub fn is_active(&self) -> bool {
        self.regex.is_some()
            || self.statuses.iter().any(|s| !s)
            || self.min_size.is_some()
            || self.max_size.is_some()
            || self.only_wasted
    }

    /// Compile `text` as a smart-case regex (case-insensitive unless it has
    /// an upper-case letter).
    pub fn set_regex(&mut self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            self.text.clear();
            self.regex = None;
            return Ok(());
        }
        let fold = !text.chars().any(|c| c.is_uppercase());
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

    /// Parse `>10M`, `<1k`, `>=5MB`, `10M` (= at least).
    pub fn set_size(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        self.size_text.clear();
        self.min_size = None;
        self.max_size = None;
        if t.is_empty() {
            return Ok(());
        }
        let (less, rest) = if let Some(r) = t.strip_prefix('<') {
            (true, r.trim_start_matches('='))
        } else {
            (false, t.trim_start_matches('>').trim_start_matches('='))
        };
        let n = parse_size::Config::new()
            .with_binary()
            .parse_size(rest.trim())
            .map_err(|e| format!("size `{t}`: {e}"))?;
        if less {
            self.max_size = Some(n);
        } else {
            self.min_size = Some(n);
        }
        self.size_text = t.to_string();
        Ok(())
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
    pub fn keep(&self, data: &Data, info: &ViewInfo, memo: &mut KeyMemo) -> Option<Vec<bool>> {
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
            if ok {
                if let Some(min) = self.min_size {
                    ok = info.size[i] >= min;
                }
                if let Some(max) = self.max_size {
                    ok &= info.size[i] <= max;
                }
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
        let q = self.query.to_lowercase();
        let hits = self.hits.with(&q, lower.count());
        self.matches.extend(
            rows.order
                .iter()
                .map(|e| e.key())
                // Match in the node's own name or its path.
                .filter(|&k| hits.get(k, || lower.lower_of(k as usize).contains(q.as_str()))),
        );
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
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "/",
            PromptKind::Filter => "filter regex: ",
            PromptKind::Size => "size (>10M, <4k): ",
            PromptKind::Jump => "go to path: ",
            PromptKind::ExtractTo => "extract to directory: ",
        }
    }
}

/// The content viewer.
#[derive(Debug, Clone)]
pub struct ContentView {
    pub id: NodeId,
    pub layer: usize,
    pub offset: u64,
    pub window: Option<Result<Window, String>>,
    pub hex: bool,
    pub scroll: usize,
}

/// Overlays drawn over the panes; the top one gets the keys.
#[derive(Debug, Clone)]
pub enum Popup {
    Help {
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

/// Bytes of a content window.
pub const WINDOW_BYTES: usize = 64 * 1024;

pub struct AppState {
    pub image_path: String,
    pub progress: Arc<Progress>,
    pub data: Option<Arc<Data>>,
    pub load_error: Option<String>,
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
            message: None,
            home: std::env::var_os("HOME").map(std::path::PathBuf::from),
            areas: Areas::default(),
            effects: Vec::new(),
            quit: false,
            expand_depth: 0,
        }
    }

    /// A ready state over loaded data (tests, benchmarks).
    pub fn ready(data: Data, config: Config) -> AppState {
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

    pub fn set_data(&mut self, data: Arc<Data>) {
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
