//! Overlays: help, old and new metadata side by side, the whole-diff
//! summary (images, config changes, growth, warnings) and the line diff.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::diff::SideInfo;
use crate::tree::{Attrs, FileTree, Status};
use crate::tui::config::{Action, PopupAction};
use crate::tui::diff::pair::{ContentDiff, ImagePair, SideContent, DIFF_WINDOW};
use crate::tui::diff::state::{ContentView, DiffPopup, DiffState};
use crate::tui::untrusted::Untrusted;
use crate::tui::view::popups::{
    action_lines, closes, closes_short, help_tail, popup_frame, scrolled_lines, PROMPT_KEYS,
};
use crate::tui::view::{mode_string, short_command, size, truncate};

use super::delta;

pub(super) fn popups(s: &DiffState, data: &ImagePair, area: Rect, buf: &mut Buffer) {
    let Some(p) = &s.popup else { return };
    let closes = closes(&s.ui.config.keys);
    let (title, lines, scroll) = match p {
        DiffPopup::Help { scroll } => (
            format!("Help: diff mode ({closes})"),
            help_lines(s),
            *scroll,
        ),
        DiffPopup::Details { idx, scroll } => (
            format!("Old and new ({closes})"),
            details_lines(s, data, *idx),
            *scroll,
        ),
        DiffPopup::Summary { scroll } => (
            format!("Diff summary: images, config, growth ({closes})"),
            summary_lines(s, data),
            *scroll,
        ),
        DiffPopup::Content(cv) => {
            content(s, data, cv, area, buf);
            return;
        }
    };
    let inner = popup_frame(s.theme(), &title, area, buf);
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll as u16, 0))
        .render(inner, buf);
}

/// Help text of the diff mode: the explorer's actions that apply here.
pub fn help_lines(s: &DiffState) -> Vec<Line<'static>> {
    let t = s.theme();
    let k = &s.ui.config.keys;
    let mut lines = action_lines(t, k, 16, |a, text| match a {
        Action::CycleMode
        | Action::MarkRange
        | Action::OnlyWasted
        | Action::Extract
        | Action::Warnings => None,
        Action::Details => Some("old and new metadata side by side"),
        Action::Content => Some("line diff of old vs new (binary: sizes and hashes)"),
        Action::ImageDetails => Some("both images, config changes, biggest growth"),
        Action::SortKey => Some("sort by name / size / size change"),
        Action::ToggleUnchanged => Some("show/hide unchanged (hidden at start)"),
        Action::FocusNext => Some("layers / files pane"),
        _ => Some(text),
    });
    let (next, prev) = (
        k.popup_labels(PopupAction::NextChange),
        k.popup_labels(PopupAction::PrevChange),
    );
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let mut change = format!("Line diff: ↑↓ scroll, {} {}", first(&next), first(&prev));
    let (more_next, more_prev) = (next.get(1..).unwrap_or(&[]), prev.get(1..).unwrap_or(&[]));
    if !more_next.is_empty() || !more_prev.is_empty() {
        change.push_str(&format!(
            " ({} {})",
            more_next.join(" "),
            more_prev.join(" ")
        ));
    }
    change.push_str(" next/previous change");
    lines.extend(help_tail(
        t,
        vec![change, PROMPT_KEYS.into()],
        "Layers: = same layer at this index, ≈ shared at another index, - only in old, + only in new",
    ));
    lines
}

fn attr_cells(tree: &FileTree, a: Option<&Attrs>) -> [String; 6] {
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
            tree.link(a)
                .map_or(String::new(), |l| Untrusted::lossy(l).to_string()),
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
pub fn details_lines(s: &DiffState, data: &ImagePair, idx: u32) -> Vec<Line<'static>> {
    let t = s.theme();
    let Some(e) = data.entry(idx) else {
        return Vec::new();
    };
    let (oa, na) = (data.old_attrs(idx), data.new_attrs(idx));
    let mut head = vec![Span::styled(data.path(idx).to_string(), t.title)];
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
    let (oc, nc) = (
        attr_cells(&data.old.tree, oa),
        attr_cells(&data.new_side().tree, na),
    );
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
pub fn summary_lines(s: &DiffState, data: &ImagePair) -> Vec<Line<'static>> {
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
                Untrusted::new(i.name.as_deref().unwrap_or("(untagged)")),
                Untrusted::new(&i.source),
                Untrusted::new(&i.platform),
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
        // Fields name labels and env variables: all of it archive text.
        let (field, old, new) = (
            Untrusted::new(&c.field),
            c.old.as_deref().map(Untrusted::new),
            c.new.as_deref().map(Untrusted::new),
        );
        let text = match (old, new) {
            (Some(o), Some(n)) => format!("{field}: {o} → {n}"),
            (None, Some(v)) | (Some(v), None) => format!("{field}: {v}"),
            (None, None) => field.to_string(),
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
            Span::raw(format!(
                "{:>11}  {}",
                delta(g.delta_bytes),
                Untrusted::new(&g.path)
            )),
        ]));
    }
    let warnings: Vec<String> = std::iter::once(&data.old)
        .chain(data.new.as_ref())
        .flat_map(|l| {
            l.image
                .warnings
                .iter()
                .map(move |w| format!("{}: {}", Untrusted::new(&l.image.source), Untrusted::new(w)))
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
        // The core's words may quote the archive: sanitised here, the
        // one place they become text.
        Err(e) => {
            return vec![Line::raw(format!(
                "cannot read: {}",
                Untrusted::owned(e.to_string())
            ))]
        }
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
                        // File content: each line sanitised, as names are.
                        Span::styled(format!("{} {}", l.tag, Untrusted::new(&l.text)), style),
                    ])
                })
                .collect()
        }
    }
}

fn content(s: &DiffState, data: &ImagePair, cv: &ContentView, area: Rect, buf: &mut Buffer) {
    let path = data.path(cv.idx);
    let k = &s.ui.config.keys;
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
                " · +{added} -{removed} lines · {} change{}{cut} · {} {} next/prev",
                hunks.len(),
                if hunks.len() == 1 { "" } else { "s" },
                k.popup_label(PopupAction::NextChange),
                k.popup_label(PopupAction::PrevChange)
            )
        }
        _ => String::new(),
    };
    let title = format!(
        "{path}: old → new{info} · {}",
        closes_short(&s.ui.config.keys)
    );
    let inner = popup_frame(s.theme(), &title, area, buf);
    scrolled_lines(content_lines(s, cv), cv.scroll, inner, buf);
}
