//! The title line (both images, active filters), the status line (prompt,
//! message, search count or key hints) and the loading screen with a
//! progress bar per image.

use std::sync::atomic::Ordering;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Widget, Wrap};

use crate::load::{Phase, Progress};
use crate::tree::Status;
use crate::tui::diff::state::DiffState;
use crate::tui::view::{centred, size, truncate};

use super::{block, side_name};

/// Active filters in words.
pub fn filter_summary(s: &DiffState) -> String {
    let f = &s.filter;
    let mut parts = Vec::new();
    if f.regex.is_some() {
        parts.push(format!("regex \"{}\"", f.text));
    }
    let hidden: Vec<&str> = Status::ALL
        .iter()
        .zip(f.statuses)
        .filter(|(_, on)| !on)
        .map(|(st, _)| st.as_str())
        .collect();
    if !hidden.is_empty() {
        parts.push(format!("hide {}", hidden.join(",")));
    }
    if !f.size_text.is_empty() {
        parts.push(format!("size {}", f.size_text));
    }
    if !s.paths_text.is_empty() {
        parts.push(format!("paths {}", s.paths_text));
    }
    parts.join(" · ")
}

pub(super) fn title(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let (old, new) = match &s.data {
        Some(d) => (side_name(&d.diff.old), side_name(&d.diff.new)),
        None => (s.old_path.clone(), s.new_path.clone()),
    };
    let mut spans = vec![
        Span::styled(" layerscope diff ", t.title),
        Span::styled("- ", t.statuses[2]),
        Span::raw(old),
        Span::styled("  + ", t.statuses[0]),
        Span::raw(new),
    ];
    let f = filter_summary(s);
    if !f.is_empty() {
        spans.push(Span::styled("  filter: ", t.dim));
        spans.push(Span::styled(f, t.key));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

pub(super) fn status_line(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let line = if let Some(p) = &s.prompt {
        let mut spans = vec![
            Span::styled(p.kind.label(), t.key),
            Span::raw(p.text.clone()),
            Span::styled("█", t.dim),
        ];
        if p.kind == crate::tui::state::PromptKind::Search {
            spans.push(Span::styled(
                format!("  {} matches", s.search.matches.len()),
                t.dim,
            ));
        }
        if let Some(m) = &s.message {
            spans.push(Span::styled(format!("  {m}"), t.waste));
        }
        Line::from(spans)
    } else if let Some(m) = &s.message {
        Line::styled(truncate(m, area.width as usize), t.key)
    } else {
        let mut spans = Vec::new();
        if !s.search.query.is_empty() {
            let cur = s.search.current.map_or(0, |c| c + 1);
            spans.push(Span::styled(
                format!("/{} {}/{}  ", s.search.query, cur, s.search.matches.len()),
                t.key.add_modifier(Modifier::BOLD),
            ));
        }
        let hints: &[(&str, &str)] = if s.data.is_none() {
            &[("q", "quit")]
        } else {
            &[
                ("q", "quit"),
                ("?", "help"),
                ("tab", "pane"),
                ("/", "search"),
                ("f", "filter"),
                ("1-5", "status"),
                ("s", "sort"),
                ("d", "details"),
                ("o", "diff"),
                ("i", "summary"),
            ]
        };
        for (k, d) in hints {
            spans.push(Span::styled(*k, t.key));
            spans.push(Span::raw(format!(" {d}  ")));
        }
        Line::from(spans)
    };
    Paragraph::new(line).render(area, buf);
}

fn ratio(done: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    }
}

/// One progress bar per image, then "comparing".
pub(super) fn loading(s: &DiffState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let r = centred(area, 70, 60);
    if let Some(e) = &s.load_error {
        let b = block(t, "Could not compare the images", true).border_style(t.waste);
        let inner = b.inner(r);
        b.render(r, buf);
        Paragraph::new(vec![
            Line::styled(e.clone(), t.waste),
            Line::raw(""),
            Line::styled("Press q to quit.", t.dim),
        ])
        .wrap(Wrap { trim: false })
        .render(inner, buf);
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
        let head = format!("{label}: {}  {text}", path);
        Paragraph::new(Line::raw(truncate(&head, inner.width as usize)))
            .render(Rect::new(inner.x, y, inner.width, 1), buf);
        Gauge::default()
            .gauge_style(t.bar)
            .ratio(r)
            .use_unicode(true)
            .render(Rect::new(inner.x, y + 1, inner.width, 1), buf);
        y += 3;
    }
    if y < inner.bottom() && both_done {
        Paragraph::new(Line::raw("Comparing the trees …"))
            .render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
    if y + 1 < inner.bottom() {
        Paragraph::new(Line::styled("q quits at any moment", t.dim))
            .render(Rect::new(inner.x, inner.bottom() - 1, inner.width, 1), buf);
    }
}

fn progress_line(p: &Progress) -> (String, f64) {
    let bd = p.bytes_done.load(Ordering::Relaxed);
    let bt = p.bytes_total.load(Ordering::Relaxed);
    let ld = p.layers_done.load(Ordering::Relaxed) as u64;
    let lt = p.layers_total.load(Ordering::Relaxed) as u64;
    match p.phase() {
        Phase::Opening => ("reading manifest …".into(), 0.0),
        Phase::ReadingLayers => (
            format!("layers {ld}/{lt}, {} / {}", size(bd), size(bt)),
            ratio(bd, bt),
        ),
        Phase::Analysing => ("analysing …".into(), 1.0),
        Phase::Done => ("done".into(), 1.0),
    }
}
