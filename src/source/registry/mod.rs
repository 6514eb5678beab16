//! Reading an image straight from a registry (the OCI distribution API): no
//! daemon, no temporary files. The registry is presented to the archive code
//! as an OCI image layout ([`crate::archive::store::Remote`]): a synthesised
//! `index.json` holding the manifest (or the platforms of an index) the
//! reference resolves to, and `blobs/sha256/<hex>` served by HTTP GET
//! streams. So the one OCI reader does manifest -> config -> layers,
//! platform selection, nested indexes and digest verification, and layers
//! stream into the layer pipeline as their bytes arrive.
//!
//! [`try_open`] is what the resolution calls; the modules below hold the
//! HTTP client and auth ([`client`], [`auth`]), blob streaming with resume
//! ([`blob`]) and the blob cache ([`cache`]).

mod auth;
mod blob;
pub mod cache;
mod client;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use ureq::http::StatusCode;

use super::{Lookup, Opened, Origin, Reference, Scans, SourceKind};
use crate::archive::store::{Remote, RemoteReader, Store};
use crate::archive::{Selector, Source, METADATA_LIMIT};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::source::options::LoadOptions;
pub use auth::{Credential, Sources as CredentialSources};
pub use cache::{Cache, DEFAULT_CACHE_SIZE};
use client::Client;

/// The manifest and index types asked for. Without an `Accept` listing them
/// a registry converts to schema 1, answers 404 for OCI manifests, or picks
/// linux/amd64 from a list on its own.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--creds`: used for every registry of the command.
    pub creds: Option<Credential>,
    /// `--creds-file`: `USER:PASSWORD` on its first line (read when needed).
    pub creds_file: Option<PathBuf>,
    /// Where else credentials are looked up.
    pub credential_sources: CredentialSources,
    /// Hosts reached without TLS verification (and over plain HTTP when
    /// they do not speak TLS).
    pub insecure_registries: Vec<String>,
    /// `--tls-verify=false`: every registry is insecure.
    pub tls_verify: bool,
    /// Extra CA certificates (`*.crt`, `*.pem`) beside the system roots.
    pub cert_dirs: Vec<PathBuf>,
    /// The blob cache; None to stream without keeping anything.
    pub cache: Option<Cache>,
    /// A download with no byte for this long fails.
    pub stall_timeout: Duration,
    /// Layers downloaded at once.
    pub parallel: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            creds: None,
            creds_file: None,
            credential_sources: CredentialSources::from_env(),
            insecure_registries: Vec::new(),
            tls_verify: true,
            cert_dirs: Vec::new(),
            cache: Cache::default_dir().map(|d| Cache::new(d, DEFAULT_CACHE_SIZE)),
            stall_timeout: Duration::from_secs(30),
            parallel: 4,
        }
    }
}

/// A reference split for the distribution API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host[:port]`; `docker.io` for Docker Hub.
    pub registry: String,
    /// `library/nginx`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Target {
    /// What to ask the manifests endpoint for: the digest when given.
    fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The normalised reference, as shown (`docker.io/library/nginx:latest`).
    pub fn display(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        if self.tag.is_none() && self.digest.is_none() {
            s.push_str(":latest");
        }
        s
    }
}

/// Look the reference up in its registry: `Found` with the image served as
/// an OCI layout, or `Missing` with a phrase naming the registry and why
/// (`127.0.0.1:5000 (404 manifest unknown)`, `docker.io (401 unauthorized:
/// log in with docker login or pass --creds)`). Failures of the download
/// itself come later, from the layer pipeline, as errors.
pub fn try_open(reference: &Reference, opts: &LoadOptions, _progress: &Progress) -> Result<Lookup> {
    let (Some(registry), Some(repository)) = (reference.registry(), reference.repository()) else {
        return Ok(Lookup::Missing(
            "a registry (an image ID names no repository)".into(),
        ));
    };
    let target = Target {
        registry: registry.to_string(),
        repository: repository.to_string(),
        tag: reference.tag().map(str::to_string),
        digest: reference.digest().map(str::to_string),
    };
    match open(&target, &opts.source.registry, &opts.selector) {
        Ok(Some(source)) => Ok(Lookup::Found(Box::new(Opened {
            source,
            origin: Origin::reference(SourceKind::Registry, reference, registry),
            scans: Scans::new(),
        }))),
        Ok(None) => Ok(Lookup::Missing(format!(
            "{registry} (404: no such repository or tag)"
        ))),
        Err(Error::Source { msg, .. }) => Ok(Lookup::Missing(format!("{registry} ({msg})"))),
        Err(e) => Err(e),
    }
}

/// Open the image `target` names as a [`Source`]. `Ok(None)` when the
/// registry answers that it does not have it (404), so another source may
/// be tried; errors (unreachable, unauthorised, invalid) are errors.
pub fn open(target: &Target, opts: &Options, selector: &Selector) -> Result<Option<Source>> {
    let shown = target.display();
    let client = Arc::new(Client::connect(
        &shown,
        &target.registry,
        &target.repository,
        opts,
    )?);
    let Some(top) = fetch_manifest(&client, target.manifest_ref())? else {
        return Ok(None);
    };
    if let Some(want) = &target.digest {
        if *want != top.digest {
            return Err(Error::Source {
                input: shown,
                msg: format!(
                    "the registry answered a manifest whose digest is {}, not the one asked for",
                    top.digest
                ),
            });
        }
    }
    let remote = RegistryBlobs {
        client: client.clone(),
        index_json: Vec::new(),
        known: Mutex::new(HashMap::new()),
        manifests: Mutex::new(HashMap::new()),
        cache: opts.cache.clone(),
        parallel: opts.parallel.max(1),
    };
    let index = synthesise_index(&remote, &shown, &top, selector)?;
    let remote = RegistryBlobs {
        index_json: index,
        ..remote
    };
    let store = Store::open_remote(Path::new(&shown), Arc::new(remote));
    Source::from_store(store).map(Some)
}

/// A manifest or index as fetched.
#[derive(Debug, Clone)]
struct Fetched {
    bytes: Arc<Vec<u8>>,
    media_type: String,
    digest: String,
}

fn fetch_manifest(client: &Client, reference: &str) -> Result<Option<Fetched>> {
    let resp = client.get(&format!("manifests/{reference}"), Some(ACCEPT), 0)?;
    match resp.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Ok(None),
        _ => return Err(client.status_error(&format!("manifest {reference}"), resp)),
    }
    let header_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_string());
    let mut bytes = Vec::new();
    resp.into_body()
        .into_reader()
        .take(METADATA_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Source {
            input: client.reference.clone(),
            msg: format!("manifest {reference}: {e}"),
        })?;
    if bytes.len() as u64 > METADATA_LIMIT {
        return Err(Error::Source {
            input: client.reference.clone(),
            msg: format!("manifest {reference} is larger than the {METADATA_LIMIT}-byte limit"),
        });
    }
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let body_type = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string));
    let media_type = body_type.or(header_type).unwrap_or_default();
    if media_type.starts_with("application/vnd.docker.distribution.manifest.v1") {
        return Err(Error::Source {
            input: client.reference.clone(),
            msg: format!("manifest {reference} is a Docker schema 1 manifest, which layerscope does not read"),
        });
    }
    Ok(Some(Fetched {
        bytes: Arc::new(bytes),
        media_type,
        digest,
    }))
}

fn is_index_type(t: &str) -> bool {
    t == "application/vnd.oci.image.index.v1+json"
        || t == "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// Build the `index.json` the OCI reader starts from. For an index, the
/// platforms the selector (or the host) cannot want are left out, so their
/// manifests are never fetched; when several remain, the reader lists them.
fn synthesise_index(
    remote: &RegistryBlobs,
    shown: &str,
    top: &Fetched,
    selector: &Selector,
) -> Result<Vec<u8>> {
    let bad = |msg: String| Error::Source {
        input: shown.to_string(),
        msg,
    };
    let v: serde_json::Value = serde_json::from_slice(&top.bytes)
        .map_err(|e| bad(format!("manifest {}: invalid JSON: {e}", top.digest)))?;
    let is_index = is_index_type(&top.media_type) || v.get("manifests").is_some();
    let mut descriptors = Vec::new();
    if is_index {
        let all = v
            .get("manifests")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default();
        let platform_of = |d: &serde_json::Value| -> Option<String> {
            let p = d.get("platform")?;
            let mut s = format!(
                "{}/{}",
                p.get("os")?.as_str()?,
                p.get("architecture")?.as_str()?
            );
            if let Some(var) = p.get("variant").and_then(|x| x.as_str()) {
                s.push('/');
                s.push_str(var);
            }
            Some(s)
        };
        let wanted = |want: &str, d: &serde_json::Value| {
            platform_of(d).is_some_and(|have| crate::archive::platform_matches(Some(&have), want))
        };
        let mut keep: Vec<serde_json::Value> = all.clone();
        if let Some(want) = &selector.platform {
            keep.retain(|d| wanted(want, d));
        } else {
            let host = crate::archive::host_platform();
            let on_host: Vec<_> = all.iter().filter(|d| wanted(&host, d)).cloned().collect();
            if on_host.len() == 1 {
                keep = on_host;
            }
        }
        if keep.is_empty() {
            // Let the reader say what the index holds.
            keep = all;
        }
        for d in keep {
            descriptors.push(d);
        }
    } else {
        descriptors.push(serde_json::json!({
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": top.bytes.len(),
        }));
    }
    for d in &mut descriptors {
        if let Some(obj) = d.as_object_mut() {
            let ann = obj
                .entry("annotations")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(a) = ann.as_object_mut() {
                a.insert(
                    "org.opencontainers.image.ref.name".into(),
                    serde_json::Value::String(shown.to_string()),
                );
            }
        }
    }
    remote.register_index(&top.bytes);
    remote.remember_manifest(&top.digest, top.clone());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": descriptors,
    });
    serde_json::to_vec(&index).map_err(|e| bad(format!("internal: {e}")))
}

/// What is known of a digest: its size, and whether it is a manifest
/// (fetched from the manifests endpoint) or a blob.
#[derive(Debug, Clone, Copy)]
struct Known {
    size: u64,
    manifest: bool,
}

/// The registry's side of [`Store`]: an OCI layout served over HTTP.
#[derive(Debug)]
struct RegistryBlobs {
    client: Arc<Client>,
    index_json: Vec<u8>,
    known: Mutex<HashMap<String, Known>>,
    /// Manifests and indexes fetched so far (small; read more than once).
    manifests: Mutex<HashMap<String, Fetched>>,
    cache: Option<Cache>,
    parallel: usize,
}

fn digest_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    crate::archive::valid_digest(alg, hex).then(|| format!("{alg}:{hex}"))
}

impl RegistryBlobs {
    fn err(&self, name: &str, msg: String) -> Error {
        Error::Member {
            path: PathBuf::from(&self.client.reference),
            member: name.to_string(),
            msg,
        }
    }

    fn remember_manifest(&self, digest: &str, f: Fetched) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).insert(
            digest.to_string(),
            Known {
                size: f.bytes.len() as u64,
                manifest: true,
            },
        );
        self.manifests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest.to_string(), f);
    }

    /// Learn the digests and sizes an index or manifest names.
    fn register_index(&self, bytes: &[u8]) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return;
        };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let mut add = |d: &serde_json::Value, manifest: bool| {
            if let (Some(dg), Some(size)) = (
                d.get("digest").and_then(|x| x.as_str()),
                d.get("size").and_then(|x| x.as_u64()),
            ) {
                known
                    .entry(dg.to_string())
                    .or_insert(Known { size, manifest });
            }
        };
        for d in v
            .get("manifests")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
        {
            add(d, true);
        }
        if let Some(c) = v.get("config") {
            add(c, false);
        }
        for d in v
            .get("layers")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
        {
            add(d, false);
        }
    }

    fn known(&self, digest: &str) -> Option<Known> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
            .copied()
    }

    fn manifest(&self, name: &str, digest: &str) -> Result<Fetched> {
        if let Some(f) = self
            .manifests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
        {
            return Ok(f.clone());
        }
        let f = fetch_manifest(&self.client, digest)?
            .ok_or_else(|| self.err(name, "manifest is not in the registry (404)".into()))?;
        // The reader checks the digest too; a wrong answer is never kept.
        if f.digest != digest {
            return Err(self.err(
                name,
                format!(
                    "digest mismatch: expected {digest}, content is {}",
                    f.digest
                ),
            ));
        }
        self.register_index(&f.bytes);
        self.remember_manifest(digest, f.clone());
        Ok(f)
    }
}

impl Remote for RegistryBlobs {
    fn contains(&self, name: &str) -> bool {
        name == "index.json" || name == "oci-layout" || digest_of(name).is_some()
    }

    fn size(&self, name: &str) -> Result<u64> {
        if name == "index.json" {
            return Ok(self.index_json.len() as u64);
        }
        let digest = digest_of(name).ok_or_else(|| self.err(name, "not in the registry".into()))?;
        match self.known(&digest) {
            Some(k) if k.manifest => Ok(self.manifest(name, &digest)?.bytes.len() as u64),
            Some(k) => Ok(k.size),
            None => Err(self.err(
                name,
                "not named by any manifest read so far (size unknown)".into(),
            )),
        }
    }

    fn open(&self, name: &str) -> Result<Box<dyn RemoteReader>> {
        if name == "index.json" {
            return Ok(Box::new(std::io::Cursor::new(self.index_json.clone())));
        }
        if name == "oci-layout" {
            return Ok(Box::new(std::io::Cursor::new(
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            )));
        }
        let digest = digest_of(name).ok_or_else(|| self.err(name, "not in the registry".into()))?;
        let known = self.known(&digest);
        if known.is_some_and(|k| k.manifest) {
            let f = self.manifest(name, &digest)?;
            return Ok(Box::new(std::io::Cursor::new(f.bytes.as_ref().clone())));
        }
        let size = self.size(name)?;
        let tee = match &self.cache {
            Some(cache) => match cache.claim(&digest, size) {
                None => {
                    if let Some(hit) = cache.open(&digest, size) {
                        return Ok(Box::new(hit));
                    }
                    None
                }
                Some(claim) => cache.writer(claim, size),
            },
            None => None,
        };
        Ok(Box::new(blob::BlobReader::new(
            self.client.clone(),
            &digest,
            size,
            tee,
        )))
    }

    fn parallelism(&self) -> usize {
        self.parallel
    }
}
