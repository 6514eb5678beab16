//! Streaming one layer blob: compression picked by magic bytes (checked
//! against the media type), digests computed on the fly (blob and diff ID),
//! and tar entries turned into [`RawEntry`] values with normalised paths and
//! whiteouts recognised. Nothing is held beyond one entry's header; file
//! bodies are hashed as they pass.

use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;
use sha2::{Digest, Sha256};

mod decode;
mod pipeline;

pub use decode::{Decoder, ZSTD_WINDOW_LOG_MAX};

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Decide from the first bytes of a stream.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// What a media type claims, if it says anything.
    pub fn from_media_type(mt: &str) -> Option<Compression> {
        if mt.ends_with("+gzip") || mt.ends_with(".gzip") || mt.ends_with("tar.gzip") {
            Some(Compression::Gzip)
        } else if mt.ends_with("+zstd") || mt.ends_with(".zstd") {
            Some(Compression::Zstd)
        } else if mt.ends_with(".tar") || mt.ends_with("diff.tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The OCI media type for a layer of this compression.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Type of a tree entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

impl Kind {
    /// One letter, as `ls -l` shows it.
    pub fn letter(self) -> char {
        match self {
            Kind::File => '-',
            Kind::Dir => 'd',
            Kind::Symlink => 'l',
            Kind::Hardlink => 'h',
            Kind::CharDevice => 'c',
            Kind::BlockDevice => 'b',
            Kind::Fifo => 'p',
            Kind::Other => '?',
        }
    }
}

/// What a tar entry means for the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create or replace the path.
    Put,
    /// `.wh.NAME`: delete the path (the entry's `path` is NAME's path).
    Whiteout,
    /// `.wh..wh..opq`: hide everything below the directory from lower layers
    /// (the entry's `path` is the directory).
    Opaque,
}

/// One tar entry of a layer, normalised.
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// Clean path below the image root, components joined by `/` (no
    /// leading slash); empty for the root itself. One allocation per entry.
    pub path: Box<[u8]>,
    pub action: Action,
    pub kind: Kind,
    /// Size from the tar header (0 for links and directories).
    pub size: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    /// Symlink target as written, or hardlink target normalised.
    pub link: Option<Box<[u8]>>,
    pub sha256: Option<[u8; 32]>,
}

/// Per-layer reading switches.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Hash regular file contents (needed to tell modified from unchanged).
    pub hash_files: bool,
    /// Hash the blob and the uncompressed stream (to verify digests).
    pub hash_layers: bool,
    /// Hash a compressed blob even when `hash_layers` is off, because
    /// nothing else names its digest (docker-save archives with gzip layers).
    pub blob_digest_unknown: bool,
    pub max_entries: u64,
    pub max_path_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            hash_files: true,
            hash_layers: true,
            blob_digest_unknown: false,
            max_entries: 10_000_000,
            max_path_bytes: 64 * 1024,
        }
    }
}

/// The result of streaming a layer.
#[derive(Debug)]
pub struct LayerScan {
    pub entries: Vec<RawEntry>,
    pub compression: Compression,
    /// `sha256:` of the stored bytes (empty when not hashed).
    pub blob_digest: String,
    pub blob_bytes: u64,
    /// `sha256:` of the uncompressed tar stream (empty when not hashed).
    pub diff_id: String,
    pub tar_bytes: u64,
    pub warnings: Vec<String>,
}

/// A pass-through reader that hashes and counts what it delivers, and reports
/// progress every so often.
pub struct HashingReader<R, F: FnMut(u64)> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
    unreported: u64,
    progress: F,
}

impl<R: Read, F: FnMut(u64)> HashingReader<R, F> {
    pub fn new(inner: R, hash: bool, progress: F) -> Self {
        HashingReader {
            inner,
            hasher: hash.then(Sha256::new),
            count: 0,
            unreported: 0,
            progress,
        }
    }
    fn finish(mut self) -> (String, u64, R) {
        (self.progress)(self.unreported);
        let digest = self
            .hasher
            .map(|h| format!("sha256:{}", hex::encode(h.finalize())))
            .unwrap_or_default();
        (digest, self.count, self.inner)
    }
}

impl<R: Read, F: FnMut(u64)> Read for HashingReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        self.unreported += n as u64;
        if self.unreported >= 1 << 20 {
            (self.progress)(self.unreported);
            self.unreported = 0;
        }
        Ok(n)
    }
}

/// The warning for a media type that claims another compression than the
/// data has.
fn media_type_warning(media_type: Option<&str>, compression: Compression) -> Option<String> {
    let claimed = media_type.and_then(Compression::from_media_type)?;
    (claimed != compression).then(|| {
        format!(
            "media type {} says {} but the data is {}; read as {}",
            media_type.unwrap_or_default(),
            claimed.name(),
            compression.name(),
            compression.name()
        )
    })
}

/// Add the media-type check to a layer scanned before its media type was
/// known (while an image streamed from a daemon, ahead of its manifest).
pub fn with_media_type_check(mut scan: LayerScan, media_type: Option<&str>) -> LayerScan {
    if let Some(w) = media_type_warning(media_type, scan.compression) {
        scan.warnings.insert(0, w);
    }
    scan
}

/// Stream a layer blob. `progress` receives counts of stored bytes consumed.
/// Errors are plain messages; the caller adds the file and layer.
pub fn scan<R: Read + Seek + Send>(
    mut blob: R,
    media_type: Option<&str>,
    opts: ScanOptions,
    mut progress: impl FnMut(u64) + Send,
) -> Result<LayerScan, String> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match blob
            .read(&mut magic[got..])
            .map_err(|e| crate::error::describe_io(&e))?
        {
            0 => break,
            n => got += n,
        }
    }
    if got == 0 {
        return Err("empty blob (0 bytes), not a tar stream".into());
    }
    blob.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let compression = Compression::detect(&magic[..got]);
    let mut warnings: Vec<String> = media_type_warning(media_type, compression)
        .into_iter()
        .collect();
    let mut entries = Vec::new();

    // Nothing to hash: let tar seek over file bodies instead of reading them.
    if compression == Compression::None && !opts.hash_files && !opts.hash_layers {
        let mut archive = tar::Archive::new(&mut blob);
        let iter = archive
            .entries_with_seek()
            .map_err(|e| format!("not a tar stream: {e}"))?;
        collect_entries(iter, opts, &mut entries, &mut warnings)?;
        let stopped = blob.stream_position().map_err(|e| e.to_string())?;
        let end = blob.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
        if stopped >= end && !entries.is_empty() {
            warnings.push(NO_END_MARKER.into());
        }
        progress(end);
        return Ok(LayerScan {
            entries,
            compression,
            blob_digest: String::new(),
            blob_bytes: end,
            diff_id: String::new(),
            tar_bytes: end,
            warnings,
        });
    }

    let stream = |r: &mut pipeline::ChunkReader| read_tar(r, opts, &mut entries, &mut warnings);
    let (parsed, read, stream_digest) = pipeline::run(
        blob,
        compression,
        opts.hash_layers,
        opts.hash_layers || opts.blob_digest_unknown,
        progress,
        stream,
    )?;
    parsed.map_err(|e| match compression {
        Compression::None => e,
        c => format!("{e} ({} stream)", c.name()),
    })?;
    if read.trailing > 0 && compression != Compression::None {
        warnings.push(format!(
            "{} bytes of trailing data after the compressed stream",
            read.trailing
        ));
    }
    let diff_id = stream_digest.unwrap_or_default();
    let blob_digest = if compression == Compression::None {
        diff_id.clone()
    } else {
        read.blob_digest
    };
    Ok(LayerScan {
        entries,
        compression,
        blob_digest,
        blob_bytes: read.blob_bytes,
        diff_id,
        tar_bytes: read.tar_bytes,
        warnings,
    })
}

fn read_tar(
    r: &mut impl Read,
    opts: ScanOptions,
    out: &mut Vec<RawEntry>,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let mut archive = tar::Archive::new(&mut *r);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar stream: {e}"))?;
    collect_entries(entries, opts, out, warnings)?;
    // Drain the tar padding so the diff ID covers the whole stream. tar-rs
    // stops at the first zero block, so a stream with the end-of-archive
    // marker always leaves padding; none means it stopped at a plain EOF.
    let (trailing, data) = drain(r).map_err(|e| crate::error::describe_io(&e))?;
    if trailing == 0 && !out.is_empty() {
        warnings.push(NO_END_MARKER.into());
    }
    if data > 0 {
        warnings.push(format!(
            "{data} non-zero bytes after the tar end-of-archive marker (ignored, as tar readers do)"
        ));
    }
    Ok(())
}

const NO_END_MARKER: &str = "the tar stream ends without an end-of-archive marker (truncated?)";

/// Read to the end; returns (bytes, non-zero bytes).
fn drain(r: &mut impl Read) -> io::Result<(u64, u64)> {
    let mut buf = [0u8; 8192];
    let (mut total, mut data) = (0u64, 0u64);
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok((total, data)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        data += buf[..n].iter().filter(|&&b| b != 0).count() as u64;
    }
}

fn collect_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    opts: ScanOptions,
    out: &mut Vec<RawEntry>,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut escaped = 0u64;
    let mut absolute = 0u64;
    for (i, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| {
            if i == 0 {
                format!("not a tar stream: {}", crate::error::describe_io(&e))
            } else {
                format!(
                    "bad tar entry #{}: {}",
                    i + 1,
                    crate::error::describe_io(&e)
                )
            }
        })?;
        if out.len() as u64 >= opts.max_entries {
            return Err(format!(
                "more than {} entries (raise the limit with --max-entries)",
                opts.max_entries
            ));
        }
        let sparse = pax_sparse(&mut entry);
        let raw_path = match &sparse {
            Some(PaxSparse { name: Some(n), .. }) => n.clone(),
            _ => entry.path_bytes().into_owned(),
        };
        if raw_path.len() > opts.max_path_bytes {
            return Err(format!(
                "entry #{} has a {}-byte path, over the {}-byte limit (--max-path-bytes)",
                i + 1,
                raw_path.len(),
                opts.max_path_bytes
            ));
        }
        let (path, climbed) = normalise(&raw_path);
        if climbed {
            escaped += 1;
        }
        if raw_path.first() == Some(&b'/') {
            absolute += 1;
        }
        let header = entry.header();
        let etype = header.entry_type();
        let kind = match etype {
            // GNU sparse files: the reader expands the holes.
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                Kind::File
            }
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink,
            tar::EntryType::Link => Kind::Hardlink,
            tar::EntryType::Char => Kind::CharDevice,
            tar::EntryType::Block => Kind::BlockDevice,
            tar::EntryType::Fifo => Kind::Fifo,
            // Metadata records are folded into the next entry by the reader.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            tar::EntryType::GNULongName | tar::EntryType::GNULongLink => continue,
            _ => Kind::Other,
        };
        let mode = header.mode().unwrap_or(0);
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        let mtime = header.mtime().unwrap_or(0);
        let size = sparse
            .as_ref()
            .and_then(|s| s.real_size)
            .unwrap_or_else(|| entry.size());
        // Hashing a hole means hashing zeros; refuse to spin on a huge one.
        let stored = entry.header().size().unwrap_or(0);
        let hashable = size.saturating_sub(stored) <= MAX_HOLE_BYTES;
        let link = match kind {
            Kind::Symlink => entry
                .link_name_bytes()
                .map(|l| l.into_owned().into_boxed_slice()),
            Kind::Hardlink => entry
                .link_name_bytes()
                .map(|l| normalise(&l).0.into_boxed_slice()),
            _ => None,
        };
        let mut path = path;
        let (dir_end, name_start) = match path.iter().rposition(|&b| b == b'/') {
            Some(p) => (p, p + 1),
            None => (0, 0),
        };
        let name = &path[name_start..];
        let action = if name == b".wh..wh..opq" {
            path.truncate(dir_end);
            Action::Opaque
        } else if name.starts_with(b".wh..wh.") {
            continue; // aufs metadata
        } else if name.starts_with(b".wh.") {
            path.drain(name_start..name_start + 4);
            Action::Whiteout
        } else {
            Action::Put
        };
        if path.is_empty() && action == Action::Put {
            continue; // the root directory itself
        }
        let sha256 = if kind == Kind::File && action == Action::Put && opts.hash_files && hashable {
            let mut h = Sha256::new();
            match &sparse {
                Some(sp) if sp.is_sparse() => {
                    hash_pax_sparse(&mut entry, sp, size, &mut h, &mut buf)
                        .map_err(|e| entry_err(&raw_path, &e))?;
                }
                _ => loop {
                    let n = entry.read(&mut buf).map_err(|e| entry_err(&raw_path, &e))?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                },
            }
            Some(h.finalize().into())
        } else {
            if !hashable {
                warnings.push(format!(
                    "{}: sparse file of {size} bytes not hashed (holes over {MAX_HOLE_BYTES} bytes)",
                    String::from_utf8_lossy(&raw_path)
                ));
            }
            None
        };
        out.push(RawEntry {
            path: path.into_boxed_slice(),
            action,
            kind,
            size,
            mode,
            uid,
            gid,
            mtime,
            link,
            sha256,
        });
    }
    if escaped > 0 {
        warnings.push(format!(
            "{escaped} entries had '..' components climbing above the root; kept inside the image root"
        ));
    }
    if absolute > 0 {
        warnings.push(format!(
            "{absolute} entries had absolute paths; read relative to the image root"
        ));
    }
    Ok(())
}

/// Largest total of sparse holes we are willing to hash as zeros.
const MAX_HOLE_BYTES: u64 = 1 << 30;

/// GNU sparse files written as PAX records (`tar --format=pax --sparse`):
/// formats 0.0/0.1 keep the map in the records, 1.0 at the start of the data.
#[derive(Debug, Default)]
struct PaxSparse {
    name: Option<Vec<u8>>,
    real_size: Option<u64>,
    major: Option<u64>,
    /// (offset, length) of each data chunk, for formats 0.x.
    map: Vec<(u64, u64)>,
    pending_offset: Option<u64>,
}

impl PaxSparse {
    fn is_sparse(&self) -> bool {
        self.major == Some(1) || !self.map.is_empty()
    }
}

fn pax_sparse<R: Read>(entry: &mut tar::Entry<'_, R>) -> Option<PaxSparse> {
    let exts = entry.pax_extensions().ok()??;
    let mut sp = PaxSparse::default();
    let mut any = false;
    let num = |v: &[u8]| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok();
    for ext in exts.flatten() {
        let v = ext.value_bytes();
        match ext.key_bytes() {
            b"GNU.sparse.name" => sp.name = Some(v.to_vec()),
            b"GNU.sparse.realsize" | b"GNU.sparse.size" => sp.real_size = num(v),
            b"GNU.sparse.major" => sp.major = num(v),
            b"GNU.sparse.map" => {
                let nums: Vec<u64> = v.split(|&b| b == b',').filter_map(num).collect();
                sp.map = nums.chunks_exact(2).map(|c| (c[0], c[1])).collect();
            }
            b"GNU.sparse.offset" => sp.pending_offset = num(v),
            b"GNU.sparse.numbytes" => {
                if let (Some(o), Some(n)) = (sp.pending_offset.take(), num(v)) {
                    sp.map.push((o, n));
                }
            }
            _ => continue,
        }
        any = true;
    }
    any.then_some(sp)
}

/// Hash the logical content of a PAX sparse file: zeros for holes, the
/// stored chunks in between.
fn hash_pax_sparse(
    r: &mut impl Read,
    sp: &PaxSparse,
    real_size: u64,
    h: &mut Sha256,
    buf: &mut [u8],
) -> io::Result<()> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("sparse map: {m}"));
    let mut map = sp.map.clone();
    if sp.major == Some(1) {
        // 1.0: decimal lines (count, then offset/length pairs), padded to 512.
        let mut consumed = 0u64;
        let mut line = Vec::new();
        let mut numbers = Vec::new();
        let mut byte = [0u8; 1];
        let mut want: Option<u64> = None;
        while want.is_none_or(|w| (numbers.len() as u64) < 2 * w) {
            r.read_exact(&mut byte)?;
            consumed += 1;
            if consumed > 1 << 20 {
                return Err(bad("too long"));
            }
            if byte[0] != b'\n' {
                line.push(byte[0]);
                continue;
            }
            let n = std::str::from_utf8(&line)
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| bad("not a number"))?;
            line.clear();
            match want {
                None => want = Some(n),
                Some(_) => numbers.push(n),
            }
        }
        let pad = (512 - consumed % 512) % 512;
        io::copy(&mut r.take(pad), &mut io::sink())?;
        map = numbers.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    }
    let zeros = [0u8; 8192];
    let mut pos = 0u64;
    let feed_zeros = |h: &mut Sha256, mut n: u64| {
        while n > 0 {
            let k = n.min(zeros.len() as u64) as usize;
            h.update(&zeros[..k]);
            n -= k as u64;
        }
    };
    for (off, len) in map {
        if off < pos || off.saturating_add(len) > real_size {
            return Err(bad("chunks out of order or past the end"));
        }
        feed_zeros(h, off - pos);
        let mut left = len;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            r.read_exact(&mut buf[..k])?;
            h.update(&buf[..k]);
            left -= k as u64;
        }
        pos = off + len;
    }
    feed_zeros(h, real_size - pos);
    Ok(())
}

fn entry_err(path: &[u8], e: &io::Error) -> String {
    format!(
        "entry {:?}: {}",
        String::from_utf8_lossy(path),
        crate::error::describe_io(e)
    )
}

/// Clean a tar path: drop `.`, empty parts and leading `/`; resolve `..`
/// without ever leaving the root. Returns the components joined by `/` and
/// whether a `..` tried to climb above the root.
pub fn normalise(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut climbed = false;
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    climbed = true;
                }
            }
            p => parts.push(p),
        }
    }
    (parts.join(&b'/'), climbed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &[u8]) -> Vec<String> {
        p.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    #[test]
    fn paths_normalise_inside_the_root() {
        assert_eq!(names(&normalise(b"./etc//hosts/").0), ["etc", "hosts"]);
        assert_eq!(names(&normalise(b"/usr/bin/../lib").0), ["usr", "lib"]);
        let (p, climbed) = normalise(b"../../etc/passwd");
        assert_eq!(names(&p), ["etc", "passwd"]);
        assert!(climbed);
        assert!(normalise(b".").0.is_empty());
    }

    #[test]
    fn compression_is_detected_by_magic() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"etc/"), Compression::None);
        assert_eq!(
            Compression::from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(Compression::Gzip)
        );
    }
}
