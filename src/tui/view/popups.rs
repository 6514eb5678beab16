//! Overlays: help (every key, modes, config path), file details with the
//! path's timeline, the content viewer (text with line numbers or hex),
//! image details (figures, top wasted paths, config, history), errors.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::{block, centred, kv, mode_string, short_command, size, themed_block, truncate};
use crate::analysis::DuplicateGroup;
use crate::error::clean;
use crate::layer::Kind;
use crate::tree::{NodeId, Status};
use crate::tui::config::{Action, KeyMap, PopupAction, Theme, ACTIONS};
use crate::tui::state::{AppState, ContentView, Popup};
use crate::tui::untrusted::{self, or_dash, Untrusted};

pub fn render(s: &AppState, area: Rect, buf: &mut Buffer) {
    match &s.popup {
        None => {}
        Some(Popup::Help { scroll }) => help(s, *scroll, area, buf),
        Some(Popup::Warnings { scroll }) => warnings(s, *scroll, area, buf),
        Some(Popup::FileDetails { id, scroll, links }) => {
            file_details(s, *id, links, *scroll, area, buf)
        }
        Some(Popup::Content(cv)) => content(s, cv, area, buf),
        Some(Popup::ImageDetails { selected, scroll }) => {
            image_details(s, *selected, *scroll, area, buf)
        }
        Some(Popup::Error(e)) => message(s, "Error", &e.to_string(), centred(area, 60, 30), buf),
        Some(Popup::Notice { title, text }) => message(s, title, text, centred(area, 60, 30), buf),
        Some(Popup::ConfirmExtract(c)) => {
            let title = if c.preview.conflict_count > 0 {
                "Extract and replace? (y: yes, n/esc: no)"
            } else {
                "Extract? (y: yes, n/esc: no)"
            };
            let path = s
                .data
                .as_ref()
                .map(|d| d.path(c.id).to_string())
                .unwrap_or_default();
            let text = confirm_text(&path, c.layer, &c.preview).join("\n");
            message(s, title, &text, centred(area, 80, 70), buf);
        }
    }
}

/// A framed text in `r` (errors, notices, the extract confirmation).
fn message(s: &AppState, title: &str, text: &str, r: Rect, buf: &mut Buffer) {
    Clear.render(r, buf);
    let b = block(s, title, true);
    let inner = b.inner(r);
    b.render(r, buf);
    // Errors and notices quote paths and warnings from the archive.
    Paragraph::new(untrusted::lines(text))
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

/// What the extract confirmation says, one line each: the destination,
/// the directories it would create, what it would replace (listed, then
/// counted), and the warnings the CLI would print. Paths are escaped.
pub fn confirm_text(path: &str, layer: usize, p: &crate::extract::Preview) -> Vec<String> {
    let shown = |p: &std::path::Path| clean(&p.display().to_string()).into_owned();
    let mut out = vec![
        format!(
            "{} (as after layer {layer}) to {}",
            clean(path),
            shown(&p.dest)
        ),
        format!(
            "{} files, {} directories, {} links",
            p.files, p.dirs, p.links
        ),
    ];
    if !p.create.is_empty() {
        out.push(format!(
            "creates missing directories: {}",
            p.create
                .iter()
                .map(|d| shown(d))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if p.conflict_count > 0 {
        out.push(format!("replaces {} existing paths:", p.conflict_count));
        for (c, what) in &p.conflicts {
            out.push(format!("  {} ({what})", shown(c)));
        }
        let more = p.conflict_count - p.conflicts.len();
        if more > 0 {
            out.push(format!("  … and {more} more"));
        }
    }
    for w in &p.warnings {
        out.push(format!("warning: {}", clean(w)));
    }
    if !p.skipped.is_empty() {
        out.push(format!(
            "skips {} paths (devices, FIFOs, missing link targets)",
            p.skipped.len()
        ));
    }
    out
}

fn frame(s: &AppState, title: &str, area: Rect, buf: &mut Buffer) -> Rect {
    popup_frame(s.theme(), title, area, buf)
}

/// A popup's frame (90% x 88%, cleared); returns the area inside it.
pub fn popup_frame(t: &Theme, title: &str, area: Rect, buf: &mut Buffer) -> Rect {
    let r = centred(area, 90, 88);
    Clear.render(r, buf);
    let b = themed_block(t, title, true);
    let inner = b.inner(r);
    b.render(r, buf);
    inner
}

/// Draw the `inner.height` lines from `scroll` on (kept so the last line
/// can reach the bottom, not past it): the viewers' unwrapped pages.
pub fn scrolled_lines(lines: Vec<Line<'static>>, scroll: usize, inner: Rect, buf: &mut Buffer) {
    let h = inner.height as usize;
    let scroll = scroll.min(lines.len().saturating_sub(h));
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(h).collect();
    Paragraph::new(visible).render(inner, buf);
}

/// A help line: an action's keys right-aligned in `width`, the action's
/// name as the config file's `keys:` takes it, then what it does.
pub fn help_key_line(t: &Theme, keys: &str, width: usize, name: &str, text: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{keys:>width$}  "), t.key),
        Span::styled(format!("{name:<NAME_W$} "), t.dim),
        Span::raw(text.to_string()),
    ])
}

/// Width of the action-name column of the help.
pub const NAME_W: usize = 16;

/// The help's line naming each status marker.
pub fn markers_legend(t: &Theme) -> Line<'static> {
    let mut legend = vec![Span::styled("Markers: ", t.dim)];
    for st in Status::ALL {
        legend.push(Span::styled(
            format!("{} {}  ", st.marker(), st.as_str()),
            t.status(st),
        ));
    }
    Line::from(legend)
}

/// The help's list of actions with their keys (from the key map), each
/// action's text as `text_of` gives it (None: not in this mode).
pub fn action_lines(
    t: &Theme,
    keys: &KeyMap,
    width: usize,
    text_of: impl Fn(Action, &'static str) -> Option<&'static str>,
) -> Vec<Line<'static>> {
    ACTIONS
        .iter()
        .filter_map(|(a, name, _, text)| {
            let text = text_of(*a, text)?;
            Some(help_key_line(t, &keys.keys_label(*a), width, name, text))
        })
        .collect()
}

/// The help's end: a blank line, `notes` (dim), a blank line, the status
/// markers and `layers` saying what the layer list marks.
pub fn help_tail(t: &Theme, notes: Vec<String>, layers: &'static str) -> Vec<Line<'static>> {
    let mut lines = vec![Line::raw("")];
    lines.extend(notes.into_iter().map(|n| Line::styled(n, t.dim)));
    lines.push(Line::raw(""));
    lines.push(markers_legend(t));
    lines.push(Line::styled(layers, t.dim));
    lines
}

/// How a popup closes, for its title: the first quit key or Esc (ctrl-c
/// quits from a popup).
pub fn closes(k: &KeyMap) -> String {
    format!("{} or esc closes", k.first_label(Action::Quit))
}

/// [`closes`], shorter, for a title that lists many keys.
pub fn closes_short(k: &KeyMap) -> String {
    format!("{}/esc closes", k.first_label(Action::Quit))
}

/// The help's note on the prompts.
pub const PROMPT_KEYS: &str =
    "Prompts: enter apply, esc cancel, ctrl-u clear, tab completes a path (in :)";

pub fn help_lines(s: &AppState) -> Vec<Line<'static>> {
    let t = s.theme();
    let k = &s.ui.config.keys;
    let mut lines = vec![Line::styled(
        format!(
            "{:>12}  {:<NAME_W$} {}",
            "keys", "config name", "what it does"
        ),
        t.dim,
    )];
    lines.extend(action_lines(t, k, 12, |_, text| Some(text)));
    use PopupAction::*;
    let notes = vec![
        format!(
            "Content viewer: {} hex/text, {} {} previous/next 64 KiB window, g G start/end of file, : byte offset",
            k.popup_label(ViewerHex),
            k.popup_label(ViewerPrev),
            k.popup_label(ViewerNext)
        ),
        format!(
            "Image details: ↑↓ select wasted path, {} jump to it, {}/{} scroll",
            k.popup_label(JumpToPath),
            k.popup_label(ScrollDown),
            k.popup_label(ScrollUp)
        ),
        PROMPT_KEYS.into(),
        "Mouse: click selects (a directory toggles), wheel scrolls".into(),
    ];
    lines.extend(help_tail(
        t,
        notes,
        "Layers: ! ships much waste (≥ 1 MiB, or ≥ 16 KiB and a quarter of the layer), A/B range ends",
    ));
    let cfg =
        s.ui.config
            .path
            .as_ref()
            .map_or("(no config directory)".to_string(), |p| {
                crate::text::display_safe(&p.display().to_string()).into_owned()
            });
    lines.push(Line::from(vec![
        Span::styled("Config: ", t.dim),
        Span::raw(cfg),
    ]));
    lines
}

fn warnings(s: &AppState, scroll: usize, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let w = &data.loaded.image.warnings;
    let k = &s.ui.config.keys;
    let title = format!(
        "{} load warnings ({}, {}/{} scroll)",
        w.len(),
        closes(k),
        k.first_label(Action::Down),
        k.first_label(Action::Up)
    );
    let inner = frame(s, &title, area, buf);
    let lines: Vec<Line> = w
        .iter()
        .map(|w| Line::raw(format!("⚠ {}", crate::error::clean(w))))
        .collect();
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .render(inner, buf);
}

fn help(s: &AppState, scroll: usize, area: Rect, buf: &mut Buffer) {
    let k = &s.ui.config.keys;
    let title = format!(
        "Help ({}, {}/{} scroll)",
        closes(k),
        k.first_label(Action::Down),
        k.first_label(Action::Up)
    );
    let inner = frame(s, &title, area, buf);
    let mut lines = help_lines(s);
    // Two columns when wide enough: keys on the left, the rest on the right.
    let (left, right) = if inner.width >= 130 {
        let right = lines.split_off(ACTIONS.len().div_ceil(2) + 1);
        (lines, right)
    } else {
        (lines, Vec::new())
    };
    let tallest = left.len().max(right.len());
    let scroll = scroll.min(tallest.saturating_sub(inner.height as usize)) as u16;
    if right.is_empty() {
        Paragraph::new(left).scroll((scroll, 0)).render(inner, buf);
        return;
    }
    let half = inner.width / 2;
    Paragraph::new(left)
        .scroll((scroll, 0))
        .render(Rect::new(inner.x, inner.y, half, inner.height), buf);
    Paragraph::new(right)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .render(
            Rect::new(inner.x + half, inner.y, inner.width - half, inner.height),
            buf,
        );
}

pub fn file_details_lines(s: &AppState, id: NodeId, group: &[NodeId]) -> Vec<Line<'static>> {
    let Some(data) = &s.data else {
        return Vec::new();
    };
    let t = s.theme();
    let tree = &data.loaded.tree;
    let layer = s.info.layer;
    let mut lines = vec![Line::styled(data.path(id).to_string(), t.title)];
    let attrs = tree
        .attrs_at(id, layer)
        .or_else(|| tree.previous(id, layer).and_then(|v| tree.attrs_of(v)));
    if !tree.exists_at(id, layer) {
        lines.push(Line::styled(
            format!("(absent after layer {layer})"),
            t.waste,
        ));
    }
    if let Some(a) = attrs {
        lines.push(kv(s, "Kind:      ", format!("{:?}", a.kind).to_lowercase()));
        lines.push(kv(
            s,
            "Mode:      ",
            format!(
                "{} ({:04o})",
                mode_string(a.kind.letter(), a.mode),
                a.mode & 0o7777
            ),
        ));
        lines.push(kv(s, "UID:GID:   ", format!("{}:{}", a.uid, a.gid)));
        lines.push(kv(
            s,
            "Size:      ",
            format!("{} ({} bytes)", size(a.size), a.size),
        ));
        if let Some(h) = a.sha256 {
            lines.push(kv(s, "SHA-256:   ", hex::encode(h)));
        }
        if let Some(l) = tree.link(a) {
            lines.push(kv(s, "Link:      ", Untrusted::lossy(l).to_string()));
        }
    }
    if s.info.size.get(id as usize).is_some_and(|&n| n > 0)
        && attrs.is_some_and(|a| a.kind == Kind::Dir)
    {
        lines.push(kv(s, "Total:     ", size(s.info.size[id as usize])));
    }
    if !group.is_empty() {
        lines.push(kv(s, "Hardlinks: ", format!("{} paths", group.len())));
        for &g in group {
            lines.push(Line::raw(format!("           {}", data.path(g))));
        }
    }
    let wasted = data.wasted.get(id as usize).copied().unwrap_or(0);
    if wasted > 0 {
        lines.push(Line::from(vec![
            Span::styled("Wasted:    ", t.dim),
            Span::styled(size(wasted), t.waste),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Timeline", t.title));
    for v in &tree.node(id).versions {
        let a = tree.attrs_of(v);
        let l = v.layer as usize;
        let cmd = data
            .loaded
            .image
            .layers
            .get(l)
            .map(|li| short_command(&li.command))
            .unwrap_or_default();
        let sz = a.map_or("".to_string(), |a| size(a.size));
        let here = if l == layer { "▶" } else { " " };
        lines.push(Line::from(vec![
            Span::raw(format!("{here}layer {l:>2} ")),
            Span::styled(
                format!("{} {:<9}", v.status.marker(), v.status.as_str()),
                t.status(v.status),
            ),
            Span::raw(format!("{sz:>10}  ")),
            Span::styled(truncate(&cmd, 60), t.dim),
        ]));
    }
    lines
}

fn file_details(
    s: &AppState,
    id: NodeId,
    links: &[NodeId],
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let title = format!("File details ({})", closes(&s.ui.config.keys));
    let inner = frame(s, &title, area, buf);
    let lines = file_details_lines(s, id, links);
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll as u16, 0))
        .render(inner, buf);
}

/// Lines of a content window: numbered text or a hex dump.
pub fn content_lines(cv: &ContentView, dim: Style) -> Vec<Line<'static>> {
    let Some(w) = &cv.window else {
        return vec![Line::raw("reading…")];
    };
    let w = match w {
        Ok(w) => w,
        // The core's words may quote the archive: sanitised here, the
        // one place they become text.
        Err(e) => {
            return vec![Line::raw(format!(
                "cannot read: {}",
                Untrusted::owned(e.to_string())
            ))]
        }
    };
    if w.bytes.is_empty() {
        return vec![Line::styled("(empty)", dim)];
    }
    let mut out = Vec::new();
    if cv.hex {
        for (i, chunk) in w.bytes.chunks(16).enumerate() {
            let off = w.offset + (i * 16) as u64;
            let mut hexs = String::with_capacity(50);
            for (j, b) in chunk.iter().enumerate() {
                if j == 8 {
                    hexs.push(' ');
                }
                hexs.push_str(&format!("{b:02x} "));
            }
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            out.push(Line::from(vec![
                Span::styled(format!("{off:08x}  "), dim),
                Span::raw(format!("{hexs:<49} ")),
                Span::styled(format!("|{ascii}|"), dim),
            ]));
        }
    } else {
        let text = String::from_utf8_lossy(&w.bytes);
        for (i, l) in text.lines().enumerate() {
            // The file's bytes: tabs as spaces, every other control (an
            // ESC sequence in a script) as a visible escape.
            out.push(Line::from(vec![
                Span::styled(format!("{:>6} ", i + 1), dim),
                Untrusted::owned(l.replace('\t', "    ")).into(),
            ]));
        }
    }
    out
}

fn content(s: &AppState, cv: &ContentView, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let k = &s.ui.config.keys;
    let (range, total) = match &cv.window {
        Some(Ok(w)) => (
            format!("bytes {}–{}", w.offset, w.offset + w.bytes.len() as u64),
            format!(" of {}", w.total_size),
        ),
        _ => (String::new(), String::new()),
    };
    let src = &cv.source;
    let path = if src.chain.is_empty() {
        data.path(cv.id).to_string()
    } else {
        src.chain
            .iter()
            .map(|c| Untrusted::new(c).to_string())
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let from = match src.deleted_in {
        Some(d) => format!(
            "deleted in layer {d}; last content from layer {}",
            src.shipped_in
        ),
        None => format!("from layer {}", src.shipped_in),
    };
    let title = format!(
        "{path} · {from} · {range}{total}{} · {} · {} hex · {} {} window · g G ends · : offset",
        if cv.hex { " · hex" } else { "" },
        closes_short(k),
        k.popup_label(PopupAction::ViewerHex),
        k.popup_label(PopupAction::ViewerPrev),
        k.popup_label(PopupAction::ViewerNext)
    );
    let inner = frame(s, &title, area, buf);
    scrolled_lines(content_lines(cv, s.theme().dim), cv.scroll, inner, buf);
}

pub fn image_details_lines(s: &AppState) -> Vec<Line<'static>> {
    let Some(data) = &s.data else {
        return Vec::new();
    };
    let t = s.theme();
    let img = &data.loaded.image;
    let c = &img.config;
    let mut lines = vec![Line::styled("Config", t.title)];
    // Every config value is archive text.
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            Untrusted::owned(v.join(" ")).to_string()
        }
    };
    lines.push(kv(s, "Entrypoint: ", list(&c.entrypoint)));
    lines.push(kv(s, "Cmd:        ", list(&c.cmd)));
    lines.push(kv(s, "User:       ", or_dash(c.user.as_deref())));
    lines.push(kv(s, "Workdir:    ", or_dash(c.workdir.as_deref())));
    lines.push(kv(s, "Ports:      ", list(&c.exposed_ports)));
    lines.push(kv(s, "Created:    ", or_dash(c.created.as_deref())));
    lines.push(kv(
        s,
        "Config:     ",
        Untrusted::new(&img.config_digest).to_string(),
    ));
    for e in &c.env {
        lines.push(kv(s, "Env:        ", Untrusted::new(e).to_string()));
    }
    for (k, v) in &c.labels {
        let (k, v) = (Untrusted::new(k), Untrusted::new(v));
        lines.push(kv(s, "Label:      ", format!("{k}={v}")));
    }
    let dups = &data.analysis.corrected.duplicate_groups;
    if !dups.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Duplicate content (final tree)", t.title));
        for g in dups {
            lines.push(Line::raw(duplicate_line(g)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("History (empty layers included)", t.title));
    let mut li = 0usize;
    for h in &img.history {
        let tag = if h.empty_layer {
            "   -".to_string()
        } else {
            li += 1;
            format!("L{:>3}", li - 1)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{tag} "), t.dim),
            Span::styled(
                format!("{} ", Untrusted::new(h.created.as_deref().unwrap_or(""))),
                t.dim,
            ),
            Span::raw(short_command(&h.created_by)),
        ]));
    }
    if !img.warnings.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Warnings", t.waste));
        for w in &img.warnings {
            lines.push(Line::raw(Untrusted::new(w).to_string()));
        }
    }
    lines
}

/// Paths listed per duplicate group in the image details; the rest are
/// counted. A group of thousands of identical files would otherwise be one
/// huge line, wrapped again on every frame (12 ms for 20,000 paths).
pub const DUPLICATE_PATHS_SHOWN: usize = 100;

/// One duplicate group: size, count and (the first) paths.
pub fn duplicate_line(g: &DuplicateGroup) -> String {
    let shown = g.paths.len().min(DUPLICATE_PATHS_SHOWN);
    let paths: Vec<String> = g.paths[..shown]
        .iter()
        .map(|p| Untrusted::new(p).to_string())
        .collect();
    let mut text = format!(
        "{:>10} × {}  {}",
        size(g.size_bytes),
        g.paths.len(),
        paths.join(", ")
    );
    if shown < g.paths.len() {
        text.push_str(&format!(", … and {} more", g.paths.len() - shown));
    }
    text
}

fn image_details(s: &AppState, selected: usize, scroll: usize, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let k = &s.ui.config.keys;
    let title = format!(
        "Image details (↑↓ {}: jump to wasted path, {}/{} scroll, {})",
        k.popup_label(PopupAction::JumpToPath),
        k.popup_label(PopupAction::ScrollDown),
        k.popup_label(PopupAction::ScrollUp),
        closes(k)
    );
    let inner = frame(s, &title, area, buf);
    let img = &data.loaded.image;
    let a = &data.analysis;
    let w = inner.width as usize;
    let mut top = vec![
        Line::from(vec![
            Span::styled("Name: ", t.dim),
            Untrusted::new(img.name.as_deref().unwrap_or("(untagged)")).into(),
            Span::styled("  Platform: ", t.dim),
            Untrusted::owned(img.config.platform()).into(),
            Span::styled("  Layers: ", t.dim),
            Span::raw(img.layers.len().to_string()),
        ]),
        Line::from(vec![
            Span::styled("dive: ", t.dim),
            Span::raw(format!(
                "size {}  efficiency {:.2} %  wasted {}  user wasted {}",
                size(a.dive.image_size_bytes),
                a.dive.efficiency * 100.0,
                size(a.dive.wasted_bytes),
                a.dive
                    .user_wasted_percent
                    .map_or("-".into(), |p| format!("{:.1} %", p * 100.0))
            )),
        ]),
        Line::from(vec![
            Span::styled("layerscope: ", t.dim),
            Span::raw(format!(
                "shipped {}  final {}  ",
                size(a.corrected.shipped_bytes),
                size(a.corrected.final_bytes)
            )),
            Span::styled(
                format!("reclaimable {}", size(a.corrected.reclaimable_bytes)),
                t.waste,
            ),
            Span::raw(format!(
                "  duplicates {} in {} groups",
                size(a.corrected.duplicate_bytes),
                a.corrected.duplicate_groups.len()
            )),
        ]),
        Line::styled("Top wasted paths", t.title),
    ];
    let list_h = (inner.height as usize / 2).saturating_sub(top.len()).max(3);
    let tw = &a.corrected.top_wasted;
    let first = selected.saturating_sub(list_h.saturating_sub(1));
    for (i, wp) in tw.iter().enumerate().skip(first).take(list_h) {
        let layers: Vec<String> = wp.layers.iter().map(|l| l.to_string()).collect();
        let text = truncate(
            &format!(
                "{:>10}  {}  (layers {})",
                size(wp.wasted_bytes),
                Untrusted::new(&wp.path),
                layers.join(",")
            ),
            w,
        );
        let style = if i == selected { t.selected } else { t.waste };
        top.push(Line::styled(format!("{text:<w$}"), style));
    }
    if tw.is_empty() {
        top.push(Line::styled("  (no wasted bytes)", t.dim));
    }
    let top_h = (top.len() as u16).min(inner.height);
    Paragraph::new(top).render(Rect::new(inner.x, inner.y, inner.width, top_h), buf);
    let rest = Rect::new(inner.x, inner.y + top_h, inner.width, inner.height - top_h);
    let lines = image_details_lines(s);
    let scroll = scroll.min(lines.len().saturating_sub(1));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll as u16, 0))
        .render(rest, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(n: usize) -> DuplicateGroup {
        DuplicateGroup {
            sha256: String::new(),
            size_bytes: 2048,
            paths: (0..n).map(|i| format!("/p{i}")).collect(),
        }
    }

    #[test]
    fn duplicate_groups_list_their_first_paths_and_count_the_rest() {
        assert_eq!(
            duplicate_line(&group(2)),
            format!("{:>10} × 2  /p0, /p1", size(2048))
        );
        let all = duplicate_line(&group(DUPLICATE_PATHS_SHOWN));
        assert!(
            all.ends_with(&format!("/p{}", DUPLICATE_PATHS_SHOWN - 1)),
            "{all}"
        );
        let many = duplicate_line(&group(20_000));
        assert!(many.starts_with(&format!("{:>10} × 20000  /p0, /p1, ", size(2048))));
        assert!(
            many.ends_with(&format!(
                "/p{}, … and 19900 more",
                DUPLICATE_PATHS_SHOWN - 1
            )),
            "{many}"
        );
        assert!(!many.contains(&format!("/p{}", DUPLICATE_PATHS_SHOWN)));
    }
}
