//! Messages and the one function that changes [`DiffState`]. Keys go
//! through the explorer's key map; actions that make no sense for a diff
//! (view mode, range, waste, extraction) say so on the status line.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::entries::DiffSortKey;
use super::pair::{ContentDiff, ImagePair};
use super::state::{ContentView, DiffEffect, DiffFocus, DiffPopup, DiffState};
use super::view;
use crate::tui::config::Action;
use crate::tui::prompt::{
    jump_to_match, open_prompt, open_search, prompt_host_fields, route_key, KeyRoute, PromptHost,
};
use crate::tui::state::{Filter, Prompt, PromptKind};
use crate::tui::update::{hit, scroll_delta, scroll_offset};

/// Lines shown above a change the viewer jumps to.
const CONTEXT: usize = 3;

pub enum DiffMsg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Action(Action),
    Loaded(Result<Arc<ImagePair>, crate::Error>),
    Content {
        idx: u32,
        result: Result<ContentDiff, String>,
    },
    Tick,
}

/// Apply `msg`; a returned message is applied next.
pub fn update(s: &mut DiffState, msg: DiffMsg) -> Option<DiffMsg> {
    match msg {
        DiffMsg::Key(k) => key(s, k),
        DiffMsg::Mouse(m) => mouse(s, m),
        DiffMsg::Resize(w, h) => {
            resize(s, Rect::new(0, 0, w, h));
            None
        }
        DiffMsg::Action(a) => action(s, a),
        DiffMsg::Loaded(Ok(d)) => {
            s.set_data(d);
            let a = s.areas;
            let full = Rect::new(0, 0, a.status.width.max(a.title.width), a.status.bottom());
            if full.area() > 0 {
                resize(s, full);
            }
            None
        }
        DiffMsg::Loaded(Err(e)) => {
            s.load_error = Some(e);
            None
        }
        DiffMsg::Content { idx, result } => {
            if let Some(DiffPopup::Content(cv)) = &mut s.popup {
                if cv.idx == idx {
                    // Open at the first change, with a little context.
                    cv.scroll = match &result {
                        Ok(ContentDiff::Text { hunks, .. }) => {
                            hunks.first().map_or(0, |h| h.saturating_sub(CONTEXT))
                        }
                        _ => 0,
                    };
                    cv.result = Some(result);
                }
            }
            None
        }
        DiffMsg::Tick => None,
    }
}

/// Apply a message and everything it chains to.
pub fn apply(s: &mut DiffState, msg: DiffMsg) {
    let mut next = Some(msg);
    while let Some(m) = next {
        next = update(s, m);
    }
}

fn resize(s: &mut DiffState, area: Rect) {
    s.screen = area;
    s.areas = view::layout(s, area);
    s.tree.height = view::tree_body_height(s.areas.tree);
    s.layers_height = s.areas.old_layers.height.saturating_sub(2) as usize;
    s.tree.ensure_visible();
    s.ensure_layer_visible();
}

fn key(s: &mut DiffState, k: KeyEvent) -> Option<DiffMsg> {
    match route_key(s, k) {
        KeyRoute::Done => None,
        KeyRoute::Quit => Some(DiffMsg::Action(Action::Quit)),
        KeyRoute::Popup(act) => popup_key(s, k, act),
        KeyRoute::Action(act) => act.map(DiffMsg::Action),
    }
}

impl PromptHost for DiffState {
    prompt_host_fields!();
    fn recompute_order(&mut self) {
        DiffState::recompute_order(self);
    }
    fn recompute_search(&mut self) {
        DiffState::recompute_search(self);
    }
    fn reveal_match(&mut self, idx: u32) {
        if let Some(data) = self.data.clone() {
            self.tree.reveal(&data.diff.tree, idx);
            self.tree.scroll_for_jump();
            self.focus = DiffFocus::Tree;
        }
    }
    fn submit_other(&mut self, p: Prompt) {
        if p.kind != PromptKind::Jump {
            return;
        }
        let Some(data) = self.data.clone() else {
            return;
        };
        match data.find(&p.text).filter(|&i| i != 0) {
            Some(i) if self.tree.reveal(&data.diff.tree, i) => self.focus = DiffFocus::Tree,
            Some(i) => {
                self.message = Some(format!(
                    "{} is hidden by the filter",
                    data.entry(i).map_or("", |e| e.path.as_str())
                ))
            }
            None => self.message = Some(format!("no such path: {}", p.text.trim())),
        }
    }
}

fn popup_key(s: &mut DiffState, k: KeyEvent, act: Option<Action>) -> Option<DiffMsg> {
    let delta = scroll_delta(act, s.tree.height.max(1) as isize);
    // `q` and Esc close a popup, as in less and man; ctrl-c still quits.
    let close = k.code == KeyCode::Esc
        || act == Some(Action::Quit)
        || matches!(
            (&s.popup, act),
            (Some(DiffPopup::Help { .. }), Some(Action::Help))
                | (Some(DiffPopup::Details { .. }), Some(Action::Details))
                | (Some(DiffPopup::Summary { .. }), Some(Action::ImageDetails))
                | (Some(DiffPopup::Content(_)), Some(Action::Content))
        );
    if close {
        s.popup = None;
        return None;
    }
    match s.popup.as_mut()? {
        DiffPopup::Help { scroll }
        | DiffPopup::Details { scroll, .. }
        | DiffPopup::Summary { scroll } => {
            if let Some(d) = delta {
                scroll_offset(scroll, d);
            }
        }
        DiffPopup::Content(cv) => {
            if let Some(d) = delta {
                let max = match &cv.result {
                    Some(Ok(ContentDiff::Text { lines, .. })) => lines.len().saturating_sub(1),
                    _ => 0,
                };
                scroll_offset(&mut cv.scroll, d);
                cv.scroll = cv.scroll.min(max);
            } else if let Some(Ok(ContentDiff::Text { hunks, .. })) = &cv.result {
                // ] and [ (and n/N) jump between runs of changes.
                let next = match k.code {
                    KeyCode::Char(']') | KeyCode::Char('n') => {
                        hunks.iter().find(|&&h| h > cv.scroll + CONTEXT).copied()
                    }
                    KeyCode::Char('[') | KeyCode::Char('N') => hunks
                        .iter()
                        .rev()
                        .find(|&&h| h < cv.scroll + CONTEXT)
                        .copied(),
                    _ => None,
                };
                if let Some(h) = next {
                    cv.scroll = h.saturating_sub(CONTEXT);
                }
            }
        }
    }
    None
}

fn set_layer(s: &mut DiffState, target: isize) {
    let n = s.layer_rows();
    if n == 0 {
        return;
    }
    s.layer = target.clamp(0, n as isize - 1) as usize;
    s.ensure_layer_visible();
}

fn action(s: &mut DiffState, a: Action) -> Option<DiffMsg> {
    if a == Action::Quit {
        s.quit = true;
        for p in &s.progress {
            p.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        return None;
    }
    let data = s.data.clone()?;
    let t = &data.diff.tree;
    let row = s.tree.selected;
    match a {
        Action::Quit => {}
        Action::Help => s.popup = Some(DiffPopup::Help { scroll: 0 }),
        Action::FocusNext | Action::FocusPrev => {
            s.focus = match s.focus {
                DiffFocus::Layers => DiffFocus::Tree,
                DiffFocus::Tree => DiffFocus::Layers,
            }
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Home
        | Action::End => {
            let d: isize = match a {
                Action::Up | Action::PageUp => -1,
                _ => 1,
            };
            match s.focus {
                DiffFocus::Tree => match a {
                    Action::Home => s.tree.home(),
                    Action::End => s.tree.end(),
                    Action::PageUp | Action::PageDown => s.tree.page(d),
                    _ => s.tree.move_by(d),
                },
                DiffFocus::Layers => {
                    let page = s.layers_height.max(1) as isize;
                    let target = match a {
                        Action::Home => 0,
                        Action::End => isize::MAX / 2,
                        Action::PageUp | Action::PageDown => s.layer as isize + d * page,
                        _ => s.layer as isize + d,
                    };
                    set_layer(s, target);
                }
            }
        }
        Action::Collapse => {
            s.focus = DiffFocus::Tree;
            s.tree.collapse_or_parent(t, row);
        }
        Action::Expand => {
            s.focus = DiffFocus::Tree;
            s.tree.set_collapsed(t, row, false);
        }
        Action::Toggle => s.tree.toggle(t, row),
        Action::Open => {
            if s.focus == DiffFocus::Layers {
                s.focus = DiffFocus::Tree;
            } else if s.tree.has_children(row) {
                s.tree.toggle(t, row);
            } else {
                return Some(DiffMsg::Action(Action::Details));
            }
        }
        Action::CollapseAll => {
            s.expand_depth = 0;
            s.tree.collapse_from_depth(t, 0);
        }
        Action::ExpandAll => s.tree.expand_all(t),
        Action::ExpandDepth => {
            s.expand_depth = s.tree.expand_deeper(t, s.expand_depth);
            s.message = Some(format!("expanded to depth {}", s.expand_depth));
        }
        Action::CycleMode
        | Action::MarkRange
        | Action::OnlyWasted
        | Action::Extract
        | Action::Warnings => {
            s.message = Some("not available in diff mode".into());
        }
        Action::Search => open_search(s),
        Action::NextMatch => jump_to_match(s, 1),
        Action::PrevMatch => jump_to_match(s, -1),
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
        Action::ClearFilters => {
            // Everything shown, unchanged paths included.
            s.filter = Filter::default();
            s.search = Default::default();
            s.recompute_order();
        }
        Action::SortKey => {
            s.sort.key = match s.sort.key {
                DiffSortKey::Name => DiffSortKey::Size,
                DiffSortKey::Size => DiffSortKey::Delta,
                DiffSortKey::Delta => DiffSortKey::Name,
            };
            s.sort.descending = s.sort.key != DiffSortKey::Name;
            s.recompute_order();
        }
        Action::SortDirection => {
            s.sort.descending = !s.sort.descending;
            s.recompute_order();
        }
        Action::Details => {
            if let Some(idx) = s.selected_entry() {
                s.popup = Some(DiffPopup::Details { idx, scroll: 0 });
            }
        }
        Action::Content => {
            let idx = s.selected_entry()?;
            let regular = |a: Option<&crate::tree::Attrs>| {
                a.is_some_and(|a| {
                    matches!(
                        a.kind,
                        crate::layer::Kind::File | crate::layer::Kind::Hardlink
                    )
                })
            };
            if !regular(data.old_attrs(idx)) && !regular(data.new_attrs(idx)) {
                let p = data.entry(idx).map_or("", |e| e.path.as_str());
                s.message = Some(format!("{p} is not a regular file on either side"));
                return None;
            }
            s.popup = Some(DiffPopup::Content(Box::new(ContentView {
                idx,
                result: None,
                scroll: 0,
            })));
            s.effects.push(DiffEffect::ReadDiff { idx });
        }
        Action::ImageDetails => s.popup = Some(DiffPopup::Summary { scroll: 0 }),
        Action::CopyPath => {
            if let Some(e) = s.selected_entry().and_then(|i| data.entry(i)) {
                s.message = Some(format!("copied {}", e.path));
                s.effects.push(DiffEffect::Clipboard(e.path.clone()));
            }
        }
    }
    None
}

fn mouse(s: &mut DiffState, m: MouseEvent) -> Option<DiffMsg> {
    let data = s.data.clone()?;
    let (x, y) = (m.column, m.row);
    let a = s.areas;
    if s.popup.is_some() {
        let act = match m.kind {
            MouseEventKind::ScrollDown => Action::Down,
            MouseEventKind::ScrollUp => Action::Up,
            _ => return None,
        };
        return popup_key(s, KeyEvent::from(KeyCode::Null), Some(act));
    }
    let in_layers = hit(a.old_layers, x, y) || hit(a.new_layers, x, y);
    match m.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let d = if m.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            if hit(a.tree, x, y) {
                s.tree.scroll_by(d);
            } else if in_layers {
                set_layer(s, s.layer as isize + d.signum());
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if hit(a.tree, x, y) {
                s.focus = DiffFocus::Tree;
                if let Some(r) = view::tree_row_at(s, a.tree, y) {
                    s.tree.click(&data.diff.tree, r);
                }
            } else if in_layers {
                s.focus = DiffFocus::Layers;
                let r = a.old_layers;
                if y > r.y && y + 1 < r.bottom() {
                    set_layer(s, (s.layer_scroll + (y - r.y - 1) as usize) as isize);
                }
            }
        }
        _ => {}
    }
    None
}
