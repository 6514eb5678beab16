//! Text from an image made safe to show: the one sanitiser every renderer
//! (text reports, CI, diff, the TUI, error messages) passes archive strings
//! through, so that a name can neither act on the terminal nor pose as more
//! than one line of output.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a line-oriented output raw:
/// C0 controls (line feed and tab included: one item is one line), DEL, C1
/// controls, the Unicode line and paragraph separators, and the bidi
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
/// reorder what is shown around them.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every unsafe character shown as a visible escape (`\n`, `\t`,
/// `\u{1b}`, `\u{202e}`); borrowed when nothing needed escaping.
pub fn display_safe(s: &str) -> Cow<'_, str> {
    escape_unless(s, |_| false)
}

/// Like [`display_safe`], but the unsafe characters `keep` accepts stay as
/// they are (multi-line text keeps its line feeds and tabs).
pub(crate) fn escape_unless(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    // Most names are printable ASCII: one byte scan, no decoding.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Cow::Borrowed(s);
    }
    let bad = |c: char| is_unsafe(c) && !keep(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::display_safe;

    #[test]
    fn line_feeds_controls_and_bidi_are_escaped() {
        assert_eq!(display_safe("usr/bin/env"), "usr/bin/env");
        assert!(matches!(display_safe("a b"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            display_safe("waste\n  Efficiency: 100.00%"),
            "waste\\n  Efficiency: 100.00%"
        );
        assert_eq!(display_safe("a\tb\r\x07"), "a\\tb\\r\\u{7}");
        assert_eq!(display_safe("\x1b]0;t\x07"), "\\u{1b}]0;t\\u{7}");
        assert_eq!(display_safe("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(display_safe("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(display_safe("\u{2066}\u{2069}"), "\\u{2066}\\u{2069}");
        assert_eq!(display_safe("l\u{2028}m"), "l\\u{2028}m");
        // Other non-ASCII text is kept as it is.
        assert_eq!(display_safe("café/日本"), "café/日本");
    }
}
