//! The layers pane: index, size, one-line command, and a `!` marker (red
//! when coloured) on layers that ship much waste; `A`/`B` mark a range.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{block, fit_title, row_style, short_command, size, truncate};
use crate::tui::state::{AppState, Focus};

/// Rows of layers the pane shows.
pub fn body_height(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// The layer shown at screen row `y`.
pub fn layer_at(s: &AppState, area: Rect, y: u16) -> Option<usize> {
    if y <= area.y || y + 1 >= area.bottom() {
        return None;
    }
    let i = s.layer_scroll + (y - area.y - 1) as usize;
    (i < s.data.as_ref()?.layer_count()).then_some(i)
}

pub fn render(s: &AppState, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let focused = s.focus == Focus::Layers;
    let n = data.layer_count();
    // Layers are numbered from 0 everywhere (the list, the tree's title,
    // the reports).
    let title = fit_title(
        &format!("Layer {} of 0–{}", s.layer, n.saturating_sub(1)),
        area,
    );
    let mut b = block(s, &title, focused);
    // Layers scrolled out of the pane, above and below.
    let rows = body_height(area);
    let below = n.saturating_sub(s.layer_scroll + rows);
    if s.layer_scroll > 0 {
        b = b.title(
            Line::styled(format!(" ↑{} ", s.layer_scroll), t.key).alignment(Alignment::Right),
        );
    }
    if below > 0 {
        b = b.title_bottom(Line::styled(format!(" ↓{below} "), t.key).alignment(Alignment::Right));
    }
    let inner = b.inner(area);
    b.render(area, buf);
    let w = inner.width as usize;
    let from = s.range_from();
    let mut lines = Vec::new();
    for (i, l) in data
        .loaded
        .image
        .layers
        .iter()
        .enumerate()
        .skip(s.layer_scroll)
        .take(inner.height as usize)
    {
        let fig = data.analysis.layers.get(i);
        let waste = fig.is_some_and(|f| f.is_wasteful(l.size_bytes));
        let mark = if from == Some(i) {
            "A"
        } else if from.is_some() && i == s.layer {
            "B"
        } else {
            " "
        };
        let head = format!("{mark}{i:>2} {:>9} ", size(l.size_bytes));
        let cmd_w = w.saturating_sub(head.chars().count() + 2);
        let cmd = truncate(&short_command(&l.command), cmd_w);
        let style = row_style(t, i == s.layer, focused);
        let mut spans = vec![
            Span::raw(head),
            if waste {
                Span::styled("! ", t.waste)
            } else {
                Span::raw("  ")
            },
            Span::raw(cmd),
        ];
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        if i == s.layer && used < w {
            spans.push(Span::raw(" ".repeat(w - used)));
        }
        lines.push(Line::from(spans).style(style));
    }
    Paragraph::new(lines).render(inner, buf);
}
