//! The merged diff tree: one row per visible entry with its status marker,
//! old and new size, the delta, and per directory the changes below it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::diff::Entry;
use crate::tree::Status;
use crate::tui::config::Theme;
use crate::tui::diff::entries::DiffSortKey;
use crate::tui::diff::pair::ImagePair;
use crate::tui::diff::state::{DiffFocus, DiffState};
use crate::tui::view::{cursor_style, size, truncate};

use super::{block, delta};

fn entry_style(t: &Theme, e: &Entry) -> Style {
    if e.status == Status::Unchanged {
        Style::default()
    } else {
        t.status(e.status)
    }
}

/// ` -> target` for a symlink (the new side's), with the old target when
/// it changed: ` -> new (was old)`.
fn symlink_text(data: &ImagePair, i: u32) -> Option<String> {
    let target = |a: Option<&crate::tree::Attrs>, tree: &crate::tree::FileTree| {
        a.filter(|a| a.kind == crate::layer::Kind::Symlink)
            .map(|a| String::from_utf8_lossy(tree.link(a).unwrap_or_default()).into_owned())
    };
    let new = target(data.new_attrs(i), &data.new_side().tree);
    let old = target(data.old_attrs(i), &data.old.tree);
    match (old, new) {
        (Some(o), Some(n)) if o != n => Some(format!(" -> {n} (was {o})")),
        (_, Some(n)) => Some(format!(" -> {n}")),
        (Some(o), None) => Some(format!(" -> {o}")),
        (None, None) => None,
    }
}

pub(super) fn tree(s: &DiffState, data: &ImagePair, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let focused = s.focus == DiffFocus::Tree;
    let sort = match (s.sort.key, s.sort.descending) {
        (DiffSortKey::Name, false) => "name ↑",
        (DiffSortKey::Name, true) => "name ↓",
        (DiffSortKey::Size, false) => "size ↑",
        (DiffSortKey::Size, true) => "size ↓",
        (DiffSortKey::Delta, false) => "Δ ↑",
        (DiffSortKey::Delta, true) => "Δ ↓",
    };
    let title = format!(
        "Files: old → new · {} rows · sort {sort}",
        s.tree.rows.len()
    );
    let b = block(t, &title, focused);
    let inner = b.inner(area);
    b.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    // Old and New both fit an 80-column screen's tree pane (50 wide).
    let show_old = w >= 46;
    let mut header = String::from("S ");
    if show_old {
        header.push_str(&format!("{:>10} ", "Old"));
    }
    header.push_str(&format!("{:>10} {:>11}  Name", "New", "Δ"));
    let mut lines = vec![Line::styled(
        truncate(&header, w),
        t.dim.add_modifier(Modifier::BOLD),
    )];
    if s.tree.rows.is_empty() {
        lines.push(Line::styled(
            if data.diff.tree.is_empty() && s.filter.statuses[4] {
                "  (the trees are identical)"
            } else if data.diff.tree.is_empty() {
                "  (no differences; 5 shows unchanged paths)"
            } else {
                "  (nothing matches the filter; F clears it)"
            },
            t.dim,
        ));
    }
    let current = s.search.current_key();
    for row in s.tree.shown(inner.height as usize - 1) {
        let Some(r) = s.tree.entry(row) else { break };
        let Some(e) = data.entry(r.idx) else { break };
        let marker = if e.status == Status::Unchanged {
            ' '
        } else {
            e.status.marker()
        };
        // "-": absent on that side (an empty directory shows 0 B).
        let sz = |present: bool, n: u64| {
            if !present {
                "-".to_string()
            } else {
                size(n)
            }
        };
        let mut text = format!("{marker} ");
        if show_old {
            text.push_str(&format!(
                "{:>10} ",
                sz(e.old_attrs.is_some(), e.old_bytes())
            ));
        }
        let d = e.delta();
        let dtext = if d == 0 { String::new() } else { delta(d) };
        text.push_str(&format!(
            "{:>10} {dtext:>11}  ",
            sz(e.new_attrs.is_some(), e.new_bytes())
        ));
        text.push_str(&"  ".repeat(r.depth as usize));
        text.push_str(if s.tree.has_children(row) {
            if s.tree.collapsed.contains(&r.idx) {
                "▸ "
            } else {
                "▾ "
            }
        } else {
            "  "
        });
        text.push_str(data.name(r.idx));
        if e.is_dir() {
            text.push('/');
        }
        if let Some(link) = symlink_text(data, r.idx) {
            text.push_str(&link);
        }
        let mut extra = String::new();
        if !e.changed.is_empty() && e.status != Status::Added && e.status != Status::Deleted {
            extra = format!("  ({})", e.changed.names().join(", "));
        } else if let Some(tot) = e.totals.filter(|t| t.changes() > 0 && e.is_dir()) {
            let parts: Vec<String> = [
                ('+', tot.added),
                ('~', tot.modified),
                ('-', tot.deleted),
                ('m', tot.metadata),
            ]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(m, n)| format!("{m}{n}"))
            .collect();
            extra = format!("  {}", parts.join(" "));
        }
        let mut style = entry_style(t, e);
        if current == Some(r.idx) {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        let mut spans;
        if row == s.tree.selected {
            let mut all = truncate(&(text + &extra), w);
            let n = all.chars().count();
            if n < w {
                all.push_str(&" ".repeat(w - n));
            }
            spans = vec![Span::styled(all, cursor_style(t, focused))];
        } else {
            let text = truncate(&text, w);
            let rest = w.saturating_sub(text.chars().count());
            spans = vec![Span::styled(text, style)];
            if rest > 0 && !extra.is_empty() {
                spans.push(Span::styled(truncate(&extra, rest), t.dim));
            }
        }
        lines.push(Line::from(std::mem::take(&mut spans)));
    }
    Paragraph::new(lines).render(inner, buf);
}
