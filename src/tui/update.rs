//! Messages and the one function that changes [`AppState`]: key, mouse,
//! resize, loader and worker events come in as [`Msg`]; keys go through the
//! configurable key map to [`Action`]s. Side effects (reading file content,
//! clipboard, extraction) are queued in `state.effects` for the runtime.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::config::Action;
use super::image_data::ImageData;
use super::layer_view::{SortKey, ViewMode};
use super::prompt::{
    jump_to_match, open_prompt, open_search, prompt_host_fields, route_key, KeyRoute, PromptHost,
};
use super::state::{
    AppState, ContentView, Effect, ExtractConfirm, Focus, Popup, Prompt, PromptKind, WINDOW_BYTES,
};
use super::view;
use crate::content::Window;
use crate::tree::{NodeId, ROOT};

pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Action(Action),
    Loaded(Result<Arc<ImageData>, crate::Error>),
    Content {
        id: NodeId,
        offset: u64,
        result: Result<Window, String>,
    },
    /// An extraction's summary and its warnings, or its error.
    Extracted(Result<(String, Vec<String>), String>),
    Tick,
}

/// Apply `msg`; a returned message is applied next (TEA chaining).
pub fn update(s: &mut AppState, msg: Msg) -> Option<Msg> {
    match msg {
        Msg::Key(k) => key(s, k),
        Msg::Mouse(m) => mouse(s, m),
        Msg::Resize(w, h) => {
            resize(s, Rect::new(0, 0, w, h));
            None
        }
        Msg::Action(a) => action(s, a),
        Msg::Loaded(Ok(d)) => {
            s.set_data(d);
            s.resize_keep();
            None
        }
        Msg::Loaded(Err(e)) => {
            s.load_error = Some(e);
            None
        }
        Msg::Content { id, offset, result } => {
            let body = view::popups::popup_body_height(s.areas.full());
            if let Some(Popup::Content(cv)) = &mut s.popup {
                if cv.id == id && cv.offset == offset {
                    if let Ok(w) = &result {
                        // Text or hex is decided on the first window only.
                        if offset == 0 {
                            cv.hex = looks_binary(&w.bytes);
                        }
                    }
                    cv.window = Some(result);
                    cv.scroll = 0;
                    if std::mem::take(&mut cv.to_end) {
                        cv.scroll = max_scroll(cv, body);
                    }
                }
            }
            None
        }
        Msg::Extracted(r) => {
            match r {
                Ok((summary, notes)) if notes.is_empty() => s.message = Some(summary),
                Ok((summary, notes)) => {
                    s.popup = Some(Popup::Notice {
                        title: "Extracted (esc closes)".into(),
                        text: format!("{summary}\n\n{}", notes.join("\n")),
                    });
                    s.message = Some(summary);
                }
                Err(e) => s.popup = Some(Popup::Error(e)),
            }
            None
        }
        Msg::Tick => None,
    }
}

/// Apply a message and everything it chains to.
pub fn apply(s: &mut AppState, msg: Msg) {
    let mut next = Some(msg);
    while let Some(m) = next {
        next = update(s, m);
    }
}

impl AppState {
    fn resize_keep(&mut self) {
        let full = self.screen;
        if full.area() > 0 {
            resize(self, full);
        }
    }
}

fn resize(s: &mut AppState, area: Rect) {
    s.screen = area;
    s.areas = view::layout(s, area);
    s.tree.height = view::tree::body_height(s.areas.tree);
    s.layers_height = view::layers::body_height(s.areas.layers);
    s.tree.ensure_visible();
    s.ensure_layer_visible();
}

fn key(s: &mut AppState, k: KeyEvent) -> Option<Msg> {
    if let Some(o) = s.offer.take() {
        if k.code == KeyCode::Enter && s.prompt.is_none() && s.popup.is_none() {
            take_offer(s, o);
            return None;
        }
    }
    match route_key(s, k) {
        KeyRoute::Done => None,
        KeyRoute::Quit => Some(Msg::Action(Action::Quit)),
        KeyRoute::Popup(act) => popup_key(s, k, act),
        KeyRoute::Action(act) => act.map(Msg::Action),
    }
}

impl PromptHost for AppState {
    prompt_host_fields!();
    fn recompute_order(&mut self) {
        AppState::recompute_order(self);
    }
    fn recompute_search(&mut self) {
        AppState::recompute_search(self);
    }
    fn reveal_match(&mut self, id: NodeId) {
        if let Some(data) = self.data.clone() {
            self.tree.reveal(&data.loaded.tree, id);
            self.tree.scroll_for_jump();
            self.focus = Focus::Tree;
        }
    }
    fn after_submit(&mut self, kind: PromptKind) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let tree = &data.loaded.tree;
        match kind {
            PromptKind::Search => {
                let q = self.search.query.clone();
                let exact = super::state::has_upper(&q);
                let lq = q.to_lowercase();
                let hits = tree.ids().skip(1).filter(|&id| {
                    if exact {
                        data.path(id).contains(q.as_str())
                    } else {
                        data.lower(id).contains(lq.as_str())
                    }
                });
                offer_layers(self, &format!("`{q}`"), hits, None);
            }
            PromptKind::Filter if self.tree.rows.is_empty() => {
                let Some(re) = self.filter.regex.clone() else {
                    return;
                };
                let fold = self.filter.fold_case;
                let hits = tree
                    .ids()
                    .skip(1)
                    .filter(|&id| re.is_match(if fold { data.lower(id) } else { data.path(id) }));
                let what = format!("filter `{}`", self.filter.text);
                offer_layers(self, &what, hits, None);
            }
            _ => {}
        }
    }
    fn submit_other(&mut self, p: Prompt) {
        match p.kind {
            PromptKind::Jump => jump_to_path(self, &p.text),
            PromptKind::Offset => go_to_offset(self, &p.text),
            PromptKind::ExtractTo => plan_extraction(self, &p.text),
            _ => {}
        }
    }
}

/// The extract prompt was submitted: expand `~`, look at the destination,
/// and extract at once when nothing is replaced and no parent directory is
/// missing; otherwise ask first, listing what would happen.
fn plan_extraction(s: &mut AppState, text: &str) {
    let (Some(data), Some(id)) = (s.data.clone(), s.selected_node()) else {
        return;
    };
    let layer = s.info.layer;
    let planned = crate::extract::expand_home(text, s.home.as_deref())
        .and_then(|dest| crate::extract::preview(&data.loaded, id, layer, &dest));
    let p = match planned {
        Ok(p) => p,
        Err(e) => {
            s.message = Some(e.to_string());
            return;
        }
    };
    if let Some(b) = &p.blocked {
        s.message = Some(format!(
            "cannot extract: {} is a directory where the image has a file",
            crate::error::clean(&b.display().to_string())
        ));
        return;
    }
    let only_dest_missing = p.create.len() <= 1;
    if p.conflict_count == 0 && only_dest_missing {
        s.effects.push(Effect::Extract {
            id,
            layer,
            dest: p.dest,
            force: false,
        });
        return;
    }
    s.popup = Some(Popup::ConfirmExtract(Box::new(ExtractConfirm {
        id,
        layer,
        preview: p,
    })));
}

fn jump_to_path(s: &mut AppState, text: &str) {
    let Some(data) = s.data.clone() else { return };
    let tree = &data.loaded.tree;
    let Some(id) = tree.lookup(text.trim().as_bytes()).filter(|&id| id != ROOT) else {
        s.message = Some(format!("no such path: {}", text.trim()));
        return;
    };
    if s.tree.reveal(tree, id) {
        s.focus = Focus::Tree;
    } else {
        let what = data.path(id).to_string();
        offer_layers(s, &what, std::iter::once(id), Some(id));
    }
}

/// Say in which layers the `ids` are present, when none is in this view,
/// and offer Enter to go to the last of them (showing `node`).
fn offer_layers(
    s: &mut AppState,
    what: &str,
    ids: impl Iterator<Item = NodeId>,
    node: Option<NodeId>,
) {
    let Some(data) = s.data.clone() else { return };
    let present = present_layers(&data.loaded.tree, ids);
    let Some(last) = present.iter().rposition(|&p| p) else {
        s.message = Some(format!("{what}: not in any layer"));
        return;
    };
    // With a filter hiding it, another layer would not show it either.
    let where_ = ranges(&present);
    s.message = Some(format!(
        "{what}: not in this view; present in layers {where_} (enter: go to layer {last})"
    ));
    s.offer = Some(super::state::Offer { layer: last, node });
}

/// Per layer: is any of `ids` present in the merged tree after it?
pub fn present_layers(
    tree: &crate::tree::FileTree,
    ids: impl Iterator<Item = NodeId>,
) -> Vec<bool> {
    let n = tree.layer_count();
    let mut present = vec![false; n];
    for id in ids {
        let vs = &tree.node(id).versions;
        for (i, v) in vs.iter().enumerate() {
            if tree.attrs_of(v).is_none() {
                continue;
            }
            let end = vs.get(i + 1).map_or(n, |w| w.layer as usize).min(n);
            for p in present.iter_mut().take(end).skip(v.layer as usize) {
                *p = true;
            }
        }
    }
    present
}

/// `0, 2–5` from per-layer flags.
pub fn ranges(flags: &[bool]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if !flags[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < flags.len() && flags[i + 1] {
            i += 1;
        }
        out.push(if start == i {
            start.to_string()
        } else {
            format!("{start}–{i}")
        });
        i += 1;
    }
    out.join(", ")
}

/// Go where an offer said: the layer, aggregated, the path or first match.
fn take_offer(s: &mut AppState, o: super::state::Offer) {
    let Some(data) = s.data.clone() else { return };
    s.layer = o.layer.min(data.layer_count().saturating_sub(1));
    if s.range_from().is_some() {
        s.base_mode = ViewMode::Aggregated;
    }
    s.mode = ViewMode::Aggregated;
    s.ensure_layer_visible();
    s.recompute_view();
    match o.node {
        Some(id) => {
            if s.tree.reveal(&data.loaded.tree, id) {
                s.focus = Focus::Tree;
            } else {
                s.message = Some(format!("{} is hidden by a filter", data.path(id)));
            }
        }
        None => jump_to_match(s, 0),
    }
}

fn popup_key(s: &mut AppState, k: KeyEvent, act: Option<Action>) -> Option<Msg> {
    let delta = scroll_delta(act, s.tree.height.max(1) as isize);
    // `q` and Esc close a popup, as in less and man; ctrl-c still quits.
    let close = k.code == KeyCode::Esc
        || act == Some(Action::Quit)
        || matches!(
            (&s.popup, act),
            (Some(Popup::Help { .. }), Some(Action::Help))
                | (Some(Popup::Warnings { .. }), Some(Action::Warnings))
                | (Some(Popup::FileDetails { .. }), Some(Action::Details))
                | (Some(Popup::ImageDetails { .. }), Some(Action::ImageDetails))
                | (Some(Popup::Content(_)), Some(Action::Content))
        );
    if close {
        s.popup = None;
        return None;
    }
    let wasted_len = s
        .data
        .as_ref()
        .map_or(0, |d| d.analysis.corrected.top_wasted.len());
    match s.popup.as_mut()? {
        Popup::Help { scroll } | Popup::Warnings { scroll } | Popup::FileDetails { scroll, .. } => {
            if let Some(d) = delta {
                scroll_offset(scroll, d);
            }
        }
        Popup::Error(_) | Popup::Notice { .. } => {
            if k.code == KeyCode::Enter {
                s.popup = None;
            }
        }
        Popup::ConfirmExtract(c) => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                let effect = Effect::Extract {
                    id: c.id,
                    layer: c.layer,
                    dest: c.preview.dest.clone(),
                    force: c.preview.conflict_count > 0,
                };
                s.effects.push(effect);
                s.popup = None;
            }
            KeyCode::Char('n') | KeyCode::Char('N') => s.popup = None,
            _ => {}
        },
        Popup::ImageDetails { selected, scroll } => {
            if let Some(d) = delta {
                let last = wasted_len.saturating_sub(1) as isize;
                *selected = (*selected as isize).saturating_add(d).clamp(0, last.max(0)) as usize;
            } else if k.code == KeyCode::Char('J') || k.code == KeyCode::Char(' ') {
                *scroll += 1;
            } else if k.code == KeyCode::Char('K') {
                *scroll = scroll.saturating_sub(1);
            } else if k.code == KeyCode::Enter && wasted_len > 0 {
                let i = *selected;
                s.popup = None;
                jump_to_wasted(s, i);
            }
        }
        Popup::Content(cv) => {
            let body = view::popups::popup_body_height(s.areas.full());
            let total = cv
                .window
                .as_ref()
                .and_then(|w| w.as_ref().ok())
                .map_or(0, |w| w.total_size);
            let last = last_window(total);
            if act == Some(Action::JumpPath) {
                // `:` in the viewer: a byte offset, not a path.
                open_prompt(s, PromptKind::Offset, String::new());
            } else if act == Some(Action::End) {
                // The end of the file, not of this window.
                if cv.offset == last {
                    cv.scroll = max_scroll(cv, body);
                } else {
                    cv.to_end = true;
                    request_window(&mut s.effects, cv, last);
                }
            } else if act == Some(Action::Home) {
                if cv.offset == 0 {
                    cv.scroll = 0;
                } else {
                    request_window(&mut s.effects, cv, 0);
                }
            } else if let Some(d) = delta {
                scroll_offset(&mut cv.scroll, d);
                cv.scroll = cv.scroll.min(max_scroll(cv, body));
            } else {
                let next = match k.code {
                    KeyCode::Char('x') => {
                        cv.hex = !cv.hex;
                        cv.scroll = 0;
                        None
                    }
                    KeyCode::Char(']') if cv.offset + (WINDOW_BYTES as u64) < total => {
                        Some(cv.offset + WINDOW_BYTES as u64)
                    }
                    KeyCode::Char('[') if cv.offset > 0 => {
                        Some(cv.offset.saturating_sub(WINDOW_BYTES as u64))
                    }
                    _ => None,
                };
                if let Some(off) = next {
                    request_window(&mut s.effects, cv, off);
                }
            }
        }
    }
    None
}

/// The offset of the last window of a `total`-byte file.
fn last_window(total: u64) -> u64 {
    total.saturating_sub(1) / WINDOW_BYTES as u64 * WINDOW_BYTES as u64
}

/// Ask for the window at `offset` (shown when it arrives).
fn request_window(effects: &mut Vec<Effect>, cv: &mut ContentView, offset: u64) {
    cv.offset = offset;
    cv.window = None;
    cv.scroll = 0;
    effects.push(Effect::ReadContent {
        id: cv.id,
        layer: cv.layer,
        offset,
    });
}

/// The scroll that shows the window's last line at the bottom of a body
/// of `body` rows.
fn max_scroll(cv: &ContentView, body: usize) -> usize {
    view::popups::content_line_count(cv).saturating_sub(body)
}

/// The viewer's `:` prompt: decimal, `0x` hex or a size (`1MiB`); past the
/// end goes to the last window.
fn go_to_offset(s: &mut AppState, text: &str) {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => crate::size::parse_size(t).ok(),
    };
    let Some(off) = parsed else {
        s.message = Some(format!(
            "offset `{t}`: expected a byte count (1234), 0x hex (0x4d2) or a size (1MiB)"
        ));
        return;
    };
    let Some(Popup::Content(cv)) = s.popup.as_mut() else {
        return;
    };
    let total = cv
        .window
        .as_ref()
        .and_then(|w| w.as_ref().ok())
        .map_or(0, |w| w.total_size);
    // Windows start on a 16-byte line so the hex view stays aligned.
    let off = off.min(total.saturating_sub(1)) / 16 * 16;
    request_window(&mut s.effects, cv, off);
}

/// Show a top-wasted path in the tree: the aggregated view of the last layer
/// that shipped a wasted copy.
fn jump_to_wasted(s: &mut AppState, i: usize) {
    let Some(data) = s.data.clone() else { return };
    let Some(w) = data.analysis.corrected.top_wasted.get(i) else {
        return;
    };
    let layer = w.layers.last().copied().unwrap_or(s.layer);
    s.layer = layer.min(data.layer_count().saturating_sub(1));
    s.mode = ViewMode::Aggregated;
    s.base_mode = ViewMode::Aggregated;
    s.ensure_layer_visible();
    s.recompute_view();
    if !s.tree.reveal(&data.loaded.tree, w.node) {
        s.message = Some(format!("{} is hidden by the filter", w.path));
    }
    s.focus = Focus::Tree;
}

fn set_layer(s: &mut AppState, layer: usize) {
    let n = s.data.as_ref().map_or(0, |d| d.layer_count());
    if n == 0 {
        return;
    }
    let l = layer.min(n - 1);
    if l != s.layer {
        s.layer = l;
        s.recompute_view();
    }
    s.ensure_layer_visible();
}

fn action(s: &mut AppState, a: Action) -> Option<Msg> {
    if a == Action::Quit {
        s.quit = true;
        s.progress
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        return None;
    }
    let data = s.data.clone()?;
    let tree = &data.loaded.tree;
    let row = s.tree.selected;
    let layers_page = s.layers_height.max(1) as isize;
    match a {
        Action::Quit => {}
        Action::Help => s.popup = Some(Popup::Help { scroll: 0 }),
        Action::Warnings => {
            if data.loaded.image.warnings.is_empty() {
                s.message = Some("the image loaded without warnings".into());
            } else {
                s.popup = Some(Popup::Warnings { scroll: 0 });
            }
        }
        Action::FocusNext | Action::FocusPrev => {
            s.focus = match s.focus {
                Focus::Layers => Focus::Tree,
                Focus::Tree => Focus::Layers,
            }
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Home
        | Action::End => {
            let d: isize = match a {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -1,
                Action::PageDown => 1,
                _ => 0,
            };
            match s.focus {
                Focus::Tree => match a {
                    Action::Home => s.tree.home(),
                    Action::End => s.tree.end(),
                    Action::PageUp | Action::PageDown => s.tree.page(d),
                    _ => s.tree.move_by(d),
                },
                Focus::Layers => {
                    let last = data.layer_count().saturating_sub(1) as isize;
                    let target = match a {
                        Action::Home => 0,
                        Action::End => last,
                        Action::PageUp | Action::PageDown => s.layer as isize + d * layers_page,
                        _ => s.layer as isize + d,
                    };
                    set_layer(s, target.clamp(0, last.max(0)) as usize);
                }
            }
        }
        Action::Collapse => {
            s.focus = Focus::Tree;
            s.tree.collapse_or_parent(tree, row);
        }
        Action::Expand => {
            s.focus = Focus::Tree;
            s.tree.set_collapsed(tree, row, false);
        }
        Action::Toggle => s.tree.toggle(tree, row),
        Action::Open => {
            if s.focus == Focus::Layers {
                s.focus = Focus::Tree;
            } else if s.tree.has_children(row) {
                s.tree.toggle(tree, row);
            } else {
                return Some(Msg::Action(Action::Details));
            }
        }
        Action::CollapseAll => {
            s.expand_depth = 0;
            s.tree.collapse_from_depth(tree, 0);
        }
        Action::ExpandAll => s.tree.expand_all(tree),
        Action::ExpandDepth => {
            s.expand_depth = s.tree.expand_deeper(tree, s.expand_depth);
            s.message = Some(format!("expanded to depth {}", s.expand_depth));
        }
        Action::CycleMode => {
            s.mode = match s.mode {
                ViewMode::Layer => ViewMode::Aggregated,
                ViewMode::Aggregated => ViewMode::Layer,
                ViewMode::Range { .. } => s.base_mode,
            };
            s.base_mode = s.mode;
            s.recompute_view();
        }
        Action::MarkRange => {
            if s.range_from().is_some() {
                s.mode = s.base_mode;
                s.message = Some("range compare off".into());
            } else {
                s.mode = ViewMode::Range { from: s.layer };
                s.message = Some(format!(
                    "marked layer {} as A: select layer B to see the net change A → B",
                    s.layer
                ));
                s.focus = Focus::Layers;
            }
            s.recompute_view();
        }
        Action::Search => open_search(s),
        Action::NextMatch => jump_to_match(s, 1),
        Action::PrevMatch => jump_to_match(s, -1),
        // Empty, so typing an absolute path does not append to the
        // current one; Tab completes.
        Action::JumpPath => open_prompt(s, PromptKind::Jump, String::new()),
        Action::FilterRegex => open_prompt(s, PromptKind::Filter, s.filter.text.clone()),
        Action::FilterSize => open_prompt(s, PromptKind::Size, s.filter.size_text.clone()),
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
            s.filter.statuses[i] = !s.filter.statuses[i];
            s.recompute_order();
        }
        Action::OnlyWasted => {
            s.filter.only_wasted = !s.filter.only_wasted;
            s.recompute_order();
        }
        Action::ClearFilters => {
            s.filter = super::state::Filter::default();
            s.search = Default::default();
            s.recompute_order();
        }
        Action::SortKey => {
            s.sort.key = match s.sort.key {
                SortKey::Name => SortKey::Size,
                SortKey::Size => SortKey::Name,
            };
            // Biggest first is what one wants when switching to size.
            s.sort.descending = s.sort.key == SortKey::Size;
            s.recompute_order();
        }
        Action::SortDirection => {
            s.sort.descending = !s.sort.descending;
            s.recompute_order();
        }
        Action::Details => {
            if let Some(id) = s.selected_node() {
                let links = super::view::popups::hardlink_group(s, id);
                s.popup = Some(Popup::FileDetails {
                    id,
                    scroll: 0,
                    links,
                });
            }
        }
        Action::Content => {
            let asked = s.selected_node()?;
            // Symlinks are followed inside the image; a deleted path shows
            // its last content.
            let src = match crate::content::source(&data.loaded, asked, s.info.layer) {
                Ok(src) => src,
                Err(e) => {
                    s.message = Some(e.to_string());
                    return None;
                }
            };
            let mut cv = ContentView {
                id: src.node,
                layer: src.state,
                source: src,
                offset: 0,
                window: None,
                hex: false,
                scroll: 0,
                to_end: false,
            };
            request_window(&mut s.effects, &mut cv, 0);
            s.popup = Some(Popup::Content(Box::new(cv)));
        }
        Action::ImageDetails => {
            s.popup = Some(Popup::ImageDetails {
                selected: 0,
                scroll: 0,
            })
        }
        Action::Extract => {
            if s.selected_node().is_some() {
                // A directory named after the image, never a bare `.`.
                let dest = crate::extract::default_dest(&data.loaded);
                open_prompt(s, PromptKind::ExtractTo, dest);
            }
        }
        Action::CopyPath => {
            if let Some(id) = s.selected_node() {
                let p = data.path(id).to_string();
                s.message = Some(format!("copied {p}"));
                s.effects.push(Effect::Clipboard(p));
            }
        }
    }
    None
}

/// Text or binary? NUL bytes or invalid UTF-8 (beyond a cut at the end).
pub fn looks_binary(b: &[u8]) -> bool {
    let head = &b[..b.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

/// How far a popup scrolls for a movement action (None: not one).
pub(crate) fn scroll_delta(act: Option<Action>, page: isize) -> Option<isize> {
    match act {
        Some(Action::Up) => Some(-1),
        Some(Action::Down) => Some(1),
        Some(Action::PageUp) => Some(-page),
        Some(Action::PageDown) => Some(page),
        Some(Action::Home) => Some(isize::MIN / 2),
        Some(Action::End) => Some(isize::MAX / 2),
        _ => None,
    }
}

/// Move a scroll offset by `d`, stopping at the top.
pub(crate) fn scroll_offset(sc: &mut usize, d: isize) {
    *sc = (*sc as isize).saturating_add(d).max(0) as usize;
}

/// Is the point inside `r`?
pub(crate) fn hit(r: Rect, x: u16, y: u16) -> bool {
    r.contains(Position::new(x, y))
}

fn mouse(s: &mut AppState, m: MouseEvent) -> Option<Msg> {
    let data = s.data.clone()?;
    let (x, y) = (m.column, m.row);
    let a = s.areas;
    if s.popup.is_some() {
        return match m.kind {
            MouseEventKind::ScrollDown => {
                popup_key(s, KeyEvent::from(KeyCode::Down), Some(Action::Down))
            }
            MouseEventKind::ScrollUp => popup_key(s, KeyEvent::from(KeyCode::Up), Some(Action::Up)),
            _ => None,
        };
    }
    match m.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let d = if m.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            if hit(a.tree, x, y) {
                s.tree.scroll_by(d);
            } else if hit(a.layers, x, y) {
                let last = data.layer_count().saturating_sub(1) as isize;
                set_layer(
                    s,
                    (s.layer as isize + d.signum()).clamp(0, last.max(0)) as usize,
                );
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if hit(a.tree, x, y) {
                s.focus = Focus::Tree;
                if let Some(r) = view::tree::row_at(s, a.tree, y) {
                    s.tree.click(&data.loaded.tree, r);
                }
            } else if hit(a.layers, x, y) {
                s.focus = Focus::Layers;
                if let Some(l) = view::layers::layer_at(s, a.layers, y) {
                    set_layer(s, l);
                }
            }
        }
        _ => {}
    }
    None
}
