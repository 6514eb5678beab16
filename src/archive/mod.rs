//! Opening an image source (a `docker save` archive in either layout, an OCI
//! archive or layout directory, or stdin), listing the images it holds,
//! selecting one, and reading its config. Layer bodies are streamed later by
//! [`crate::layer`].

mod counts;
mod docker;
pub use counts::METADATA_LIST_LIMIT;
mod oci;
pub use oci::{MAX_INDEX_ENTRIES, MAX_MANIFESTS};
pub mod store;

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::image::{Config, HistoryEntry};
pub(crate) use oci::valid_digest_parts as valid_digest;
// Plain image data lives in `image` (below `archive`); re-exported for the readers.
pub use crate::image::Layout;
pub use store::Store;

/// Metadata members (manifests, indexes, configs) larger than this are refused.
pub const METADATA_LIMIT: u64 = 64 << 20;

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
        if let Some(d) = self.short_digest() {
            s.push(' ');
            s.push_str(d);
        }
        s
    }

    /// The manifest's (else the config's) short digest.
    pub fn short_digest(&self) -> Option<&str> {
        self.manifest_digest
            .as_deref()
            .or(self.config_digest.as_deref())
            .map(short_digest)
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

/// Plain bytes spooled from a stream (stdin, a pipe, a device, or what a
/// compressed archive inflates to) are refused beyond this by default.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 32 << 30;

/// How a source is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Most bytes a stream may spool to the temporary file.
    pub max_input_bytes: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Follows the tar header chain of a stream while it is spooled, so that
/// reading stops where a tar reader would stop: at a block that is not a
/// valid header (`yes | layerscope report -` ends after one block, and the
/// store then says what is wrong with it), or shortly after the
/// end-of-archive marker (`/dev/zero` is two zero blocks and nothing more).
#[derive(Debug, Default)]
struct HeaderWalk {
    /// Stream offset of the next header.
    next: u64,
    /// Bytes seen so far.
    pos: u64,
    /// Bytes of the header block being gathered.
    block: Vec<u8>,
    zero_blocks: u8,
    /// Offset of the end-of-archive marker's end, once seen.
    end: Option<u64>,
    /// A block that is not a header: stop reading after it.
    broken: bool,
    /// The body of a PAX header being gathered (its `size` record, not the
    /// header's size field, says where the next header is), and its length.
    pax: Option<(Vec<u8>, u64)>,
    /// The size a complete PAX header set for the next entry.
    pax_size: Option<u64>,
}

/// PAX headers larger than this are not gathered while spooling (the store
/// refuses them by the path limit anyway).
const PAX_WALK_LIMIT: u64 = 4 << 20;

/// After the end-of-archive marker, at most this much more is kept (record
/// padding, and enough for the store to notice trailing data).
const AFTER_END: u64 = 1 << 20;

impl HeaderWalk {
    /// Take the next bytes of the stream.
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.broken && self.end.is_none() {
            if self.pos < self.next {
                let skip = (self.next - self.pos).min(data.len() as u64) as usize;
                if let Some((body, len)) = &mut self.pax {
                    let want = (*len as usize).saturating_sub(body.len()).min(skip);
                    body.extend_from_slice(&data[..want]);
                }
                self.pos += skip as u64;
                data = &data[skip..];
                continue;
            }
            let take = (512 - self.block.len()).min(data.len());
            self.block.extend_from_slice(&data[..take]);
            self.pos += take as u64;
            data = &data[take..];
            if self.block.len() == 512 {
                self.header();
                self.block.clear();
            }
        }
        self.pos += data.len() as u64;
    }

    fn header(&mut self) {
        if self.block.iter().all(|&b| b == 0) {
            self.zero_blocks += 1;
            self.next = self.pos;
            if self.zero_blocks == 2 {
                self.end = Some(self.pos);
            }
            return;
        }
        self.zero_blocks = 0;
        if let Some((body, _)) = self.pax.take() {
            match crate::tarstream::pax_size(&body) {
                Ok(size) => self.pax_size = size,
                Err(_) => {
                    // The store says what is wrong with it.
                    self.broken = true;
                    return;
                }
            }
        }
        let flag = self.block[156];
        match (checksum_ok(&self.block), tar_number(&self.block[124..136])) {
            (true, Some(size)) if flag == b'x' && size <= PAX_WALK_LIMIT => {
                self.pax = Some((Vec::with_capacity(size as usize), size));
                self.next = self
                    .pos
                    .saturating_add(size.saturating_add(511) / 512 * 512);
            }
            (true, Some(size)) => {
                let size = match flag {
                    b'L' | b'K' | b'x' | b'g' => size,
                    _ => self.pax_size.take().unwrap_or(size),
                };
                self.next = self
                    .pos
                    .saturating_add(size.saturating_add(511) / 512 * 512);
            }
            _ => self.broken = true,
        }
    }

    /// Whether reading can stop: nothing a tar reader would look at follows.
    fn done(&self) -> bool {
        self.broken
            || self
                .end
                .is_some_and(|e| self.pos >= e.saturating_add(AFTER_END))
    }
}

/// A header's checksum field against the sum of its bytes (the field
/// counted as spaces), unsigned or signed as old tars wrote it.
fn checksum_ok(h: &[u8]) -> bool {
    let Some(want) = tar_number(&h[148..156]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in h.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    want == unsigned || i64::try_from(want).is_ok_and(|w| w == signed)
}

/// A numeric header field: octal (spaces and NULs around it) or GNU base-256.
fn tar_number(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|b| b & 0x80 != 0) {
        if f[0] == 0xff {
            return None; // negative
        }
        let mut v: u64 = u64::from(f[0] & 0x7f);
        for &b in &f[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let t: &[u8] = {
        let s = f
            .iter()
            .position(|&b| b != b' ' && b != 0)
            .unwrap_or(f.len());
        let e = f[s..]
            .iter()
            .position(|&b| b == b' ' || b == 0)
            .map_or(f.len(), |e| s + e);
        &f[s..e]
    };
    if t.is_empty() {
        return Some(0);
    }
    let mut v = 0u64;
    for &b in t {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

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

fn unsupported_msg(what: &str) -> String {
    format!(
        "the archive is compressed with {what}, which layerscope does not read; decompress it first (gzip and zstd are read directly)"
    )
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
fn spool(display: &Path, input: impl Read, max: u64) -> Result<std::fs::File> {
    spool_limited(display, input, SPOOL_RATIO, SPOOL_FLOOR, max)
}

fn spool_limited(
    display: &Path,
    input: impl Read,
    ratio: u64,
    floor: u64,
    max: u64,
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
    // Stdin and pipes cannot be sniffed before spooling: look here.
    let head = std::io::BufRead::fill_buf(&mut buf).map_err(io_err)?;
    if let Some(what) = crate::layer::Compression::unsupported(head) {
        return Err(Error::Format {
            path: display.to_path_buf(),
            msg: unsupported_msg(what),
        });
    }
    let (compression, mut reader) = crate::layer::Decoder::detect(buf).map_err(io_err)?;
    let fmt = |msg: String| Error::Format {
        path: display.to_path_buf(),
        msg,
    };
    let mut chunk = vec![0u8; 1 << 16];
    let mut written = 0u64;
    let mut walk = HeaderWalk::default();
    while !walk.done() {
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
        if written.saturating_add(n as u64) > max {
            return Err(Error::Limit {
                path: display.to_path_buf(),
                msg: format!(
                    "the input is larger than {} ({max} bytes), the limit for a stream or compressed archive (raise it with --max-input-bytes, or pass a plain archive file, which is read in place)",
                    humansize::format_size(max, humansize::BINARY)
                ),
            });
        }
        walk.feed(&chunk[..n]);
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
        Source::open_with(path, &OpenOptions::default())
    }

    /// [`Source::open`] with explicit options.
    pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<Source> {
        let max = opts.max_input_bytes;
        let display = path.to_path_buf();
        let store = if path.as_os_str() == "-" {
            let tmp = spool(Path::new("<stdin>"), std::io::stdin().lock(), max)?;
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
                Store::open_tar_file(path, spool(path, f, max)?)?
            } else {
                let magic = sniff(path).map_err(|source| Error::Io {
                    path: display.clone(),
                    source,
                })?;
                if let Some(what) = crate::layer::Compression::unsupported(&magic) {
                    return Err(Error::Format {
                        path: display,
                        msg: unsupported_msg(what),
                    });
                }
                match crate::layer::Compression::detect(&magic) {
                    crate::layer::Compression::None => Store::open_tar(path, path)?,
                    _ => {
                        let f = std::fs::File::open(path).map_err(|source| Error::Io {
                            path: display.clone(),
                            source,
                        })?;
                        Store::open_tar_file(path, spool(path, f, max)?)?
                    }
                }
            }
        };
        let candidates = find_candidates(&store)?;
        Ok(Source { store, candidates })
    }

    /// The images held by an already opened store (a spooled stream, or a
    /// registry's blobs served as an OCI layout).
    pub fn from_store(store: Store) -> Result<Source> {
        let candidates = find_candidates(&store)?;
        Ok(Source { store, candidates })
    }

    /// Pick one image according to the selector.
    pub fn select(&self, sel: &Selector) -> Result<&Candidate> {
        let pool = self.matching(sel)?;
        match pool.as_slice() {
            [i] => Ok(&self.candidates[*i]),
            _ => Err(Error::Selection {
                path: self.store.display.clone(),
                msg: format!(
                    "holds {} images; choose one with --image NAME|DIGEST|N or --platform OS/ARCH: {}",
                    pool.len(),
                    pool.iter()
                        .map(|&i| self.candidates[i].label(i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// The indices of the images the selector leaves (more than one:
    /// ambiguous; the explorer then lets the user pick). An error when
    /// it leaves none.
    pub fn matching(&self, sel: &Selector) -> Result<Vec<usize>> {
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
        Ok(pool.into_iter().map(|(i, _)| i).collect())
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
) -> Result<(Config, Vec<HistoryEntry>, Vec<String>, String)> {
    let store = &source.store;
    let member = &cand.config_member;
    let raw = store.read_small(member, METADATA_LIMIT)?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&raw)));
    if verify {
        if let Some(want) = &cand.config_digest {
            verify_bytes(store, member, want, &raw)?;
        }
    }
    counts::check(&raw).map_err(|e| Error::Member {
        path: store.display.clone(),
        member: member.clone(),
        msg: format!("invalid image config: {e}"),
    })?;
    let cfg = serde_json::from_slice::<oci_spec::image::ImageConfiguration>(&raw).map_err(|e| {
        Error::Member {
            path: store.display.clone(),
            member: member.clone(),
            msg: format!("invalid image config: {e}"),
        }
    })?;
    let (config, history, diff_ids) = Config::from_oci(&cfg);
    Ok((config, history, diff_ids, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar holding one file of `body`.
    fn one_file_tar(body: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "f", body).expect("append");
        b.into_inner().expect("tar")
    }

    #[test]
    fn a_compressed_outer_bomb_is_refused_while_spooling() {
        let bomb = one_file_tar(&vec![0u8; 20 << 20]);
        let gz = layerscope_synth::compress(&bomb, layerscope_synth::Compression::Gzip);
        let err = spool_limited(Path::new("bomb.tar.gz"), &gz[..], 100, 1 << 20, u64::MAX)
            .expect_err("bomb");
        assert_eq!(
            err.to_string(),
            "bomb.tar.gz: decompression bomb? the compressed archive inflates beyond 100 times its size; decompress it yourself to read it anyway"
        );
        // Within the ratio it is fine.
        let tar = one_file_tar(&layerscope_synth::pseudo_text(1, 1 << 20));
        let gz = layerscope_synth::compress(&tar, layerscope_synth::Compression::Gzip);
        let f =
            spool_limited(Path::new("ok.tar.gz"), &gz[..], 100, 1 << 10, u64::MAX).expect("spool");
        assert_eq!(f.metadata().expect("meta").len(), tar.len() as u64);
    }

    #[test]
    fn spooling_stops_where_a_tar_reader_stops() {
        // `yes`: the first block is no header; only the first chunk is kept.
        let yes = std::io::repeat(b'y');
        let f = spool_limited(Path::new("<stdin>"), yes, 100, 1 << 30, 1 << 30).expect("spool");
        assert_eq!(f.metadata().expect("meta").len(), 1 << 16);
        // `/dev/zero`: the end-of-archive marker, then at most AFTER_END more.
        let zero = std::io::repeat(0);
        let f = spool_limited(Path::new("/dev/zero"), zero, 100, 1 << 30, 1 << 30).expect("spool");
        let len = f.metadata().expect("meta").len();
        assert!(
            (1024 + AFTER_END..1024 + AFTER_END + (1 << 16)).contains(&len),
            "{len}"
        );
        // A valid stream beyond the limit.
        let tar = one_file_tar(&[7u8; 300_000]);
        let err = spool_limited(Path::new("<stdin>"), &tar[..], 100, 1 << 30, 200_000)
            .expect_err("limit");
        assert_eq!(
            err.to_string(),
            "<stdin>: the input is larger than 195.31 KiB (200000 bytes), the limit for a stream or compressed archive (raise it with --max-input-bytes, or pass a plain archive file, which is read in place)"
        );
    }

    #[test]
    fn header_numbers_and_checksums() {
        assert_eq!(tar_number(b"0000644\0"), Some(0o644));
        assert_eq!(tar_number(b"  17 \0\0\0"), Some(0o17));
        assert_eq!(tar_number(b"\0\0\0\0"), Some(0));
        assert_eq!(tar_number(b"12x4"), None);
        assert_eq!(
            tar_number(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            Some(1 << 32)
        );
        assert_eq!(tar_number(&[0xff; 12]), None);
        let tar = one_file_tar(b"abc");
        assert!(checksum_ok(&tar[..512]));
        let mut bad = tar[..512].to_vec();
        bad[0] ^= 1;
        assert!(!checksum_ok(&bad));
    }
}
