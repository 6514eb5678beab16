//! The layer details pane (digest, diff ID, media type, sizes, created,
//! full command, change tallies) and the image summary pane (name,
//! platform, dive's and layerscope's waste figures, top wasted paths).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{block, fit, kv, render_clipped, render_lines, size, truncate};
use crate::tree::Status;
use crate::tui::state::AppState;
use crate::tui::untrusted::Untrusted;

pub fn layer(s: &AppState, area: Rect, buf: &mut Buffer) {
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let b = block(s, "Layer details", false);
    let inner = b.inner(area);
    b.render(area, buf);
    let Some(l) = data.loaded.image.layers.get(s.layer()) else {
        return;
    };
    let w = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled("Command: ", t.dim),
        Untrusted::new(l.command.trim()).into(),
    ])];
    if let Some(f) = data.analysis.layers.get(s.layer()) {
        for st in Status::ALL {
            let tl = f.tally(st);
            lines.push(Line::from(vec![
                Span::styled(format!("{} {:<9}", st.marker(), st.as_str()), t.status(st)),
                Span::raw(format!("{:>5} {:>10}", tl.count, size(tl.bytes))),
            ]));
        }
        if f.reclaimable_bytes > 0 {
            lines.push(Line::from(vec![
                Span::styled("! reclaimable ", t.waste),
                Span::raw(size(f.reclaimable_bytes)),
            ]));
        }
    }
    // Digests and the media type come from the manifest: archive text.
    let field = |v: &str| truncate(&Untrusted::new(v).display(), w.saturating_sub(9));
    lines.push(kv(s, "Digest:  ", field(&l.digest)));
    lines.push(kv(s, "Diff ID: ", field(&l.diff_id)));
    lines.push(kv(s, "Type:    ", field(&l.media_type)));
    lines.push(kv(
        s,
        "Size:    ",
        format!(
            "{} (blob {}, {} entries)",
            size(l.size_bytes),
            size(l.compressed_size_bytes),
            l.entries
        ),
    ));
    if let Some(c) = &l.created {
        lines.push(kv(s, "Created: ", Untrusted::new(c).to_string()));
    }
    if let Some(c) = &l.comment {
        lines.push(kv(s, "Comment: ", Untrusted::new(c).to_string()));
    }
    render_clipped(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        inner,
        buf,
        t,
    );
}

pub fn image(s: &AppState, area: Rect, buf: &mut Buffer) {
    if area.height < 3 {
        return;
    }
    let Some(data) = &s.data else { return };
    let t = s.theme();
    let b = block(s, "Image (i: details)", false);
    let inner = b.inner(area);
    b.render(area, buf);
    let img = &data.loaded.image;
    let a = &data.analysis;
    let w = inner.width as usize;
    let mut lines = vec![
        kv(
            s,
            "Name:     ",
            truncate(
                &Untrusted::new(img.name.as_deref().unwrap_or("(untagged)")).display(),
                w.saturating_sub(10),
            ),
        ),
        kv(
            s,
            "Platform: ",
            Untrusted::new(&img.config.platform()).to_string(),
        ),
        kv(
            s,
            "Size:     ",
            format!(
                "{} in {} layers",
                size(a.dive.image_size_bytes),
                img.layers.len()
            ),
        ),
        kv(
            s,
            "Efficiency: ",
            format!(
                "{:.1} %  wasted {}",
                a.dive.efficiency * 100.0,
                size(a.dive.wasted_bytes)
            ),
        ),
        kv(
            s,
            "User wasted: ",
            a.dive
                .user_wasted_percent
                .map_or("-".into(), |p| format!("{:.1} %", p * 100.0)),
        ),
        Line::from(vec![
            Span::styled("Reclaimable: ", t.dim),
            Span::styled(size(a.corrected.reclaimable_bytes), t.waste),
            Span::styled("  dup ", t.dim),
            Span::raw(size(a.corrected.duplicate_bytes)),
        ]),
    ];
    if !a.corrected.top_wasted.is_empty() {
        lines.push(Line::styled("Top wasted:", t.dim));
        for wp in &a.corrected.top_wasted {
            let head = format!("{:>10} ", size(wp.wasted_bytes));
            let p = truncate(
                &Untrusted::new(&wp.path).display(),
                w.saturating_sub(head.len()),
            );
            lines.push(Line::from(vec![Span::styled(head, t.waste), Span::raw(p)]));
        }
    }
    let lines: Vec<Line> = lines.into_iter().map(|l| fit(l, w)).collect();
    render_lines(&lines, inner, buf, t);
}
