//! The title line (both images, active filters), the status line (prompt,
//! message, search count or key hints) and the loading screen with a
//! progress bar per image.

use std::sync::atomic::Ordering;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::load::{Phase, Progress};
use crate::tui::config::Action;
use crate::tui::diff::state::DiffState;
use crate::tui::untrusted::Untrusted;
use crate::tui::view::status::{
    filter_parts, gauge_row, hints, load_error, quit_hint, ratio, render_status, render_title,
};
use crate::tui::view::{centred, size, truncate};

use super::{block, side_name};

/// Active filters in words.
pub fn filter_summary(s: &DiffState) -> String {
    let mut parts = filter_parts(&s.tree.filter);
    if !s.paths_text.is_empty() {
        parts.push(format!("paths {}", Untrusted::new(&s.paths_text)));
    }
    parts.join(" · ")
}

pub(super) fn title(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let (old, new) = match &s.data {
        Some(d) => (side_name(&d.diff.old), side_name(&d.diff.new)),
        None => (
            Untrusted::new(&s.old_path).to_string(),
            Untrusted::new(&s.new_path).to_string(),
        ),
    };
    let spans = vec![
        Span::styled(" layerscope diff ", t.title),
        Span::styled("- ", t.statuses[2]),
        Span::raw(old),
        Span::styled("  + ", t.statuses[0]),
        Span::raw(new),
    ];
    render_title(t, spans, filter_summary(s), area, buf);
}

pub(super) fn status_line(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let hints = hints(s.data.is_some(), |a, label| match a {
        Action::CycleMode | Action::MarkRange => None,
        Action::Content => Some("diff"),
        Action::ImageDetails => Some("summary"),
        _ => Some(label),
    });
    render_status(&s.ui, &s.tree.search, &hints, area, buf);
}

/// One progress bar per image, then "comparing".
pub(super) fn loading(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let r = centred(area, 70, 60);
    if let Some(e) = &s.ui.load_error {
        load_error(t, "Could not compare the images", &e.to_string(), r, buf);
        return;
    }
    let b = block(t, "Loading both images", true);
    let inner = b.inner(r);
    b.render(r, buf);
    let mut y = inner.y;
    let both_done = s.progress.iter().all(|p| p.phase() == Phase::Done);
    for (label, path, p) in [
        ("old", &s.old_path, &s.progress[0]),
        ("new", &s.new_path, &s.progress[1]),
    ] {
        if y + 2 >= inner.bottom() {
            break;
        }
        let (text, r) = progress_line(p);
        let head = format!("{label}: {}  {text}", Untrusted::new(path));
        gauge_row(t, inner, y, truncate(&head, inner.width as usize), r, buf);
        y += 3;
    }
    if y < inner.bottom() && both_done {
        Paragraph::new(Line::raw("Comparing the trees …"))
            .render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
    if y + 1 < inner.bottom() {
        quit_hint(t, inner, buf);
    }
}

fn progress_line(p: &Progress) -> (String, f64) {
    let bd = p.bytes_done.load(Ordering::Relaxed);
    let bt = p.bytes_total.load(Ordering::Relaxed);
    let ld = p.layers_done.load(Ordering::Relaxed) as u64;
    let lt = p.layers_total.load(Ordering::Relaxed) as u64;
    match p.phase() {
        Phase::Opening => match p.note() {
            Some(note) => (Untrusted::owned(note).to_string(), 0.0),
            None if bd > 0 => (format!("receiving image {}", size(bd)), 0.0),
            None => ("reading manifest …".into(), 0.0),
        },
        Phase::ReadingLayers => (
            format!("layers {ld}/{lt}, {} / {}", size(bd), size(bt)),
            ratio(bd, bt),
        ),
        Phase::Analysing => ("analysing …".into(), 1.0),
        Phase::Done => ("done".into(), 1.0),
    }
}
