//! What the explorer reads but never changes: the loaded image, its
//! analysis, and indexes built once after loading (every node's path, in
//! display and lower case, for filters and search; wasted bytes per node;
//! name order and packed versions for the tree pane).

use super::layer_view::{NameOrder, VersionTable};
use super::untrusted::Untrusted;
use crate::analysis::{analyse, Analysis};
use crate::load::Loaded;
use crate::tree::{Attrs, NodeId, ROOT};

#[derive(Debug)]
pub struct ImageData {
    pub loaded: Loaded,
    pub analysis: Analysis,
    /// Absolute path of each node (lossy UTF-8).
    pub paths: PathTable,
    /// The same lower-cased, for case-insensitive search and filters;
    /// empty where lower-casing changes nothing (most paths).
    lower: PathTable,
    /// Bytes a node's versions shipped that are not in the final tree.
    pub wasted: Vec<u64>,
    /// Children sorted by name, per directory.
    pub names: NameOrder,
    /// Every node's versions, packed for computing views.
    pub versions: VersionTable,
    /// Each node's parent (the root's: itself), packed: a filter pass
    /// reads 4 bytes a node, not the 40-byte nodes.
    parents: Vec<NodeId>,
}

impl ImageData {
    pub fn new(loaded: Loaded) -> ImageData {
        let analysis = analyse(&loaded);
        ImageData::with_analysis(loaded, analysis)
    }

    pub fn with_analysis(loaded: Loaded, analysis: Analysis) -> ImageData {
        let tree = &loaded.tree;
        let n = tree.len();
        let mut paths = PathTable::with_capacity(n);
        let mut lower = PathTable::with_capacity(n);
        let mut wasted = vec![0u64; n];
        let mut parents = vec![ROOT; n];
        let mut s = String::new();
        for id in tree.ids() {
            if id == ROOT {
                paths.push("/");
                lower.push("");
                continue;
            }
            // Parents precede children in the arena.
            let parent = tree.node(id).parent;
            parents[id as usize] = parent;
            s.clear();
            if parent != ROOT {
                s.push_str(paths.get(parent as usize));
            }
            s.push('/');
            s.push_str(&String::from_utf8_lossy(tree.name(id)));
            paths.push(&s);
            lower.push_lower_cased(&s);
            wasted[id as usize] = crate::analysis::node_waste(tree, id);
        }
        let names = NameOrder::build(tree);
        let versions = VersionTable::build(tree);
        ImageData {
            loaded,
            analysis,
            paths,
            lower,
            wasted,
            names,
            versions,
            parents,
        }
    }

    /// The node's parent, other than the root (which is not a row).
    pub fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        self.parents
            .get(id as usize)
            .copied()
            .filter(|&p| p != ROOT)
    }

    /// The node's absolute path, as archive text: it shows only
    /// sanitised (issue 12).
    pub fn path(&self, id: NodeId) -> Untrusted<'_> {
        Untrusted::new(self.path_raw(id))
    }

    /// The node's path as the archive has it: for matching, the clipboard
    /// and lookups, never for the screen (that is [`ImageData::path`]).
    pub fn path_raw(&self, id: NodeId) -> &str {
        if (id as usize) < self.paths.len() {
            self.paths.get(id as usize)
        } else {
            ""
        }
    }

    /// The node's own name (lossy UTF-8), as archive text.
    pub fn name(&self, id: NodeId) -> Untrusted<'_> {
        Untrusted::lossy(self.loaded.tree.name(id))
    }

    /// A link's target, as archive text.
    pub fn link<'a>(&'a self, a: &'a Attrs) -> Option<Untrusted<'a>> {
        self.loaded.tree.link(a).map(Untrusted::lossy)
    }

    /// The node's path lower-cased.
    pub fn lower(&self, id: NodeId) -> &str {
        match self.lower.get(id as usize) {
            "" => self.path_raw(id),
            l => l,
        }
    }

    pub fn layer_count(&self) -> usize {
        self.loaded.image.layers.len()
    }
}

/// Many strings in one buffer (a node's path without an allocation of its
/// own): entry `i` is `text[ends[i - 1]..ends[i]]`.
#[derive(Debug, Default)]
pub struct PathTable {
    text: String,
    ends: Vec<usize>,
}

impl PathTable {
    pub fn with_capacity(n: usize) -> PathTable {
        PathTable {
            text: String::new(),
            ends: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// Push `s` lower-cased, or an empty entry when lower-casing changes
    /// nothing (most paths): readers fall back to the original then.
    pub fn push_lower_cased(&mut self, s: &str) {
        let l = s.to_lowercase();
        self.push(if l == s { "" } else { &l });
    }

    /// A table of `strings` lower-cased (see [`PathTable::push_lower_cased`]).
    pub fn lower_cased<'a>(strings: impl ExactSizeIterator<Item = &'a str>) -> PathTable {
        let mut t = PathTable::with_capacity(strings.len());
        for s in strings {
            t.push_lower_cased(s);
        }
        t
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Entry `i`; panics when out of range, like indexing.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// Lower-cased paths by node, for search.
pub trait LowerPaths {
    fn count(&self) -> usize;
    fn lower_of(&self, i: usize) -> &str;
    /// The path as it is (for a query with capitals: smart case).
    fn path_of(&self, i: usize) -> &str;
}

impl LowerPaths for ImageData {
    fn count(&self) -> usize {
        self.paths.len()
    }
    fn lower_of(&self, i: usize) -> &str {
        self.lower(i as NodeId)
    }
    fn path_of(&self, i: usize) -> &str {
        self.path_raw(i as NodeId)
    }
}
