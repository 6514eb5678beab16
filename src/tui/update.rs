//! The explorer's side of [`host::update`], the one function that changes
//! [`AppState`]: its workers' replies, its popups' keys, its own actions
//! (modes, range, details, content, extraction, copying) and where a path
//! not in this view is. Side effects (reading file content, clipboard,
//! extraction) are queued in `state.effects` for the runtime.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use super::config::{Action, Key, PopupAction};
use super::host::{self, Host, Parts, Unseen};
use super::image_data::ImageData;
use super::layer_view::{LayerOrders, LayerRows, Sort, ViewMode};
use super::layout::{self, Areas};
use super::picker::Picker;
use super::prompt::{open_prompt, Prompt, PromptKind};
use super::state::{
    AppState, ContentView, Effect, ExtractConfirm, Focus, Offer, Popup, WINDOW_BYTES,
};
use super::table::has_upper;
use crate::content::Window;
use crate::tree::NodeId;

/// What the explorer's workers send back.
pub enum Reply {
    /// A content window.
    Content {
        id: NodeId,
        offset: u64,
        result: crate::Result<Window>,
    },
    /// An extraction's summary and its warnings, or its error.
    Extracted(crate::Result<(String, Vec<String>)>),
    /// The archive holds several images: the loader waits for a pick.
    Pick(Picker),
}

/// The explorer's messages.
pub type Msg = host::Msg<ImageData, Reply>;

/// Apply a message and everything it chains to.
pub fn apply(s: &mut AppState, msg: Msg) {
    host::apply(s, msg);
}

/// A worker's reply: a content window arrived, an extraction finished.
fn reply(s: &mut AppState, r: Reply) {
    match r {
        Reply::Content { id, offset, result } => {
            let body = layout::popup_body_height(s.ui.screen);
            if let Some(Popup::Content(cv)) = &mut s.popup {
                if cv.id == id && cv.offset == offset {
                    if let Ok(w) = &result {
                        // Text or hex is decided on the first window only.
                        if offset == 0 {
                            cv.hex = looks_binary(&w.bytes);
                        }
                    }
                    cv.window = Some(result.map_err(Arc::new));
                    cv.scroll = 0;
                    if std::mem::take(&mut cv.to_end) {
                        cv.scroll = max_scroll(cv, body);
                    }
                }
            }
        }
        Reply::Pick(p) => s.ui.pickers.push(p),
        Reply::Extracted(r) => match r {
            Ok((summary, notes)) if notes.is_empty() => s.ui.message = Some(summary),
            Ok((summary, notes)) => {
                s.popup = Some(Popup::Notice {
                    title: "Extracted (esc closes)".into(),
                    text: format!("{summary}\n\n{}", notes.join("\n")),
                });
                s.ui.message = Some(summary);
            }
            Err(e) => s.popup = Some(Popup::Error(Arc::new(e))),
        },
    }
}

impl Host for AppState {
    type Data = ImageData;
    type Reply = Reply;
    type Sort = Sort;
    type Orders = LayerOrders;
    type Src<'a> = LayerRows<'a>;
    fn parts(&mut self) -> Parts<'_, Sort, LayerOrders, LayerRows<'_>> {
        let layer_count = self.layer_count();
        Parts {
            src: self.data.as_deref().map(|data| LayerRows {
                data,
                info: &self.info,
                mode: self.mode,
                generation: self.view_generation,
            }),
            table: &mut self.tree,
            ui: &mut self.ui,
            layer_count,
            popup_open: self.popup.is_some(),
        }
    }
    fn layout(&self, area: Rect) -> Areas {
        layout::explorer(area, self.layer_count())
    }
    fn take_data(&mut self, d: Arc<ImageData>) {
        self.set_data(d);
    }
    fn reply(&mut self, r: Reply) {
        reply(self, r);
    }
    fn select_layer(&mut self, row: usize) {
        set_layer(self, row);
    }
    fn own_action(&mut self, a: Action) -> Option<Action> {
        action(self, a)
    }
    fn cancel(&self) {
        self.progress
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    fn take_key(&mut self, k: &KeyEvent) -> bool {
        // An offer stands until the next key: Enter takes it.
        let Some(o) = self.offer.take() else {
            return false;
        };
        let take = k.code == KeyCode::Enter && self.ui.prompt.is_none() && self.popup.is_none();
        if take {
            take_offer(self, o);
        }
        take
    }
    fn popup_opener(&self) -> Option<Action> {
        self.popup.as_ref()?.opener()
    }
    fn close_popup(&mut self) {
        self.popup = None;
    }
    fn popup_key(&mut self, k: KeyEvent, act: Option<Action>) -> Option<Action> {
        popup_key(self, k, act)
    }
    fn unseen(&mut self, u: Unseen) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let tree = &data.loaded.tree;
        match u {
            Unseen::Search => {
                let q = self.tree.search.query.clone();
                let exact = has_upper(&q);
                let lq = q.to_lowercase();
                let hits = tree.ids().skip(1).filter(|&id| {
                    if exact {
                        data.path_raw(id).contains(q.as_str())
                    } else {
                        data.lower(id).contains(lq.as_str())
                    }
                });
                offer_layers(self, &format!("`{q}`"), hits, None);
            }
            Unseen::Filter => {
                let Some(re) = self.tree.filter.regex.clone() else {
                    return;
                };
                let fold = self.tree.filter.fold_case;
                let hits = tree.ids().skip(1).filter(|&id| {
                    re.is_match(if fold {
                        data.lower(id)
                    } else {
                        data.path_raw(id)
                    })
                });
                let what = format!("filter `{}`", self.tree.filter.text);
                offer_layers(self, &what, hits, None);
            }
            Unseen::Path(id) => {
                let what = data.path(id).to_string();
                offer_layers(self, &what, std::iter::once(id), Some(id));
            }
        }
    }
    fn submit_other(&mut self, p: Prompt) {
        match p.kind {
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
            s.ui.message = Some(e.to_string());
            return;
        }
    };
    if let Some(b) = &p.blocked {
        s.ui.message = Some(format!(
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
        s.ui.message = Some(format!("{what}: not in any layer"));
        return;
    };
    // With a filter hiding it, another layer would not show it either.
    let where_ = ranges(&present);
    s.ui.message = Some(format!(
        "{what}: not in this view; present in layers {where_} (enter: go to layer {last})"
    ));
    s.offer = Some(Offer { layer: last, node });
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
fn take_offer(s: &mut AppState, o: Offer) {
    let Some(data) = s.data.clone() else { return };
    s.ui.layers.selected = o.layer.min(data.layer_count().saturating_sub(1));
    if s.range_from().is_some() {
        s.base_mode = ViewMode::Aggregated;
    }
    s.mode = ViewMode::Aggregated;
    s.ensure_layer_visible();
    s.recompute_view();
    match o.node {
        Some(id) => {
            if s.tree.reveal(&data.loaded.tree, id) {
                s.ui.focus = Focus::Tree;
            } else {
                s.ui.message = Some(format!("{} is hidden by a filter", data.path(id)));
            }
        }
        None => {
            let rows = LayerRows {
                data: &data,
                info: &s.info,
                mode: s.mode,
                generation: s.view_generation,
            };
            if s.tree.jump_to_match(&rows, 0) {
                s.ui.focus = Focus::Tree;
            }
        }
    }
}

fn popup_key(s: &mut AppState, k: KeyEvent, act: Option<Action>) -> Option<Action> {
    let delta = scroll_delta(act, s.tree.height.max(1) as isize);
    let wasted_len = s
        .data
        .as_ref()
        .map_or(0, |d| d.analysis.corrected.top_wasted.len());
    let key = Key::from_event(&k);
    let keys = &s.ui.config.keys;
    let pk = |of: &[PopupAction]| keys.popup_action(&key, of);
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
            } else {
                use PopupAction::{JumpToPath, ScrollDown, ScrollUp};
                match pk(&[ScrollDown, ScrollUp, JumpToPath]) {
                    Some(ScrollDown) => *scroll += 1,
                    Some(ScrollUp) => *scroll = scroll.saturating_sub(1),
                    Some(JumpToPath) if wasted_len > 0 => {
                        let i = *selected;
                        s.popup = None;
                        jump_to_wasted(s, i);
                    }
                    _ => {}
                }
            }
        }
        Popup::Content(cv) => {
            let body = layout::popup_body_height(s.ui.screen);
            let total = cv
                .window
                .as_ref()
                .and_then(|w| w.as_ref().ok())
                .map_or(0, |w| w.total_size);
            let last = last_window(total);
            if act == Some(Action::JumpPath) {
                // `:` in the viewer: a byte offset, not a path.
                open_prompt(&mut s.ui.prompt, PromptKind::Offset, String::new());
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
                let total = cv
                    .window
                    .as_ref()
                    .and_then(|w| w.as_ref().ok())
                    .map_or(0, |w| w.total_size);
                use PopupAction::{ViewerHex, ViewerNext, ViewerPrev};
                let next = match pk(&[ViewerHex, ViewerNext, ViewerPrev]) {
                    Some(ViewerHex) => {
                        cv.hex = !cv.hex;
                        cv.scroll = 0;
                        None
                    }
                    Some(ViewerNext) if cv.offset + (WINDOW_BYTES as u64) < total => {
                        Some(cv.offset + WINDOW_BYTES as u64)
                    }
                    Some(ViewerPrev) if cv.offset > 0 => {
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
    cv.line_count().saturating_sub(body)
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
        s.ui.message = Some(format!(
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
    let layer = w.layers.last().copied().unwrap_or(s.layer());
    s.ui.layers.selected = layer.min(data.layer_count().saturating_sub(1));
    s.mode = ViewMode::Aggregated;
    s.base_mode = ViewMode::Aggregated;
    s.ensure_layer_visible();
    s.recompute_view();
    if !s.tree.reveal(&data.loaded.tree, w.node) {
        s.ui.message = Some(format!("{} is hidden by the filter", w.path));
    }
    s.ui.focus = Focus::Tree;
}

fn set_layer(s: &mut AppState, layer: usize) {
    let n = s.layer_count();
    if n == 0 {
        return;
    }
    let l = layer.min(n - 1);
    if l != s.ui.layers.selected {
        s.ui.layers.selected = l;
        s.recompute_view();
    }
    s.ensure_layer_visible();
}

/// The explorer's own actions (the shared ones are done by the host).
fn action(s: &mut AppState, a: Action) -> Option<Action> {
    let data = s.data.clone()?;
    match a {
        Action::Help => s.popup = Some(Popup::Help { scroll: 0 }),
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
                s.ui.message = Some("range compare off".into());
            } else {
                s.mode = ViewMode::Range { from: s.layer() };
                s.ui.message = Some(format!(
                    "marked layer {} as A: select layer B to see the net change A → B",
                    s.layer()
                ));
                s.ui.focus = Focus::Layers;
            }
            s.recompute_view();
        }
        Action::Details => {
            if let Some(id) = s.selected_node() {
                let links = data.loaded.tree.hardlink_group(id, s.info.layer);
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
                    s.ui.message = Some(e.to_string());
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
        Action::Warnings => {
            if data.loaded.image.warnings.is_empty() {
                s.ui.message = Some("the image loaded without warnings".into());
            } else {
                s.popup = Some(Popup::Warnings { scroll: 0 });
            }
        }
        Action::Extract if s.selected_node().is_some() => {
            // A directory named after the image, never a bare `.`.
            let dest = crate::extract::default_dest(&data.loaded);
            open_prompt(&mut s.ui.prompt, PromptKind::ExtractTo, dest);
        }
        Action::CopyPath => {
            if let Some(id) = s.selected_node() {
                // The clipboard gets the path as it is (OSC 52 carries it
                // base64-encoded); the message shows it sanitised.
                let p = data.path(id);
                s.ui.message = Some(format!("copied {p}"));
                s.effects.push(Effect::Clipboard(p.raw().to_string()));
            }
        }
        // The shared actions, handled above.
        _ => {}
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
