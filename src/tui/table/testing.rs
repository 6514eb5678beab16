//! Test support for the tree table's sources: raw entries, a replayed
//! tree, and the order cache with the rows built from it, kept together
//! as a [`super::TreeTable`] keeps them.

use std::ops::{Deref, DerefMut};

use super::rows::VisibleRows;
use crate::layer::{Action, Kind, RawEntry};
use crate::tree::{FileTree, Replay};

/// A put of `path` (a file gets a digest made of its size).
pub fn raw(path: &str, kind: Kind, size: u64) -> RawEntry {
    RawEntry {
        path: path.as_bytes().into(),
        action: Action::Put,
        kind,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        link: None,
        sha256: (kind == Kind::File).then_some([size as u8; 32]),
    }
}

/// The tree of one layer of `entries`.
pub fn replay(entries: &[RawEntry]) -> FileTree {
    let mut r = Replay::new();
    r.apply(entries);
    r.finish().0
}

/// A source's order cache `C` and the rows over it.
#[derive(Default)]
pub struct Model<C> {
    pub orders: C,
    pub vis: VisibleRows,
}

impl<C> Deref for Model<C> {
    type Target = VisibleRows;
    fn deref(&self) -> &VisibleRows {
        &self.vis
    }
}

impl<C> DerefMut for Model<C> {
    fn deref_mut(&mut self) -> &mut VisibleRows {
        &mut self.vis
    }
}
