//! dive 0.13.1's `--json` export, field for field, so scripts written
//! against dive keep working.

use serde::Serialize;

use super::Subject;

#[derive(Serialize)]
struct Export {
    layer: Vec<Layer>,
    image: Image,
}

#[derive(Serialize)]
struct Layer {
    index: usize,
    id: String,
    #[serde(rename = "digestId")]
    digest_id: String,
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    command: String,
}

#[derive(Serialize)]
struct Image {
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    #[serde(rename = "inefficientBytes")]
    inefficient_bytes: u64,
    #[serde(rename = "efficiencyScore")]
    efficiency_score: f64,
    #[serde(rename = "fileReference")]
    file_reference: Vec<FileRef>,
}

#[derive(Serialize)]
struct FileRef {
    count: u32,
    #[serde(rename = "sizeBytes")]
    size_bytes: u64,
    file: String,
}

/// dive's JSON document, pretty-printed as dive prints it.
pub fn render(s: &Subject) -> String {
    let img = &s.loaded.image;
    let d = &s.analysis.dive;
    let export = Export {
        layer: img
            .layers
            .iter()
            .map(|l| Layer {
                index: l.index,
                id: dive_layer_id(&l.digest),
                digest_id: l.diff_id.clone(),
                size_bytes: l.size_bytes,
                command: l.command.clone(),
            })
            .collect(),
        image: Image {
            size_bytes: d.image_size_bytes,
            inefficient_bytes: d.wasted_bytes,
            efficiency_score: d.efficiency,
            file_reference: d
                .inefficient_files
                .iter()
                .map(|f| FileRef {
                    count: f.count,
                    size_bytes: f.size_bytes,
                    file: f.path.clone(),
                })
                .collect(),
        },
    };
    serde_json::to_string_pretty(&export).unwrap_or_default()
}

/// dive names a layer by its blob's hex digest.
fn dive_layer_id(digest: &str) -> String {
    digest.rsplit(':').next().unwrap_or(digest).to_string()
}
