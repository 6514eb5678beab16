//! The image picker's box: one row per image (index, name, platform,
//! digest) with the cursor, and how to pick or quit in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{list_row, themed_block, truncate};
use crate::text::display_safe;
use crate::tui::config::{Action, KeyMap, Theme};
use crate::tui::host::Ui;
use crate::tui::picker::{self, Picker};

/// Draw the first waiting picker on a screen of `screen`; false when none
/// waits.
pub fn render(ui: &Ui, screen: Rect, buf: &mut Buffer) -> bool {
    let Some(p) = ui.pickers.first() else {
        return false;
    };
    draw(p, &ui.config.theme, &ui.config.keys, screen, buf);
    true
}

fn draw(p: &Picker, t: &Theme, keys: &KeyMap, screen: Rect, buf: &mut Buffer) {
    let r = picker::area(screen, p.choices.len());
    Clear.render(r, buf);
    // The title line above names the archive.
    let title = format!(
        "{} holds {} images: pick one (↑↓, enter; {} or esc quits)",
        p.what,
        p.choices.len(),
        keys.first_label(Action::Quit)
    );
    let b = themed_block(t, &title, true);
    let inner = b.inner(r);
    b.render(r, buf);
    let w = inner.width as usize;
    // Names and platforms are archive text: escapes, not controls.
    let name_w = p
        .choices
        .iter()
        .map(|c| display_safe(&c.name).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 40);
    let plat_w = p
        .choices
        .iter()
        .map(|c| display_safe(&c.platform).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 24);
    // `›` marks the cursor without colour too (NO_COLOR, snapshots).
    let row = |mark: &str, i: &str, name: &str, plat: &str, digest: &str| {
        format!("{mark} {i:>3}  {name:<name_w$}  {plat:<plat_w$}  {digest}")
    };
    let mut lines = vec![Line::styled(
        truncate(&row(" ", "#", "name", "platform", "digest"), w),
        t.dim.add_modifier(Modifier::BOLD),
    )];
    let n = p.choices.len();
    for i in p.cursor.shown(inner.height.saturating_sub(1) as usize, n) {
        let c = &p.choices[i];
        let name = if c.name.is_empty() {
            "(no name)".into()
        } else {
            display_safe(&c.name)
        };
        let here = i == p.cursor.selected;
        let text = row(
            if here { "›" } else { " " },
            &c.index.to_string(),
            &name,
            &display_safe(&c.platform),
            &display_safe(&c.digest),
        );
        let spans = vec![Span::raw(truncate(&text, w))];
        lines.push(list_row(t, spans, here, true, w));
    }
    Paragraph::new(lines).render(inner, buf);
}
