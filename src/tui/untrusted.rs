//! Archive text on its way to the screen (issue 12, "terminal injection").
//! Two guards: [`Untrusted`], the type the view models hand archive text
//! out as, which becomes screen text only sanitised by
//! [`crate::text::display_safe`]; and [`scrub`], run on every frame's buffer
//! after it is drawn and before it is written to the terminal, which
//! replaces any cell still holding an unsafe character and counts them.
//! A nonzero count is a forgotten path: the event loop fails a debug build
//! on it and the tests' screen helper fails the test.

use std::borrow::Cow;
use std::fmt;

use ratatui::buffer::Buffer;
use ratatui::text::{Line, Span};

use crate::text::{display_safe, is_unsafe};

/// Text that came from an image (a name, a path, a link target, a config
/// value, a command, file content). It has no `Deref` to `str` and its
/// `Display` is the sanitised text, so `format!`, `to_string`, spans and
/// lines made from it show escapes (`\u{1b}`), never terminal controls.
/// [`Untrusted::raw`] is for matching, sorting and the clipboard only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Untrusted<'a>(Cow<'a, str>);

impl<'a> Untrusted<'a> {
    pub fn new(s: &'a str) -> Untrusted<'a> {
        Untrusted(Cow::Borrowed(s))
    }

    /// Bytes (a tar name or link target), lossily as UTF-8.
    pub fn lossy(b: &'a [u8]) -> Untrusted<'a> {
        Untrusted(String::from_utf8_lossy(b))
    }

    pub fn owned(s: String) -> Untrusted<'static> {
        Untrusted(Cow::Owned(s))
    }

    /// The text as the archive has it: for matching, sorting and the
    /// clipboard, never for the screen.
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// The text as it may be shown: every unsafe character escaped.
    pub fn display(&self) -> Cow<'_, str> {
        display_safe(&self.0)
    }

    /// [`Untrusted::display`], keeping the borrow of the archive data.
    pub fn into_display(self) -> Cow<'a, str> {
        match self.0 {
            Cow::Borrowed(s) => display_safe(s),
            Cow::Owned(s) => match display_safe(&s) {
                Cow::Borrowed(_) => Cow::Owned(s),
                Cow::Owned(o) => Cow::Owned(o),
            },
        }
    }
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` keeps width and alignment (`{:<30}`) working.
        f.pad(&self.display())
    }
}

impl<'a> From<Untrusted<'a>> for Span<'a> {
    fn from(u: Untrusted<'a>) -> Span<'a> {
        Span::raw(u.into_display())
    }
}

impl<'a> From<Untrusted<'a>> for Line<'a> {
    fn from(u: Untrusted<'a>) -> Line<'a> {
        Line::from(Span::from(u))
    }
}

/// Comparing is not showing: equal when the raw texts are.
impl PartialEq<str> for Untrusted<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Untrusted<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Archive text in an `Option`, `-` when absent, sanitised.
pub fn or_dash(s: Option<&str>) -> String {
    s.map_or_else(|| "-".to_string(), |s| display_safe(s).into_owned())
}

/// Archive text that may span lines (a notice, file content), sanitised
/// line by line: the line breaks stay, nothing else unsafe does.
pub fn lines(s: &str) -> Vec<Line<'static>> {
    s.split('\n')
        .map(|l| Line::raw(display_safe(l).into_owned()))
        .collect()
}

/// What a cell that still held an unsafe character shows instead.
pub const REPLACEMENT: &str = "�";

/// The terminal boundary's last line of defence: replace every cell of
/// `buf` whose symbol holds an unsafe character ([`is_unsafe`]) with
/// [`REPLACEMENT`]; how many were replaced. Each cell's symbol is what the
/// backend writes raw, so after this no archive byte can act on the
/// terminal even if a view forgot [`Untrusted`]. Nonzero means a view did.
pub fn scrub(buf: &mut Buffer) -> usize {
    let mut n = 0;
    for cell in buf.content.iter_mut() {
        if cell.symbol().chars().any(is_unsafe) {
            cell.set_symbol(REPLACEMENT);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::widgets::{Paragraph, Widget};

    #[test]
    fn untrusted_text_shows_only_escapes() {
        let u = Untrusted::new("a\x1b]0;t\x07b");
        assert_eq!(u.to_string(), "a\\u{1b}]0;t\\u{7}b");
        assert_eq!(format!("[{u:<20}]"), "[a\\u{1b}]0;t\\u{7}b   ]");
        assert_eq!(u.raw(), "a\x1b]0;t\x07b");
        assert_eq!(Span::from(u.clone()).content, "a\\u{1b}]0;t\\u{7}b");
        assert_eq!(Untrusted::lossy(b"\xc2\x9b2J").to_string(), "\\u{9b}2J");
        assert_eq!(
            Untrusted::owned("x\u{202e}y".into()).into_display(),
            "x\\u{202e}y"
        );
        assert!(u == "a\x1b]0;t\x07b");
        assert_eq!(or_dash(None), "-");
        assert_eq!(lines("a\n\x1b").len(), 2);
    }

    #[test]
    fn scrub_replaces_cells_holding_controls_and_counts_them() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        // A span keeps a zero-width ESC in the cell before it.
        Paragraph::new("ok\x1b[2Jx\u{9b}\u{202e}").render(buf.area, &mut buf);
        let n = scrub(&mut buf);
        assert!(n >= 2, "{n}");
        let text: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(!text.chars().any(is_unsafe), "{text:?}");
        assert!(text.starts_with("o"), "{text:?}");
        assert_eq!(scrub(&mut buf), 0);
    }
}
