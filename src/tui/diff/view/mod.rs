//! Pure renders of [`DiffState`]: the two layer lists side by side, the
//! selected layer pair and the diff summary on the left, the merged tree
//! with its statuses on the right, and the overlays (help, old/new details
//! side by side, the line diff, the config and growth summary). Reuses the
//! explorer's helpers for sizes, modes, truncation and commands.

mod layers;
mod popups;
mod status;
mod tree;

pub use popups::{content_lines, details_lines, help_lines, summary_lines};
pub use status::filter_summary;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::state::DiffState;
use crate::diff::SideInfo;
use crate::report::diff_text::signed;
use crate::report::Units;
use crate::tui::layout;
use crate::tui::view::too_small;

pub(super) use crate::tui::view::themed_block as block;

pub(super) fn delta(d: i64) -> String {
    signed(Units::Human, d)
}

/// Draw the whole screen.
pub fn draw(s: &DiffState, area: Rect, buf: &mut Buffer) {
    if too_small(area, buf) {
        return;
    }
    let a = layout::diff(area, s.layer_rows());
    status::title(s, a.title, buf);
    status::status_line(s, a.status, buf);
    let Some(data) = &s.data else {
        if !crate::tui::view::picker::render(&s.ui, area, buf) {
            status::loading(s, layout::body(area), buf);
        }
        return;
    };
    layers::layers(s, data, a.layers, a.new_layers, buf);
    layers::layer_details(s, data, a.details, buf);
    layers::summary(s, data, a.summary, buf);
    tree::tree(s, data, a.tree, buf);
    popups::popups(s, data, area, buf);
}

/// An OCI `ref.name` is often a bare tag (`1`, from `skopeo copy …
/// oci:app:1`): shown alone it reads as the image's name. Give it the
/// layout's or archive's name as its repository (`app:1`), as skopeo's
/// `oci:DIR:TAG` spells it; a full reference is kept as it is.
pub fn with_repository(name: &str, source: &str) -> String {
    if name.contains([':', '/', '@']) {
        return name.to_string();
    }
    let base = std::path::Path::new(source.trim_end_matches('/'))
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let repo = base
        .strip_suffix(".tar")
        .or_else(|| base.strip_suffix(".tar.gz"))
        .or_else(|| base.strip_suffix(".tar.zst"))
        .unwrap_or(&base);
    if repo.is_empty() {
        name.to_string()
    } else {
        format!("{repo}:{name}")
    }
}

pub(super) fn side_name(info: &SideInfo) -> String {
    let name = match &info.name {
        Some(n) => with_repository(n, &info.source),
        None => info.source.clone(),
    };
    let name = crate::text::display_safe(&name).into_owned();
    match info.layer {
        Some(l) if l + 1 != info.layer_count => format!("{name} @ layer {l}"),
        _ => name,
    }
}
