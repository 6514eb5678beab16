//! Streaming one layer blob into a [`Scan`]: compression picked by magic
//! bytes (checked against the media type; xz and bzip2 named and refused
//! from the same look), digests computed on the fly (blob and diff ID), and
//! tar entries turned into [`RawEntry`] values with normalised paths and
//! whiteouts recognised. Nothing is held beyond one entry's header; file
//! bodies are hashed as they pass. What goes wrong is a
//! [`LayerFault`] of its kind: the blob's own
//! reader failing (marked as such, so it stays I/O after the decoder
//! and the tar reader), malformed data, a limit.

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::LayerFault;
use crate::tarstream;

use serde::Serialize;
use sha2::{Digest, Sha256};

mod decode;
mod pipeline;

pub use decode::{Decoder, ZSTD_WINDOW_LOG_MAX};
/// What an entry is: the tar reader's type, the tree's kind.
pub use tarstream::Kind;

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
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
    /// Entries in all layers of an image together (checked by the loader).
    pub max_total_entries: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            hash_files: true,
            hash_layers: true,
            blob_digest_unknown: false,
            max_entries: 10_000_000,
            max_path_bytes: 64 * 1024,
            max_total_entries: 20_000_000,
        }
    }
}

/// The result of streaming a layer.
#[derive(Debug)]
pub struct Scan {
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
pub fn with_media_type_check(mut scan: Scan, media_type: Option<&str>) -> Scan {
    if let Some(w) = media_type_warning(media_type, scan.compression) {
        scan.warnings.insert(0, w);
    }
    scan
}

/// Stream a layer blob. `progress` receives counts of stored bytes consumed.
/// The fault says what went wrong; the caller adds the file and layer.
pub fn scan<R: Read + Seek + Send>(
    blob: R,
    media_type: Option<&str>,
    opts: ScanOptions,
    mut progress: impl FnMut(u64) + Send,
) -> Result<Scan, LayerFault> {
    // Errors of the blob's own reader are marked on the way, so that after
    // the decoder and the tar reader they still read as I/O, not as data.
    let mut blob = Watched(blob);
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match blob.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LayerFault::from_io(e)),
        }
    }
    if got == 0 {
        return Err(LayerFault::Malformed(
            "empty blob (0 bytes), not a tar stream".into(),
        ));
    }
    // The one look at the magic bytes: a compression we do not read is
    // named here, before any decoder sees it.
    if let Some(what) = Compression::unsupported(&magic[..got]) {
        return Err(LayerFault::Unsupported(what));
    }
    blob.seek(SeekFrom::Start(0)).map_err(LayerFault::from_io)?;
    let compression = Compression::detect(&magic[..got]);
    let mut warnings: Vec<String> = media_type_warning(media_type, compression)
        .into_iter()
        .collect();
    let mut entries = Vec::new();
    // Holes of sparse files are hashed as zeros up to a budget in
    // proportion to the stored blob (what gzip can inflate at most), so a
    // small layer declaring a terabyte of holes costs no more than a layer
    // of compressed zeros would.
    let blob_len = blob.seek(SeekFrom::End(0)).map_err(LayerFault::from_io)?;
    blob.seek(SeekFrom::Start(0)).map_err(LayerFault::from_io)?;
    let hole_budget = blob_len.saturating_mul(HOLE_BUDGET_PER_BYTE);
    let limits = tarstream::Limits {
        max_path_bytes: opts.max_path_bytes,
    };

    // Nothing to hash: let the reader seek over file bodies instead of
    // reading them.
    if compression == Compression::None && !opts.hash_files && !opts.hash_layers {
        let mut rd = tarstream::Reader::new(tarstream::Seeking(&mut blob), limits);
        collect_entries(&mut rd, opts, hole_budget, &mut entries, &mut warnings)?;
        finish_tar(&mut rd, &entries, &mut warnings)?;
        progress(blob_len);
        return Ok(Scan {
            entries,
            compression,
            blob_digest: String::new(),
            blob_bytes: blob_len,
            diff_id: String::new(),
            tar_bytes: blob_len,
            warnings,
        });
    }

    let stream = |r: &mut pipeline::ChunkReader| {
        let mut rd = tarstream::Reader::new(tarstream::Stream(r), limits);
        collect_entries(&mut rd, opts, hole_budget, &mut entries, &mut warnings)?;
        // Read to the end so the diff ID covers the whole stream.
        finish_tar(&mut rd, &entries, &mut warnings)
    };
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
        c => e.map_msg(|m| format!("{m} ({} stream)", c.name())),
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
    Ok(Scan {
        entries,
        compression,
        blob_digest,
        blob_bytes: read.blob_bytes,
        diff_id,
        tar_bytes: read.tar_bytes,
        warnings,
    })
}

/// Sparse-file holes hashed per stored byte of the layer blob.
pub const HOLE_BUDGET_PER_BYTE: u64 = 1024;

/// After the last entry: warn about a missing end marker or non-zero bytes
/// after it, and refuse a header hidden after it.
fn finish_tar<R: tarstream::Skip>(
    rd: &mut tarstream::Reader<R>,
    entries: &[RawEntry],
    warnings: &mut Vec<String>,
) -> Result<(), LayerFault> {
    match rd.end() {
        Some(tarstream::End::Marker) => {
            let (_, data) = rd.check_after_end().map_err(LayerFault::from_io)?;
            if data > 0 {
                warnings.push(format!(
                    "{data} non-zero bytes after the tar end-of-archive marker (ignored, as tar readers do)"
                ));
            }
        }
        _ if !entries.is_empty() => warnings.push(NO_END_MARKER.into()),
        _ => {}
    }
    Ok(())
}

const NO_END_MARKER: &str = "the tar stream ends without an end-of-archive marker (truncated?)";

/// A reader error as a fault: the first header failing its checksum
/// means the blob is not a tar at all (messages about an entry say which).
fn tar_error<R: tarstream::Skip>(rd: &tarstream::Reader<R>, e: io::Error) -> LayerFault {
    let about_entry = e.to_string().starts_with("entry #");
    let not_tar = rd.entries_read() == 0 && e.kind() == io::ErrorKind::InvalidData && !about_entry;
    let fault = LayerFault::from_io(e);
    if not_tar {
        fault.map_msg(|m| format!("not a tar stream: {m}"))
    } else {
        fault
    }
}

impl LayerFault {
    /// The fault for an error met reading a layer: the blob's own reader
    /// failing (marked by [`Watched`]) is I/O, a header over a configured
    /// limit (`QuotaExceeded`, from the tar reader) is a limit, anything
    /// else is malformed data. The message is [`describe_io`]'s phrase.
    ///
    /// [`describe_io`]: crate::error::describe_io
    pub(crate) fn from_io(e: io::Error) -> LayerFault {
        let msg = crate::error::describe_io(&e);
        if e.get_ref().is_some_and(|inner| inner.is::<SourceError>()) {
            let source = match e.into_inner().map(|b| b.downcast::<SourceError>()) {
                Some(Ok(marked)) => marked.0,
                _ => io::Error::other(msg.clone()),
            };
            return LayerFault::Read { msg, source };
        }
        if e.kind() == io::ErrorKind::QuotaExceeded {
            LayerFault::Limit(msg)
        } else {
            LayerFault::Malformed(msg)
        }
    }
}

/// A blob reader whose errors are marked as the source's (wrapped in
/// [`SourceError`], same kind, same message), so [`LayerFault::from_io`]
/// tells them from decoding and tar errors after they passed through both.
pub(crate) struct Watched<R>(pub R);

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(SourceError::mark)
    }
}

impl<R: Seek> Seek for Watched<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos).map_err(SourceError::mark)
    }
}

/// The marker [`Watched`] puts around its reader's errors; it reads as the
/// error it holds.
#[derive(Debug)]
struct SourceError(io::Error);

impl SourceError {
    fn mark(e: io::Error) -> io::Error {
        // Interrupted is retried by readers, not reported.
        if e.kind() == io::ErrorKind::Interrupted {
            return e;
        }
        io::Error::new(e.kind(), SourceError(e))
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn collect_entries<R: tarstream::Skip>(
    rd: &mut tarstream::Reader<R>,
    opts: ScanOptions,
    mut hole_budget: u64,
    out: &mut Vec<RawEntry>,
    warnings: &mut Vec<String>,
) -> Result<(), LayerFault> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut escaped = 0u64;
    let mut absolute = 0u64;
    let mut unhashed_sparse = 0u64;
    loop {
        let h = match rd.next_header() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => return Err(tar_error(rd, e)),
        };
        if out.len() as u64 >= opts.max_entries {
            return Err(LayerFault::Limit(format!(
                "more than {} entries (raise the limit with --max-entries)",
                opts.max_entries
            )));
        }
        // The reader refused paths over --max-path-bytes.
        let raw_path = &h.path;
        let (path, climbed) = normalise(raw_path);
        if climbed {
            escaped += 1;
        }
        if raw_path.first() == Some(&b'/') {
            absolute += 1;
        }
        let kind = h.entry_type;
        let link = match kind {
            Kind::Symlink => Some(h.link.clone().into_boxed_slice()),
            Kind::Hardlink => Some(normalise(&h.link).0.into_boxed_slice()),
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
        let holes = h.hole_bytes();
        let mut hash = kind == Kind::File && action == Action::Put && opts.hash_files;
        if hash && holes > hole_budget {
            unhashed_sparse += 1;
            hash = false;
        }
        let sha256 = if hash {
            hole_budget -= holes;
            let mut sha = Sha256::new();
            tarstream::for_each_piece(rd, &h, &mut buf, |p| {
                match p {
                    tarstream::Piece::Data(d) => sha.update(d),
                    tarstream::Piece::Hole(n) => hash_zeros(&mut sha, n),
                }
                Ok(true)
            })
            .map_err(|e| entry_err(raw_path, e))?;
            Some(sha.finalize().into())
        } else {
            None
        };
        out.push(RawEntry {
            path: path.into_boxed_slice(),
            action,
            kind,
            size: h.size,
            mode: h.mode,
            uid: h.uid as u32,
            gid: h.gid as u32,
            mtime: h.mtime,
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
    if unhashed_sparse > 0 {
        warnings.push(format!(
            "{unhashed_sparse} sparse files not hashed: their holes exceed {HOLE_BUDGET_PER_BYTE} bytes per stored byte of the layer (compared by size and time instead)"
        ));
    }
    Ok(())
}

/// Feed `n` zero bytes to a hash.
pub(crate) fn hash_zeros(h: &mut Sha256, mut n: u64) {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    while n > 0 {
        let k = n.min(ZEROS.len() as u64) as usize;
        h.update(&ZEROS[..k]);
        n -= k as u64;
    }
}

fn entry_err(path: &[u8], e: io::Error) -> LayerFault {
    LayerFault::from_io(e).map_msg(|m| format!("entry {:?}: {m}", String::from_utf8_lossy(path)))
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
