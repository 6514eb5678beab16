//! Bounds on the lists in image metadata, checked before the metadata is
//! parsed for real. A 64 MiB config of 22 million `{}` history entries is
//! valid JSON; parsed into full structs it would take gigabytes. This pass
//! walks the same bytes with serde's `IgnoredAny`, keeping only counts, so
//! it costs time proportional to the input and no memory.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Most entries in any one list or map of a manifest, index or config
/// (history, env, labels, ports, layers, diff IDs, manifests); real images
/// have at most a few hundred.
pub const METADATA_LIST_LIMIT: usize = 100_000;

/// A list or map whose length is checked while it is skipped.
#[derive(Default)]
struct Count;

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list or map")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0usize;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                    if n > METADATA_LIST_LIMIT {
                        return Err(serde::de::Error::custom(too_many()));
                    }
                }
                Ok(Count)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                let mut n = 0usize;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    n += 1;
                    if n > METADATA_LIST_LIMIT {
                        return Err(serde::de::Error::custom(too_many()));
                    }
                }
                Ok(Count)
            }
            // Anything else is left to the real parse to judge.
            fn visit_unit<E>(self) -> Result<Count, E> {
                Ok(Count)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Count, E> {
                Ok(Count)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Count, E> {
                Ok(Count)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Count, E> {
                Ok(Count)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Count, E> {
                Ok(Count)
            }
            fn visit_str<E>(self, _: &str) -> Result<Count, E> {
                Ok(Count)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(serde::Deserialize)]
#[allow(dead_code)] // the fields are only walked
struct Inner {
    #[serde(rename = "Env", default)]
    env: Count,
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Count,
    #[serde(rename = "Cmd", default)]
    cmd: Count,
    #[serde(rename = "Volumes", default)]
    volumes: Count,
    #[serde(rename = "ExposedPorts", default)]
    ports: Count,
    #[serde(rename = "Labels", default)]
    labels: Count,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct RootFs {
    #[serde(default)]
    diff_ids: Count,
}

/// The lists of an OCI index, manifest or config (one shape for all three:
/// each has some of these keys).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Doc {
    #[serde(default)]
    history: Count,
    /// In a manifest this is a descriptor, a map without these keys.
    #[serde(default)]
    config: Option<Inner>,
    #[serde(default)]
    rootfs: Option<RootFs>,
    #[serde(default)]
    layers: Count,
    #[serde(default)]
    manifests: Count,
    #[serde(default)]
    annotations: Count,
}

/// One entry of a `docker save` manifest.json.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct DockerEntry {
    #[serde(rename = "Layers", default)]
    layers: Count,
    #[serde(rename = "RepoTags", default)]
    tags: Count,
}

/// The entries of a `docker save` manifest.json, counted and walked.
struct DockerEntries;

impl<'de> Deserialize<'de> for DockerEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DockerEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of images")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DockerEntries, A::Error> {
                let mut n = 0usize;
                while seq.next_element::<DockerEntry>()?.is_some() {
                    n += 1;
                    if n > METADATA_LIST_LIMIT {
                        return Err(serde::de::Error::custom(too_many()));
                    }
                }
                Ok(DockerEntries)
            }
        }
        d.deserialize_seq(V)
    }
}

/// [`check`] for a `docker save` manifest.json (a list of images).
pub(crate) fn check_docker(raw: &[u8]) -> Result<(), serde_json::Error> {
    match serde_json::from_slice::<DockerEntries>(raw) {
        Err(e) if e.to_string().contains(&too_many()) => Err(e),
        _ => Ok(()),
    }
}

/// Check the list sizes of a JSON index, manifest or config; the error is
/// serde's, with line and column. Non-objects pass (the real parse judges).
pub(crate) fn check(raw: &[u8]) -> Result<(), serde_json::Error> {
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Ok(());
    }
    match serde_json::from_slice::<Doc>(raw) {
        Ok(_) => Ok(()),
        // Only our own count errors matter here; any other problem is
        // reported by the real parse, in its words.
        Err(e) if e.to_string().contains(&too_many()) => Err(e),
        Err(_) => Ok(()),
    }
}

fn too_many() -> String {
    format!("more than {METADATA_LIST_LIMIT} entries")
}
