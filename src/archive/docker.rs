//! `docker save` archives: `manifest.json` naming a config and layers, in the
//! legacy layout (`<id>/layer.tar`) or the Docker 25+ OCI-style layout
//! (`blobs/sha256/<hex>`, beside an `index.json`).

use serde::Deserialize;

use super::store::Store;
use super::{Candidate, LayerRef, Layout};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// Digest implied by a member name of the form `blobs/<alg>/<hex>` or
/// `<hex>.json` / `<hex>/layer.tar` where that is a content address.
pub(crate) fn digest_from_member(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() == 3 && parts[0] == "blobs" && super::oci::valid_digest_parts(parts[1], parts[2])
    {
        return Some(format!("{}:{}", parts[1], parts[2]));
    }
    None
}

pub(crate) fn candidates(store: &Store) -> Result<Vec<Candidate>> {
    let raw = store.read_small("manifest.json", super::METADATA_LIMIT)?;
    if raw.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        super::counts::check(&raw).map_err(|e| Error::Member {
            path: store.display.clone(),
            member: "manifest.json".into(),
            msg: format!("invalid image manifest: {e}"),
        })?;
        return skopeo_dir(store, &raw).map(|c| vec![c]);
    }
    super::counts::check_docker(&raw).map_err(|e| Error::Member {
        path: store.display.clone(),
        member: "manifest.json".into(),
        msg: format!("invalid JSON: {e}"),
    })?;
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&raw).map_err(|e| Error::Member {
        path: store.display.clone(),
        member: "manifest.json".into(),
        msg: format!("invalid JSON: {e}"),
    })?;
    if entries.is_empty() {
        return Err(Error::Member {
            path: store.display.clone(),
            member: "manifest.json".into(),
            msg: "lists no images".into(),
        });
    }
    let oci_style = store.contains("index.json") || store.contains("oci-layout");
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let what = format!("manifest.json entry {i}");
        let config_member = store.reference(&what, &e.config)?;
        let mut layers = Vec::with_capacity(e.layers.len());
        for l in &e.layers {
            let member = store.reference(&what, l)?;
            layers.push(LayerRef {
                digest: digest_from_member(&member),
                member,
                media_type: None,
                declared_size: None,
            });
        }
        let config_digest = digest_from_member(&config_member).or_else(|| {
            // Legacy layout names the config `<hex>.json`.
            let stem = config_member.strip_suffix(".json")?;
            (stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("sha256:{stem}"))
        });
        out.push(Candidate {
            names: e.repo_tags.unwrap_or_default(),
            manifest_digest: None,
            platform: None,
            config_member,
            config_digest,
            layers,
            layout: if oci_style {
                Layout::DockerOci
            } else {
                Layout::DockerLegacy
            },
        });
    }
    Ok(out)
}

/// A `dir:` layout: manifest.json is one image manifest and each blob is a
/// file named by its hex digest.
fn skopeo_dir(store: &Store, raw: &[u8]) -> Result<Candidate> {
    let err = |msg: String| Error::Member {
        path: store.display.clone(),
        member: "manifest.json".into(),
        msg,
    };
    let m = serde_json::from_slice::<oci_spec::image::ImageManifest>(raw)
        .map_err(|e| err(format!("invalid image manifest: {e}")))?;
    let member = |digest: &str| -> Result<String> {
        match digest.split_once(':') {
            Some((alg, hex)) if super::oci::valid_digest_parts(alg, hex) => Ok(hex.to_string()),
            _ => Err(err(format!("invalid digest {digest:?}"))),
        }
    };
    let config_digest = m.config().digest().to_string();
    let mut layers = Vec::with_capacity(m.layers().len());
    for l in m.layers() {
        let d = l.digest().to_string();
        layers.push(LayerRef {
            member: member(&d)?,
            digest: Some(d),
            media_type: Some(l.media_type().to_string()),
            declared_size: Some(l.size()),
        });
    }
    use sha2::Digest as _;
    Ok(Candidate {
        names: Vec::new(),
        manifest_digest: Some(format!("sha256:{}", hex::encode(sha2::Sha256::digest(raw)))),
        platform: None,
        config_member: member(&config_digest)?,
        config_digest: Some(config_digest),
        layers,
        layout: Layout::SkopeoDir,
    })
}
