//! The two layer lists side by side (`=` same layer, `≈` shared at another
//! index, `-`/`+` only on one side), the selected layer pair's details and
//! the diff's summary pane.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::diff::LayerBrief;
use crate::tree::Status;
use crate::tui::config::Theme;
use crate::tui::diff::pair::ImagePair;
use crate::tui::diff::state::DiffState;
use crate::tui::host::Focus;
use crate::tui::untrusted::Untrusted;
use crate::tui::view::{list_row, short_command, size, truncate};

use super::{block, delta, side_name};

fn layer_line(l: Option<&LayerBrief>, same: bool, t: &Theme, w: usize) -> Vec<Span<'static>> {
    let Some(l) = l else {
        return vec![Span::raw("")];
    };
    let (mark, style) = if same {
        ("=", t.dim)
    } else if l.shared {
        ("≈", t.statuses[1])
    } else {
        ("", Style::default())
    };
    let head = format!("{:>2} {:>10} ", l.index, size(l.size_bytes));
    let cmd = truncate(
        &short_command(&l.command),
        w.saturating_sub(head.chars().count() + 2),
    );
    vec![
        Span::styled(format!("{mark:<1} "), style),
        Span::raw(head),
        Span::raw(cmd),
    ]
}

pub(super) fn layers(s: &DiffState, data: &ImagePair, old: Rect, new: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let focused = s.ui.focus == Focus::Layers;
    let ld = &data.diff.layers;
    let d = &data.diff;
    let old_title = format!(
        "Old layers: {} · {} only here",
        truncate(&side_name(&d.old), 30),
        ld.old_only
    );
    let new_title = format!(
        "New layers: {} · {} shared, {} new",
        truncate(&side_name(&d.new), 30),
        ld.shared,
        ld.new_only
    );
    for (area, title, is_old) in [(old, old_title, true), (new, new_title, false)] {
        let b = block(t, &title, focused);
        let inner = b.inner(area);
        b.render(area, buf);
        let w = inner.width as usize;
        let mut lines = Vec::new();
        for i in s.ui.layers.shown(inner.height as usize, ld.rows.len()) {
            let r = &ld.rows[i];
            let brief = if is_old {
                r.old.as_ref()
            } else {
                r.new.as_ref()
            };
            let mut spans = layer_line(brief, r.same, t, w);
            if brief.is_some_and(|b| !b.shared) {
                let st = if is_old { t.statuses[2] } else { t.statuses[0] };
                spans[0] = Span::styled(if is_old { "- " } else { "+ " }, st);
            }
            lines.push(list_row(t, spans, i == s.ui.layers.selected, focused, w));
        }
        Paragraph::new(lines).render(inner, buf);
    }
}

pub(super) fn layer_details(s: &DiffState, data: &ImagePair, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let b = block(t, "Layer pair", false);
    let inner = b.inner(area);
    b.render(area, buf);
    let Some(r) = data.diff.layers.rows.get(s.ui.layers.selected) else {
        return;
    };
    let w = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("Layer {}: ", r.index), t.dim),
        if r.same {
            Span::styled("same in both", t.dim)
        } else {
            Span::styled("differs", t.statuses[1])
        },
    ])];
    for (label, l, st) in [
        ("old", r.old.as_ref(), t.statuses[2]),
        ("new", r.new.as_ref(), t.statuses[0]),
    ] {
        match l {
            None => lines.push(Line::from(vec![
                Span::styled(format!("{label}: "), st),
                Span::styled("(none)", t.dim),
            ])),
            Some(l) => {
                let shared = if l.shared { "shared" } else { "only here" };
                lines.push(Line::from(vec![
                    Span::styled(format!("{label}: "), st),
                    Span::raw(format!("{} · {shared}", size(l.size_bytes))),
                ]));
                lines.push(Line::raw(format!(
                    "  {}",
                    truncate(&Untrusted::new(&l.diff_id).display(), w.saturating_sub(2))
                )));
                lines.push(Line::styled(
                    format!("  {}", short_command(&l.command)),
                    t.dim,
                ));
            }
        }
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

pub(super) fn summary(s: &DiffState, data: &ImagePair, area: Rect, buf: &mut Buffer) {
    if area.height < 3 {
        return;
    }
    let t = s.theme();
    let b = block(t, "Summary (i: details)", false);
    let inner = b.inner(area);
    b.render(area, buf);
    let d = &data.diff;
    let c = d.summary.paths;
    let mut lines = Vec::new();
    for (st, n) in [
        (Status::Added, c.added),
        (Status::Modified, c.modified),
        (Status::Deleted, c.deleted),
        (Status::Metadata, c.metadata),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{} {:<9}", st.marker(), st.as_str()), t.status(st)),
            Span::raw(format!("{n:>7}")),
        ]));
    }
    // Both sizes, and `unchanged` rather than a bare `0 B` when equal.
    let change = |old: u64, new: u64, dl: i64| {
        if dl == 0 {
            format!("unchanged, {}", size(new))
        } else {
            format!("{} ({} → {})", delta(dl), size(old), size(new))
        }
    };
    lines.push(Line::from(vec![
        Span::styled("Image size: ", t.dim),
        Span::raw(change(
            d.old.size_bytes,
            d.new.size_bytes,
            d.summary.size_delta_bytes,
        )),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Files:      ", t.dim),
        Span::raw(change(
            d.old.files_bytes,
            d.new.files_bytes,
            d.summary.files_delta_bytes,
        )),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Config:     ", t.dim),
        Span::raw(format!("{} changes", d.config.len())),
    ]));
    Paragraph::new(lines).render(inner, buf);
}
