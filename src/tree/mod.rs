//! The merged file tree of an image: an arena of nodes (one per path ever
//! seen in any layer), each with its history of versions, one per layer that
//! touched it. The state after layer `k` is the last version at or below
//! `k`. No view state lives here: the TUI keeps its own, keyed by [`NodeId`].

pub mod compare;
mod replay;

use std::collections::HashMap;

/// Fast hashing with a per-process random seed (names come from untrusted
/// archives, so the seed keeps collision floods out).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use serde::Serialize;
use smallvec::SmallVec;

use crate::layer::Kind;
pub use replay::{DiveTally, Replay};

/// Index of a node in the arena. The root is [`ROOT`].
pub type NodeId = u32;
/// The image root `/`.
pub const ROOT: NodeId = 0;
const NO_ATTRS: u32 = u32::MAX;

/// What a layer did to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Absent below, present after this layer.
    Added,
    /// Type, content or link target changed, or deleted and re-created here.
    Modified,
    /// Removed by a whiteout, an opaque directory, or a type change of a parent.
    Deleted,
    /// Same content, different mode/uid/gid.
    Metadata,
    /// Carried again with identical content and metadata (mtime aside).
    Unchanged,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Added,
        Status::Modified,
        Status::Deleted,
        Status::Metadata,
        Status::Unchanged,
    ];

    /// One-character marker that works without colour.
    pub fn marker(self) -> char {
        match self {
            Status::Added => '+',
            Status::Modified => '~',
            Status::Deleted => '-',
            Status::Metadata => 'm',
            Status::Unchanged => '=',
        }
    }

    /// A change status by name as `--status` and the filters take it:
    /// `added`, `modified`, `deleted`, `metadata`, a few synonyms, or the
    /// markers `+ ~ - m` (any case). `unchanged` is no change: None.
    pub fn parse_change(name: &str) -> Option<Status> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "added" | "add" | "a" | "+" => Status::Added,
            "deleted" | "removed" | "delete" | "d" | "-" => Status::Deleted,
            "modified" | "changed" | "modify" | "~" => Status::Modified,
            "metadata" | "meta" | "m" => Status::Metadata,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Modified => "modified",
            Status::Deleted => "deleted",
            Status::Metadata => "metadata",
            Status::Unchanged => "unchanged",
        }
    }
}

/// A path's attributes in one version. There is one per tar entry, so it is
/// kept to 64 bytes: the link target is interned in the tree (read it with
/// [`FileTree::link`]) and only permission bits are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attrs {
    pub kind: Kind,
    /// The tar mode's low 16 bits: permissions, and the file type bits
    /// when the archive wrote them (use `kind` for the type).
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    /// Content bytes this entry occupies: a regular file's size, 0 for
    /// everything else (a hardlink's bytes are counted at its target).
    pub size: u64,
    pub mtime: u64,
    pub sha256: Option<[u8; 32]>,
    /// Interned symlink target or normalised hardlink path, [`NO_LINK`],
    /// or [`IMPLICIT`] for a directory a layer implied without an entry.
    link: u32,
}

const NO_LINK: u32 = u32::MAX;
const IMPLICIT: u32 = u32::MAX - 1;
const _: () = assert!(std::mem::size_of::<Attrs>() == 64);

impl Attrs {
    /// A directory the layer implied (a parent of an entry) without an entry of its own.
    pub fn implicit(&self) -> bool {
        self.link == IMPLICIT
    }
}

/// One layer's effect on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub layer: u32,
    pub status: Status,
    /// Deleted by a whiteout entry naming this very path (not by an
    /// opaque marker or as part of a deleted parent).
    pub whiteout: bool,
    attrs: u32,
}

impl Version {
    pub fn is_live(&self) -> bool {
        self.attrs != NO_ATTRS
    }
}

/// A path in the tree. Kept small: most paths are files with one version,
/// which then lives inline; children lists exist only for directories.
#[derive(Debug, Clone)]
pub struct Node {
    pub parent: NodeId,
    name: u32,
    /// Index into [`FileTree`]'s child lists, `NO_KIDS` when childless.
    kids: u32,
    pub versions: SmallVec<[Version; 1]>,
}

const NO_KIDS: u32 = u32::MAX;

/// The merged tree with every layer's versions.
#[derive(Debug, Clone)]
pub struct FileTree {
    nodes: Vec<Node>,
    attrs: Vec<Attrs>,
    /// Interned names: all bytes in one arena, each stored once; the
    /// table holds only ids and hashes by the bytes they point to.
    name_bytes: Vec<u8>,
    name_starts: Vec<usize>,
    name_table: hashbrown::HashTable<u32>,
    name_hasher: foldhash::fast::RandomState,
    child_index: FastMap<(NodeId, u32), NodeId>,
    /// Tar header sizes of entries other than regular files, where not 0
    /// (dive counts them in whiteout sizes), by attrs index.
    odd_tar_sizes: FastMap<u32, u64>,
    kid_lists: Vec<Vec<NodeId>>,
    layer_nodes: Vec<Vec<NodeId>>,
    /// Directories each layer marked opaque.
    layer_opaque: Vec<Vec<NodeId>>,
}

impl Default for FileTree {
    fn default() -> Self {
        Self::new()
    }
}

impl FileTree {
    pub fn new() -> FileTree {
        let mut t = FileTree {
            nodes: Vec::new(),
            attrs: Vec::new(),
            name_bytes: Vec::new(),
            name_starts: vec![0],
            name_table: hashbrown::HashTable::new(),
            name_hasher: foldhash::fast::RandomState::default(),
            child_index: FastMap::default(),
            odd_tar_sizes: FastMap::default(),
            kid_lists: Vec::new(),
            layer_nodes: Vec::new(),
            layer_opaque: Vec::new(),
        };
        let root_name = t.intern(b"");
        t.nodes.push(Node {
            parent: ROOT,
            name: root_name,
            kids: NO_KIDS,
            versions: SmallVec::new(),
        });
        t
    }

    fn name_bytes_of(&self, id: u32) -> &[u8] {
        let (a, b) = (
            self.name_starts[id as usize],
            self.name_starts[id as usize + 1],
        );
        &self.name_bytes[a..b]
    }

    fn find_name(&self, name: &[u8]) -> Option<u32> {
        use std::hash::BuildHasher;
        let h = self.name_hasher.hash_one(name);
        self.name_table
            .find(h, |&id| self.name_bytes_of(id) == name)
            .copied()
    }

    fn intern(&mut self, name: &[u8]) -> u32 {
        use std::hash::BuildHasher;
        if let Some(id) = self.find_name(name) {
            return id;
        }
        let id = (self.name_starts.len() - 1) as u32;
        self.name_bytes.extend_from_slice(name);
        self.name_starts.push(self.name_bytes.len());
        let h = self.name_hasher.hash_one(name);
        let (bytes, starts, hasher) = (&self.name_bytes, &self.name_starts, &self.name_hasher);
        self.name_table.insert_unique(h, id, |&other| {
            let (a, b) = (starts[other as usize], starts[other as usize + 1]);
            hasher.hash_one(&bytes[a..b])
        });
        id
    }

    /// The child called `name`, created if absent.
    fn child(&mut self, parent: NodeId, name: &[u8]) -> NodeId {
        let nid = self.intern(name);
        if let Some(&c) = self.child_index.get(&(parent, nid)) {
            return c;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            parent,
            name: nid,
            kids: NO_KIDS,
            versions: SmallVec::new(),
        });
        let p = &mut self.nodes[parent as usize];
        if p.kids == NO_KIDS {
            p.kids = self.kid_lists.len() as u32;
            self.kid_lists.push(Vec::new());
        }
        self.kid_lists[p.kids as usize].push(id);
        self.child_index.insert((parent, nid), id);
        id
    }

    /// Node for a clean `a/b/c` path, created with its parents.
    pub(crate) fn ensure(&mut self, path: &[u8]) -> NodeId {
        self.ensure_below(ROOT, path)
    }

    /// Node for a clean relative path below `base`.
    pub(crate) fn ensure_below(&mut self, base: NodeId, path: &[u8]) -> NodeId {
        let mut cur = base;
        for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            cur = self.child(cur, c);
        }
        cur
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Number of layers replayed.
    pub fn layer_count(&self) -> usize {
        self.layer_nodes.len()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// All node ids (root first, parents before children).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        0..self.nodes.len() as NodeId
    }

    pub fn name(&self, id: NodeId) -> &[u8] {
        self.name_bytes_of(self.nodes[id as usize].name)
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        (id != ROOT).then(|| self.nodes[id as usize].parent)
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        match self.nodes[id as usize].kids {
            NO_KIDS => &[],
            k => &self.kid_lists[k as usize],
        }
    }

    /// Depth below the root (root = 0).
    pub fn depth(&self, mut id: NodeId) -> usize {
        let mut d = 0;
        while id != ROOT {
            id = self.nodes[id as usize].parent;
            d += 1;
        }
        d
    }

    /// Absolute path as bytes, e.g. `/etc/hosts`; `/` for the root.
    pub fn path_bytes(&self, id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != ROOT {
            parts.push(self.name(cur));
            cur = self.nodes[cur as usize].parent;
        }
        if parts.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        out
    }

    /// Absolute path for display (non-UTF-8 bytes shown lossily).
    pub fn path(&self, id: NodeId) -> String {
        String::from_utf8_lossy(&self.path_bytes(id)).into_owned()
    }

    /// Every node's rank in the byte order of its full path (what sorting
    /// [`FileTree::path_bytes`] would give) without building the paths. A
    /// directory comes first, then its children and their subtrees
    /// interleaved as bytes order them: `a` < `a.txt` < `a/b`, since
    /// `.` < `/`. Linear in nodes plus the sorting of each directory.
    pub fn path_order(&self) -> Vec<u32> {
        #[derive(Clone, Copy)]
        enum Item {
            Node(NodeId),
            Below(NodeId),
        }
        let key = |id: NodeId, below: bool| {
            let slash: &[u8] = if below { b"/" } else { b"" };
            self.name(id).iter().chain(slash)
        };
        let mut rank = vec![0u32; self.nodes.len()];
        let mut next = 1u32;
        let mut stack = vec![Item::Below(ROOT)];
        let mut blocks: Vec<(NodeId, bool)> = Vec::new();
        while let Some(item) = stack.pop() {
            match item {
                Item::Node(id) => {
                    rank[id as usize] = next;
                    next += 1;
                }
                Item::Below(id) => {
                    blocks.clear();
                    for &k in self.children(id) {
                        blocks.push((k, false));
                        if !self.children(k).is_empty() {
                            blocks.push((k, true));
                        }
                    }
                    blocks.sort_unstable_by(|a, b| key(a.0, a.1).cmp(key(b.0, b.1)));
                    stack.extend(blocks.iter().rev().map(|&(k, below)| {
                        if below {
                            Item::Below(k)
                        } else {
                            Item::Node(k)
                        }
                    }));
                }
            }
        }
        rank
    }

    /// Find a node by absolute or relative path.
    pub fn lookup(&self, path: &[u8]) -> Option<NodeId> {
        let mut cur = ROOT;
        for part in path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
        {
            let nid = self.find_name(part)?;
            cur = *self.child_index.get(&(cur, nid))?;
        }
        Some(cur)
    }

    /// A symlink's target as written, or a hardlink's normalised target path.
    pub fn link(&self, a: &Attrs) -> Option<&[u8]> {
        (a.link < IMPLICIT).then(|| self.name_bytes_of(a.link))
    }

    /// The size in the version's tar header (dive's notion).
    pub fn tar_size(&self, v: &Version) -> u64 {
        match self.attrs_of(v) {
            None => 0,
            Some(a) if a.kind == Kind::File => a.size,
            Some(_) => self.odd_tar_sizes.get(&v.attrs).copied().unwrap_or(0),
        }
    }

    pub fn attrs_of(&self, v: &Version) -> Option<&Attrs> {
        (v.attrs != NO_ATTRS).then(|| &self.attrs[v.attrs as usize])
    }

    /// The version in force after layer `layer` (None: never existed yet).
    pub fn version_at(&self, id: NodeId, layer: usize) -> Option<&Version> {
        let vs = &self.nodes[id as usize].versions;
        let i = vs.partition_point(|v| v.layer as usize <= layer);
        i.checked_sub(1).map(|i| &vs[i])
    }

    /// Attributes after layer `layer`, None when absent or deleted.
    pub fn attrs_at(&self, id: NodeId, layer: usize) -> Option<&Attrs> {
        if id == ROOT {
            return None;
        }
        self.version_at(id, layer).and_then(|v| self.attrs_of(v))
    }

    /// The hardlink group of `id` after layer `layer`: the target first,
    /// then every hardlink to it; empty when nothing links to it (or `id`
    /// is neither a file nor a hardlink).
    pub fn hardlink_group(&self, id: NodeId, layer: usize) -> Vec<NodeId> {
        let Some(a) = self.attrs_at(id, layer) else {
            return Vec::new();
        };
        let target = match (a.kind, self.link(a)) {
            (Kind::Hardlink, Some(l)) => self.lookup(l),
            (Kind::File, _) => Some(id),
            _ => None,
        };
        let Some(target) = target else {
            return Vec::new();
        };
        let tpath = self.path_bytes(target);
        let mut group: Vec<NodeId> = self
            .ids()
            .filter(|&o| {
                self.attrs_at(o, layer).is_some_and(|oa| {
                    oa.kind == Kind::Hardlink
                        && self
                            .link(oa)
                            .is_some_and(|l| self.lookup(l) == Some(target) || l == &tpath[..])
                })
            })
            .collect();
        if group.is_empty() {
            return group;
        }
        group.insert(0, target);
        group
    }

    /// Does the path exist after layer `layer`? The root always does.
    pub fn exists_at(&self, id: NodeId, layer: usize) -> bool {
        id == ROOT || self.attrs_at(id, layer).is_some()
    }

    /// What layer `layer` itself did to the path, if anything.
    pub fn change_in(&self, id: NodeId, layer: usize) -> Option<&Version> {
        let vs = &self.nodes[id as usize].versions;
        vs.binary_search_by_key(&(layer as u32), |v| v.layer)
            .ok()
            .map(|i| &vs[i])
    }

    /// The version before the one of layer `layer` (what the layer changed from).
    pub fn previous(&self, id: NodeId, layer: usize) -> Option<&Version> {
        if layer == 0 {
            return None;
        }
        self.version_at(id, layer - 1)
    }

    /// Paths the layer touched, in first-touch order.
    pub fn layer_changes(&self, layer: usize) -> &[NodeId] {
        self.layer_nodes.get(layer).map(|v| &v[..]).unwrap_or(&[])
    }

    /// Directories the layer marked opaque (`.wh..wh..opq`).
    pub fn layer_opaque(&self, layer: usize) -> &[NodeId] {
        self.layer_opaque.get(layer).map(|v| &v[..]).unwrap_or(&[])
    }

    /// Paths existing after the last layer.
    pub fn final_layer(&self) -> usize {
        self.layer_nodes.len().saturating_sub(1)
    }

    /// Approximate heap bytes held (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        let nodes = self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .nodes
                .iter()
                .filter(|n| n.versions.spilled())
                .map(|n| n.versions.capacity() * std::mem::size_of::<Version>())
                .sum::<usize>()
            + self.kid_lists.capacity() * std::mem::size_of::<Vec<NodeId>>()
            + self
                .kid_lists
                .iter()
                .map(|k| k.capacity() * 4)
                .sum::<usize>();
        let attrs = self.attrs.capacity() * std::mem::size_of::<Attrs>()
            + self.odd_tar_sizes.capacity() * 16;
        let names = self.name_bytes.capacity()
            + self.name_starts.capacity() * 8
            + self.name_table.capacity() * 5;
        let index = self.child_index.capacity() * 16;
        nodes + attrs + names + index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_order_is_the_byte_order_of_full_paths() {
        // Names around '/' (0x2F): '-' and '.' sort below it, '0', 'a', '~'
        // and UTF-8 bytes above; prefixes of each other on purpose.
        let parts: [&[u8]; 8] = [
            b"a",
            b"a.txt",
            b"a-b",
            b"a0",
            b"ab",
            b"~",
            b"\xc3\xa4",
            b".",
        ];
        let mut t = FileTree::new();
        let mut seed = 7u64;
        for _ in 0..400 {
            let mut path = Vec::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let depth = 1 + (seed >> 60) as usize % 4;
            for d in 0..depth {
                if d > 0 {
                    path.push(b'/');
                }
                path.extend_from_slice(parts[(seed >> (8 * d + 3)) as usize % parts.len()]);
            }
            t.ensure(&path);
        }
        let rank = t.path_order();
        let mut by_rank: Vec<NodeId> = t.ids().collect();
        by_rank.sort_by_key(|&id| rank[id as usize]);
        let mut by_bytes: Vec<NodeId> = t.ids().collect();
        by_bytes.sort_by_key(|&id| t.path_bytes(id));
        assert!(t.len() > 100, "{}", t.len());
        assert_eq!(
            by_rank.iter().map(|&i| t.path(i)).collect::<Vec<_>>(),
            by_bytes.iter().map(|&i| t.path(i)).collect::<Vec<_>>()
        );
    }
}
