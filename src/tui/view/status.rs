//! The title line (image, active filters), the status line (prompt,
//! message, search count or key hints), and the loading screen with one
//! progress bar per phase.

use std::sync::atomic::Ordering;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Widget, Wrap};

use super::{block, centred, fit, size, themed_block, truncate};
use crate::load::Phase;
use crate::text::display_safe;
use crate::tree::Status;
use crate::tui::config::Theme;
use crate::tui::config::{Action, KeyMap};
use crate::tui::host::Ui;
use crate::tui::prompt::PromptKind;
use crate::tui::state::AppState;
use crate::tui::table::{Filter, Search};

/// Active filters in words, e.g. `regex "apt" · hide unchanged · >10M`.
pub fn filter_summary(s: &AppState) -> String {
    let mut parts = filter_parts(&s.tree.filter);
    if s.tree.filter.only_wasted {
        parts.push("only wasted".into());
    }
    parts.join(" · ")
}

/// The parts of a filter both modes show: regex, hidden statuses, size.
pub fn filter_parts(f: &Filter) -> Vec<String> {
    let mut parts = Vec::new();
    if f.regex.is_some() {
        parts.push(format!("regex \"{}\"", display_safe(&f.text)));
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
        parts.push(format!("size {}", display_safe(&f.size_text)));
    }
    parts
}

pub fn title(s: &AppState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let name = s
        .data
        .as_ref()
        .and_then(|d| d.loaded.image.name.clone())
        .unwrap_or_else(|| s.image_path.clone());
    let name = display_safe(&name).into_owned();
    let mut spans = vec![Span::styled(" layerscope ", t.title), Span::raw(name)];
    // An image from a daemon or registry says which one (a file's name is
    // its own answer).
    if let Some(o) = s.data.as_ref().map(|d| &d.loaded.image.origin) {
        if o.kind.takes_reference() {
            let at = o.endpoint.as_deref().unwrap_or_default();
            spans.push(Span::styled(
                format!("  from {} {}", o.kind, display_safe(at)),
                t.dim,
            ));
        }
    }
    // Load warnings are easy to miss at the end of the image popup: a
    // marker on the main screen names the key that lists them.
    let warnings = s.data.as_ref().map_or(0, |d| d.loaded.image.warnings.len());
    if warnings > 0 {
        let key =
            s.ui.config
                .keys
                .keys_label(crate::tui::config::Action::Warnings);
        let key = key.split(", ").next().unwrap_or("").to_string();
        let what = if warnings == 1 { "warning" } else { "warnings" };
        spans.push(Span::styled(
            format!("  ⚠ {warnings} load {what} ({key})"),
            t.waste,
        ));
    }
    render_title(t, spans, filter_summary(s), area, buf);
}

/// The title line: `spans` (the name), then the active filters if any.
pub fn render_title(
    t: &Theme,
    mut spans: Vec<Span<'static>>,
    filter: String,
    area: Rect,
    buf: &mut Buffer,
) {
    if !filter.is_empty() {
        spans.push(Span::styled("  filter: ", t.dim));
        spans.push(Span::styled(filter, t.key));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

pub fn status_line(s: &AppState, area: Rect, buf: &mut Buffer) {
    let hints = hints(s.data.is_some(), |_, label| Some(label));
    render_status(&s.ui, &s.tree.search, &hints, area, buf);
}

/// The key hints of the status line, in the order they are dropped from
/// the end when the line is short; each mode names what `label_of` says
/// (None: not in this mode). Before loading only quitting is hinted.
pub fn hints(
    loaded: bool,
    label_of: impl Fn(Action, &'static str) -> Option<&'static str>,
) -> Vec<(Action, &'static str)> {
    use Action::*;
    const HINTS: &[(Action, &str)] = &[
        (Quit, "quit"),
        (Help, "help"),
        (FocusNext, "pane"),
        (CycleMode, "mode"),
        (MarkRange, "range"),
        (Search, "search"),
        (FilterRegex, "filter"),
        (ToggleAdded, "status"),
        (SortKey, "sort"),
        (Details, "details"),
        (Content, "view"),
        (ImageDetails, "image"),
    ];
    let shown = if loaded { HINTS } else { &HINTS[..1] };
    shown
        .iter()
        .filter_map(|&(a, label)| Some((a, label_of(a, label)?)))
        .collect()
}

/// The key of each hint, from the key map; `ToggleAdded` stands for the
/// five status toggles (`1-5`).
fn hint_keys(keys: &KeyMap, a: Action) -> String {
    if a != Action::ToggleAdded {
        return keys.first_label(a);
    }
    let toggles = [
        Action::ToggleAdded,
        Action::ToggleModified,
        Action::ToggleDeleted,
        Action::ToggleMetadata,
        Action::ToggleUnchanged,
    ]
    .map(|a| keys.first_label(a));
    if toggles == ["1", "2", "3", "4", "5"] {
        "1-5".into()
    } else {
        toggles.join("")
    }
}

/// The status line: the open prompt, else the message, else the search
/// position and the key hints (what `hints`' actions do, with their keys).
/// The prompt's text (Tab completes archive paths into it), the message
/// (it quotes paths) and the query are shown sanitised, whoever made them.
pub fn render_status(
    ui: &Ui,
    search: &Search,
    hints: &[(Action, &str)],
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &ui.config.theme;
    let w = area.width as usize;
    let line = if let Some(pr) = &ui.prompt {
        let mut spans = vec![
            Span::styled(pr.kind.label(), t.key),
            Span::raw(display_safe(&pr.text).into_owned()),
            Span::styled("█", t.dim),
        ];
        if pr.kind == PromptKind::Search {
            spans.push(Span::styled(
                format!("  {} matches", search.matches.len()),
                t.dim,
            ));
        }
        if let Some(m) = &ui.message {
            spans.push(Span::styled(format!("  {}", display_safe(m)), t.waste));
        }
        Line::from(spans)
    } else if let Some(m) = &ui.message {
        Line::styled(truncate(&display_safe(m), w), t.key)
    } else {
        let mut spans = Vec::new();
        if !search.query.is_empty() {
            let cur = search.current.map_or(0, |c| c + 1);
            spans.push(Span::styled(
                format!(
                    "/{} {}/{}  ",
                    display_safe(&search.query),
                    cur,
                    search.matches.len()
                ),
                t.key.add_modifier(Modifier::BOLD),
            ));
        }
        // Whole hints only: the last one that fits, then `…` when some
        // did not (the rest are in `?`).
        let mut used: usize = spans.iter().map(Span::width).sum();
        for (i, (a, d)) in hints.iter().enumerate() {
            let k = hint_keys(&ui.config.keys, *a);
            let hint_w = k.chars().count() + d.chars().count() + 3;
            let last = i + 1 == hints.len();
            if used + hint_w > w || (!last && used + hint_w + 1 > w) {
                spans.push(Span::styled("…", t.dim));
                break;
            }
            used += hint_w;
            spans.push(Span::styled(k, t.key));
            spans.push(Span::raw(format!(" {d}  ")));
        }
        Line::from(spans)
    };
    Paragraph::new(fit(line, w)).render(area, buf);
}

/// The loading screen's box saying why loading failed.
pub fn load_error(t: &Theme, title: &str, e: &str, r: Rect, buf: &mut Buffer) {
    let b = themed_block(t, title, true).border_style(t.waste);
    let inner = b.inner(r);
    b.render(r, buf);
    Paragraph::new(vec![
        Line::styled(display_safe(e).into_owned(), t.waste),
        Line::raw(""),
        Line::styled("Press q to quit.", t.dim),
    ])
    .wrap(Wrap { trim: false })
    .render(inner, buf);
}

/// A label at row `y` of `inner` and a progress bar under it.
pub fn gauge_row(t: &Theme, inner: Rect, y: u16, label: String, ratio: f64, buf: &mut Buffer) {
    Paragraph::new(Line::raw(label)).render(Rect::new(inner.x, y, inner.width, 1), buf);
    Gauge::default()
        .gauge_style(t.bar)
        .ratio(ratio)
        .use_unicode(true)
        .render(Rect::new(inner.x, y + 1, inner.width, 1), buf);
}

/// The loading screen's last line.
pub fn quit_hint(t: &Theme, inner: Rect, buf: &mut Buffer) {
    Paragraph::new(Line::styled("q quits at any moment", t.dim))
        .render(Rect::new(inner.x, inner.bottom() - 1, inner.width, 1), buf);
}

pub fn ratio(done: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    }
}

/// Loading screen: a bar per phase, or the load error.
pub fn loading(s: &AppState, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let r = centred(area, 70, 60);
    if let Some(e) = &s.ui.load_error {
        load_error(t, "Could not load the image", &e.to_string(), r, buf);
        return;
    }
    let p = &s.progress;
    let phase = p.phase();
    let b = block(s, "Loading", true);
    let inner = b.inner(r);
    b.render(r, buf);
    let bytes_done = p.bytes_done.load(Ordering::Relaxed);
    let bytes_total = p.bytes_total.load(Ordering::Relaxed);
    let ld = p.layers_done.load(Ordering::Relaxed) as u64;
    let lt = p.layers_total.load(Ordering::Relaxed) as u64;
    let opened = phase != Phase::Opening;
    let analysing = matches!(phase, Phase::Analysing | Phase::Done);
    // A daemon exports to a temp file before its first byte: say so
    // rather than show a frozen bar, then count what streams in.
    let first = match (opened, p.note()) {
        (false, Some(note)) => (display_safe(&note).into_owned(), 0.0),
        (false, None) if bytes_done > 0 => (format!("Receiving image   {}", size(bytes_done)), 0.0),
        _ => (
            format!("Reading manifest  {}", if opened { "done" } else { "…" }),
            if opened { 1.0 } else { 0.0 },
        ),
    };
    let rows: [(String, f64); 4] = [
        first,
        (
            format!(
                "Reading layers    {} / {}",
                size(bytes_done),
                size(bytes_total)
            ),
            if analysing {
                1.0
            } else {
                ratio(bytes_done, bytes_total)
            },
        ),
        (
            format!("Replaying layers  {ld} / {lt}"),
            if analysing { 1.0 } else { ratio(ld, lt) },
        ),
        // After the loader finishes, the explorer still computes the
        // figures and its path index: not done until the tree shows.
        (
            format!(
                "Analysing         {}",
                match phase {
                    Phase::Done => "figures and path index…",
                    Phase::Analysing => "…",
                    _ => "",
                }
            ),
            match phase {
                Phase::Done => 0.7,
                Phase::Analysing => 0.3,
                _ => 0.0,
            },
        ),
    ];
    let mut y = inner.y;
    Paragraph::new(Line::raw(truncate(
        &display_safe(&s.image_path),
        inner.width as usize,
    )))
    .render(Rect::new(inner.x, y, inner.width, 1), buf);
    y += 2;
    for (label, r) in rows {
        if y + 1 >= inner.bottom() {
            break;
        }
        gauge_row(t, inner, y, label, r, buf);
        y += 2;
    }
    // Layers being read (a registry's downloads): bytes of total each.
    if phase == Phase::ReadingLayers {
        for (i, (done, total)) in p.layer_bytes().into_iter().enumerate() {
            if done == 0 || done >= total {
                continue;
            }
            if y + 1 >= inner.bottom() {
                break;
            }
            let line = format!(
                "  layer {i:<3} {} / {} ({:.0}%)",
                size(done),
                size(total),
                100.0 * ratio(done, total)
            );
            Paragraph::new(Line::styled(truncate(&line, inner.width as usize), t.dim))
                .render(Rect::new(inner.x, y, inner.width, 1), buf);
            y += 1;
        }
    }
    if y < inner.bottom() {
        quit_hint(t, inner, buf);
    }
}
