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

use super::state::{DiffAreas, DiffState};
use crate::diff::SideInfo;
use crate::report::diff_text::signed;
use crate::report::Units;
use crate::tui::view::too_small;
use crate::tui::view::tree::pane_row_at;

pub(super) use crate::tui::view::themed_block as block;

pub(super) fn delta(d: i64) -> String {
    signed(Units::Human, d)
}

/// Where each pane goes.
pub fn layout(s: &DiffState, area: Rect) -> DiffAreas {
    if area.height < 3 {
        return DiffAreas::default();
    }
    let title = Rect::new(area.x, area.y, area.width, 1);
    let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
    let n = s.layer_rows() as u16;
    let layers_h = (n + 2).min((body.height / 3).max(4)).min(body.height);
    let half = body.width / 2;
    let rest = Rect::new(
        body.x,
        body.y + layers_h,
        body.width,
        body.height - layers_h,
    );
    let left_w = (area.width * 34 / 100).clamp(28, 50).min(area.width / 2);
    let details_h = (rest.height / 2).max(rest.height.min(8)).min(rest.height);
    DiffAreas {
        title,
        old_layers: Rect::new(body.x, body.y, half, layers_h),
        new_layers: Rect::new(body.x + half, body.y, body.width - half, layers_h),
        layer_details: Rect::new(rest.x, rest.y, left_w, details_h),
        summary: Rect::new(rest.x, rest.y + details_h, left_w, rest.height - details_h),
        tree: Rect::new(rest.x + left_w, rest.y, rest.width - left_w, rest.height),
        status,
    }
}

/// Rows of the tree pane (border and header excluded).
pub use crate::tui::view::tree::body_height as tree_body_height;

/// The visible-row index at screen row `y`.
pub fn tree_row_at(s: &DiffState, area: Rect, y: u16) -> Option<usize> {
    pane_row_at(&s.tree, area, y)
}

/// Draw the whole screen.
pub fn draw(s: &DiffState, area: Rect, buf: &mut Buffer) {
    if too_small(area, buf) {
        return;
    }
    let a = layout(s, area);
    status::title(s, a.title, buf);
    status::status_line(s, a.status, buf);
    let Some(data) = &s.data else {
        let body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
        status::loading(s, body, buf);
        return;
    };
    layers::layers(s, data, a.old_layers, a.new_layers, buf);
    layers::layer_details(s, data, a.layer_details, buf);
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
    match info.layer {
        Some(l) if l + 1 != info.layer_count => format!("{name} @ layer {l}"),
        _ => name,
    }
}
