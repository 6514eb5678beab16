//! Applying layers in order to build the merged tree and every layer's change
//! set, and tallying dive's per-layer leaf figures on the way.
//!
//! Whiteouts and opaque markers of a layer apply to the lower layers only
//! (OCI image spec), so each layer is applied in two passes: deletions first,
//! then the layer's own entries. Every step is linear in the entries and the
//! deleted subtrees.

use super::{
    compare, Attrs, FastMap, FileTree, NodeId, Status, Version, IMPLICIT, NO_ATTRS, NO_LINK, ROOT,
};
use crate::layer::{Action, Kind, RawEntry};

/// dive 0.13.1's per-path tallies over the leaves of each layer's own tree.
/// Most paths are seen once: they cost their size and a bit; only paths
/// seen again get a full record.
#[derive(Debug, Clone, Default)]
pub struct DiveTally {
    /// Per node: whether it was seen (bits).
    seen: Vec<u64>,
    /// Per node: the size it was first seen with.
    first: Vec<u64>,
    /// Nodes seen in two or more layers: (sum of sizes, smallest, layers).
    again: FastMap<NodeId, (u64, u64, u32)>,
    /// Order in which nodes became inefficient (seen a second time).
    pub inefficient_order: Vec<NodeId>,
}

impl DiveTally {
    fn add(&mut self, id: NodeId, size: u64) {
        let i = id as usize;
        if self.first.len() <= i {
            self.first.resize(i + 1, 0);
            self.seen.resize(i / 64 + 1, 0);
        }
        let bit = 1u64 << (i % 64);
        if self.seen[i / 64] & bit == 0 {
            self.seen[i / 64] |= bit;
            self.first[i] = size;
            return;
        }
        let first = self.first[i];
        let e = self.again.entry(id).or_insert_with(|| {
            self.inefficient_order.push(id);
            (first, first, 1)
        });
        e.0 = e.0.saturating_add(size);
        e.1 = e.1.min(size);
        e.2 += 1;
    }

    /// (sum of sizes over layers, smallest size seen, layers seen) of a
    /// node; (0, u64::MAX, 0) when no layer had it as a leaf.
    pub fn get(&self, id: NodeId) -> (u64, u64, u32) {
        let i = id as usize;
        let seen = self
            .seen
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0);
        match (seen, self.again.get(&id)) {
            (false, _) => (0, u64::MAX, 0),
            (true, Some(&t)) => t,
            (true, None) => (self.first[i], self.first[i], 1),
        }
    }

    /// The tallies of every node some layer had as a leaf.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, (u64, u64, u32))> + '_ {
        (0..self.first.len() as NodeId)
            .filter(|&id| self.seen[id as usize / 64] & (1u64 << (id % 64)) != 0)
            .map(|id| (id, self.get(id)))
    }
}

/// Incremental replay: feed layers in order.
#[derive(Debug, Default)]
pub struct Replay {
    pub tree: FileTree,
    pub dive: DiveTally,
    /// Per layer: count of whiteouts naming a path absent below.
    pub stray_whiteouts: Vec<u64>,
    /// Per layer: hardlinks whose target does not exist.
    pub broken_hardlinks: Vec<u64>,
    /// Scratch: per node, layer+1 when it has a child in the current dive layer tree.
    has_child: Vec<u32>,
    seen: Vec<u32>,
    recreated: Vec<u32>,
}

impl Replay {
    pub fn new() -> Replay {
        Replay::default()
    }

    fn is_live(&self, id: NodeId) -> bool {
        id == ROOT
            || self.tree.nodes[id as usize]
                .versions
                .last()
                .is_some_and(|v| v.attrs != NO_ATTRS)
    }

    fn live_attrs(&self, id: NodeId) -> Option<&Attrs> {
        let v = self.tree.nodes[id as usize].versions.last()?;
        self.tree.attrs_of(v)
    }

    /// Record a version for `id` in layer `l`, replacing one the layer already made.
    fn set_version(&mut self, id: NodeId, l: u32, status: Status, attrs: Option<Attrs>) {
        let idx = match attrs {
            Some(a) => {
                self.tree.attrs.push(a);
                (self.tree.attrs.len() - 1) as u32
            }
            None => NO_ATTRS,
        };
        let v = Version {
            layer: l,
            status,
            attrs: idx,
            whiteout: false,
        };
        let node = &mut self.tree.nodes[id as usize];
        match node.versions.last_mut() {
            Some(last) if last.layer == l => *last = v,
            _ => {
                node.versions.push(v);
                self.tree.layer_nodes[l as usize].push(id);
            }
        }
    }

    /// Mark every live node of the subtree at `id` deleted in layer `l`;
    /// returns the sum of their tar sizes (dive's whiteout size).
    fn delete_subtree(&mut self, id: NodeId, l: u32) -> u64 {
        let mut total = 0;
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let Some(v) = self.tree.nodes[n as usize].versions.last() else {
                continue;
            };
            let Some(a) = self.tree.attrs_of(v) else {
                continue;
            };
            total += self.tree.tar_size(v);
            let is_dir = a.kind == Kind::Dir;
            self.set_version(n, l, Status::Deleted, None);
            if is_dir {
                stack.extend_from_slice(self.tree.children(n));
            }
        }
        total
    }

    /// The state before layer `l`: the last version from a lower layer.
    fn before(&self, id: NodeId, l: u32) -> Option<&Attrs> {
        let vs = &self.tree.nodes[id as usize].versions;
        let v = vs.iter().rev().find(|v| v.layer < l)?;
        self.tree.attrs_of(v)
    }

    fn deleted_in(&self, id: NodeId, l: u32) -> bool {
        self.tree.nodes[id as usize]
            .versions
            .last()
            .is_some_and(|v| v.layer == l && v.status == Status::Deleted)
            || self.recreated.get(id as usize) == Some(&(l + 1))
    }

    fn mark_recreated(&mut self, id: NodeId, l: u32) {
        let i = id as usize;
        if self.recreated.len() <= i {
            self.recreated.resize(self.tree.nodes.len().max(i + 1), 0);
        }
        self.recreated[i] = l + 1;
    }

    /// Make sure every ancestor of `id` is a live directory in layer `l`.
    fn ensure_parents(&mut self, id: NodeId, l: u32) {
        let mut chain = Vec::new();
        let mut cur = self.tree.nodes[id as usize].parent;
        while cur != ROOT {
            match self.live_attrs(cur) {
                Some(a) if a.kind == Kind::Dir => break,
                _ => chain.push(cur),
            }
            cur = self.tree.nodes[cur as usize].parent;
        }
        for &a in chain.iter().rev() {
            let status = if self.deleted_in(a, l) || self.live_attrs(a).is_some() {
                self.mark_recreated(a, l);
                Status::Modified
            } else {
                Status::Added
            };
            let attrs = Attrs {
                kind: Kind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                mtime: 0,
                sha256: None,
                link: IMPLICIT,
            };
            self.set_version(a, l, status, Some(attrs));
        }
    }

    /// Apply one layer's entries (in tar order). Returns the entries' count.
    pub fn apply(&mut self, entries: &[RawEntry]) {
        let l = self.tree.layer_nodes.len() as u32;
        self.tree.layer_nodes.push(Vec::new());
        self.tree.layer_opaque.push(Vec::new());
        self.stray_whiteouts.push(0);
        self.broken_hardlinks.push(0);
        // Tar entries come grouped by directory: resolve the parent once per run.
        let mut last_dir: (&[u8], NodeId) = (b"", ROOT);
        let ids: Vec<NodeId> = entries
            .iter()
            .map(|e| {
                let (dir, name) = match e.path.iter().rposition(|&b| b == b'/') {
                    Some(p) => (&e.path[..p], &e.path[p + 1..]),
                    None => (&e.path[..0], &e.path[..]),
                };
                if dir != last_dir.0 {
                    last_dir = (dir, self.tree.ensure(dir));
                }
                self.tree.ensure_below(last_dir.1, name)
            })
            .collect();

        // dive's layer tree: every entry's node, whiteouts as separate leaves.
        let mut dive_put: FastMap<NodeId, u64> = FastMap::default();
        let mut dive_whiteouts: Vec<(NodeId, u64)> = Vec::new();
        let mut dive_members: Vec<NodeId> = Vec::new();

        // Pass 1: deletions against the lower layers.
        for (e, &id) in entries.iter().zip(&ids) {
            match e.action {
                Action::Whiteout => {
                    let size = if self.is_live(id) && id != ROOT {
                        let was_dir = self.live_attrs(id).is_some_and(|a| a.kind == Kind::Dir);
                        let s = self.delete_subtree(id, l);
                        if was_dir {
                            s
                        } else {
                            0
                        }
                    } else {
                        if !self.deleted_in(id, l) {
                            self.stray_whiteouts[l as usize] += 1;
                        }
                        0
                    };
                    if let Some(v) = self.tree.nodes[id as usize].versions.last_mut() {
                        if v.layer == l && v.status == Status::Deleted {
                            v.whiteout = true;
                        }
                    }
                    dive_whiteouts.push((id, size));
                }
                Action::Opaque => {
                    self.tree.layer_opaque[l as usize].push(id);
                    let kids = self.tree.children(id).to_vec();
                    for c in kids {
                        self.delete_subtree(c, l);
                    }
                    dive_members.push(id);
                }
                Action::Put => {}
            }
        }

        // Pass 2: the layer's own entries; the last of repeated entries wins.
        for (e, &id) in entries.iter().zip(&ids) {
            if e.action != Action::Put {
                continue;
            }
            self.ensure_parents(id, l);
            let mut attrs = Attrs {
                kind: e.kind,
                // Type bits stay as written (some tools write them); the
                // comparator looks at the permission bits only.
                mode: (e.mode & 0o177777) as u16,
                uid: e.uid,
                gid: e.gid,
                size: if e.kind == Kind::File { e.size } else { 0 },
                mtime: e.mtime,
                sha256: e.sha256,
                link: e.link.as_deref().map_or(NO_LINK, |l| self.tree.intern(l)),
            };
            if e.kind == Kind::Hardlink {
                let target = e.link.as_deref().and_then(|p| self.tree.lookup(p));
                match target.and_then(|t| self.live_attrs(t)) {
                    Some(t) => attrs.sha256 = t.sha256,
                    None => self.broken_hardlinks[l as usize] += 1,
                }
            }
            let recreated = self.deleted_in(id, l);
            let status = if recreated {
                Status::Modified
            } else {
                match self.before(id, l) {
                    None => Status::Added,
                    Some(prev) => {
                        compare::changed((&self.tree, prev), (&self.tree, &attrs)).status()
                    }
                }
            };
            if recreated {
                self.mark_recreated(id, l);
            }
            // A non-directory replacing a directory removes what was below it.
            if e.kind != Kind::Dir && self.live_attrs(id).is_some_and(|a| a.kind == Kind::Dir) {
                let kids = self.tree.children(id).to_vec();
                for c in kids {
                    self.delete_subtree(c, l);
                }
            }
            self.set_version(id, l, status, Some(attrs));
            if e.kind != Kind::File && e.size != 0 {
                let v = self.tree.nodes[id as usize]
                    .versions
                    .last()
                    .map(|v| v.attrs);
                if let Some(a) = v {
                    self.tree.odd_tar_sizes.insert(a, e.size);
                }
            }
            dive_put.insert(id, e.size);
            dive_members.push(id);
        }

        self.tally_dive(l, &dive_put, &dive_whiteouts, &dive_members);
    }

    /// Count the leaves of this layer's own tree as dive does.
    fn tally_dive(
        &mut self,
        l: u32,
        puts: &FastMap<NodeId, u64>,
        whiteouts: &[(NodeId, u64)],
        members: &[NodeId],
    ) {
        let stamp = l + 1;
        if self.has_child.len() < self.tree.nodes.len() {
            self.has_child.resize(self.tree.nodes.len(), 0);
        }
        let mark = |has_child: &mut Vec<u32>, tree: &FileTree, mut n: NodeId| {
            while n != ROOT {
                let p = tree.nodes[n as usize].parent;
                if has_child[p as usize] == stamp {
                    break;
                }
                has_child[p as usize] = stamp;
                n = p;
            }
        };
        for &m in members {
            mark(&mut self.has_child, &self.tree, m);
        }
        for &(w, _) in whiteouts {
            // `.wh.NAME` is a child of NAME's parent in dive's layer tree.
            mark(&mut self.has_child, &self.tree, w);
        }
        if self.seen.len() < self.tree.nodes.len() {
            self.seen.resize(self.tree.nodes.len(), 0);
        }
        for &m in members {
            if self.seen[m as usize] == stamp || self.has_child[m as usize] == stamp {
                continue;
            }
            self.seen[m as usize] = stamp;
            self.dive.add(m, puts.get(&m).copied().unwrap_or(0));
        }
        for &(w, size) in whiteouts {
            self.dive.add(w, size);
        }
    }

    pub fn finish(self) -> (FileTree, DiveTally) {
        (self.tree, self.dive)
    }
}
