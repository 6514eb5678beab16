//! The merged diff tree: the tree table over the diff's entries, each row
//! with its status marker, old and new size, the delta, and per directory
//! the changes below it (or a changed entry's changed fields) as notes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::tree::Status;
use crate::tui::config::{Action, KeyMap, Theme};
use crate::tui::diff::entries::EntryRows;
use crate::tui::diff::pair::ImagePair;
use crate::tui::diff::state::DiffState;
use crate::tui::host::Focus;
use crate::tui::table::{Filter, TableSort};
use crate::tui::untrusted::Untrusted;
use crate::tui::view::size;
use crate::tui::view::table::{self, Cells, Frame, RowView};

use super::delta;

/// Old and New both fit an 80-column screen's tree pane (50 wide).
const OLD_COLUMN_WIDTH: usize = 46;

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

impl RowView for EntryRows<'_> {
    fn header(&self, width: usize) -> String {
        let mut header = String::from("S ");
        if width >= OLD_COLUMN_WIDTH {
            header.push_str(&format!("{:>10} ", "Old"));
        }
        header.push_str(&format!("{:>10} {:>11}  Name", "New", "Δ"));
        header
    }

    fn empty(&self, filter: &Filter, keys: &KeyMap) -> String {
        if self.data.diff.tree.is_empty() && filter.statuses[4] {
            "  (the trees are identical)".into()
        } else if self.data.diff.tree.is_empty() {
            format!(
                "  (no differences; {} shows unchanged paths)",
                keys.first_label(Action::ToggleUnchanged)
            )
        } else {
            format!(
                "  (nothing matches the filter; {} clears it)",
                keys.first_label(Action::ClearFilters)
            )
        }
    }

    fn cells(&self, idx: u32, _has_children: bool, width: usize, t: &Theme) -> Cells {
        let Some(e) = self.data.entry(idx) else {
            return Cells {
                columns: String::new(),
                name: Untrusted::default(),
                notes: String::new(),
                style: Style::default(),
            };
        };
        let unchanged = e.status == Status::Unchanged;
        let marker = if unchanged { ' ' } else { e.status.marker() };
        // "-": absent on that side (an empty directory shows 0 B).
        let sz = |present: bool, n: u64| if present { size(n) } else { "-".into() };
        let mut text = format!("{marker} ");
        if width >= OLD_COLUMN_WIDTH {
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
        let mut name = self.data.name(idx).raw().to_owned();
        if e.is_dir() {
            name.push('/');
        }
        if let Some(link) = symlink_text(self.data, idx) {
            name.push_str(&link);
        }
        let mut notes = String::new();
        if !e.changed.is_empty() && e.status != Status::Added && e.status != Status::Deleted {
            notes = format!("  ({})", e.changed.names().join(", "));
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
            notes = format!("  {}", parts.join(" "));
        }
        Cells {
            columns: text,
            name: Untrusted::owned(name),
            notes,
            style: if unchanged {
                Style::default()
            } else {
                t.status(e.status)
            },
        }
    }
}

pub(super) fn tree(s: &DiffState, data: &ImagePair, area: Rect, buf: &mut Buffer) {
    let title = format!(
        "Files: old → new · {} rows · sort {}",
        s.tree.rows.len(),
        s.tree.sort.label()
    );
    let rows = EntryRows {
        data,
        paths: s.paths.as_ref(),
    };
    let frame = Frame {
        title: &title,
        focused: s.ui.focus == Focus::Tree,
        theme: s.theme(),
        keys: &s.ui.config.keys,
    };
    table::render(&s.tree, &rows, frame, area, buf);
}
