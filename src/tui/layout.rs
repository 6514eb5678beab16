//! Where each pane goes on the screen, in both explorers, and what is at a
//! screen row: the update code (paging, mouse hits) and the views read the
//! same rectangles and row geometry from here.

use ratatui::layout::Rect;

use super::list::ListCursor;
use super::table::VisibleRows;

/// Smallest usable screen.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 12;

/// Is a screen of `area` below the minimum size (an empty one is not known
/// yet)? Then the panes are not drawn, so keys must not act unseen.
pub fn is_too_small(area: Rect) -> bool {
    area.area() > 0 && (area.width < MIN_WIDTH || area.height < MIN_HEIGHT)
}

/// Screen regions of the last layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    /// The layer list (the diff: the old image's).
    pub layers: Rect,
    /// The diff's new image's layer list, beside the old one (explorer: empty).
    pub new_layers: Rect,
    /// The selected layer's details (the diff: the layer pair).
    pub details: Rect,
    /// The image summary (the diff: the diff's summary).
    pub summary: Rect,
    pub tree: Rect,
    pub status: Rect,
}

/// Title, body and status line of a screen.
fn frame(area: Rect) -> Option<(Rect, Rect, Rect)> {
    if area.height < 3 {
        return None;
    }
    Some((
        Rect::new(area.x, area.y, area.width, 1),
        Rect::new(area.x, area.y + 1, area.width, area.height - 2),
        Rect::new(area.x, area.bottom() - 1, area.width, 1),
    ))
}

/// The explorer: layers, layer details and the image summary on the left,
/// the tree on the right.
pub fn explorer(area: Rect, layer_count: usize) -> Areas {
    let Some((title, body, status)) = frame(area) else {
        return Areas::default();
    };
    let left_w = (area.width * 38 / 100).clamp(30, 60).min(area.width / 2);
    let left = Rect::new(body.x, body.y, left_w, body.height);
    let tree = Rect::new(body.x + left_w, body.y, body.width - left_w, body.height);
    let n = layer_count.min(u16::MAX as usize - 2) as u16;
    let layers_h = (n + 2).min((body.height * 2 / 5).max(4)).min(body.height);
    let rest = body.height - layers_h;
    let details_h = (rest * 55 / 100).min(16).max(rest.min(6));
    let image_h = rest - details_h;
    Areas {
        title,
        layers: Rect::new(left.x, left.y, left.width, layers_h),
        new_layers: Rect::default(),
        details: Rect::new(left.x, left.y + layers_h, left.width, details_h),
        summary: Rect::new(left.x, left.y + layers_h + details_h, left.width, image_h),
        tree,
        status,
    }
}

/// The diff explorer: both layer lists side by side across the top; the
/// layer pair and the summary on the left below, the tree on the right.
pub fn diff(area: Rect, layer_rows: usize) -> Areas {
    let Some((title, body, status)) = frame(area) else {
        return Areas::default();
    };
    let n = layer_rows.min(u16::MAX as usize - 2) as u16;
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
    Areas {
        title,
        layers: Rect::new(body.x, body.y, half, layers_h),
        new_layers: Rect::new(body.x + half, body.y, body.width - half, layers_h),
        details: Rect::new(rest.x, rest.y, left_w, details_h),
        summary: Rect::new(rest.x, rest.y + details_h, left_w, rest.height - details_h),
        tree: Rect::new(rest.x + left_w, rest.y, rest.width - left_w, rest.height),
        status,
    }
}

/// The body of a screen (between the title and the status line).
pub fn body(area: Rect) -> Rect {
    Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    )
}

/// Rows of a tree table's pane (border and header excluded).
pub fn table_body_height(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// The visible-row index at screen row `y` of a tree table's pane.
pub fn table_row_at(rows: &VisibleRows, area: Rect, y: u16) -> Option<usize> {
    let top = area.y + 2;
    if y < top || y + 1 >= area.bottom() {
        return None;
    }
    let r = rows.scroll + (y - top) as usize;
    (r < rows.rows.len()).then_some(r)
}

/// Rows of a list pane (border excluded).
pub fn list_body_height(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// The row of a list of `len` rows at screen row `y` of its pane.
pub fn list_row_at(list: &ListCursor, len: usize, area: Rect, y: u16) -> Option<usize> {
    if y <= area.y || y + 1 >= area.bottom() {
        return None;
    }
    let i = list.scroll + (y - area.y - 1) as usize;
    (i < len).then_some(i)
}

/// Centred rectangle of `pw`% x `ph`% (at least the given minimum).
pub fn centred(area: Rect, pw: u16, ph: u16) -> Rect {
    let w = (area.width * pw / 100).max(40).min(area.width);
    let h = (area.height * ph / 100).max(8).min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Rows inside a popup frame (90% x 88%) on a screen of `area`.
pub fn popup_body_height(area: Rect) -> usize {
    (centred(area, 90, 88).height as usize).saturating_sub(2)
}
