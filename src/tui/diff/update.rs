//! The diff explorer's side of [`host::update`], the one function that
//! changes [`DiffState`]: the line diff's arrival, its popups' keys and its
//! own actions. Keys go through the explorer's key map; actions that make
//! no sense for a diff (view mode, range, waste, extraction, load warnings)
//! say so on the status line.

use std::sync::Arc;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::entries::{EntryOrders, EntryRows, Sort};
use super::pair::{ContentDiff, ContentError, ImagePair};
use super::state::{ContentView, DiffEffect, DiffPopup, DiffState};
use crate::tui::config::{Action, Key, PopupAction};
use crate::tui::host::{self, Host, Parts};
use crate::tui::layout::{self, Areas};
use crate::tui::picker::Picker;
use crate::tui::update::{scroll_delta, scroll_offset};

/// Lines shown above a change the viewer jumps to.
const CONTEXT: usize = 3;

/// What the diff explorer's workers send back.
pub enum DiffReply {
    /// A line diff.
    Content {
        idx: u32,
        result: Result<ContentDiff, ContentError>,
    },
    /// A side holds several images: its loader waits for a pick.
    Pick(Picker),
}

/// The diff explorer's messages.
pub type DiffMsg = host::Msg<ImagePair, DiffReply>;

/// Apply a message and everything it chains to.
pub fn apply(s: &mut DiffState, msg: DiffMsg) {
    host::apply(s, msg);
}

/// A line diff arrived: open it at the first change, with a little
/// context; or a side asks which of its images to load.
fn reply(s: &mut DiffState, r: DiffReply) {
    let (idx, result) = match r {
        DiffReply::Content { idx, result } => (idx, result),
        DiffReply::Pick(p) => {
            s.ui.pickers.push(p);
            return;
        }
    };
    if let Some(DiffPopup::Content(cv)) = &mut s.popup {
        if cv.idx == idx {
            cv.scroll = match &result {
                Ok(ContentDiff::Text { hunks, .. }) => {
                    hunks.first().map_or(0, |h| h.saturating_sub(CONTEXT))
                }
                _ => 0,
            };
            cv.result = Some(result);
        }
    }
}

impl Host for DiffState {
    type Data = ImagePair;
    type Reply = DiffReply;
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
    fn layout(&self, area: Rect) -> Areas {
        layout::diff(area, self.layer_rows())
    }
    fn take_data(&mut self, d: Arc<ImagePair>) {
        self.set_data(d);
    }
    fn reply(&mut self, r: DiffReply) {
        reply(self, r);
    }
    fn select_layer(&mut self, row: usize) {
        self.ui.layers.selected = row.min(self.layer_rows().saturating_sub(1));
        self.ensure_layer_visible();
    }
    fn own_action(&mut self, a: Action) -> Option<Action> {
        action(self, a)
    }
    fn refuses(&self, a: Action) -> Option<&'static str> {
        matches!(
            a,
            Action::CycleMode
                | Action::MarkRange
                | Action::OnlyWasted
                | Action::Extract
                | Action::Warnings
        )
        .then_some("not available in diff mode")
    }
    fn cancel(&self) {
        for p in &self.progress {
            p.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn popup_opener(&self) -> Option<Action> {
        self.popup.as_ref().map(DiffPopup::opener)
    }
    fn close_popup(&mut self) {
        self.popup = None;
    }
    fn popup_key(&mut self, k: KeyEvent, act: Option<Action>) -> Option<Action> {
        popup_key(self, k, act)
    }
}

fn popup_key(s: &mut DiffState, k: KeyEvent, act: Option<Action>) -> Option<Action> {
    let delta = scroll_delta(act, s.tree.height.max(1) as isize);
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

/// The diff explorer's own actions (the shared ones are done by the host).
fn action(s: &mut DiffState, a: Action) -> Option<Action> {
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
