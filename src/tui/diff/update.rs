//! Messages and the one function that changes [`DiffState`]. Keys go
//! through the explorer's key map; actions that make no sense for a diff
//! (view mode, range, waste, extraction) say so on the status line.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::layout::Rect;

use super::entries::{EntryOrders, EntryRows, Sort};
use super::pair::{ContentDiff, ImagePair};
use super::state::{ContentView, DiffEffect, DiffPopup, DiffState};
use crate::tui::config::{Action, Key, PopupAction};
use crate::tui::host::{self, Host, Parts, Shared};
use crate::tui::layout::{self, Areas};
use crate::tui::update::{scroll_delta, scroll_offset};

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
        DiffMsg::Key(k) => host::key(s, k).map(DiffMsg::Action),
        DiffMsg::Mouse(m) => mouse(s, m),
        DiffMsg::Resize(w, h) => {
            host::resize(s, Rect::new(0, 0, w, h));
            None
        }
        DiffMsg::Action(a) => action(s, a),
        DiffMsg::Loaded(Ok(d)) => {
            s.set_data(d);
            host::relayout(s);
            None
        }
        DiffMsg::Loaded(Err(e)) => {
            s.ui.load_error = Some(e);
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

impl Host for DiffState {
    fn layout(&self, area: Rect) -> Areas {
        layout::diff(area, self.layer_rows())
    }
    fn popup_key(&mut self, k: KeyEvent, act: Option<Action>) -> Option<Action> {
        popup_key(self, k, act)
    }
    type Sort = Sort;
    type Orders = EntryOrders;
    type Src<'a> = EntryRows<'a>;
    fn parts(&mut self) -> Parts<'_, Sort, EntryOrders, EntryRows<'_>> {
        let layer_count = self.layer_rows();
        Parts {
            src: self.data.as_deref().map(|data| EntryRows {
                data,
                paths: self.paths.as_ref(),
            }),
            table: &mut self.tree,
            ui: &mut self.ui,
            layer_count,
            popup_open: self.popup.is_some(),
        }
    }
}

fn popup_key(s: &mut DiffState, k: KeyEvent, act: Option<Action>) -> Option<Action> {
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
                let key = Key::from_event(&k);
                let of = [PopupAction::NextChange, PopupAction::PrevChange];
                let next = match s.ui.config.keys.popup_action(&key, &of) {
                    Some(PopupAction::NextChange) => {
                        hunks.iter().find(|&&h| h > cv.scroll + CONTEXT).copied()
                    }
                    Some(PopupAction::PrevChange) => hunks
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

fn set_layer(s: &mut DiffState, row: usize) {
    s.ui.layers.selected = row.min(s.layer_rows().saturating_sub(1));
    s.ensure_layer_visible();
}

fn action(s: &mut DiffState, a: Action) -> Option<DiffMsg> {
    if a == Action::Quit {
        s.ui.quit = true;
        for p in &s.progress {
            p.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        return None;
    }
    if let Action::CycleMode
    | Action::MarkRange
    | Action::OnlyWasted
    | Action::Extract
    | Action::Warnings = a
    {
        if s.data.is_some() {
            s.ui.message = Some("not available in diff mode".into());
        }
        return None;
    }
    match host::action(s, a) {
        Shared::No => {}
        Shared::Done => return None,
        Shared::Layer(l) => {
            set_layer(s, l);
            return None;
        }
        Shared::Details => return Some(DiffMsg::Action(Action::Details)),
    }
    let data = s.data.clone()?;
    match a {
        Action::Help => s.popup = Some(DiffPopup::Help { scroll: 0 }),
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
                s.ui.message = Some(format!("{p} is not a regular file on either side"));
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
                s.ui.message = Some(format!("copied {}", e.path));
                s.effects.push(DiffEffect::Clipboard(e.path.clone()));
            }
        }
        // The shared actions, handled above.
        _ => {}
    }
    None
}

fn mouse(s: &mut DiffState, m: MouseEvent) -> Option<DiffMsg> {
    if let Shared::Layer(l) = host::mouse(s, m) {
        set_layer(s, l);
    }
    None
}
