//! Pure renders of [`AppState`] into a ratatui `Buffer`: the same state
//! always draws the same cells. One file per pane or popup; this module
//! owns the layout and small shared helpers.

pub mod details;
pub mod layers;
pub mod picker;
pub mod popups;
pub mod status;
pub mod table;
pub mod tree;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Widget, Wrap};

use super::config::Theme;
use super::layout::{self, Areas, MIN_HEIGHT, MIN_WIDTH};
use super::state::AppState;

/// Draw the whole screen.
pub fn draw(s: &AppState, area: Rect, buf: &mut Buffer) {
    if too_small(area, buf) {
        return;
    }
    let a: Areas = layout::explorer(area, s.layer_count());
    status::title(s, a.title, buf);
    status::status_line(s, a.status, buf);
    if s.data.is_none() {
        if !picker::render(&s.ui, area, buf) {
            status::loading(s, layout::body(area), buf);
        }
        return;
    }
    layers::render(s, a.layers, buf);
    details::layer(s, a.details, buf);
    details::image(s, a.summary, buf);
    tree::render(s, a.tree, buf);
    popups::render(s, area, buf);
}

/// A bordered block with a title, highlighted when focused.
pub fn block<'a>(s: &AppState, title: &'a str, focused: bool) -> Block<'a> {
    themed_block(s.theme(), title, focused)
}

/// Say so instead of drawing when the terminal is below the minimum size.
pub fn too_small(area: Rect, buf: &mut Buffer) -> bool {
    if area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT {
        return false;
    }
    let msg = format!(
        "terminal too small: {}x{} (need {}x{}); q quits",
        area.width, area.height, MIN_WIDTH, MIN_HEIGHT
    );
    Paragraph::new(msg)
        .wrap(Wrap { trim: true })
        .render(area, buf);
    true
}

/// [`block`] with an explicit theme (shared with the diff mode).
pub fn themed_block<'a>(t: &Theme, title: &'a str, focused: bool) -> Block<'a> {
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

/// The cursor row's style: bright in the focused pane, dim elsewhere.
pub fn cursor_style(t: &Theme, focused: bool) -> Style {
    if focused {
        t.selected
    } else {
        t.selected_unfocused
    }
}

/// A list pane's row `width` columns wide: the cursor's style, padded
/// across the pane, on the selected row; plain elsewhere.
pub fn list_row(
    t: &Theme,
    mut spans: Vec<Span<'static>>,
    selected: bool,
    focused: bool,
    width: usize,
) -> Line<'static> {
    if !selected {
        return Line::from(spans);
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    if used < width {
        spans.push(Span::raw(" ".repeat(width - used)));
    }
    Line::from(spans).style(cursor_style(t, focused))
}

/// Human size (binary units), as the text report prints it.
pub fn size(n: u64) -> String {
    crate::report::Units::Human.size(n)
}

/// `-rwxr-xr-x` from a kind letter and mode bits.
pub fn mode_string(kind: char, mode: u16) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (b, c)) in bits.iter().enumerate() {
        let set = mode & b != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special, i) {
            (true, true, 8) => 't',
            (false, true, 8) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => *c,
            (false, false, _) => '-',
        });
    }
    s
}

/// Cut `text` to `width` display columns, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// `line` cut to `width` columns, its last column a `…` when anything was
/// cut: no text on screen ends mid-word without saying so.
pub fn fit(line: Line<'_>, width: usize) -> Line<'_> {
    if line.width() <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut out = Vec::new();
    let mut left = width.saturating_sub(1);
    for sp in spans {
        if left == 0 {
            break;
        }
        let w = sp.width();
        if w <= left {
            left -= w;
            out.push(sp);
            continue;
        }
        let mut text = String::new();
        for c in sp.content.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if cw > left {
                break;
            }
            left -= cw;
            text.push(c);
        }
        out.push(ratatui::text::Span::styled(text, sp.style));
        break;
    }
    if width > 0 {
        out.push(ratatui::text::Span::raw("…"));
    }
    Line {
        spans: out,
        style,
        alignment,
    }
}

/// A pane title that fits on its top border (corners and padding kept).
pub fn fit_title(title: &str, area: Rect) -> String {
    truncate(title, (area.width as usize).saturating_sub(4))
}

/// [`render_clipped`] for lines that do not wrap (each already fit to the
/// width), set straight into the buffer without a Paragraph's re-flow.
pub fn render_lines(lines: &[Line<'_>], area: Rect, buf: &mut Buffer, t: &Theme) {
    let h = area.height as usize;
    let shown = if lines.len() > h {
        h.saturating_sub(1)
    } else {
        lines.len()
    };
    for (line, y) in lines[..shown].iter().zip(area.y..) {
        buf.set_line(area.x, y, line, area.width);
    }
    if shown < lines.len() && h > 0 {
        let more = format!("… {} more lines", lines.len() - shown);
        let more = Line::styled(truncate(&more, area.width as usize), t.dim);
        buf.set_line(area.x, area.bottom() - 1, &more, area.width);
    }
}

/// Render `para` into `area`; when it needs more rows than there are, the
/// last row says how many lines are hidden instead of cutting silently.
pub fn render_clipped(para: Paragraph<'_>, area: Rect, buf: &mut Buffer, t: &Theme) {
    let need = para.line_count(area.width);
    let h = area.height as usize;
    if need <= h || h == 0 {
        para.render(area, buf);
        return;
    }
    let body = Rect::new(area.x, area.y, area.width, area.height - 1);
    para.render(body, buf);
    let more = format!("… {} more lines", need - (h - 1));
    Paragraph::new(Line::styled(truncate(&more, area.width as usize), t.dim))
        .render(Rect::new(area.x, area.bottom() - 1, area.width, 1), buf);
}

/// A command as a person reads it: without `/bin/sh -c #(nop)` noise.
pub fn short_command(cmd: &str) -> String {
    let c = cmd.trim();
    let c = c.strip_prefix("/bin/sh -c ").unwrap_or(c);
    let c = c.strip_prefix("#(nop) ").unwrap_or(c);
    let c = c.trim();
    let c = c.strip_suffix("# buildkit").unwrap_or(c).trim();
    // Archive text: escapes, not terminal controls (issue 12).
    let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::text::display_safe(&c).into_owned()
}

pub use super::layout::centred;

/// A label/value line.
pub fn kv<'a>(s: &AppState, k: &'a str, v: String) -> Line<'a> {
    Line::from(vec![
        ratatui::text::Span::styled(k, s.theme().dim),
        ratatui::text::Span::styled(v, Style::default()),
    ])
}
