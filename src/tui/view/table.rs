//! The tree table's pane, drawn alike in both explorers: a bordered block
//! with the title, a header line, then one line per visible row (only
//! the rows on screen): the source's columns, the name indented by depth
//! with `▸`/`▾` on directories, and the source's dim notes after it. The
//! cursor row is highlighted across the pane, the current search match
//! underlined. What the columns say comes from a [`RowView`].

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{cursor_style, themed_block, truncate};
use crate::text::display_safe;
use crate::tui::config::{KeyMap, Theme};
use crate::tui::table::{Filter, RowSource, TableSort, TreeTable};
use crate::tui::untrusted::Untrusted;

/// One row's text, as its source shows it.
pub struct Cells {
    /// The columns before the name (status marker, sizes…).
    pub columns: String,
    /// The name, with `/` on directories and a link's target: archive
    /// text, shown only sanitised.
    pub name: Untrusted<'static>,
    /// Notes after the name, drawn dim (sanitised too: they may quote).
    pub notes: String,
    pub style: Style,
}

/// How a [`RowSource`]'s rows are drawn.
pub trait RowView: RowSource {
    /// The header line over the rows, for a pane `width` columns wide.
    fn header(&self, width: usize) -> String;
    /// What the pane says when it has no rows.
    fn empty(&self, filter: &Filter, keys: &KeyMap) -> String;
    /// The cells of `key`'s row in a pane `width` columns wide.
    fn cells(&self, key: u32, has_children: bool, width: usize, t: &Theme) -> Cells;
}

/// How the pane is framed.
pub struct Frame<'a> {
    pub title: &'a str,
    pub focused: bool,
    pub theme: &'a Theme,
    pub keys: &'a KeyMap,
}

/// Draw `table` over the rows of `src` into `area`.
pub fn render<So: TableSort, C: Default, S: RowView<Sort = So, Orders = C>>(
    table: &TreeTable<So, C>,
    src: &S,
    f: Frame,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = f.theme;
    let b = themed_block(t, f.title, f.focused);
    let inner = b.inner(area);
    b.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    // One line per row, each set straight into the buffer: a Paragraph
    // would re-flow every line the pane shows on each frame.
    let mut y = inner.y;
    let mut put = |line: Line| {
        if y < inner.bottom() {
            buf.set_line(inner.x, y, &line, inner.width);
            y += 1;
        }
    };
    put(Line::styled(
        truncate(&src.header(w), w),
        t.dim.add_modifier(Modifier::BOLD),
    ));
    if table.rows.is_empty() {
        put(Line::styled(src.empty(&table.filter, f.keys), t.dim));
    }
    let current = table.search.current_key();
    for row in table.shown(inner.height as usize - 1) {
        let Some(e) = table.entry(row) else { break };
        let dir = table.has_children(row);
        let c = src.cells(e.key, dir, w, t);
        let branch = match (dir, table.collapsed.contains(&e.key)) {
            (true, true) => "▸ ",
            (true, false) => "▾ ",
            _ => "  ",
        };
        let mut text = c.columns;
        text.push_str(&"  ".repeat(e.depth as usize));
        text.push_str(branch);
        // Names and link targets are archive text: escapes, not controls.
        text.push_str(&c.name.display());
        let spans = if row == table.selected {
            text.push_str(&display_safe(&c.notes));
            let mut all = truncate(&text, w);
            let n = all.chars().count();
            if n < w {
                all.push_str(&" ".repeat(w - n));
            }
            vec![Span::styled(all, cursor_style(t, f.focused))]
        } else {
            let mut style = c.style;
            if current == Some(e.key) {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            let text = truncate(&text, w);
            let rest = w.saturating_sub(text.chars().count());
            let mut spans = vec![Span::styled(text, style)];
            if rest > 0 && !c.notes.is_empty() {
                spans.push(Span::styled(truncate(&display_safe(&c.notes), rest), t.dim));
            }
            spans
        };
        put(Line::from(spans));
    }
}
