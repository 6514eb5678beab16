//! Plain data describing an image: its config, history, layers and the
//! archive layout it came in, as read from the archive. It sits at the
//! bottom of the module graph (the archive readers fill it in). No tree
//! here; see [`crate::tree`].

use serde::Serialize;
use std::collections::BTreeMap;

/// The parts of the image config a person looks at.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Config {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub created: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub exposed_ports: Vec<String>,
}

impl Config {
    /// `os/arch[/variant]`.
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{}", self.os, self.architecture, v),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    pub(crate) fn from_oci(
        c: &oci_spec::image::ImageConfiguration,
    ) -> (Config, Vec<HistoryEntry>, Vec<String>) {
        let inner = c.config().as_ref();
        let non_empty = |s: Option<&String>| s.filter(|s| !s.is_empty()).cloned();
        let config = Config {
            os: c.os().to_string(),
            architecture: c.architecture().to_string(),
            variant: c.variant().clone(),
            created: c.created().clone(),
            env: inner.and_then(|i| i.env().clone()).unwrap_or_default(),
            entrypoint: inner
                .and_then(|i| i.entrypoint().clone())
                .unwrap_or_default(),
            cmd: inner.and_then(|i| i.cmd().clone()).unwrap_or_default(),
            user: non_empty(inner.and_then(|i| i.user().as_ref())),
            workdir: non_empty(inner.and_then(|i| i.working_dir().as_ref())),
            labels: inner
                .and_then(|i| i.labels().clone())
                .map(|l| l.into_iter().collect())
                .unwrap_or_default(),
            exposed_ports: inner
                .and_then(|i| i.exposed_ports().clone())
                .unwrap_or_default(),
        };
        let history = c
            .history()
            .as_ref()
            .map(|h| {
                h.iter()
                    .map(|e| HistoryEntry {
                        created: e.created().clone(),
                        created_by: e.created_by().clone().unwrap_or_default(),
                        comment: e.comment().clone(),
                        empty_layer: e.empty_layer().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let diff_ids = c.rootfs().diff_ids().clone();
        (config, history, diff_ids)
    }
}

/// One entry of the image history, including entries that made no layer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: String,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// One layer, as shipped and as unpacked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LayerInfo {
    pub index: usize,
    /// Where the blob lives in the source (for reading file contents later).
    #[serde(skip)]
    pub member: String,
    /// Digest of the stored blob (compressed bytes), when known or computed.
    pub digest: String,
    /// Digest of the uncompressed tar, as computed.
    pub diff_id: String,
    pub media_type: String,
    pub compression: crate::layer::Compression,
    /// Bytes of the blob as stored in the archive.
    pub compressed_size_bytes: u64,
    /// Bytes of the uncompressed tar stream.
    pub tar_size_bytes: u64,
    /// Sum of the tar header sizes of all entries: dive's layer size.
    pub size_bytes: u64,
    pub entries: u64,
    pub command: String,
    pub created: Option<String>,
    pub comment: Option<String>,
}

/// Everything known about the selected image except its tree.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    /// The file or directory it came from, or the reference, as given.
    pub source: String,
    /// Which kind of source provided it, and where (`image.source` in the
    /// JSON report).
    pub origin: crate::origin::Origin,
    pub name: Option<String>,
    pub names: Vec<String>,
    pub layout: Layout,
    pub manifest_digest: Option<String>,
    pub config_digest: String,
    pub config: Config,
    pub history: Vec<HistoryEntry>,
    pub layers: Vec<LayerInfo>,
    /// Non-fatal findings (wrong media type, whiteout of a missing path…).
    pub warnings: Vec<String>,
}

/// Map each layer to the history entry that made it: the n-th non-empty one.
pub(crate) fn layer_history(history: &[HistoryEntry], layers: usize) -> Vec<Option<&HistoryEntry>> {
    let made: Vec<&HistoryEntry> = history.iter().filter(|h| !h.empty_layer).collect();
    (0..layers).map(|i| made.get(i).copied()).collect()
}

/// How the archive is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `docker save` before Docker 25: `<id>/layer.tar`.
    DockerLegacy,
    /// `docker save` from Docker 25+: manifest.json plus an OCI layout.
    DockerOci,
    /// OCI image layout (archive or directory), no manifest.json.
    Oci,
    /// `skopeo copy … dir:` / `podman save --format docker-dir`: one image
    /// manifest in manifest.json, blobs named by their hex digest.
    SkopeoDir,
}
