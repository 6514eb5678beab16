//! The one rule for how two versions of a path differ, used by the replay
//! (what a layer did), the differ (image vs image, layer vs layer) and the
//! explorer's range view, so all three give every path the same status.
//!
//! The rules:
//! - **Type**: a different kind (file, dir, symlink, …) is a modification.
//! - **Content** (regular files): the SHA-256s when both sides have one;
//!   otherwise (`--hash none`, a sparse file too holey to hash) size and
//!   mtime stand in for content, so a re-shipped file with a new mtime is
//!   modified. A hardlink's bytes belong to its target: only its link path counts.
//! - **Link**: a symlink's target or a hardlink's target path.
//! - **Metadata**: the tar mode field as stored (its low 16 bits: a writer
//!   that puts the type bits in it, like kaniko's `040700`, differs from one
//!   that does not, and the reference figures count that as metadata), uid
//!   and gid; mtime is
//!   never metadata. A directory a layer only implied (the parent of an
//!   entry, without an entry of its own) has what extraction gives it,
//!   mode 0755 and owner 0:0, and compares like any other: an explicit
//!   `d` with mode 0700 over an implied `/d` is a metadata change.
//!
//! Status: any type, content or link change is `modified`; otherwise any
//! metadata change is `metadata`; otherwise `unchanged`.

use serde::Serialize;

use crate::layer::Kind;

use super::{Attrs, FileTree, Status};

/// What differs between the two versions of a path (a small bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Changed(u8);

impl Changed {
    pub const KIND: Changed = Changed(1);
    pub const CONTENT: Changed = Changed(2);
    pub const LINK: Changed = Changed(4);
    pub const MODE: Changed = Changed(8);
    pub const UID: Changed = Changed(16);
    pub const GID: Changed = Changed(32);
    const NAMES: [(Changed, &'static str); 6] = [
        (Changed::KIND, "type"),
        (Changed::CONTENT, "content"),
        (Changed::LINK, "link"),
        (Changed::MODE, "mode"),
        (Changed::UID, "uid"),
        (Changed::GID, "gid"),
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn contains(self, o: Changed) -> bool {
        self.0 & o.0 == o.0 && o.0 != 0
    }
    pub(crate) fn insert(&mut self, o: Changed) {
        self.0 |= o.0;
    }
    /// Type, content or link target: a real modification, not metadata only.
    pub fn is_modification(self) -> bool {
        self.0 & (Changed::KIND.0 | Changed::CONTENT.0 | Changed::LINK.0) != 0
    }
    /// Names of the set flags: `type`, `content`, `link`, `mode`, `uid`, `gid`.
    pub fn names(self) -> Vec<&'static str> {
        Changed::NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
    /// The status these differences make: modified, metadata or unchanged.
    pub fn status(self) -> Status {
        if self.is_modification() {
            Status::Modified
        } else if self.is_empty() {
            Status::Unchanged
        } else {
            Status::Metadata
        }
    }
}

impl Serialize for Changed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// What differs between version `a` of a path (in tree `at`) and version
/// `b` (in tree `bt`, the same tree or another image's).
pub fn changed((at, a): (&FileTree, &Attrs), (bt, b): (&FileTree, &Attrs)) -> Changed {
    let mut c = Changed::default();
    if a.kind != b.kind {
        c.insert(Changed::KIND);
    } else {
        match a.kind {
            Kind::File if content_differs(a, b) => c.insert(Changed::CONTENT),
            Kind::Symlink | Kind::Hardlink if at.link(a) != bt.link(b) => c.insert(Changed::LINK),
            _ => {}
        }
    }
    if a.mode != b.mode {
        c.insert(Changed::MODE);
    }
    if a.uid != b.uid {
        c.insert(Changed::UID);
    }
    if a.gid != b.gid {
        c.insert(Changed::GID);
    }
    c
}

/// Whether two regular files' bytes differ: by SHA-256 when both have one,
/// else by size and mtime.
pub fn content_differs(a: &Attrs, b: &Attrs) -> bool {
    match (a.sha256, b.sha256) {
        (Some(x), Some(y)) => x != y,
        _ => a.size != b.size || a.mtime != b.mtime,
    }
}

/// Whether two versions have the same mode and owner (metadata).
pub fn same_metadata(a: &Attrs, b: &Attrs) -> bool {
    a.mode == b.mode && a.uid == b.uid && a.gid == b.gid
}
