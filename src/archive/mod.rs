//! Opening an image source (a `docker save` archive in either layout, an OCI
//! archive or layout directory, or stdin), listing the images it holds,
//! selecting one, and reading its config. Layer bodies are streamed later by
//! [`crate::layer`].

mod docker;
mod oci;
pub mod store;

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::image::{HistoryEntry, ImageConfig};
pub(crate) use oci::valid_digest_parts as valid_digest;
pub use store::Store;

/// Metadata members (manifests, indexes, configs) larger than this are refused.
pub const METADATA_LIMIT: u64 = 64 << 20;

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

/// A layer as named by a manifest.
#[derive(Debug, Clone)]
pub struct LayerRef {
    pub member: String,
    /// Expected digest of the stored blob, when the format gives one.
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub declared_size: Option<u64>,
}

/// One image found in a source.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub names: Vec<String>,
    pub manifest_digest: Option<String>,
    pub platform: Option<String>,
    pub config_member: String,
    pub config_digest: Option<String>,
    pub layers: Vec<LayerRef>,
    pub layout: Layout,
}

impl Candidate {
    fn label(&self, i: usize) -> String {
        let mut s = format!("[{i}]");
        if let Some(n) = self.names.first() {
            s.push(' ');
            s.push_str(n);
        }
        if let Some(p) = &self.platform {
            s.push(' ');
            s.push_str(p);
        }
        if let Some(d) = self
            .manifest_digest
            .as_ref()
            .or(self.config_digest.as_ref())
        {
            s.push(' ');
            s.push_str(short_digest(d));
        }
        s
    }
}

/// `sha256:0123456789ab…` → `sha256:0123456789ab`.
pub fn short_digest(d: &str) -> &str {
    let end = d.find(':').map(|p| p + 13).unwrap_or(12).min(d.len());
    &d[..end]
}

/// Which image to pick from a source that holds several.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// A name (tag), a digest (prefix) or an index as listed.
    pub image: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: Option<String>,
}

/// An opened source: its members and the images it holds.
#[derive(Debug)]
pub struct Source {
    pub store: Store,
    pub candidates: Vec<Candidate>,
}

/// A compressed outer archive may inflate to at most this many times its
/// size (beyond [`SPOOL_FLOOR`]) before it is taken for a decompression bomb.
pub const SPOOL_RATIO: u64 = 100;
/// Inflating up to this many bytes is always allowed.
pub const SPOOL_FLOOR: u64 = 1 << 30;

/// Counts bytes read through it into a shared counter.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Compressions `docker load` accepts that we leave to other tools.
fn unsupported_compression(magic: &[u8]) -> Option<&'static str> {
    if magic.starts_with(&[0xfd, b'7', b'z', b'X']) {
        Some("xz")
    } else if magic.starts_with(b"BZh") {
        Some("bzip2")
    } else {
        None
    }
}

fn sniff(path: &Path) -> std::io::Result<[u8; 4]> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < 4 {
        let r = f.read(&mut magic[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(magic)
}

/// Copy a stream into an unnamed temporary file (it has no name on disk, so
/// nothing is left behind even if the process is killed), undoing gzip/zstd
/// compression of the outer archive on the way, and refusing to inflate a
/// small input without bound.
fn spool(display: &Path, input: impl Read) -> Result<std::fs::File> {
    spool_limited(display, input, SPOOL_RATIO, SPOOL_FLOOR)
}

fn spool_limited(
    display: &Path,
    input: impl Read,
    ratio: u64,
    floor: u64,
) -> Result<std::fs::File> {
    let io_err = |source| Error::Io {
        path: display.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::tempfile().map_err(io_err)?;
    let consumed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counting = Counting {
        inner: input,
        count: consumed.clone(),
    };
    let mut buf = std::io::BufReader::with_capacity(1 << 16, counting);
    let head = std::io::BufRead::fill_buf(&mut buf)
        .map_err(io_err)?
        .to_vec();
    let compression = crate::layer::Compression::detect(&head);
    let mut reader: Box<dyn Read> = match compression {
        crate::layer::Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buf)),
        crate::layer::Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(buf).map_err(io_err)?;
            d.window_log_max(27).map_err(io_err)?;
            Box::new(d)
        }
        crate::layer::Compression::None => Box::new(buf),
    };
    let fmt = |msg: String| Error::Format {
        path: display.to_path_buf(),
        msg,
    };
    let mut chunk = vec![0u8; 1 << 16];
    let mut written = 0u64;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(fmt(format!(
                    "reading input: {}",
                    crate::error::describe_io(&e)
                )))
            }
        };
        tmp.write_all(&chunk[..n]).map_err(io_err)?;
        written += n as u64;
        if compression != crate::layer::Compression::None {
            let inflated_limit = consumed
                .load(std::sync::atomic::Ordering::Relaxed)
                .saturating_mul(ratio)
                .max(floor);
            if written > inflated_limit {
                return Err(fmt(format!(
                    "decompression bomb? the compressed archive inflates beyond {ratio} times its size; decompress it yourself to read it anyway"
                )));
            }
        }
    }
    tmp.flush().map_err(io_err)?;
    Ok(tmp)
}

impl Source {
    /// Open `path` (`-` is stdin): a tar archive (optionally gzip/zstd
    /// compressed as a whole) or a directory.
    pub fn open(path: &Path) -> Result<Source> {
        let display = path.to_path_buf();
        let store = if path.as_os_str() == "-" {
            let tmp = spool(Path::new("<stdin>"), std::io::stdin().lock())?;
            Store::open_tar_file(Path::new("<stdin>"), tmp)?
        } else {
            let meta = std::fs::metadata(path).map_err(|source| Error::Io {
                path: display.clone(),
                source,
            })?;
            if meta.is_dir() {
                Store::open_dir(path)?
            } else if !meta.is_file() {
                // A pipe or device (`<(docker save x)`): readable once, so
                // spool it like stdin instead of sniffing it.
                let f = std::fs::File::open(path).map_err(|source| Error::Io {
                    path: display.clone(),
                    source,
                })?;
                Store::open_tar_file(path, spool(path, f)?)?
            } else {
                let magic = sniff(path).map_err(|source| Error::Io {
                    path: display.clone(),
                    source,
                })?;
                if let Some(what) = unsupported_compression(&magic) {
                    return Err(Error::Format {
                        path: display,
                        msg: format!(
                            "the archive is compressed with {what}, which layerscope does not read; decompress it first (gzip and zstd are read directly)"
                        ),
                    });
                }
                match crate::layer::Compression::detect(&magic) {
                    crate::layer::Compression::None => Store::open_tar(path, path)?,
                    _ => {
                        let f = std::fs::File::open(path).map_err(|source| Error::Io {
                            path: display.clone(),
                            source,
                        })?;
                        Store::open_tar_file(path, spool(path, f)?)?
                    }
                }
            }
        };
        let candidates = find_candidates(&store)?;
        Ok(Source { store, candidates })
    }

    /// Use an already opened store (a registry's blobs, served as an OCI
    /// layout).
    pub fn from_store(store: Store) -> Result<Source> {
        let candidates = find_candidates(&store)?;
        Ok(Source { store, candidates })
    }

    /// Pick one image according to the selector.
    pub fn select(&self, sel: &Selector) -> Result<&Candidate> {
        let sel_err = |msg: String| Error::Selection {
            path: self.store.display.clone(),
            msg,
        };
        let listing = || {
            self.candidates
                .iter()
                .enumerate()
                .map(|(i, c)| c.label(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut pool: Vec<(usize, &Candidate)> = self.candidates.iter().enumerate().collect();
        if let Some(want) = &sel.image {
            let bare = want.strip_prefix("sha256:").unwrap_or(want);
            pool.retain(|(i, c)| {
                want.parse::<usize>().ok() == Some(*i)
                    || c.names
                        .iter()
                        .any(|n| n == want || n.strip_suffix(":latest") == Some(want.as_str()))
                    || [&c.manifest_digest, &c.config_digest].iter().any(|d| {
                        d.as_deref().is_some_and(|d| {
                            bare.len() >= 4
                                && d.split_once(':').is_some_and(|(_, h)| h.starts_with(bare))
                        })
                    })
            });
            if pool.is_empty() {
                return Err(sel_err(format!(
                    "no image matches --image {want}; the archive holds: {}",
                    listing()
                )));
            }
        }
        if let Some(want) = &sel.platform {
            pool.retain(|(_, c)| platform_matches(c.platform.as_deref(), want));
            if pool.is_empty() {
                return Err(sel_err(format!(
                    "no image for platform {want}; the archive holds: {}",
                    listing()
                )));
            }
        }
        if pool.len() > 1 && sel.platform.is_none() {
            let host = host_platform();
            let on_host: Vec<_> = pool
                .iter()
                .filter(|(_, c)| platform_matches(c.platform.as_deref(), &host))
                .cloned()
                .collect();
            if on_host.len() == 1 {
                pool = on_host;
            }
        }
        match pool.as_slice() {
            [(_, c)] => Ok(c),
            _ => Err(sel_err(format!(
                "holds {} images; choose one with --image NAME|DIGEST|N or --platform OS/ARCH: {}",
                pool.len(),
                pool.iter()
                    .map(|(i, c)| c.label(*i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// The platform this program runs on, in OCI spelling.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("linux/{arch}")
}

pub(crate) fn platform_matches(have: Option<&str>, want: &str) -> bool {
    let Some(have) = have else { return false };
    let h: Vec<&str> = have.split('/').collect();
    let w: Vec<&str> = want.split('/').collect();
    w.len() >= 2
        && h.len() >= 2
        && h[0] == w[0]
        && h[1] == w[1]
        && (w.len() < 3 || h.get(2) == w.get(2))
}

fn find_candidates(store: &Store) -> Result<Vec<Candidate>> {
    let has_manifest = store.contains("manifest.json");
    let has_index = store.contains("index.json");
    if has_manifest {
        let mut cands = docker::candidates(store)?;
        if has_index {
            // Docker 25+: the OCI side knows media types, manifest digests and
            // platforms; borrow them where the config digests agree.
            if let Ok(oci) = oci::candidates(store) {
                for c in &mut cands {
                    if let Some(o) = oci.iter().find(|o| o.config_digest == c.config_digest) {
                        c.manifest_digest = o.manifest_digest.clone();
                        c.platform = o.platform.clone();
                        if o.layers.len() == c.layers.len() {
                            for (l, ol) in c.layers.iter_mut().zip(&o.layers) {
                                if l.digest == ol.digest {
                                    l.media_type = ol.media_type.clone();
                                    l.declared_size = ol.declared_size;
                                }
                            }
                        }
                    }
                }
            }
        }
        return Ok(cands);
    }
    if has_index {
        return oci::candidates(store);
    }
    Err(Error::Format {
        path: store.display.clone(),
        msg: if store.is_dir() {
            "not an OCI image layout: the directory has no index.json or manifest.json".into()
        } else {
            "not an image archive: no manifest.json or index.json".into()
        },
    })
}

/// Check a whole small blob against its digest.
pub(crate) fn verify_bytes(store: &Store, member: &str, digest: &str, data: &[u8]) -> Result<()> {
    if let Some(hex) = digest.strip_prefix("sha256:") {
        let got = hex::encode(Sha256::digest(data));
        if got != hex {
            return Err(Error::Member {
                path: store.display.clone(),
                member: member.to_string(),
                msg: format!("digest mismatch: expected sha256:{hex}, content is sha256:{got}"),
            });
        }
    }
    Ok(())
}

/// The config of the selected image, parsed.
pub fn read_config(
    source: &Source,
    cand: &Candidate,
    verify: bool,
) -> Result<(ImageConfig, Vec<HistoryEntry>, Vec<String>, String)> {
    let store = &source.store;
    let member = &cand.config_member;
    let raw = store.read_small(member, METADATA_LIMIT)?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&raw)));
    if verify {
        if let Some(want) = &cand.config_digest {
            verify_bytes(store, member, want, &raw)?;
        }
    }
    let cfg = serde_json::from_slice::<oci_spec::image::ImageConfiguration>(&raw).map_err(|e| {
        Error::Member {
            path: store.display.clone(),
            member: member.clone(),
            msg: format!("invalid image config: {e}"),
        }
    })?;
    let (config, history, diff_ids) = ImageConfig::from_oci(&cfg);
    Ok((config, history, diff_ids, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_outer_bomb_is_refused_while_spooling() {
        let zeros = vec![0u8; 20 << 20];
        let gz = layerscope_synth::compress(&zeros, layerscope_synth::Compression::Gzip);
        let err = spool_limited(Path::new("bomb.tar.gz"), &gz[..], 100, 1 << 20).expect_err("bomb");
        assert_eq!(
            err.to_string(),
            "bomb.tar.gz: decompression bomb? the compressed archive inflates beyond 100 times its size; decompress it yourself to read it anyway"
        );
        // Within the ratio it is fine.
        let text = layerscope_synth::pseudo_text(1, 1 << 20);
        let gz = layerscope_synth::compress(&text, layerscope_synth::Compression::Gzip);
        let f = spool_limited(Path::new("ok.tar.gz"), &gz[..], 100, 1 << 10).expect("spool");
        assert_eq!(f.metadata().expect("meta").len(), 1 << 20);
    }
}
