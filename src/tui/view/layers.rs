//! The layers pane: index, size, one-line command, and a `!` marker (red
//! when coloured) on layers that ship much waste; `A`/`B` mark a range.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{block, fit_title, list_row, short_command, size, truncate};
use crate::tui::layout::list_body_height;
use crate::tui::state::{AppState, Focus};

pub fn render(s: &AppState, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let focused = s.ui.focus == Focus::Layers;
    let n = data.layer_count();
    // Layers are numbered from 0 everywhere (the list, the tree's title,
    // the reports).
    let title = fit_title(
        &format!("Layer {} of 0–{}", s.layer(), n.saturating_sub(1)),
        area,
    );
    let mut b = block(s, &title, focused);
    // Layers scrolled out of the pane, above and below.
    let rows = list_body_height(area);
    let scroll = s.ui.layers.scroll;
    let below = n.saturating_sub(scroll + rows);
    if scroll > 0 {
        b = b.title(Line::styled(format!(" ↑{scroll} "), t.key).alignment(Alignment::Right));
    }
    if below > 0 {
        b = b.title_bottom(Line::styled(format!(" ↓{below} "), t.key).alignment(Alignment::Right));
    }
    let inner = b.inner(area);
    b.render(area, buf);
    let w = inner.width as usize;
    let from = s.range_from();
    let mut lines = Vec::new();
    let layers = &data.loaded.image.layers;
    for i in s.ui.layers.shown(inner.height as usize, n) {
        let l = &layers[i];
        let fig = data.analysis.layers.get(i);
        let waste = fig.is_some_and(|f| f.is_wasteful(l.size_bytes));
        let mark = if from == Some(i) {
            "A"
        } else if from.is_some() && i == s.layer() {
            "B"
        } else {
            " "
        };
        let head = format!("{mark}{i:>2} {:>9} ", size(l.size_bytes));
        let cmd_w = w.saturating_sub(head.chars().count() + 2);
        let cmd = truncate(&short_command(&l.command), cmd_w);
        let spans = vec![
            Span::raw(head),
            if waste {
                Span::styled("! ", t.waste)
            } else {
                Span::raw("  ")
            },
            Span::raw(cmd),
        ];
        lines.push(list_row(t, spans, i == s.layer(), focused, w));
    }
    Paragraph::new(lines).render(inner, buf);
}
