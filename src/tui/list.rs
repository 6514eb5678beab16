//! The cursor of a plain list pane (the layer lists of both explorers):
//! the selected row, the first row drawn and the height last drawn, and
//! where a movement action takes the cursor.

use super::config::Action;
use super::table::rows::scroll_to_show;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListCursor {
    pub selected: usize,
    /// First row drawn.
    pub scroll: usize,
    /// Rows the pane showed last (for paging).
    pub height: usize,
}

impl ListCursor {
    /// The row a movement action takes the cursor to in a list of `len`
    /// rows (None: not a movement, or an empty list).
    pub fn target(&self, a: Action, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)? as isize;
        let page = self.height.max(1) as isize;
        let here = self.selected as isize;
        let t = match a {
            Action::Up => here - 1,
            Action::Down => here + 1,
            Action::PageUp => here - page,
            Action::PageDown => here + page,
            Action::Home => 0,
            Action::End => last,
            _ => return None,
        };
        Some(t.clamp(0, last) as usize)
    }

    /// The row `delta` rows away, kept in a list of `len` rows.
    pub fn step(&self, delta: isize, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)? as isize;
        Some((self.selected as isize + delta).clamp(0, last) as usize)
    }

    /// Scroll so the cursor is on screen in a list of `len` rows.
    pub fn ensure_visible(&mut self, len: usize) {
        self.scroll = scroll_to_show(self.selected, self.scroll, self.height, len);
    }

    /// The rows a pane shows, from the scroll offset.
    pub fn shown(&self, rows: usize, len: usize) -> std::ops::Range<usize> {
        self.scroll.min(len)..(self.scroll + rows).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_stay_in_the_list_and_page_by_the_height() {
        let mut c = ListCursor {
            selected: 3,
            scroll: 0,
            height: 4,
        };
        assert_eq!(c.target(Action::Up, 10), Some(2));
        assert_eq!(c.target(Action::PageDown, 10), Some(7));
        assert_eq!(c.target(Action::PageUp, 10), Some(0));
        assert_eq!(c.target(Action::End, 10), Some(9));
        assert_eq!(c.target(Action::Home, 10), Some(0));
        assert_eq!(c.target(Action::Help, 10), None);
        assert_eq!(c.target(Action::Down, 0), None);
        c.selected = 9;
        c.ensure_visible(10);
        assert_eq!(c.scroll, 6);
        assert_eq!(c.shown(4, 10), 6..10);
    }
}
