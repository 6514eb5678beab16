//! The text rendering of a [`crate::diff::Diff`]: header, layer table, config changes,
//! the changed paths in pre-order (directories above them with their totals),
//! and a summary; or a `git diff --stat`-like summary. Colour is plain ANSI
//! and only when the caller asks for it.

use std::fmt::Write;

use super::{DiffSubject, Units};
use crate::diff::{ConfigChange, Entry, PathFilter, SideInfo};
use crate::text::display_safe;
use crate::tree::Status;

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub units: Units,
    pub color: bool,
}

const RESET: &str = "\x1b[0m";

fn color_of(s: Status) -> &'static str {
    match s {
        Status::Added => "\x1b[32m",
        Status::Deleted => "\x1b[31m",
        Status::Modified => "\x1b[33m",
        Status::Metadata => "\x1b[36m",
        Status::Unchanged => "",
    }
}

/// Colour a line. Its text comes from the images (paths, names, commands,
/// config values), so control characters, line feeds included, are escaped
/// first: only our own codes reach the terminal and one item stays one line.
fn paint(on: bool, s: Status, text: &str) -> String {
    let text = display_safe(text);
    if on && s != Status::Unchanged {
        format!("{}{text}{RESET}", color_of(s))
    } else {
        text.into_owned()
    }
}

/// `+1.0 KiB`, `-36 B`, `0 B`.
pub fn signed(units: Units, d: i64) -> String {
    let mag = units.size(d.unsigned_abs());
    match d.signum() {
        1 => format!("+{mag}"),
        -1 => format!("-{mag}"),
        _ => mag,
    }
}

fn side_line(s: &SideInfo) -> String {
    let layer = match s.layer {
        Some(l) => format!("layer {l} of {}", s.layer_count),
        None => "no layers".to_string(),
    };
    match &s.name {
        Some(n) => format!("{n} ({}), {}, {layer}", s.source, s.platform),
        None => format!("{}, {}, {layer}", s.source, s.platform),
    }
}

fn short_id(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.get(..12).unwrap_or(hex)),
        None => d.get(..19).unwrap_or(d).to_string(),
    }
}

fn path_shown(e: &Entry) -> String {
    if e.is_dir() && e.depth > 0 {
        format!("{}/", e.path)
    } else {
        e.path.clone()
    }
}

/// What changed, in words: `content`, `type file→dir`, `link a→b`, `mode 0644→0755`…
fn details(s: &DiffSubject, e: &Entry) -> String {
    let (Some(o), Some(n)) = (e.old_attrs, e.new_attrs) else {
        return String::new();
    };
    let link = |l: &crate::load::Loaded, layer: Option<usize>, id: Option<u32>| {
        id.zip(layer)
            .and_then(|(id, layer)| l.tree.attrs_at(id, layer))
            .and_then(|a| l.tree.link(a))
            .map_or(String::new(), |b| String::from_utf8_lossy(b).into_owned())
    };
    let mut parts = Vec::new();
    for name in e.changed.names() {
        parts.push(match name {
            "type" => format!("type {}→{}", o.kind.letter(), n.kind.letter()),
            "link" => format!(
                "link {}→{}",
                link(s.old, s.diff.old.layer, e.old),
                link(s.new, s.diff.new.layer, e.new)
            ),
            "mode" => format!("mode {:04o}→{:04o}", o.mode, n.mode),
            "uid" => format!("uid {}→{}", o.uid, n.uid),
            "gid" => format!("gid {}→{}", o.gid, n.gid),
            other => other.to_string(),
        });
    }
    parts.join(", ")
}

fn config_line(c: &ConfigChange) -> String {
    match (&c.old, &c.new) {
        (None, Some(n)) => format!("{}: {n}", c.field),
        (Some(o), None) => format!("{}: {o}", c.field),
        (Some(o), Some(n)) => format!("{}: {o} → {n}", c.field),
        (None, None) => c.field.clone(),
    }
}

/// The full text diff.
pub fn render(s: &DiffSubject, filter: &PathFilter, opts: TextOptions) -> String {
    let d = s.diff;
    let u = opts.units;
    let mut o = String::new();
    let _ = writeln!(o, "--- old: {}", display_safe(&side_line(&d.old)));
    let _ = writeln!(o, "+++ new: {}", display_safe(&side_line(&d.new)));

    // Layers.
    let l = &d.layers;
    let _ = writeln!(o);
    let _ = write!(
        o,
        "Layers: {} shared, {} only in old, {} only in new",
        l.shared, l.old_only, l.new_only
    );
    match l.diverge_at {
        Some(i) => {
            let _ = writeln!(o, "; histories diverge at layer {i}");
        }
        None => {
            let _ = writeln!(o, "; same history");
        }
    }
    for r in &l.rows {
        let (mark, st) = match (&r.old, &r.new) {
            _ if r.same => ('=', Status::Unchanged),
            (Some(_), Some(_)) => ('~', Status::Modified),
            (Some(_), None) => ('-', Status::Deleted),
            _ => ('+', Status::Added),
        };
        let cell = |b: &Option<crate::diff::LayerBrief>| match b {
            Some(b) => format!("{:<19} {:>10}", short_id(&b.diff_id), u.size(b.size_bytes)),
            None => format!("{:<19} {:>10}", "", ""),
        };
        let cmd = r
            .new
            .as_ref()
            .or(r.old.as_ref())
            .map_or(String::new(), |b| super::one_line(&b.command, 50));
        let line = format!(
            "  {mark} {:>3}  {} | {}  {cmd}",
            r.index,
            cell(&r.old),
            cell(&r.new)
        );
        let _ = writeln!(o, "{}", paint(opts.color, st, line.trim_end()));
    }

    // Config.
    if !d.config.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Config:");
        for c in &d.config {
            let st = c.status();
            let line = format!("  {} {}", st.marker(), config_line(c));
            let _ = writeln!(o, "{}", paint(opts.color, st, &line));
        }
    }

    // Paths.
    let c = d.tree.counts();
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Paths: {} added, {} deleted, {} modified, {} metadata",
        c.added, c.deleted, c.modified, c.metadata
    );
    let keep = d.tree.keep_mask(filter);
    let shown: Vec<&Entry> = d
        .tree
        .entries
        .iter()
        .zip(&keep)
        .filter(|(e, k)| **k && (e.depth > 0 || c.total() > 0))
        .map(|(e, _)| e)
        .collect();
    let width = shown
        .iter()
        .map(|e| path_shown(e).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for e in &shown {
        let mark = if e.status == Status::Unchanged {
            ' '
        } else {
            e.status.marker()
        };
        let sizes = match e.status {
            Status::Added => format!("{:>10}   {:>10}", "", u.size(e.new_bytes())),
            Status::Deleted => format!("{:>10}   {:>10}", u.size(e.old_bytes()), ""),
            _ => format!(
                "{:>10} → {:>10}",
                u.size(e.old_bytes()),
                u.size(e.new_bytes())
            ),
        };
        let delta = e.delta();
        let delta = if delta == 0 {
            String::new()
        } else {
            signed(u, delta)
        };
        let mut line = format!("  {mark} {:<width$}  {sizes}  {delta:>11}", path_shown(e));
        let det = details(s, e);
        if !det.is_empty() {
            let _ = write!(line, "  {det}");
        }
        let _ = writeln!(o, "{}", paint(opts.color, e.status, line.trim_end()));
    }

    // Summary.
    let sm = &d.summary;
    let _ = writeln!(o);
    let _ = writeln!(o, "Summary:");
    let _ = writeln!(
        o,
        "  Image size:    {} → {} ({})",
        u.size(d.old.size_bytes),
        u.size(d.new.size_bytes),
        signed(u, sm.size_delta_bytes)
    );
    let _ = writeln!(
        o,
        "  File content:  {} → {} ({})",
        u.size(d.old.files_bytes),
        u.size(d.new.files_bytes),
        signed(u, sm.files_delta_bytes)
    );
    let _ = writeln!(
        o,
        "  Paths:         {} added, {} deleted, {} modified, {} metadata",
        c.added, c.deleted, c.modified, c.metadata
    );
    if !sm.growth.is_empty() {
        let _ = writeln!(o, "  Biggest growth:");
        for g in &sm.growth {
            let _ = writeln!(
                o,
                "    {:>11}  {}",
                signed(u, g.delta_bytes),
                display_safe(&g.path)
            );
        }
    }
    let _ = writeln!(
        o,
        "{}",
        if d.is_identical() {
            "Identical."
        } else {
            "Different."
        }
    );
    o
}

/// `git diff --stat`-like: one line per changed path with its size delta and
/// a bar, then a totals line.
pub fn render_stat(s: &DiffSubject, filter: &PathFilter, opts: TextOptions) -> String {
    const BAR: usize = 40;
    let d = s.diff;
    let u = opts.units;
    let keep = d.tree.keep_mask(filter);
    // Files, and directories that changed on their own (empty ones, metadata).
    let rows: Vec<&Entry> = d
        .tree
        .entries
        .iter()
        .zip(&keep)
        .filter(|(e, k)| {
            **k && e.status != Status::Unchanged
                && (!e.is_dir()
                    || e.totals.is_some_and(|t| t.changes() == 0)
                    || !matches!(e.status, Status::Added | Status::Deleted))
        })
        .map(|(e, _)| e)
        .collect();
    let own = |e: &Entry| {
        if e.is_dir() && !matches!(e.status, Status::Added | Status::Deleted) {
            0
        } else {
            e.delta()
        }
    };
    let width = rows
        .iter()
        .map(|e| path_shown(e).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let dw = rows
        .iter()
        .map(|e| signed(u, own(e)).len())
        .max()
        .unwrap_or(0);
    let max = rows
        .iter()
        .map(|e| own(e).unsigned_abs())
        .max()
        .unwrap_or(0);
    let mut o = String::new();
    let (mut grew, mut shrank) = (0i64, 0i64);
    for e in &rows {
        let delta = own(e);
        if delta > 0 {
            grew = grew.saturating_add(delta);
        } else {
            shrank = shrank.saturating_add(delta);
        }
        let n = if max == 0 || delta == 0 {
            0
        } else {
            ((delta.unsigned_abs() as u128 * BAR as u128).div_ceil(max as u128)) as usize
        };
        let ch = if delta > 0 { "+" } else { "-" };
        let bar = ch.repeat(n);
        let bar = if opts.color && n > 0 {
            let st = if delta > 0 {
                Status::Added
            } else {
                Status::Deleted
            };
            paint(true, st, &bar)
        } else {
            bar
        };
        let line = format!(
            " {} {:<width$} | {:>dw$} {bar}",
            e.status.marker(),
            display_safe(&path_shown(e)),
            signed(u, delta)
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let shown = rows.len();
    let _ = writeln!(
        o,
        " {} path{} changed, {} added, {} deleted, {} modified, {} metadata; {} ({}, {}); image {} → {}",
        shown,
        if shown == 1 { "" } else { "s" },
        rows.iter().filter(|e| e.status == Status::Added).count(),
        rows.iter().filter(|e| e.status == Status::Deleted).count(),
        rows.iter().filter(|e| e.status == Status::Modified).count(),
        rows.iter().filter(|e| e.status == Status::Metadata).count(),
        signed(u, grew.saturating_add(shrank)),
        signed(u, grew),
        signed(u, shrank),
        u.size(d.old.size_bytes),
        u.size(d.new.size_bytes),
    );
    o
}
