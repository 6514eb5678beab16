//! OCI image layouts (`oci-layout`, `index.json`, `blobs/`), as archives or
//! directories. Layer order comes from the manifest the index points to,
//! never from the order of files; nested indexes are followed.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

use super::store::Store;
use super::{Candidate, LayerRef, Layout};
use crate::error::{Error, Result};

/// Nested indexes deeper than this are refused (a loop or an attack).
const MAX_INDEX_DEPTH: usize = 4;

/// Most descriptors read across all indexes, duplicates included: real
/// indexes list a few dozen, and each listing costs a lookup even when
/// its target was already visited.
pub const MAX_INDEX_ENTRIES: usize = 100_000;

/// Most distinct image manifests an archive may name.
pub const MAX_MANIFESTS: usize = 10_000;

pub(crate) fn valid_digest_parts(alg: &str, hex: &str) -> bool {
    !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && !hex.is_empty()
        && hex.len() <= 128
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `sha256:abc` → `blobs/sha256/abc`, refusing anything that is not a digest.
pub(crate) fn blob_member(store: &Store, what: &str, digest: &str) -> Result<String> {
    match digest.split_once(':') {
        Some((alg, hex)) if valid_digest_parts(alg, hex) => Ok(format!("blobs/{alg}/{hex}")),
        _ => Err(Error::Member {
            path: store.display.clone(),
            member: what.to_string(),
            msg: format!("invalid digest {digest:?}"),
        }),
    }
}

fn member_err(store: &Store, member: &str, msg: String) -> Error {
    Error::Member {
        path: store.display.clone(),
        member: member.to_string(),
        msg,
    }
}

fn ref_name(d: &Descriptor) -> Option<String> {
    let a = d.annotations().as_ref()?;
    a.get("io.containerd.image.name")
        .or_else(|| a.get("org.opencontainers.image.ref.name"))
        .cloned()
}

fn is_attestation(d: &Descriptor) -> bool {
    let by_annotation = d
        .annotations()
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest");
    let by_platform = d.platform().as_ref().is_some_and(|p| {
        p.os().to_string() == "unknown" && p.architecture().to_string() == "unknown"
    });
    by_annotation || by_platform
}

fn platform_string(d: &Descriptor) -> Option<String> {
    let p = d.platform().as_ref()?;
    let mut s = format!("{}/{}", p.os(), p.architecture());
    if let Some(v) = p.variant() {
        s.push('/');
        s.push_str(v);
    }
    Some(s)
}

pub(crate) fn candidates(store: &Store) -> Result<Vec<Candidate>> {
    let raw = store.read_small("index.json", super::METADATA_LIMIT)?;
    super::counts::check(&raw)
        .map_err(|e| member_err(store, "index.json", format!("invalid image index: {e}")))?;
    let index = serde_json::from_slice::<ImageIndex>(&raw)
        .map_err(|e| member_err(store, "index.json", format!("invalid image index: {e}")))?;
    let mut walk = Walk::default();
    walk_index(store, "index.json", &index, None, 0, &mut walk)?;
    let out = walk.out;
    if out.is_empty() {
        return Err(member_err(
            store,
            "index.json",
            "names no image manifest".into(),
        ));
    }
    Ok(out)
}

/// What a walk over nested indexes has seen. Each descriptor digest is
/// read once: an index listing the next level K times, four levels deep,
/// would otherwise cost K⁴ reads and candidates from a few kilobytes.
#[derive(Default)]
struct Walk {
    out: Vec<Candidate>,
    /// Digest → the candidate it became (`None` for an index).
    seen: std::collections::HashMap<String, Option<usize>>,
    /// Names of each candidate, for merging names of repeated listings.
    names: Vec<std::collections::HashSet<String>>,
    entries: usize,
}

fn walk_index(
    store: &Store,
    what: &str,
    index: &ImageIndex,
    inherited_name: Option<&str>,
    depth: usize,
    walk: &mut Walk,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(member_err(
            store,
            what,
            "image indexes nested too deeply".into(),
        ));
    }
    for d in index.manifests() {
        walk.entries += 1;
        if walk.entries > MAX_INDEX_ENTRIES {
            return Err(member_err(
                store,
                what,
                format!("image indexes list more than {MAX_INDEX_ENTRIES} descriptors in all"),
            ));
        }
        if is_attestation(d) {
            continue;
        }
        let digest = d.digest().to_string();
        if let Some(seen) = walk.seen.get(&digest) {
            // Listed again (Docker lists one manifest once per tag): keep
            // the new name, never read or walk it twice.
            let name = ref_name(d).or_else(|| inherited_name.map(str::to_string));
            if let (Some(i), Some(n)) = (*seen, name) {
                if walk.names[i].insert(n.clone()) {
                    walk.out[i].names.push(n);
                }
            }
            continue;
        }
        let member = blob_member(store, what, &digest)?;
        if !store.contains(&member) {
            return Err(member_err(
                store,
                what,
                format!("names blob {digest} which is missing from the archive"),
            ));
        }
        let raw = store.read_small(&member, super::METADATA_LIMIT)?;
        super::verify_bytes(store, &member, &digest, &raw)?;
        super::counts::check(&raw)
            .map_err(|e| member_err(store, &member, format!("invalid image metadata: {e}")))?;
        let name = ref_name(d).or_else(|| inherited_name.map(str::to_string));
        let is_index = match d.media_type() {
            MediaType::ImageIndex => true,
            MediaType::Other(t)
                if t == "application/vnd.docker.distribution.manifest.list.v2+json" =>
            {
                true
            }
            MediaType::ImageManifest => false,
            _ => serde_json::from_slice::<serde_json::Value>(&raw)
                .ok()
                .is_some_and(|v| v.get("manifests").is_some()),
        };
        if is_index {
            let nested = serde_json::from_slice::<ImageIndex>(&raw)
                .map_err(|e| member_err(store, &member, format!("invalid image index: {e}")))?;
            walk.seen.insert(digest, None);
            walk_index(store, &member, &nested, name.as_deref(), depth + 1, walk)?;
            continue;
        }
        if walk.out.len() >= MAX_MANIFESTS {
            return Err(member_err(
                store,
                what,
                format!("image indexes name more than {MAX_MANIFESTS} image manifests"),
            ));
        }
        let manifest = serde_json::from_slice::<ImageManifest>(&raw)
            .map_err(|e| member_err(store, &member, format!("invalid image manifest: {e}")))?;
        let config_digest = manifest.config().digest().to_string();
        let config_member = blob_member(store, &member, &config_digest)?;
        let mut layers = Vec::with_capacity(manifest.layers().len());
        for l in manifest.layers() {
            let ld = l.digest().to_string();
            layers.push(LayerRef {
                member: blob_member(store, &member, &ld)?,
                digest: Some(ld),
                media_type: Some(l.media_type().to_string()),
                declared_size: Some(l.size()),
            });
        }
        walk.seen.insert(digest.clone(), Some(walk.out.len()));
        walk.names.push(name.iter().cloned().collect());
        walk.out.push(Candidate {
            names: name.into_iter().collect(),
            manifest_digest: Some(digest),
            platform: platform_string(d),
            config_member,
            config_digest: Some(config_digest),
            layers,
            layout: Layout::Oci,
        });
    }
    Ok(())
}
