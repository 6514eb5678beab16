//! What the explorer reads but never changes: the loaded image, its
//! analysis, and indexes built once after loading (every node's path, in
//! display and lower case, for filters and search; wasted bytes per node;
//! name order and packed versions for the tree pane).

use super::rows::{NameOrder, VersionTable};
use crate::analysis::{analyse, Analysis};
use crate::layer::Kind;
use crate::load::Loaded;
use crate::tree::{NodeId, ROOT};

#[derive(Debug)]
pub struct Data {
    pub loaded: Loaded,
    pub analysis: Analysis,
    /// Absolute path of each node (lossy UTF-8).
    pub paths: Vec<Box<str>>,
    /// The same, lower-cased (case-insensitive search and filters).
    pub lower: Vec<Box<str>>,
    /// Bytes a node's versions shipped that are not in the final tree.
    pub wasted: Vec<u64>,
    /// Children sorted by name, per directory.
    pub names: NameOrder,
    /// Every node's versions, packed for computing views.
    pub versions: VersionTable,
}

impl Data {
    pub fn new(loaded: Loaded) -> Data {
        let analysis = analyse(&loaded);
        Data::with_analysis(loaded, analysis)
    }

    pub fn with_analysis(loaded: Loaded, analysis: Analysis) -> Data {
        let tree = &loaded.tree;
        let n = tree.len();
        let mut paths: Vec<Box<str>> = Vec::with_capacity(n);
        let mut wasted = vec![0u64; n];
        for id in tree.ids() {
            if id == ROOT {
                paths.push("/".into());
                continue;
            }
            // Parents precede children in the arena.
            let parent = tree.node(id).parent;
            let base: &str = if parent == ROOT {
                ""
            } else {
                &paths[parent as usize]
            };
            let name = String::from_utf8_lossy(tree.name(id));
            let mut s = String::with_capacity(base.len() + 1 + name.len());
            s.push_str(base);
            s.push('/');
            s.push_str(&name);
            paths.push(s.into_boxed_str());
            let vs = &tree.node(id).versions;
            let final_live = vs.last().is_some_and(|v| v.is_live());
            for (i, v) in vs.iter().enumerate() {
                let Some(a) = tree.attrs_of(v) else { continue };
                if a.kind == Kind::File && !(final_live && i + 1 == vs.len()) {
                    wasted[id as usize] += a.size;
                }
            }
        }
        let lower = paths
            .iter()
            .map(|p| p.to_lowercase().into_boxed_str())
            .collect();
        let names = NameOrder::build(tree);
        let versions = VersionTable::build(tree);
        Data {
            loaded,
            analysis,
            paths,
            lower,
            wasted,
            names,
            versions,
        }
    }

    pub fn path(&self, id: NodeId) -> &str {
        self.paths.get(id as usize).map_or("", |p| p)
    }

    pub fn layer_count(&self) -> usize {
        self.loaded.image.layers.len()
    }
}
