//! Pure renders of [`DiffState`]: the two layer lists side by side, the
//! selected layer pair and the diff summary on the left, the merged tree
//! with its statuses on the right, and the overlays (help, old/new details
//! side by side, the line diff, the config and growth summary). Reuses the
//! explorer's helpers for sizes, modes, truncation and commands.

use std::sync::atomic::Ordering;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Gauge, Paragraph, Widget, Wrap};

use super::data::{ContentDiff, DiffData, SideContent, DIFF_WINDOW};
use super::rows::DiffSortKey;
use super::state::{ContentView, DiffAreas, DiffFocus, DiffPopup, DiffState};
use crate::diff::{Entry, LayerBrief, SideInfo};
use crate::load::{Phase, Progress};
use crate::report::diff_text::signed;
use crate::report::Units;
use crate::tree::{Attrs, Status};
use crate::tui::config::{Action, Theme, ACTIONS};
use crate::tui::view::{
    centred, mode_string, short_command, size, truncate, MIN_HEIGHT, MIN_WIDTH,
};

fn block<'a>(t: &Theme, title: &'a str, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused { t.border_focus } else { t.border })
        .title(Line::styled(
            format!(" {title} "),
            if focused { t.title } else { t.text },
        ))
}

fn delta(d: i64) -> String {
    signed(Units::Human, d)
}

/// Where each pane goes.
pub fn layout(s: &DiffState, area: Rect) -> DiffAreas {
    if area.height < 3 {
        return DiffAreas::default();
    }
    let title = Rect::new(area.x, area.y, area.width, 1);
    let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
    let n = s.layer_rows() as u16;
    let layers_h = (n + 2).min((body.height / 3).max(4)).min(body.height);
    let half = body.width / 2;
    let rest = Rect::new(
        body.x,
        body.y + layers_h,
        body.width,
        body.height - layers_h,
    );
    let left_w = (area.width * 34 / 100).clamp(28, 50).min(area.width / 2);
    let details_h = (rest.height / 2).max(rest.height.min(8)).min(rest.height);
    DiffAreas {
        title,
        old_layers: Rect::new(body.x, body.y, half, layers_h),
        new_layers: Rect::new(body.x + half, body.y, body.width - half, layers_h),
        layer_details: Rect::new(rest.x, rest.y, left_w, details_h),
        summary: Rect::new(rest.x, rest.y + details_h, left_w, rest.height - details_h),
        tree: Rect::new(rest.x + left_w, rest.y, rest.width - left_w, rest.height),
        status,
    }
}

/// Rows of the tree pane (border and header excluded).
pub fn tree_body_height(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// The visible-row index at screen row `y`.
pub fn tree_row_at(s: &DiffState, area: Rect, y: u16) -> Option<usize> {
    let top = area.y + 2;
    if y < top || y + 1 >= area.bottom() {
        return None;
    }
    let r = s.tree.scroll + (y - top) as usize;
    (r < s.tree.rows.len()).then_some(r)
}

/// Draw the whole screen.
pub fn draw(s: &DiffState, area: Rect, buf: &mut Buffer) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small: {}x{} (need {}x{}); q quits",
            area.width, area.height, MIN_WIDTH, MIN_HEIGHT
        );
        Paragraph::new(msg)
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    }
    let a = layout(s, area);
    title(s, a.title, buf);
    status_line(s, a.status, buf);
    let Some(data) = &s.data else {
        let body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
        loading(s, body, buf);
        return;
    };
    layers(s, data, a.old_layers, a.new_layers, buf);
    layer_details(s, data, a.layer_details, buf);
    summary(s, data, a.summary, buf);
    tree(s, data, a.tree, buf);
    popups(s, data, area, buf);
}

fn side_name(info: &SideInfo) -> String {
    let name = info.name.clone().unwrap_or_else(|| info.source.clone());
    match info.layer {
        Some(l) if l + 1 != info.layer_count => format!("{name} @ layer {l}"),
        _ => name,
    }
}

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

fn title(s: &DiffState, area: Rect, buf: &mut Buffer) {
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

fn status_line(s: &DiffState, area: Rect, buf: &mut Buffer) {
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
fn loading(s: &DiffState, area: Rect, buf: &mut Buffer) {
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

fn layers(s: &DiffState, data: &DiffData, old: Rect, new: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let focused = s.focus == DiffFocus::Layers;
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
        for (i, r) in ld
            .rows
            .iter()
            .enumerate()
            .skip(s.layer_scroll)
            .take(inner.height as usize)
        {
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
            let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
            let style = if i == s.layer {
                if focused {
                    t.selected
                } else {
                    t.selected_unfocused
                }
            } else {
                Style::default()
            };
            if i == s.layer && used < w {
                spans.push(Span::raw(" ".repeat(w - used)));
            }
            lines.push(Line::from(spans).style(style));
        }
        Paragraph::new(lines).render(inner, buf);
    }
}

fn layer_details(s: &DiffState, data: &DiffData, area: Rect, buf: &mut Buffer) {
    let t = s.theme();
    let b = block(t, "Layer pair", false);
    let inner = b.inner(area);
    b.render(area, buf);
    let Some(r) = data.diff.layers.rows.get(s.layer) else {
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
                    truncate(&l.diff_id, w.saturating_sub(2))
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

fn summary(s: &DiffState, data: &DiffData, area: Rect, buf: &mut Buffer) {
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
    lines.push(Line::from(vec![
        Span::styled("Image size: ", t.dim),
        Span::raw(delta(d.summary.size_delta_bytes)),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Files:      ", t.dim),
        Span::raw(delta(d.summary.files_delta_bytes)),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Config:     ", t.dim),
        Span::raw(format!("{} changes", d.config.len())),
    ]));
    Paragraph::new(lines).render(inner, buf);
}

fn entry_style(t: &Theme, e: &Entry) -> Style {
    if e.status == Status::Unchanged {
        Style::default()
    } else {
        t.status(e.status)
    }
}

fn tree(s: &DiffState, data: &DiffData, area: Rect, buf: &mut Buffer) {
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
    let show_old = w >= 60;
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
    let current = s
        .search
        .current
        .and_then(|i| s.search.matches.get(i))
        .copied();
    let end = (s.tree.scroll + inner.height as usize - 1).min(s.tree.rows.len());
    for row in s.tree.scroll..end {
        let Some(r) = s.tree.entry(row) else { break };
        let Some(e) = data.entry(r.idx) else { break };
        let marker = if e.status == Status::Unchanged {
            ' '
        } else {
            e.status.marker()
        };
        let sz = |present: bool, n: u64| {
            if !present || (e.is_dir() && n == 0) {
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
            spans = vec![Span::styled(
                all,
                if focused {
                    t.selected
                } else {
                    t.selected_unfocused
                },
            )];
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

fn popups(s: &DiffState, data: &DiffData, area: Rect, buf: &mut Buffer) {
    let Some(p) = &s.popup else { return };
    let (title, lines, scroll) = match p {
        DiffPopup::Help { scroll } => (
            "Help: diff mode (esc closes)".to_string(),
            help_lines(s),
            *scroll,
        ),
        DiffPopup::Details { idx, scroll } => (
            "Old and new (esc closes)".to_string(),
            details_lines(s, data, *idx),
            *scroll,
        ),
        DiffPopup::Summary { scroll } => (
            "Diff summary: images, config, growth (esc closes)".to_string(),
            summary_lines(s, data),
            *scroll,
        ),
        DiffPopup::Content(cv) => {
            content(s, data, cv, area, buf);
            return;
        }
    };
    let r = centred(area, 90, 88);
    Clear.render(r, buf);
    let b = block(s.theme(), &title, true);
    let inner = b.inner(r);
    b.render(r, buf);
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll as u16, 0))
        .render(inner, buf);
}

/// Help text of the diff mode: the explorer's actions that apply here.
pub fn help_lines(s: &DiffState) -> Vec<Line<'static>> {
    let t = s.theme();
    let mut lines = Vec::new();
    for (a, _, _, text) in ACTIONS {
        let text = match a {
            Action::CycleMode | Action::MarkRange | Action::OnlyWasted | Action::Extract => {
                continue
            }
            Action::Details => "old and new metadata side by side",
            Action::Content => "line diff of old vs new (binary: sizes and hashes)",
            Action::ImageDetails => "both images, config changes, biggest growth",
            Action::SortKey => "sort by name / size / size change",
            Action::ToggleUnchanged => "show/hide unchanged (hidden at start)",
            Action::FocusNext => "layers / files pane",
            _ => text,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>16}  ", s.config.keys.keys_label(*a)), t.key),
            Span::raw(text.to_string()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Line diff: ↑↓ scroll, ] [ (n N) next/previous change",
        t.dim,
    ));
    lines.push(Line::styled(
        "Prompts: enter apply, esc cancel, ctrl-u clear",
        t.dim,
    ));
    lines.push(Line::raw(""));
    let mut legend = vec![Span::styled("Markers: ", t.dim)];
    for st in Status::ALL {
        legend.push(Span::styled(
            format!("{} {}  ", st.marker(), st.as_str()),
            t.status(st),
        ));
    }
    lines.push(Line::from(legend));
    lines.push(Line::styled(
        "Layers: = same layer at this index, ≈ shared at another index, - only in old, + only in new",
        t.dim,
    ));
    lines
}

fn attr_cells(a: Option<&Attrs>) -> [String; 6] {
    match a {
        None => [
            "(absent)".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        Some(a) => [
            format!("{:?}", a.kind).to_lowercase(),
            format!(
                "{} ({:04o})",
                mode_string(a.kind.letter(), a.mode),
                a.mode & 0o7777
            ),
            format!("{}:{}", a.uid, a.gid),
            format!("{} ({} B)", size(a.size), a.size),
            a.sha256
                .map_or(String::new(), |h| hex::encode(&h[..12]) + "…"),
            a.link
                .as_ref()
                .map_or(String::new(), |l| String::from_utf8_lossy(l).into_owned()),
        ],
    }
}

/// Which layer last changed the path on one side, with its command.
fn origin(l: &crate::load::Loaded, id: Option<u32>, layer: Option<usize>) -> String {
    let (Some(id), Some(layer)) = (id, layer) else {
        return String::new();
    };
    let Some(v) = l.tree.version_at(id, layer) else {
        return String::new();
    };
    let li = v.layer as usize;
    let cmd = l
        .image
        .layers
        .get(li)
        .map(|x| short_command(&x.command))
        .unwrap_or_default();
    format!("{li}: {}", truncate(&cmd, 30))
}

/// Old and new attributes side by side; differing rows marked `*`.
pub fn details_lines(s: &DiffState, data: &DiffData, idx: u32) -> Vec<Line<'static>> {
    let t = s.theme();
    let Some(e) = data.entry(idx) else {
        return Vec::new();
    };
    let (oa, na) = (data.old_attrs(idx), data.new_attrs(idx));
    let mut head = vec![Span::styled(e.path.clone(), t.title)];
    if e.status != Status::Unchanged {
        head.push(Span::styled(
            format!("  {} {}", e.status.marker(), e.status.as_str()),
            t.status(e.status),
        ));
    }
    if !e.changed.is_empty() {
        head.push(Span::raw(format!(": {}", e.changed.names().join(", "))));
    }
    let mut lines = vec![Line::from(head), Line::raw("")];
    let col = 34;
    lines.push(Line::styled(
        format!(
            "  {:<10}{:<col$}New ({})",
            "",
            format!("Old ({})", side_label(&data.diff.old)),
            side_label(&data.diff.new)
        ),
        t.dim.add_modifier(Modifier::BOLD),
    ));
    let (oc, nc) = (attr_cells(oa), attr_cells(na));
    let labels = ["Kind", "Mode", "UID:GID", "Size", "SHA-256", "Link"];
    for (i, label) in labels.iter().enumerate() {
        if oc[i].is_empty() && nc[i].is_empty() {
            continue;
        }
        let differ = oa.is_some() && na.is_some() && oc[i] != nc[i];
        let style = if differ {
            t.status(e.status)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{:<10}", if differ { "* " } else { "  " }, label),
                t.dim,
            ),
            Span::styled(format!("{:<col$}", truncate(&oc[i], col - 1)), style),
            Span::styled(nc[i].clone(), style),
        ]));
    }
    let ol = origin(&data.old, e.old, data.diff.old.layer);
    let nl = origin(data.new_side(), e.new, data.diff.new.layer);
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<10}", "Layer"), t.dim),
        Span::raw(format!("{:<col$}", truncate(&ol, col - 1))),
        Span::raw(nl),
    ]));
    if let Some(tot) = e.totals {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<10}", "Total"), t.dim),
            Span::raw(format!("{:<col$}", size(e.old_bytes()))),
            Span::raw(format!("{}  ({})", size(e.new_bytes()), delta(e.delta()))),
        ]));
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<10}", "Below"), t.dim),
            Span::styled(format!("+{} added  ", tot.added), t.statuses[0]),
            Span::styled(format!("~{} modified  ", tot.modified), t.statuses[1]),
            Span::styled(format!("-{} deleted  ", tot.deleted), t.statuses[2]),
            Span::styled(format!("m{} metadata", tot.metadata), t.statuses[3]),
        ]));
    } else if oa.is_some() && na.is_some() && e.delta() != 0 {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<10}", "Δ size"), t.dim),
            Span::raw(delta(e.delta())),
        ]));
    }
    lines
}

fn side_label(i: &SideInfo) -> String {
    match i.layer {
        Some(l) => format!("layer {l}"),
        None => "no layers".into(),
    }
}

/// The whole-diff summary: sides, layers, config changes, growth, warnings.
pub fn summary_lines(s: &DiffState, data: &DiffData) -> Vec<Line<'static>> {
    let t = s.theme();
    let d = &data.diff;
    let mut lines = Vec::new();
    for (label, i, st) in [
        ("old", &d.old, t.statuses[2]),
        ("new", &d.new, t.statuses[0]),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{label}: "), st),
            Span::raw(format!(
                "{} · {} · {} · {} in {} layers",
                i.name.as_deref().unwrap_or("(untagged)"),
                i.source,
                i.platform,
                size(i.size_bytes),
                i.layer.map_or(0, |l| l + 1)
            )),
        ]));
    }
    let l = &d.layers;
    lines.push(Line::raw(format!(
        "Layers: {} shared, {} only in old, {} only in new; {}",
        l.shared,
        l.old_only,
        l.new_only,
        l.diverge_at.map_or("same history".to_string(), |i| format!(
            "histories diverge at layer {i}"
        ))
    )));
    lines.push(Line::raw(format!(
        "Size: image {}, files {}",
        delta(d.summary.size_delta_bytes),
        delta(d.summary.files_delta_bytes)
    )));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Config changes", t.title));
    if d.config.is_empty() {
        lines.push(Line::styled("  (none)", t.dim));
    }
    for c in &d.config {
        let st = c.status();
        let text = match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!("{}: {o} → {n}", c.field),
            (None, Some(v)) | (Some(v), None) => format!("{}: {v}", c.field),
            (None, None) => c.field.clone(),
        };
        lines.push(Line::styled(
            format!("{} {text}", st.marker()),
            t.status(st),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Biggest growth", t.title));
    if d.summary.growth.is_empty() {
        lines.push(Line::styled("  (nothing grew)", t.dim));
    }
    for g in &d.summary.growth {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", g.status.marker()), t.status(g.status)),
            Span::raw(format!("{:>11}  {}", delta(g.delta_bytes), g.path)),
        ]));
    }
    let warnings: Vec<String> = std::iter::once(&data.old)
        .chain(data.new.as_ref())
        .flat_map(|l| {
            l.image
                .warnings
                .iter()
                .map(move |w| format!("{}: {w}", l.image.source))
        })
        .collect();
    if !warnings.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Warnings", t.waste));
        lines.extend(warnings.into_iter().map(Line::raw));
    }
    lines
}

fn side_text(label: &str, c: Option<&SideContent>) -> String {
    match c {
        None => format!("{label}: absent"),
        Some(c) => format!(
            "{label}: {} ({} B){}",
            size(c.size),
            c.size,
            if c.truncated {
                format!(", first {} compared", size(DIFF_WINDOW as u64))
            } else {
                String::new()
            }
        ),
    }
}

/// Lines of the content viewer.
pub fn content_lines(s: &DiffState, cv: &ContentView) -> Vec<Line<'static>> {
    let t = s.theme();
    let Some(r) = &cv.result else {
        return vec![Line::raw("reading both versions…")];
    };
    let cd = match r {
        Ok(c) => c,
        Err(e) => return vec![Line::raw(format!("cannot read: {e}"))],
    };
    match cd {
        ContentDiff::Binary { old, new } => {
            let hash = |c: Option<&SideContent>| {
                c.and_then(|c| c.sha256)
                    .map_or("-".to_string(), hex::encode)
            };
            let same = matches!((old, new), (Some(a), Some(b)) if a.sha256.is_some() && a.sha256 == b.sha256);
            vec![
                Line::styled("Binary content", t.title),
                Line::raw(""),
                Line::styled(side_text("old", old.as_ref()), t.statuses[2]),
                Line::raw(format!("  sha256 {}", hash(old.as_ref()))),
                Line::styled(side_text("new", new.as_ref()), t.statuses[0]),
                Line::raw(format!("  sha256 {}", hash(new.as_ref()))),
                Line::raw(""),
                Line::raw(if same {
                    "identical content"
                } else {
                    "content differs"
                }),
            ]
        }
        ContentDiff::Text { lines, .. } => {
            if lines.is_empty() {
                return vec![Line::styled("(both empty)", t.dim)];
            }
            lines
                .iter()
                .map(|l| {
                    let no = |n: Option<u32>| n.map_or(String::new(), |n| n.to_string());
                    let style = match l.tag {
                        '-' => t.statuses[2],
                        '+' => t.statuses[0],
                        _ => Style::default(),
                    };
                    Line::from(vec![
                        Span::styled(format!("{:>6} {:>6} ", no(l.old_no), no(l.new_no)), t.dim),
                        Span::styled(format!("{} {}", l.tag, l.text), style),
                    ])
                })
                .collect()
        }
    }
}

fn content(s: &DiffState, data: &DiffData, cv: &ContentView, area: Rect, buf: &mut Buffer) {
    let path = data.entry(cv.idx).map_or("", |e| e.path.as_str());
    let info = match &cv.result {
        Some(Ok(ContentDiff::Text {
            added,
            removed,
            hunks,
            old,
            new,
            ..
        })) => {
            let cut = if old.as_ref().is_some_and(|c| c.truncated)
                || new.as_ref().is_some_and(|c| c.truncated)
            {
                format!(" · first {} of each side", size(DIFF_WINDOW as u64))
            } else {
                String::new()
            };
            format!(
                " · +{added} -{removed} lines · {} change{}{cut} · ] [ next/prev",
                hunks.len(),
                if hunks.len() == 1 { "" } else { "s" }
            )
        }
        _ => String::new(),
    };
    let title = format!("{path}: old → new{info}");
    let r = centred(area, 90, 88);
    Clear.render(r, buf);
    let b = block(s.theme(), &title, true);
    let inner = b.inner(r);
    b.render(r, buf);
    let lines = content_lines(s, cv);
    let scroll = cv
        .scroll
        .min(lines.len().saturating_sub(inner.height as usize));
    let visible: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(inner.height as usize)
        .collect();
    Paragraph::new(visible).render(inner, buf);
}
