//! Messages and the one function that changes [`AppState`]: key, mouse,
//! resize, loader and worker events come in as [`Msg`]; keys go through the
//! configurable key map to [`Action`]s. Side effects (reading file content,
//! clipboard, extraction) are queued in `state.effects` for the runtime.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::layout::Rect;

use super::config::{Action, Key, PopupAction};
use super::host::{self, Host, Parts, Shared};
use super::image_data::ImageData;
use super::layer_view::{LayerOrders, LayerRows, Sort, ViewMode};
use super::layout::{self, Areas};
use super::prompt::{open_prompt, Prompt, PromptKind};
use super::state::{AppState, ContentView, Effect, Focus, Popup, WINDOW_BYTES};
use crate::content::Window;
use crate::tree::NodeId;

pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Action(Action),
    Loaded(Result<Arc<ImageData>, String>),
    Content {
        id: NodeId,
        offset: u64,
        result: Result<Window, String>,
    },
    Extracted(Result<String, String>),
    Tick,
}

/// Apply `msg`; a returned message is applied next (TEA chaining).
pub fn update(s: &mut AppState, msg: Msg) -> Option<Msg> {
    match msg {
        Msg::Key(k) => host::key(s, k).map(Msg::Action),
        Msg::Mouse(m) => mouse(s, m),
        Msg::Resize(w, h) => {
            host::resize(s, Rect::new(0, 0, w, h));
            None
        }
        Msg::Action(a) => action(s, a),
        Msg::Loaded(Ok(d)) => {
            s.set_data(d);
            host::relayout(s);
            None
        }
        Msg::Loaded(Err(e)) => {
            s.ui.load_error = Some(e);
            None
        }
        Msg::Content { id, offset, result } => {
            let body = layout::popup_body_height(s.ui.areas.full());
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
            s.ui.message = Some(match r {
                Ok(m) => m,
                Err(e) => e,
            });
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

impl Host for AppState {
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
    fn popup_key(&mut self, k: KeyEvent, act: Option<Action>) -> Option<Action> {
        popup_key(self, k, act)
    }
    fn submit_other(&mut self, p: Prompt) {
        match p.kind {
            PromptKind::Offset => go_to_offset(self, &p.text),
            PromptKind::ExtractTo => {
                let Some(id) = self.selected_node() else {
                    return;
                };
                let dest = if p.text.trim().is_empty() {
                    ".".to_string()
                } else {
                    p.text.trim().to_string()
                };
                self.effects.push(Effect::Extract {
                    id,
                    layer: self.info.layer,
                    dest,
                });
            }
            _ => {}
        }
    }
}

fn popup_key(s: &mut AppState, k: KeyEvent, act: Option<Action>) -> Option<Action> {
    if act == Some(Action::Quit) {
        return Some(Action::Quit);
    }
    let delta = scroll_delta(act, s.tree.height.max(1) as isize);
    let close = k.code == KeyCode::Esc
        || matches!(
            (&s.popup, act),
            (Some(Popup::Help { .. }), Some(Action::Help))
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
    let key = Key::from_event(&k);
    let keys = &s.ui.config.keys;
    let pk = |of: &[PopupAction]| keys.popup_action(&key, of);
    match s.popup.as_mut()? {
        Popup::Help { scroll } | Popup::FileDetails { scroll, .. } => {
            if let Some(d) = delta {
                scroll_offset(scroll, d);
            }
        }
        Popup::Error(_) => {
            if k.code == KeyCode::Enter {
                s.popup = None;
            }
        }
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
            let body = layout::popup_body_height(s.ui.areas.full());
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

fn action(s: &mut AppState, a: Action) -> Option<Msg> {
    if a == Action::Quit {
        s.ui.quit = true;
        s.progress
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        return None;
    }
    match host::action(s, a) {
        Shared::No => {}
        Shared::Done => return None,
        Shared::Layer(l) => {
            set_layer(s, l);
            return None;
        }
        Shared::Details => return Some(Msg::Action(Action::Details)),
    }
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
                let links = data.hardlink_group(id, s.info.layer);
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
        Action::Extract if s.selected_node().is_some() => {
            open_prompt(&mut s.ui.prompt, PromptKind::ExtractTo, ".".into());
        }
        Action::CopyPath => {
            if let Some(id) = s.selected_node() {
                let p = data.path(id).to_string();
                s.ui.message = Some(format!("copied {p}"));
                s.effects.push(Effect::Clipboard(p));
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

fn mouse(s: &mut AppState, m: MouseEvent) -> Option<Msg> {
    if let Shared::Layer(l) = host::mouse(s, m) {
        set_layer(s, l);
    }
    None
}
