//! The file-tree pane: one row per visible node with a status marker (works
//! without colour), mode, uid:gid and size columns (dropped on narrow
//! panes), and the name indented by depth. Draws only the rows on screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{block, cursor_style, fit_title, mode_string, size, truncate};
use crate::tree::Status;
use crate::tui::layer_view::{SortKey, ViewMode};
use crate::tui::state::{AppState, Focus};
use crate::tui::table::{OrderEntry, VisibleRows};

/// Rows of the tree the pane shows (border and header excluded).
pub fn body_height(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// The visible-row index at screen row `y`.
pub fn row_at(s: &AppState, area: Rect, y: u16) -> Option<usize> {
    pane_row_at(&s.tree, area, y)
}

/// The visible-row index at screen row `y` of a tree pane (either mode).
pub fn pane_row_at<E: OrderEntry>(rows: &VisibleRows<E>, area: Rect, y: u16) -> Option<usize> {
    let top = area.y + 2;
    if y < top || y + 1 >= area.bottom() {
        return None;
    }
    let r = rows.scroll + (y - top) as usize;
    (r < rows.rows.len()).then_some(r)
}

/// Which columns fit.
fn columns(width: u16) -> (bool, bool) {
    (width >= 46, width >= 64)
}

pub fn title(s: &AppState) -> String {
    let mode = match s.mode {
        ViewMode::Layer => format!("changes in layer {}", s.layer),
        ViewMode::Aggregated => format!("aggregated to layer {}", s.layer),
        ViewMode::Range { from } => format!("net change layer {from} → {}", s.layer),
    };
    let sort = match (s.sort.key, s.sort.descending) {
        (SortKey::Name, false) => "name ↑",
        (SortKey::Name, true) => "name ↓",
        (SortKey::Size, false) => "size ↑",
        (SortKey::Size, true) => "size ↓",
    };
    format!("Files: {mode} · {} rows · sort {sort}", s.tree.rows.len())
}

pub fn render(s: &AppState, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let focused = s.focus == Focus::Tree;
    let title = fit_title(&title(s), area);
    let b = block(s, &title, focused);
    let inner = b.inner(area);
    b.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let (show_mode, show_owner) = columns(inner.width);
    let mut header = String::from("S ");
    if show_mode {
        header.push_str("Permission ");
    }
    if show_owner {
        header.push_str(&format!("{:>9} ", "UID:GID"));
    }
    header.push_str(&format!("{:>10}  Name", "Size"));
    let mut lines = vec![Line::styled(
        truncate(&header, inner.width as usize),
        t.dim.add_modifier(Modifier::BOLD),
    )];
    let tree = &data.loaded.tree;
    let layer = s.info.layer;
    let w = inner.width as usize;
    if s.tree.rows.is_empty() {
        lines.push(Line::styled(
            if s.filter.is_active() {
                "  (nothing matches the filter; F clears it)"
            } else {
                "  (no changes)"
            },
            t.dim,
        ));
    }
    let current_match = s.search.current_key();
    for row in s.tree.shown(inner.height as usize - 1) {
        let Some(e) = s.tree.entry(row) else { break };
        let id = e.id;
        let status = s.info.status[id as usize];
        let attrs = match status {
            Some(Status::Deleted) => tree
                .previous(id, layer)
                .and_then(|v| tree.attrs_of(v))
                .or_else(|| match s.mode {
                    ViewMode::Range { from } => tree.attrs_at(id, from),
                    _ => None,
                }),
            _ => tree.attrs_at(id, layer),
        };
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
        let sz = s.info.size[id as usize];
        let is_dir =
            s.tree.has_children(row) || attrs.is_some_and(|a| a.kind == crate::layer::Kind::Dir);
        let sz_text = if is_dir && sz == 0 {
            "-".into()
        } else {
            size(sz)
        };
        text.push_str(&format!("{sz_text:>10}  "));
        text.push_str(&"  ".repeat(e.depth as usize));
        let branch = if s.tree.has_children(row) {
            if s.tree.collapsed.contains(&id) {
                "▸ "
            } else {
                "▾ "
            }
        } else {
            "  "
        };
        text.push_str(branch);
        text.push_str(&String::from_utf8_lossy(tree.name(id)));
        if is_dir {
            text.push('/');
        }
        if let Some(link) = attrs.and_then(|a| tree.link(a)) {
            let arrow = if attrs.is_some_and(|a| a.kind == crate::layer::Kind::Hardlink) {
                " => /"
            } else {
                " -> "
            };
            text.push_str(arrow);
            text.push_str(&String::from_utf8_lossy(link));
        }
        let mut text = truncate(&text, w);
        let mut style = match status {
            Some(st) => t.status(st),
            None if s.mode == ViewMode::Aggregated => Style::default(),
            None => t.dim,
        };
        if current_match == Some(id) {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        if row == s.tree.selected {
            style = cursor_style(t, focused);
            let n = text.chars().count();
            if n < w {
                text.push_str(&" ".repeat(w - n));
            }
        }
        lines.push(Line::from(Span::styled(text, style)));
    }
    Paragraph::new(lines).render(inner, buf);
}
