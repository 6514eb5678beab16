//! The explorer's file tree pane: the tree table over one layer view, each
//! row with a status marker (works without colour), mode, uid:gid and
//! size columns (dropped on narrow panes), and the name with a link's
//! target.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::table::{self, Cells, Frame, RowView};
use super::{fit_title, mode_string, size};
use crate::layer::Kind;
use crate::tree::Status;
use crate::tui::config::{Action, KeyMap, Theme};
use crate::tui::layer_view::{LayerRows, ViewMode};
use crate::tui::state::{AppState, Focus};
use crate::tui::table::{Filter, TableSort};
use crate::tui::untrusted::Untrusted;

/// Which columns fit.
fn columns(width: usize) -> (bool, bool) {
    (width >= 46, width >= 64)
}

pub fn title(s: &AppState) -> String {
    let layer = s.layer();
    let mode = match s.mode {
        ViewMode::Layer => format!("changes in layer {layer}"),
        ViewMode::Aggregated => format!("aggregated to layer {layer}"),
        ViewMode::Range { from } => format!("net change layer {from} → {layer}"),
    };
    format!(
        "Files: {mode} · {} rows · sort {}",
        s.tree.rows.len(),
        s.tree.sort.label()
    )
}

impl RowView for LayerRows<'_> {
    fn header(&self, width: usize) -> String {
        let (show_mode, show_owner) = columns(width);
        let mut header = String::from("S ");
        if show_mode {
            header.push_str("Permission ");
        }
        if show_owner {
            header.push_str(&format!("{:>9} ", "UID:GID"));
        }
        header.push_str(&format!("{:>10}  Name", "Size"));
        header
    }

    fn empty(&self, filter: &Filter, keys: &KeyMap) -> String {
        if filter.is_active() {
            format!(
                "  (nothing matches the filter; {} clears it)",
                keys.first_label(Action::ClearFilters)
            )
        } else {
            "  (no changes)".into()
        }
    }

    fn cells(&self, id: u32, has_children: bool, width: usize, t: &Theme) -> Cells {
        let tree = &self.data.loaded.tree;
        let layer = self.info.layer;
        let status = self.info.status[id as usize];
        let attrs = match status {
            Some(Status::Deleted) => tree
                .previous(id, layer)
                .and_then(|v| tree.attrs_of(v))
                .or_else(|| match self.mode {
                    ViewMode::Range { from } => tree.attrs_at(id, from),
                    _ => None,
                }),
            _ => tree.attrs_at(id, layer),
        };
        let (show_mode, show_owner) = columns(width);
        let marker = status.map_or(' ', |st| st.marker());
        let mut text = format!("{marker} ");
        if show_mode {
            let m = attrs.map_or("          ".to_string(), |a| {
                mode_string(a.kind.letter(), a.mode)
            });
            text.push_str(&format!("{m:<10} "));
        }
        if show_owner {
            let o = attrs.map_or(String::new(), |a| format!("{}:{}", a.uid, a.gid));
            text.push_str(&format!("{o:>9} "));
        }
        let sz = self.info.size[id as usize];
        let is_dir = has_children || attrs.is_some_and(|a| a.kind == Kind::Dir);
        let sz_text = if is_dir && sz == 0 {
            "-".into()
        } else {
            size(sz)
        };
        text.push_str(&format!("{sz_text:>10}  "));
        // Raw here, shown sanitised by the table (`Cells::name`).
        let mut name = self.data.name(id).raw().to_owned();
        if is_dir {
            name.push('/');
        }
        if let Some(link) = attrs.and_then(|a| self.data.link(a)) {
            let hard = attrs.is_some_and(|a| a.kind == Kind::Hardlink);
            name.push_str(if hard { " => /" } else { " -> " });
            name.push_str(link.raw());
        }
        let style = match status {
            Some(st) => t.status(st),
            None if self.mode == ViewMode::Aggregated => Style::default(),
            None => t.dim,
        };
        Cells {
            columns: text,
            name: Untrusted::owned(name),
            notes: String::new(),
            style,
        }
    }
}

pub fn render(s: &AppState, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let rows = LayerRows {
        data,
        info: &s.info,
        mode: s.mode,
        generation: s.view_generation,
    };
    let frame = Frame {
        title: &fit_title(&title(s), area),
        focused: s.ui.focus == Focus::Tree,
        theme: s.theme(),
        keys: &s.ui.config.keys,
    };
    table::render(&s.tree, &rows, frame, area, buf);
}
