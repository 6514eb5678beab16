//! Every rendering of results, none of which computes anything: an analysed
//! image ([`Subject`]: [`Loaded`] + [`Analysis`]) as the text summary, the
//! native JSON report (versioned schema) and dive 0.13.1's `--json`; a diff
//! ([`DiffSubject`]) as text or JSON (`diff_text`, `diff_json`); CI verdicts
//! as text, JSON and JUnit (`ci`). A serializer that fails is an
//! [`crate::Error::Render`], never an empty document.

pub mod ci;
pub mod diff_json;
pub mod diff_text;
pub mod dive_json;
pub mod json;
pub mod text;

use crate::analysis::Analysis;
use crate::load::Loaded;

/// Size formatting: human (humansize, binary units) or raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    #[default]
    Human,
    Bytes,
}

impl Units {
    pub fn size(self, n: u64) -> String {
        match self {
            Units::Human => humansize::format_size(n, humansize::BINARY),
            Units::Bytes => n.to_string(),
        }
    }
}

/// A command (or any text) on one line of at most `width` characters.
pub(crate) fn one_line(s: &str, width: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let mut t: String = flat.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// An image and its figures, the input of every report.
pub struct Subject<'a> {
    pub loaded: &'a Loaded,
    pub analysis: &'a Analysis,
}

/// A diff with the two images it was computed from (for attributes the
/// diff does not copy: digests, link targets).
pub struct DiffSubject<'a> {
    pub diff: &'a crate::diff::Diff,
    pub old: &'a Loaded,
    pub new: &'a Loaded,
}
