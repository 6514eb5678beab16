//! Synthetic container image archives, for tests, samples and benchmarks.
//!
//! [`LayerBuilder`] describes one layer tar (entries are written in the order
//! they were added); [`ImageBuilder`] assembles layers plus an OCI image
//! config and writes the result in one of the archive layouts that real tools
//! produce:
//!
//! * [`ImageBuilder::docker_legacy`] - `docker save` before Docker 25
//!   (`manifest.json`, `<id>/layer.tar`, `<hex>.json`, `repositories`),
//! * [`ImageBuilder::docker_oci`] - `docker save` from Docker 25 on (an OCI
//!   layout plus a `manifest.json` that points into `blobs/sha256/`),
//! * [`ImageBuilder::oci_archive`] / [`ImageBuilder::oci_dir`] - an OCI image
//!   layout as written by `skopeo copy ... oci-archive:` / `oci:`.
//!
//! Every outer archive is a plain tar with mtime 0 and entries in a fixed
//! order, so outputs are byte-reproducible.
//!
//! The streaming pieces ([`LayerWriter`], [`TarStream`], [`HashWriter`],
//! [`Encoder`], [`OuterTar`], [`PseudoReader`]) are public too so that the
//! large-image generator (`examples/gen.rs`) can write multi-GB images
//! without holding a layer in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Default mtime of layer entries (2023-11-14T22:13:20Z).
pub const DEFAULT_MTIME: u64 = 1_700_000_000;

pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MT_OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MT_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MT_OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Contents of the `oci-layout` file.
pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

const ANN_REF_NAME: &str = "org.opencontainers.image.ref.name";
const ANN_CONTAINERD_NAME: &str = "io.containerd.image.name";

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/// Layer compression used for blobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// OCI media type of a layer compressed this way.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Compression::None => MT_OCI_LAYER,
            Compression::Gzip => MT_OCI_LAYER_GZIP,
            Compression::Zstd => MT_OCI_LAYER_ZSTD,
        }
    }
}

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compress `data` (gzip level 6 with a zero header mtime, or zstd level 3).
pub fn compress(data: &[u8], c: Compression) -> Vec<u8> {
    let mut enc = Encoder::new(Vec::with_capacity(data.len() / 2 + 64), c).expect("zstd context");
    // Writing to a Vec cannot fail.
    enc.write_all(data).expect("in-memory compression");
    enc.finish().expect("in-memory compression")
}

/// Format seconds since the epoch as RFC 3339 UTC (`2023-11-14T22:13:20Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        y,
        m,
        d,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// A `Write` adapter that hashes (sha256) and counts everything written.
pub struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
    /// Bytes written so far.
    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
    /// Returns the inner writer, the hex sha256 and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.count)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A streaming compressor for any [`Compression`].
pub enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    pub fn new(w: W, c: Compression) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Encoder::None(w),
            Compression::Gzip => {
                // GzBuilder leaves the header mtime at 0: reproducible output.
                Encoder::Gzip(flate2::GzBuilder::new().write(w, flate2::Compression::new(6)))
            }
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(w, 3)?),
        })
    }
    /// Finish the stream and return the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

/// xorshift64* pseudo-random generator (deterministic, not cryptographic).
#[derive(Clone, Debug)]
pub struct XorShift64(u64);

impl XorShift64 {
    pub fn new(seed: u64) -> Self {
        // splitmix64 the seed so that nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift64(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (`n > 0`; slightly biased, fine for synthesis).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
    /// Standard normal sample (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Pick an element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What [`PseudoReader`] produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentKind {
    /// Word salad with newlines: compresses roughly 3-4x.
    Text,
    /// Random bytes with some zero runs: compresses a little.
    Binary,
}

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "for", "on", "with", "as", "by", "at", "from", "this",
    "that", "be", "or", "are", "an", "not", "lib", "usr", "bin", "share", "config", "package",
    "version", "install", "update", "build", "error", "warning", "info", "debug", "module",
    "export", "import", "function", "return", "const", "static", "struct", "value", "index",
    "data", "file", "path", "name", "type", "size", "node", "linux", "amd64", "python", "ssl",
    "cert", "http", "https", "json", "yaml", "true", "false", "null", "0", "1", "42", "2023",
    "require", "default", "options", "server", "client", "request", "response", "{", "}", "=",
    "==", "(", ")", ";", "#", "//", "-", "--", "=>", "::",
];

/// Deterministic pseudo-random content of a given length, as a `Read`.
///
/// The byte stream depends only on `(seed, kind)`, never on the caller's
/// buffer sizes.
pub struct PseudoReader {
    rng: XorShift64,
    kind: ContentKind,
    remaining: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl PseudoReader {
    pub fn new(seed: u64, len: u64, kind: ContentKind) -> Self {
        PseudoReader {
            rng: XorShift64::new(seed),
            kind,
            remaining: len,
            buf: Vec::with_capacity(16 * 1024 + 64),
            pos: 0,
        }
    }

    fn refill(&mut self) {
        self.buf.clear();
        self.pos = 0;
        const CHUNK: usize = 16 * 1024;
        match self.kind {
            ContentKind::Text => {
                while self.buf.len() < CHUNK {
                    let r = self.rng.next_u64();
                    // Two words per random draw.
                    for k in 0..2 {
                        let w = WORDS[((r >> (k * 16)) as usize) % WORDS.len()];
                        self.buf.extend_from_slice(w.as_bytes());
                        let sep = (r >> (40 + k * 8)) & 0xff;
                        self.buf.push(if sep < 20 { b'\n' } else { b' ' });
                    }
                }
            }
            ContentKind::Binary => {
                while self.buf.len() < CHUNK {
                    let r = self.rng.next_u64();
                    if r & 3 == 0 {
                        self.buf.extend_from_slice(&[0u8; 8]);
                    } else {
                        self.buf.extend_from_slice(&r.to_le_bytes());
                    }
                }
            }
        }
    }
}

impl Read for PseudoReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || out.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.buf.len() {
            self.refill();
        }
        let n = out
            .len()
            .min(self.buf.len() - self.pos)
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// `len` bytes of deterministic, fairly compressible text.
pub fn pseudo_text(seed: u64, len: usize) -> Vec<u8> {
    read_all(PseudoReader::new(seed, len as u64, ContentKind::Text), len)
}

/// `len` bytes of deterministic, barely compressible binary.
pub fn pseudo_bytes(seed: u64, len: usize) -> Vec<u8> {
    read_all(
        PseudoReader::new(seed, len as u64, ContentKind::Binary),
        len,
    )
}

fn read_all(mut r: PseudoReader, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    // PseudoReader never fails.
    let _ = r.read_to_end(&mut v);
    v
}

// ---------------------------------------------------------------------------
// Tar writing
// ---------------------------------------------------------------------------

/// Header flavour of layer tars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TarFormat {
    /// GNU headers; names/link targets over 100 bytes use `././@LongLink`
    /// (`L`/`K`) entries, like GNU tar.
    #[default]
    Gnu,
    /// POSIX ustar headers; long names use the ustar prefix field when they
    /// can be split, PAX extended headers (`x`) otherwise, like Go's
    /// archive/tar (i.e. what Docker/BuildKit write).
    Pax,
}

/// Kind of a tar entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Fifo,
    CharDevice,
    BlockDevice,
}

/// Everything about one tar entry except its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMeta {
    pub kind: EntryKind,
    /// Name bytes exactly as they go into the archive.
    pub name: Vec<u8>,
    /// Link target (symlinks, hardlinks), exactly as stored.
    pub link: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    /// Data size (regular files only; 0 otherwise).
    pub size: u64,
    pub major: u32,
    pub minor: u32,
}

impl EntryMeta {
    fn new(kind: EntryKind, name: Vec<u8>, mode: u32, mtime: u64) -> Self {
        EntryMeta {
            kind,
            name,
            link: Vec::new(),
            mode,
            uid: 0,
            gid: 0,
            mtime,
            size: 0,
            major: 0,
            minor: 0,
        }
    }
    /// Regular file at `path` (normalized) with mode 0644, owned by root.
    pub fn file(path: &str, size: u64, mtime: u64) -> Self {
        let mut m = Self::new(EntryKind::File, norm_path(path).into_bytes(), 0o644, mtime);
        m.size = size;
        m
    }
    /// Directory at `path` (normalized, with a trailing `/`), mode 0755.
    pub fn dir(path: &str, mtime: u64) -> Self {
        Self::new(EntryKind::Dir, dir_name(path).into_bytes(), 0o755, mtime)
    }
    pub fn symlink(path: &str, target: &str, mtime: u64) -> Self {
        let mut m = Self::new(
            EntryKind::Symlink,
            norm_path(path).into_bytes(),
            0o777,
            mtime,
        );
        m.link = target.as_bytes().to_vec();
        m
    }
    /// Hardlink to `target` (a path in the same layer, normalized).
    pub fn hardlink(path: &str, target: &str, mtime: u64) -> Self {
        let mut m = Self::new(
            EntryKind::Hardlink,
            norm_path(path).into_bytes(),
            0o644,
            mtime,
        );
        m.link = norm_path(target).into_bytes();
        m
    }
    pub fn with_owner(mut self, mode: u32, uid: u32, gid: u32) -> Self {
        self.mode = mode;
        self.uid = uid;
        self.gid = gid;
        self
    }
}

/// Strip leading `/` and `./`, collapse `//`, drop a trailing `/`.
fn norm_path(path: &str) -> String {
    let mut parts = Vec::new();
    for p in path.split('/') {
        if p.is_empty() || p == "." {
            continue;
        }
        parts.push(p);
    }
    parts.join("/")
}

fn dir_name(path: &str) -> String {
    let p = norm_path(path);
    if p.is_empty() {
        "./".to_string()
    } else {
        format!("{p}/")
    }
}

/// `a/b/c` -> `a/b/.wh.c`
pub fn whiteout_name(path: &str) -> String {
    let p = norm_path(path);
    match p.rsplit_once('/') {
        Some((parent, name)) => format!("{parent}/.wh.{name}"),
        None => format!(".wh.{p}"),
    }
}

/// `a/b` -> `a/b/.wh..wh..opq`
pub fn opaque_name(dir: &str) -> String {
    let p = norm_path(dir);
    if p.is_empty() {
        ".wh..wh..opq".to_string()
    } else {
        format!("{p}/.wh..wh..opq")
    }
}

/// Low-level tar stream: headers plus data, in the chosen [`TarFormat`].
/// Call [`TarStream::finish`] to write the end-of-archive marker.
pub struct TarStream<W: Write> {
    w: W,
    format: TarFormat,
}

impl<W: Write> TarStream<W> {
    pub fn new(w: W, format: TarFormat) -> Self {
        TarStream { w, format }
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// Write one entry; `data` must yield at least `meta.size` bytes (only
    /// that many are read).
    pub fn append(&mut self, meta: &EntryMeta, data: &mut dyn Read) -> io::Result<()> {
        let mut h = match self.format {
            TarFormat::Gnu => tar::Header::new_gnu(),
            TarFormat::Pax => tar::Header::new_ustar(),
        };
        match self.format {
            TarFormat::Gnu => {
                if meta.link.len() > 100 {
                    self.gnu_long(b'K', &meta.link)?;
                }
                if meta.name.len() > 100 {
                    self.gnu_long(b'L', &meta.name)?;
                }
                set_field(&mut h.as_old_mut().name, &meta.name);
            }
            TarFormat::Pax => {
                let mut pax: Vec<(&str, &[u8])> = Vec::new();
                if meta.name.len() <= 100 {
                    set_field(&mut h.as_old_mut().name, &meta.name);
                } else if let Some(split) = ustar_split(&meta.name) {
                    set_field(&mut h.as_old_mut().name, &meta.name[split + 1..]);
                    if let Some(u) = h.as_ustar_mut() {
                        set_field(&mut u.prefix, &meta.name[..split]);
                    }
                } else {
                    pax.push(("path", &meta.name));
                    set_field(&mut h.as_old_mut().name, &meta.name);
                }
                if meta.link.len() > 100 {
                    pax.push(("linkpath", &meta.link));
                }
                if !pax.is_empty() {
                    self.pax_header(&meta.name, &pax)?;
                }
            }
        }
        set_field(&mut h.as_old_mut().linkname, &meta.link);
        let size = if meta.kind == EntryKind::File {
            meta.size
        } else {
            0
        };
        h.set_mode(meta.mode);
        h.set_uid(u64::from(meta.uid));
        h.set_gid(u64::from(meta.gid));
        h.set_mtime(meta.mtime);
        h.set_size(size);
        h.set_entry_type(match meta.kind {
            EntryKind::File => tar::EntryType::Regular,
            EntryKind::Dir => tar::EntryType::Directory,
            EntryKind::Symlink => tar::EntryType::Symlink,
            EntryKind::Hardlink => tar::EntryType::Link,
            EntryKind::Fifo => tar::EntryType::Fifo,
            EntryKind::CharDevice => tar::EntryType::Char,
            EntryKind::BlockDevice => tar::EntryType::Block,
        });
        if matches!(meta.kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
            h.set_device_major(meta.major)?;
            h.set_device_minor(meta.minor)?;
        }
        h.set_cksum();
        self.w.write_all(h.as_bytes())?;
        self.copy_data(data, size)
    }

    fn copy_data(&mut self, data: &mut dyn Read, size: u64) -> io::Result<()> {
        let n = io::copy(&mut data.take(size), &mut self.w)?;
        if n != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("tar entry data: expected {size} bytes, got {n}"),
            ));
        }
        let pad = (512 - size % 512) % 512;
        self.w.write_all(&[0u8; 512][..pad as usize])
    }

    fn gnu_long(&mut self, flag: u8, value: &[u8]) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        set_field(&mut h.as_old_mut().name, b"././@LongLink");
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        let mut data = value.to_vec();
        data.push(0);
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::new(flag));
        h.set_cksum();
        self.w.write_all(h.as_bytes())?;
        self.copy_data(&mut &data[..], data.len() as u64)
    }

    fn pax_header(&mut self, name: &[u8], records: &[(&str, &[u8])]) -> io::Result<()> {
        let mut body = Vec::new();
        for (k, v) in records {
            // "<len> <key>=<value>\n" where <len> counts the whole record.
            let rest = 1 + k.len() + 1 + v.len() + 1;
            let mut len = rest + 1;
            while len.to_string().len() + rest != len {
                len = len.to_string().len() + rest;
            }
            body.extend_from_slice(format!("{len} {k}=").as_bytes());
            body.extend_from_slice(v);
            body.push(b'\n');
        }
        let base = name
            .split(|&b| b == b'/')
            .rfind(|s| !s.is_empty())
            .unwrap_or(b"x");
        let mut pax_name = b"PaxHeaders.0/".to_vec();
        pax_name.extend_from_slice(base);
        let mut h = tar::Header::new_ustar();
        set_field(&mut h.as_old_mut().name, &pax_name);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(body.len() as u64);
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_cksum();
        self.w.write_all(h.as_bytes())?;
        self.copy_data(&mut &body[..], body.len() as u64)
    }

    /// Write the two zero blocks that end an archive; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(&[0u8; 1024])?;
        Ok(self.w)
    }
}

/// Copy at most `field.len()` bytes of `value` into a zeroed header field.
fn set_field(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    for b in &mut field[n..] {
        *b = 0;
    }
}

/// Index of a `/` that splits `name` into a ustar prefix (<= 155 bytes) and
/// name (1..=100 bytes).
fn ustar_split(name: &[u8]) -> Option<usize> {
    let len = name.len();
    (0..len.saturating_sub(1))
        .rev()
        .filter(|&i| name[i] == b'/')
        .find(|&i| i <= 155 && len - i - 1 <= 100 && len - i - 1 > 0 && i > 0)
}

/// Streams one layer tar into `W` (use [`LayerBuilder`] for in-memory layers).
pub struct LayerWriter<W: Write> {
    tar: TarStream<W>,
    mtime: u64,
}

impl<W: Write> LayerWriter<W> {
    pub fn new(w: W, format: TarFormat) -> Self {
        LayerWriter {
            tar: TarStream::new(w, format),
            mtime: DEFAULT_MTIME,
        }
    }
    /// mtime of subsequently written entries.
    pub fn set_mtime(&mut self, secs: u64) {
        self.mtime = secs;
    }
    pub fn mtime(&self) -> u64 {
        self.mtime
    }
    pub fn get_mut(&mut self) -> &mut W {
        self.tar.get_mut()
    }
    /// Fully general entry.
    pub fn entry(&mut self, meta: &EntryMeta, data: &mut dyn Read) -> io::Result<()> {
        self.tar.append(meta, data)
    }
    pub fn file(&mut self, path: &str, content: &[u8]) -> io::Result<()> {
        self.file_from_reader(path, content.len() as u64, &mut &content[..], 0o644, 0, 0)
    }
    pub fn file_from_reader(
        &mut self,
        path: &str,
        size: u64,
        data: &mut dyn Read,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> io::Result<()> {
        let m = EntryMeta::file(path, size, self.mtime).with_owner(mode, uid, gid);
        self.tar.append(&m, data)
    }
    pub fn dir(&mut self, path: &str) -> io::Result<()> {
        self.dir_with(path, 0o755, 0, 0)
    }
    pub fn dir_with(&mut self, path: &str, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
        let m = EntryMeta::dir(path, self.mtime).with_owner(mode, uid, gid);
        self.tar.append(&m, &mut io::empty())
    }
    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        let m = EntryMeta::symlink(path, target, self.mtime);
        self.tar.append(&m, &mut io::empty())
    }
    pub fn hardlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        let m = EntryMeta::hardlink(path, target, self.mtime);
        self.tar.append(&m, &mut io::empty())
    }
    pub fn whiteout(&mut self, path: &str) -> io::Result<()> {
        self.file(&whiteout_name(path), b"")
    }
    pub fn opaque(&mut self, dir: &str) -> io::Result<()> {
        self.file(&opaque_name(dir), b"")
    }
    /// End the tar and return the writer.
    pub fn finish(self) -> io::Result<W> {
        self.tar.finish()
    }
}

// ---------------------------------------------------------------------------
// LayerBuilder
// ---------------------------------------------------------------------------

/// One layer's tar content; entries are written in the order added.
#[derive(Clone, Debug)]
pub struct LayerBuilder {
    created_by: String,
    comment: Option<String>,
    format: TarFormat,
    mtime: u64,
    entries: Vec<(EntryMeta, Vec<u8>)>,
}

impl LayerBuilder {
    pub fn new(created_by: &str) -> Self {
        LayerBuilder {
            created_by: created_by.to_string(),
            comment: None,
            format: TarFormat::Gnu,
            mtime: DEFAULT_MTIME,
            entries: Vec::new(),
        }
    }
    /// The `created_by` of this layer's history entry.
    pub fn created_by(&self) -> &str {
        &self.created_by
    }
    /// History comment (e.g. "buildkit.dockerfile.v0").
    pub fn comment(mut self, c: &str) -> Self {
        self.comment = Some(c.to_string());
        self
    }
    /// Header flavour (default [`TarFormat::Gnu`]).
    pub fn format(mut self, f: TarFormat) -> Self {
        self.format = f;
        self
    }
    /// mtime for subsequently added entries (default 1_700_000_000).
    pub fn mtime(mut self, secs: u64) -> Self {
        self.mtime = secs;
        self
    }
    /// Add an arbitrary entry (regular file data in `data`).
    pub fn entry(mut self, meta: EntryMeta, data: &[u8]) -> Self {
        self.entries.push((meta, data.to_vec()));
        self
    }
    fn push(mut self, mut meta: EntryMeta, data: &[u8]) -> Self {
        meta.mtime = self.mtime;
        self.entries.push((meta, data.to_vec()));
        self
    }
    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.file_with(path, content, 0o644, 0, 0)
    }
    pub fn file_with(self, path: &str, content: &[u8], mode: u32, uid: u32, gid: u32) -> Self {
        let m = EntryMeta::file(path, content.len() as u64, 0).with_owner(mode, uid, gid);
        self.push(m, content)
    }
    pub fn dir(self, path: &str) -> Self {
        self.dir_with(path, 0o755, 0, 0)
    }
    pub fn dir_with(self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        let m = EntryMeta::dir(path, 0).with_owner(mode, uid, gid);
        self.push(m, b"")
    }
    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.push(EntryMeta::symlink(path, target, 0), b"")
    }
    /// Tar typeflag '1', size 0; `target` must be an earlier entry's path.
    pub fn hardlink(self, path: &str, target: &str) -> Self {
        self.push(EntryMeta::hardlink(path, target, 0), b"")
    }
    pub fn fifo(self, path: &str) -> Self {
        let m = EntryMeta::new(EntryKind::Fifo, norm_path(path).into_bytes(), 0o644, 0);
        self.push(m, b"")
    }
    pub fn char_device(self, path: &str, major: u32, minor: u32) -> Self {
        self.device(EntryKind::CharDevice, 0o666, path, major, minor)
    }
    pub fn block_device(self, path: &str, major: u32, minor: u32) -> Self {
        self.device(EntryKind::BlockDevice, 0o660, path, major, minor)
    }
    fn device(self, kind: EntryKind, mode: u32, path: &str, major: u32, minor: u32) -> Self {
        let mut m = EntryMeta::new(kind, norm_path(path).into_bytes(), mode, 0);
        m.major = major;
        m.minor = minor;
        self.push(m, b"")
    }
    /// Writes `<parent>/.wh.<name>` (empty regular file).
    pub fn whiteout(self, path: &str) -> Self {
        let name = whiteout_name(path);
        self.file(&name, b"")
    }
    /// Writes `<dir>/.wh..wh..opq` (empty regular file).
    pub fn opaque(self, dir: &str) -> Self {
        let name = opaque_name(dir);
        self.file(&name, b"")
    }
    /// Regular file whose name bytes are written verbatim (may be non-UTF-8,
    /// `../x`, `/abs`, ...). Names over 100 bytes use a GNU long name (or PAX
    /// with [`TarFormat::Pax`]).
    pub fn raw_name(self, name_bytes: &[u8], content: &[u8]) -> Self {
        let mut m = EntryMeta::new(EntryKind::File, name_bytes.to_vec(), 0o644, 0);
        m.size = content.len() as u64;
        self.push(m, content)
    }
    /// Entries added so far.
    pub fn entries(&self) -> impl Iterator<Item = &EntryMeta> {
        self.entries.iter().map(|(m, _)| m)
    }
    /// The uncompressed layer tar.
    pub fn tar_bytes(&self) -> Vec<u8> {
        let cap = self
            .entries
            .iter()
            .map(|(m, d)| 1024 + m.name.len() + d.len())
            .sum::<usize>()
            + 1024;
        let mut w = LayerWriter::new(Vec::with_capacity(cap), self.format);
        for (m, d) in &self.entries {
            w.entry(m, &mut &d[..]).expect("in-memory tar");
        }
        w.finish().expect("in-memory tar")
    }
}

// ---------------------------------------------------------------------------
// JSON documents
// ---------------------------------------------------------------------------

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor {
    pub media_type: String,
    /// Hex sha256 (without the `sha256:` prefix).
    pub hex: String,
    pub size: u64,
    pub platform: Option<Value>,
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn new(media_type: &str, hex: &str, size: u64) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            hex: hex.to_string(),
            size,
            platform: None,
            annotations: BTreeMap::new(),
        }
    }
    /// Descriptor of an in-memory blob.
    pub fn of(media_type: &str, blob: &[u8]) -> Self {
        Self::new(media_type, &sha256_hex(blob), blob.len() as u64)
    }
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }
    /// Path of the blob inside an OCI layout.
    pub fn blob_path(&self) -> String {
        format!("blobs/sha256/{}", self.hex)
    }
    pub fn annotate(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.to_string(), v.to_string());
        self
    }
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("mediaType".into(), json!(self.media_type));
        m.insert("digest".into(), json!(self.digest()));
        m.insert("size".into(), json!(self.size));
        if let Some(p) = &self.platform {
            m.insert("platform".into(), p.clone());
        }
        if !self.annotations.is_empty() {
            m.insert("annotations".into(), json!(self.annotations));
        }
        Value::Object(m)
    }
}

/// OCI image manifest JSON.
pub fn oci_manifest_json(config: &Descriptor, layers: &[Descriptor]) -> Vec<u8> {
    to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": config.to_json(),
        "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    }))
}

/// OCI image index JSON (also used for `index.json`).
pub fn oci_index_json(manifests: &[Descriptor]) -> Vec<u8> {
    to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": MT_OCI_INDEX,
        "manifests": manifests.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    }))
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json serialization")
}

/// Split `repo[:tag]` into `(repo, tag)`; tag defaults to `latest`.
pub fn split_tag(name: &str) -> (String, String) {
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(i) => (
            name[..slash + i].to_string(),
            name[slash + i + 1..].to_string(),
        ),
        None => (name.to_string(), "latest".to_string()),
    }
}

/// `example:latest` -> `docker.io/library/example:latest` (like containerd).
pub fn normalized_ref(name: &str) -> String {
    let (repo, tag) = split_tag(name);
    let full = match repo.split_once('/') {
        None => format!("docker.io/library/{repo}"),
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            repo.clone()
        }
        Some(_) => format!("docker.io/{repo}"),
    };
    format!("{full}:{tag}")
}

/// Docker v1 layer id: chained over the parent id so the same diff at another
/// position gets another directory.
pub fn legacy_layer_id(parent: Option<&str>, diff_id_hex: &str) -> String {
    sha256_hex(format!("{} {}", parent.unwrap_or(""), diff_id_hex).as_bytes())
}

/// The `<id>/json` file of a legacy `docker save` layer directory.
pub fn legacy_layer_json(id: &str, parent: Option<&str>, created: &str, os: &str) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    if let Some(p) = parent {
        m.insert("parent".into(), json!(p));
    }
    m.insert("created".into(), json!(created));
    m.insert(
        "container_config".into(),
        json!({"Hostname": "", "Env": null, "Cmd": null, "Image": ""}),
    );
    m.insert("os".into(), json!(os));
    to_bytes(&Value::Object(m))
}

/// One entry of Docker's `manifest.json`.
pub fn docker_manifest_entry(
    config_path: &str,
    tags: &[String],
    layer_paths: &[String],
    layer_sources: Option<&[Descriptor]>,
) -> Value {
    let mut m = Map::new();
    m.insert("Config".into(), json!(config_path));
    m.insert("RepoTags".into(), json!(tags));
    m.insert("Layers".into(), json!(layer_paths));
    if let Some(srcs) = layer_sources {
        let mut s = Map::new();
        for d in srcs {
            s.insert(d.digest(), d.to_json());
        }
        m.insert("LayerSources".into(), Value::Object(s));
    }
    Value::Object(m)
}

/// A history entry of an image config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    pub created_by: String,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

// ---------------------------------------------------------------------------
// ImageBuilder
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    Layer(LayerBuilder),
    Empty(String),
}

/// An image: layers, history and config, writable in several archive layouts.
#[derive(Clone, Debug)]
pub struct ImageBuilder {
    tags: Vec<String>,
    tags_explicit: bool,
    os: String,
    arch: String,
    variant: Option<String>,
    created: u64,
    steps: Vec<Step>,
    env: Vec<String>,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    labels: BTreeMap<String, String>,
    exposed: Vec<String>,
    user: Option<String>,
    workdir: Option<String>,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A layer ready to be written: uncompressed digest plus the stored blob.
struct PreparedLayer {
    diff_id: String,
    blob: Vec<u8>,
    desc: Descriptor,
}

struct Prepared {
    layers: Vec<PreparedLayer>,
    config: Vec<u8>,
    config_desc: Descriptor,
    manifest: Vec<u8>,
    manifest_desc: Descriptor,
}

impl ImageBuilder {
    /// linux/amd64, tag `example:latest`, created 2023-11-14T22:13:20Z.
    pub fn new() -> Self {
        ImageBuilder {
            tags: vec!["example:latest".to_string()],
            tags_explicit: false,
            os: "linux".into(),
            arch: "amd64".into(),
            variant: None,
            created: DEFAULT_MTIME,
            steps: Vec::new(),
            env: Vec::new(),
            cmd: None,
            entrypoint: None,
            labels: BTreeMap::new(),
            exposed: Vec::new(),
            user: None,
            workdir: None,
        }
    }
    /// Add a repo tag. The first call replaces the default `example:latest`.
    pub fn tag(mut self, name: &str) -> Self {
        if !self.tags_explicit {
            self.tags.clear();
            self.tags_explicit = true;
        }
        self.tags.push(name.to_string());
        self
    }
    /// Remove all tags (an untagged image).
    pub fn no_tags(mut self) -> Self {
        self.tags.clear();
        self.tags_explicit = true;
        self
    }
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    pub fn platform(mut self, os: &str, arch: &str, variant: Option<&str>) -> Self {
        self.os = os.to_string();
        self.arch = arch.to_string();
        self.variant = variant.map(str::to_string);
        self
    }
    /// Image creation time (seconds); history entries are one minute apart
    /// ending at this time.
    pub fn created(mut self, secs: u64) -> Self {
        self.created = secs;
        self
    }
    pub fn layer(mut self, l: LayerBuilder) -> Self {
        self.steps.push(Step::Layer(l));
        self
    }
    /// History entry with `"empty_layer": true` and no layer.
    pub fn empty_layer(mut self, created_by: &str) -> Self {
        self.steps.push(Step::Empty(created_by.to_string()));
        self
    }
    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.to_string());
        self
    }
    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }
    pub fn entrypoint(mut self, args: &[&str]) -> Self {
        self.entrypoint = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.to_string(), v.to_string());
        self
    }
    /// `"8080/tcp"`; a bare port gets `/tcp` appended.
    pub fn expose(mut self, port: &str) -> Self {
        let p = if port.contains('/') {
            port.to_string()
        } else {
            format!("{port}/tcp")
        };
        self.exposed.push(p);
        self
    }
    pub fn user(mut self, u: &str) -> Self {
        self.user = Some(u.to_string());
        self
    }
    pub fn workdir(mut self, w: &str) -> Self {
        self.workdir = Some(w.to_string());
        self
    }

    /// The layers (in order), without empty-layer steps.
    pub fn layers(&self) -> impl Iterator<Item = &LayerBuilder> {
        self.steps.iter().filter_map(|s| match s {
            Step::Layer(l) => Some(l),
            Step::Empty(_) => None,
        })
    }

    /// History derived from the added layers and empty layers.
    pub fn history(&self) -> Vec<HistoryItem> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Layer(l) => HistoryItem {
                    created_by: l.created_by.clone(),
                    comment: l.comment.clone(),
                    empty_layer: false,
                },
                Step::Empty(c) => HistoryItem {
                    created_by: c.clone(),
                    comment: None,
                    empty_layer: true,
                },
            })
            .collect()
    }

    /// Platform object for descriptors.
    pub fn platform_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("architecture".into(), json!(self.arch));
        m.insert("os".into(), json!(self.os));
        if let Some(v) = &self.variant {
            m.insert("variant".into(), json!(v));
        }
        Value::Object(m)
    }

    /// OCI image config for the added layers.
    pub fn config_json(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers().map(|l| sha256_hex(&l.tar_bytes())).collect();
        self.config_json_from(&self.history(), &diff_ids)
    }

    /// OCI image config with explicit history and diff ids (hex), for callers
    /// that stream their layers (the builder's own layers are ignored).
    pub fn config_json_from(&self, history: &[HistoryItem], diff_ids: &[String]) -> Vec<u8> {
        let mut cfg = Map::new();
        if !self.env.is_empty() {
            cfg.insert("Env".into(), json!(self.env));
        }
        if let Some(e) = &self.entrypoint {
            cfg.insert("Entrypoint".into(), json!(e));
        }
        if let Some(c) = &self.cmd {
            cfg.insert("Cmd".into(), json!(c));
        }
        if !self.labels.is_empty() {
            cfg.insert("Labels".into(), json!(self.labels));
        }
        if !self.exposed.is_empty() {
            let ports: Map<String, Value> = self
                .exposed
                .iter()
                .map(|p| (p.clone(), json!({})))
                .collect();
            cfg.insert("ExposedPorts".into(), Value::Object(ports));
        }
        if let Some(u) = &self.user {
            cfg.insert("User".into(), json!(u));
        }
        if let Some(w) = &self.workdir {
            cfg.insert("WorkingDir".into(), json!(w));
        }
        let n = history.len() as u64;
        let hist: Vec<Value> = history
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let t = self.created.saturating_sub(60 * (n - 1 - i as u64));
                let mut m = Map::new();
                m.insert("created".into(), json!(rfc3339(t)));
                m.insert("created_by".into(), json!(h.created_by));
                if let Some(c) = &h.comment {
                    m.insert("comment".into(), json!(c));
                }
                if h.empty_layer {
                    m.insert("empty_layer".into(), json!(true));
                }
                Value::Object(m)
            })
            .collect();
        let mut top = Map::new();
        top.insert("architecture".into(), json!(self.arch));
        top.insert("os".into(), json!(self.os));
        if let Some(v) = &self.variant {
            top.insert("variant".into(), json!(v));
        }
        top.insert("created".into(), json!(rfc3339(self.created)));
        top.insert("config".into(), Value::Object(cfg));
        top.insert(
            "rootfs".into(),
            json!({
                "type": "layers",
                "diff_ids": diff_ids.iter().map(|d| format!("sha256:{d}")).collect::<Vec<_>>(),
            }),
        );
        top.insert("history".into(), Value::Array(hist));
        to_bytes(&Value::Object(top))
    }

    fn prepare(&self, c: Compression) -> Prepared {
        let layers: Vec<PreparedLayer> = self
            .layers()
            .map(|l| {
                let tar = l.tar_bytes();
                let diff_id = sha256_hex(&tar);
                let blob = if c == Compression::None {
                    tar
                } else {
                    compress(&tar, c)
                };
                let desc = Descriptor::of(c.layer_media_type(), &blob);
                PreparedLayer {
                    diff_id,
                    blob,
                    desc,
                }
            })
            .collect();
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config = self.config_json_from(&self.history(), &diff_ids);
        let config_desc = Descriptor::of(MT_OCI_CONFIG, &config);
        let layer_descs: Vec<Descriptor> = layers.iter().map(|l| l.desc.clone()).collect();
        let manifest = oci_manifest_json(&config_desc, &layer_descs);
        let manifest_desc = Descriptor::of(MT_OCI_MANIFEST, &manifest);
        Prepared {
            layers,
            config,
            config_desc,
            manifest,
            manifest_desc,
        }
    }

    fn first_tag(&self) -> Option<&str> {
        self.tags.first().map(String::as_str)
    }

    /// `docker save` as before Docker 25 (uncompressed layers).
    pub fn docker_legacy(&self) -> Vec<u8> {
        docker_legacy_multi(std::slice::from_ref(self))
    }

    /// `docker save` as from Docker 25 on: OCI layout + `manifest.json`.
    /// One `index.json` descriptor per tag (like Docker), each annotated with
    /// `io.containerd.image.name` (normalized ref) and
    /// `org.opencontainers.image.ref.name` (the tag part).
    pub fn docker_oci(&self, c: Compression) -> Vec<u8> {
        let p = self.prepare(c);
        let mut out = Outer::default();
        out.dir("blobs/");
        out.dir("blobs/sha256/");
        for l in &p.layers {
            out.file(&l.desc.blob_path(), l.blob.clone());
        }
        out.file(&p.config_desc.blob_path(), p.config.clone());
        out.file(&p.manifest_desc.blob_path(), p.manifest.clone());
        let mut descs = Vec::new();
        for t in &self.tags {
            let (_, tag) = split_tag(t);
            descs.push(
                p.manifest_desc
                    .clone()
                    .annotate(ANN_CONTAINERD_NAME, &normalized_ref(t))
                    .annotate(ANN_REF_NAME, &tag),
            );
        }
        if descs.is_empty() {
            descs.push(p.manifest_desc.clone());
        }
        out.file("index.json", oci_index_json(&descs));
        out.file("oci-layout", OCI_LAYOUT.to_vec());
        let layer_paths: Vec<String> = p.layers.iter().map(|l| l.desc.blob_path()).collect();
        let srcs: Vec<Descriptor> = p.layers.iter().map(|l| l.desc.clone()).collect();
        let entry = docker_manifest_entry(
            &p.config_desc.blob_path(),
            &self.tags,
            &layer_paths,
            Some(&srcs),
        );
        out.file("manifest.json", to_bytes(&Value::Array(vec![entry])));
        out.sort();
        out.to_tar()
    }

    /// OCI image layout (like skopeo's `oci-archive:`), no `manifest.json`.
    /// Blobs are written in digest order, and never in layer order.
    pub fn oci_archive(&self, c: Compression) -> Vec<u8> {
        self.oci_outer(c).to_tar()
    }

    /// Same as [`ImageBuilder::oci_archive`], unpacked into `dir`.
    pub fn oci_dir(&self, c: Compression, dir: &Path) -> io::Result<()> {
        self.oci_outer(c).to_dir(dir)
    }

    fn oci_outer(&self, c: Compression) -> Outer {
        let p = self.prepare(c);
        let mut out = Outer::default();
        let mut desc = p.manifest_desc.clone();
        if let Some(t) = self.first_tag() {
            desc = desc.annotate(ANN_REF_NAME, t);
        }
        out.file("index.json", oci_index_json(&[desc]));
        out.file("oci-layout", OCI_LAYOUT.to_vec());
        add_oci_blobs(&mut out, &p);
        out.finish_oci(&[p.layers.iter().map(|l| l.desc.blob_path()).collect()]);
        out
    }
}

fn add_oci_blobs(out: &mut Outer, p: &Prepared) {
    out.dir("blobs/");
    out.dir("blobs/sha256/");
    for l in &p.layers {
        out.file(&l.desc.blob_path(), l.blob.clone());
    }
    out.file(&p.config_desc.blob_path(), p.config.clone());
    out.file(&p.manifest_desc.blob_path(), p.manifest.clone());
}

/// `docker save` (pre-25) of several images: one `manifest.json` entry per
/// image, shared layer directories written once.
pub fn docker_legacy_multi(images: &[ImageBuilder]) -> Vec<u8> {
    let mut out = Outer::default();
    let mut entries = Vec::new();
    let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for img in images {
        let p = img.prepare(Compression::None);
        let mut parent: Option<String> = None;
        let mut paths = Vec::new();
        for (i, l) in p.layers.iter().enumerate() {
            let id = legacy_layer_id(parent.as_deref(), &l.diff_id);
            let t = img
                .created
                .saturating_sub(60 * (p.layers.len() - 1 - i) as u64);
            out.dir(&format!("{id}/"));
            out.file(&format!("{id}/VERSION"), b"1.0".to_vec());
            out.file(
                &format!("{id}/json"),
                legacy_layer_json(&id, parent.as_deref(), &rfc3339(t), &img.os),
            );
            out.file(&format!("{id}/layer.tar"), l.blob.clone());
            paths.push(format!("{id}/layer.tar"));
            parent = Some(id);
        }
        let cfg_path = format!("{}.json", p.config_desc.hex);
        out.file(&cfg_path, p.config.clone());
        entries.push(docker_manifest_entry(&cfg_path, &img.tags, &paths, None));
        if let Some(top) = &parent {
            for t in &img.tags {
                let (repo, tag) = split_tag(t);
                repos.entry(repo).or_default().insert(tag, top.clone());
            }
        }
    }
    out.file("manifest.json", to_bytes(&Value::Array(entries)));
    if !repos.is_empty() {
        out.file("repositories", to_bytes(&json!(repos)));
    }
    out.sort();
    out.to_tar()
}

/// OCI archive whose `index.json` points to one nested image index holding
/// one manifest per image, each descriptor with `platform` set.
pub fn oci_archive_multi_platform(images: &[ImageBuilder], c: Compression) -> Vec<u8> {
    let (mut out, manifests, orders) = oci_images(images, c, |img, mut d| {
        d.platform = Some(img.platform_json());
        d
    });
    let index = oci_index_json(&manifests);
    let mut idx_desc = Descriptor::of(MT_OCI_INDEX, &index);
    out.file(&idx_desc.blob_path(), index);
    if let Some(t) = images.first().and_then(|i| i.first_tag()) {
        idx_desc = idx_desc.annotate(ANN_REF_NAME, t);
    }
    out.file("index.json", oci_index_json(&[idx_desc]));
    out.file("oci-layout", OCI_LAYOUT.to_vec());
    out.finish_oci(&orders);
    out.to_tar()
}

/// OCI archive whose `index.json` has one manifest descriptor per image,
/// annotated `org.opencontainers.image.ref.name` = the image's first tag.
pub fn oci_archive_multi_image(images: &[ImageBuilder], c: Compression) -> Vec<u8> {
    let (mut out, manifests, orders) = oci_images(images, c, |img, d| match img.first_tag() {
        Some(t) => d.annotate(ANN_REF_NAME, t),
        None => d,
    });
    out.file("index.json", oci_index_json(&manifests));
    out.file("oci-layout", OCI_LAYOUT.to_vec());
    out.finish_oci(&orders);
    out.to_tar()
}

/// The blobs of several images in one outer archive, with each image's
/// manifest descriptor (adjusted by `describe`) and layer blob order.
fn oci_images(
    images: &[ImageBuilder],
    c: Compression,
    describe: impl Fn(&ImageBuilder, Descriptor) -> Descriptor,
) -> (Outer, Vec<Descriptor>, Vec<Vec<String>>) {
    let mut out = Outer::default();
    let mut manifests = Vec::new();
    let mut orders = Vec::new();
    for img in images {
        let p = img.prepare(c);
        manifests.push(describe(img, p.manifest_desc.clone()));
        add_oci_blobs(&mut out, &p);
        orders.push(p.layers.iter().map(|l| l.desc.blob_path()).collect());
    }
    (out, manifests, orders)
}

// ---------------------------------------------------------------------------
// Outer archive assembly
// ---------------------------------------------------------------------------

/// In-memory list of outer-archive entries (deduplicated by path).
#[derive(Default)]
struct Outer {
    entries: Vec<(String, Option<Vec<u8>>)>,
    seen: HashSet<String>,
}

impl Outer {
    fn dir(&mut self, path: &str) {
        if self.seen.insert(path.to_string()) {
            self.entries.push((path.to_string(), None));
        }
    }
    fn file(&mut self, path: &str, data: Vec<u8>) {
        if self.seen.insert(path.to_string()) {
            self.entries.push((path.to_string(), Some(data)));
        }
    }
    fn sort(&mut self) {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// Sort by path (so blobs are in digest order); if for any image that
    /// puts its distinct layers in layer order, reverse the blob run.
    fn finish_oci(&mut self, layer_orders: &[Vec<String>]) {
        self.sort();
        let pos: HashMap<&str, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.as_str(), i))
            .collect();
        let in_layer_order = layer_orders.iter().any(|order| {
            let mut seen = HashSet::new();
            let idx: Vec<usize> = order
                .iter()
                .filter(|p| seen.insert(p.as_str()))
                .filter_map(|p| pos.get(p.as_str()).copied())
                .collect();
            idx.len() >= 2 && idx.windows(2).all(|w| w[0] < w[1])
        });
        if in_layer_order {
            let blob: Vec<usize> = (0..self.entries.len())
                .filter(|&i| {
                    self.entries[i].1.is_some() && self.entries[i].0.starts_with("blobs/sha256/")
                })
                .collect();
            if let (Some(&a), Some(&b)) = (blob.first(), blob.last()) {
                self.entries[a..=b].reverse();
            }
        }
    }

    fn to_tar(&self) -> Vec<u8> {
        let cap = self
            .entries
            .iter()
            .map(|(_, d)| 1024 + d.as_ref().map_or(0, Vec::len))
            .sum::<usize>()
            + 1024;
        let mut t = OuterTar::new(Vec::with_capacity(cap));
        for (p, d) in &self.entries {
            match d {
                None => t.add_dir(p),
                Some(d) => t.add_bytes(p, d),
            }
            .expect("in-memory tar");
        }
        t.finish().expect("in-memory tar")
    }

    fn to_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (p, d) in &self.entries {
            let target = dir.join(p.trim_end_matches('/'));
            match d {
                None => std::fs::create_dir_all(&target)?,
                Some(d) => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&target, d)?;
                }
            }
        }
        Ok(())
    }
}

/// Streaming writer of an outer (archive-level) tar: ustar headers, mtime 0,
/// root-owned, mode 0644 files / 0755 dirs.
pub struct OuterTar<W: Write> {
    tar: TarStream<W>,
}

impl<W: Write> OuterTar<W> {
    pub fn new(w: W) -> Self {
        OuterTar {
            tar: TarStream::new(w, TarFormat::Pax),
        }
    }
    pub fn add_dir(&mut self, path: &str) -> io::Result<()> {
        let mut m = EntryMeta::dir(path, 0);
        m.name = path.as_bytes().to_vec();
        self.tar.append(&m, &mut io::empty())
    }
    pub fn add_bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        self.add_reader(path, data.len() as u64, &mut &data[..])
    }
    /// Add a file of `size` bytes read from `data` (e.g. a temp file).
    pub fn add_reader(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut m = EntryMeta::file(path, size, 0);
        m.name = path.as_bytes().to_vec();
        self.tar.append(&m, data)
    }
    pub fn finish(self) -> io::Result<W> {
        self.tar.finish()
    }
}

// ---------------------------------------------------------------------------
// Sample image
// ---------------------------------------------------------------------------

/// A small (< 2 MB) but feature-rich image (6 layers, 8 empty-layer
/// history entries). Layers (index among non-empty layers):
///
/// 0. `ADD file:... in /`: base rootfs (dirs, files, symlinks `bin/sh` and
///    `usr/bin/env`, hardlink `usr/bin/perl5.36.0` -> `usr/bin/perl`,
///    `/tmp` 1777)
/// 1. `apt-get update && apt-get install ...`: apt lists (a directory tree),
///    curl + libcurl (+ symlink), a 600 KB `var/log/apt/term.log`, modifies
///    `var/lib/dpkg/status`
/// 2. `rm -rf /var/lib/apt/lists /var/log/apt/term.log`: directory whiteout
///    + file whiteout (the log and the lists are wasted space)
/// 3. `COPY app/ /app/`: app files, the same logo at two paths
///    (`app/static/logo.png`, `app/public/logo.png`), `app/cache/` with
///    three files
/// 4. `useradd ... && chmod +x /app/run.sh && update-ca-certificates`:
///    `etc/passwd` and `etc/group` modified, `app/run.sh` chmod only (same
///    content and mtime), `etc/ssl/certs/ca-certificates.crt` rewritten
///    identically (same content, mode and mtime), new `home/app/` owned by
///    uid 1000
/// 5. `rm -rf /app/cache && mkdir /app/cache && echo ok > ...`: opaque
///    `app/cache/` with one entry (`ready`) re-added
///
/// Empty layers: `CMD ["bash"]` after the base, `WORKDIR`, and `ENV`,
/// `EXPOSE`, `USER`, `ENTRYPOINT`, `CMD`, `LABEL` at the end. The config
/// sets Env, Cmd, Entrypoint, Labels, ExposedPorts, User and WorkingDir.
pub fn sample_image() -> ImageBuilder {
    let os_release = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n".to_vec();
    let passwd_v1 = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".to_vec();
    let mut passwd_v2 = passwd_v1.clone();
    passwd_v2.extend_from_slice(b"app:x:1000:1000::/home/app:/bin/sh\n");
    let group_v1 = b"root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n".to_vec();
    let mut group_v2 = group_v1.clone();
    group_v2.extend_from_slice(b"app:x:1000:\n");
    let dpkg_v1 = pseudo_text(11, 24_000);
    let mut dpkg_v2 = dpkg_v1.clone();
    dpkg_v2.extend_from_slice(&pseudo_text(12, 6_000));
    let ca_bundle = pseudo_text(13, 60_000);
    let logo = pseudo_bytes(14, 20_000);
    let run_sh = b"#!/bin/sh\nset -e\nexec python3 /app/main.py \"$@\"\n".to_vec();

    let base = LayerBuilder::new(
        "/bin/sh -c #(nop) ADD file:4b1be1de1a1e3a1b3fd1e7d12c0ce6e6b0e1a7c5e2b2d8a8f1f3c9e2a7b6d5c4 in / ",
    )
    .dir("bin")
    .file_with("bin/bash", &pseudo_bytes(1, 120_000), 0o755, 0, 0)
    .symlink("bin/sh", "bash")
    .file_with("bin/ls", &pseudo_bytes(2, 40_000), 0o755, 0, 0)
    .dir("etc")
    .file("etc/os-release", &os_release)
    .file("etc/passwd", &passwd_v1)
    .file("etc/group", &group_v1)
    .file("etc/hostname", b"localhost\n")
    .dir("home")
    .dir("root")
    .dir_with("tmp", 0o1777, 0, 0)
    .dir("usr")
    .dir("usr/bin")
    .file_with("usr/bin/perl", &pseudo_bytes(3, 30_000), 0o755, 0, 0)
    .hardlink("usr/bin/perl5.36.0", "usr/bin/perl")
    .symlink("usr/bin/env", "/bin/env")
    .dir("usr/lib")
    .dir("usr/lib/x86_64-linux-gnu")
    .file("usr/lib/x86_64-linux-gnu/libc.so.6", &pseudo_bytes(4, 150_000))
    .dir("usr/share")
    .dir("usr/share/doc")
    .file("usr/share/doc/README", &pseudo_text(5, 3_000))
    .dir("var")
    .dir("var/lib")
    .dir("var/lib/dpkg")
    .file("var/lib/dpkg/status", &dpkg_v1)
    .dir("var/log")
    .dir("var/lib/apt")
    .dir("var/lib/apt/lists");

    let apt = LayerBuilder::new(
        "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl ca-certificates",
    )
    .mtime(DEFAULT_MTIME + 600)
    .dir("etc")
    .dir("etc/ssl")
    .dir("etc/ssl/certs")
    .file("etc/ssl/certs/ca-certificates.crt", &ca_bundle)
    .dir("usr")
    .dir("usr/bin")
    .file_with("usr/bin/curl", &pseudo_bytes(21, 60_000), 0o755, 0, 0)
    .dir("usr/lib")
    .dir("usr/lib/x86_64-linux-gnu")
    .file(
        "usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0",
        &pseudo_bytes(22, 80_000),
    )
    .symlink("usr/lib/x86_64-linux-gnu/libcurl.so.4", "libcurl.so.4.8.0")
    .dir("var")
    .dir("var/lib")
    .dir("var/lib/apt")
    .dir("var/lib/apt/lists")
    .file(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
        &pseudo_text(23, 40_000),
    )
    .dir("var/lib/apt/lists/partial")
    .file(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
        &pseudo_bytes(24, 120_000),
    )
    .file("var/lib/apt/lists/lock", b"")
    .dir("var/lib/dpkg")
    .file("var/lib/dpkg/status", &dpkg_v2)
    .dir("var/log")
    .dir("var/log/apt")
    .file("var/log/apt/term.log", &pseudo_text(25, 600_000))
    .file("var/log/apt/history.log", &pseudo_text(26, 2_000));

    let cleanup = LayerBuilder::new("/bin/sh -c rm -rf /var/lib/apt/lists /var/log/apt/term.log")
        .mtime(DEFAULT_MTIME + 900)
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/apt")
        .whiteout("var/lib/apt/lists")
        .dir("var/log")
        .dir("var/log/apt")
        .whiteout("var/log/apt/term.log");

    let app = LayerBuilder::new("COPY app/ /app/ # buildkit")
        .comment("buildkit.dockerfile.v0")
        .mtime(DEFAULT_MTIME + 1200)
        .dir("app")
        .file("app/main.py", &pseudo_text(31, 8_000))
        .file("app/run.sh", &run_sh)
        .file("app/requirements.txt", b"flask==3.0.0\nrequests==2.31.0\n")
        .dir("app/static")
        .file("app/static/logo.png", &logo)
        .dir("app/public")
        .file("app/public/logo.png", &logo)
        .dir("app/cache")
        .file("app/cache/a.bin", &pseudo_bytes(32, 10_000))
        .file("app/cache/b.bin", &pseudo_bytes(33, 10_000))
        .dir("app/cache/sub")
        .file("app/cache/sub/c.txt", &pseudo_text(34, 1_000));

    let users = LayerBuilder::new(
        "RUN /bin/sh -c useradd -m -u 1000 app && chmod +x /app/run.sh && update-ca-certificates # buildkit",
    )
    .comment("buildkit.dockerfile.v0")
    .mtime(DEFAULT_MTIME + 1500)
    .dir("app")
    .mtime(DEFAULT_MTIME + 1200)
    .file_with("app/run.sh", &run_sh, 0o755, 0, 0)
    .mtime(DEFAULT_MTIME + 1500)
    .dir("etc")
    .file("etc/passwd", &passwd_v2)
    .file("etc/group", &group_v2)
    .mtime(DEFAULT_MTIME + 600)
    .file("etc/ssl/certs/ca-certificates.crt", &ca_bundle)
    .mtime(DEFAULT_MTIME + 1500)
    .dir("home")
    .dir_with("home/app", 0o755, 1000, 1000)
    .file_with("home/app/.profile", b"# ~/.profile\n", 0o644, 1000, 1000);

    let cache = LayerBuilder::new(
        "RUN /bin/sh -c rm -rf /app/cache && mkdir /app/cache && echo ok > /app/cache/ready # buildkit",
    )
    .comment("buildkit.dockerfile.v0")
    .mtime(DEFAULT_MTIME + 1800)
    .dir("app")
    .dir("app/cache")
    .opaque("app/cache")
    .file("app/cache/ready", b"ok\n");

    ImageBuilder::new()
        .tag("layerscope/sample:latest")
        .created(DEFAULT_MTIME + 1800)
        .layer(base)
        .empty_layer("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(apt)
        .layer(cleanup)
        .empty_layer("WORKDIR /app")
        .layer(app)
        .layer(users)
        .layer(cache)
        .empty_layer("ENV APP_ENV=production")
        .empty_layer("EXPOSE map[8080/tcp:{}]")
        .empty_layer("USER app")
        .empty_layer("ENTRYPOINT [\"/app/run.sh\"]")
        .empty_layer("CMD [\"--port\" \"8080\"]")
        .empty_layer("LABEL org.opencontainers.image.title=sample")
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("APP_ENV=production")
        .entrypoint(&["/app/run.sh"])
        .cmd(&["--port", "8080"])
        .label("org.opencontainers.image.title", "sample")
        .label("org.opencontainers.image.version", "1.0.0")
        .expose("8080/tcp")
        .user("app")
        .workdir("/app")
}

/// The next build of [`sample_image`], for diffs: the same six layers plus
/// an upgrade layer (text and binary files modified, one added, one deleted,
/// a mode change) and an app layer (main.py edited, a config added, a logo
/// removed), with a new version label and an extra environment variable.
pub fn sample_image_v2() -> ImageBuilder {
    let os_release = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12.5 (bookworm)\"\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n".to_vec();
    let mut dpkg = pseudo_text(11, 24_000);
    dpkg.extend_from_slice(&pseudo_text(12, 6_000));
    dpkg.extend_from_slice(b"\nPackage: jq\nStatus: install ok installed\nVersion: 1.6-2.1\n");
    let mut main_py = pseudo_text(31, 8_000);
    main_py.extend_from_slice(b"\n\ndef healthz():\n    return \"ok\"\n");
    let upgrade =
        LayerBuilder::new("RUN /bin/sh -c apt-get upgrade -y && apt-get install -y jq # buildkit")
            .comment("buildkit.dockerfile.v0")
            .mtime(DEFAULT_MTIME + 2400)
            .dir("etc")
            .file("etc/os-release", &os_release)
            .dir("usr")
            .dir("usr/bin")
            .file_with("usr/bin/curl", &pseudo_bytes(41, 64_000), 0o755, 0, 0)
            .file_with("usr/bin/jq", &pseudo_bytes(42, 30_000), 0o755, 0, 0)
            .dir("usr/share")
            .dir("usr/share/doc")
            .whiteout("usr/share/doc/README")
            .dir("var")
            .dir("var/lib")
            .dir("var/lib/dpkg")
            .file("var/lib/dpkg/status", &dpkg)
            .mtime(DEFAULT_MTIME)
            .dir("bin")
            .file_with("bin/ls", &pseudo_bytes(2, 40_000), 0o700, 0, 0);
    let app = LayerBuilder::new("COPY app/ /app/ # buildkit")
        .comment("buildkit.dockerfile.v0")
        .mtime(DEFAULT_MTIME + 2700)
        .dir("app")
        .file("app/main.py", &main_py)
        .file("app/config.yaml", b"port: 8080\nworkers: 4\n")
        .dir("app/public")
        .whiteout("app/public/logo.png");
    sample_image()
        .no_tags()
        .tag("layerscope/sample:2")
        .created(DEFAULT_MTIME + 2700)
        .layer(upgrade)
        .layer(app)
        .env("APP_WORKERS=4")
        .label("org.opencontainers.image.version", "2.0.0")
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// (name bytes, entry type byte, link name bytes, data) of every entry,
    /// with long names / PAX resolved by the tar crate.
    type TarEntry = (Vec<u8>, u8, Option<Vec<u8>>, Vec<u8>, tar::Header);

    fn read_tar(data: &[u8]) -> Vec<TarEntry> {
        let mut ar = tar::Archive::new(Cursor::new(data));
        let mut out = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path_bytes().to_vec();
            let link = e.link_name_bytes().map(|l| l.to_vec());
            let ty = e.header().entry_type().as_byte();
            let h = e.header().clone();
            let mut d = Vec::new();
            e.read_to_end(&mut d).unwrap();
            out.push((name, ty, link, d, h));
        }
        out
    }

    fn files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
        read_tar(data)
            .into_iter()
            .filter(|e| e.1 == b'0')
            .map(|e| (String::from_utf8(e.0).unwrap(), e.3))
            .collect()
    }

    fn names(data: &[u8]) -> Vec<String> {
        read_tar(data)
            .into_iter()
            .map(|e| String::from_utf8_lossy(&e.0).into_owned())
            .collect()
    }

    fn small_image() -> ImageBuilder {
        ImageBuilder::new()
            .tag("demo/app:1.0")
            .tag("demo/app:latest")
            .layer(
                LayerBuilder::new("ADD rootfs")
                    .dir("etc")
                    .file("etc/a", b"a1"),
            )
            .empty_layer("ENV X=1")
            .layer(LayerBuilder::new("RUN b").dir("usr").file("usr/b", b"bbbb"))
            .layer(
                LayerBuilder::new("RUN c")
                    .file("etc/a", b"a2")
                    .whiteout("usr/b"),
            )
            .layer(LayerBuilder::new("RUN d").file("d", b"d"))
            .env("X=1")
            .cmd(&["sh"])
    }

    fn decompress(data: &[u8], mt: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if mt.ends_with("+gzip") {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .unwrap();
        } else if mt.ends_with("+zstd") {
            out = zstd::decode_all(data).unwrap();
        } else {
            out = data.to_vec();
        }
        out
    }

    fn blob<'a>(f: &'a BTreeMap<String, Vec<u8>>, digest: &str) -> &'a Vec<u8> {
        let hex = digest.strip_prefix("sha256:").unwrap();
        let b = &f[&format!("blobs/sha256/{hex}")];
        assert_eq!(sha256_hex(b), hex, "blob content matches its name");
        b
    }

    /// Check descriptor size+digest, return blob bytes.
    fn resolve<'a>(f: &'a BTreeMap<String, Vec<u8>>, d: &Value) -> &'a Vec<u8> {
        let b = blob(f, d["digest"].as_str().unwrap());
        assert_eq!(d["size"].as_u64().unwrap(), b.len() as u64);
        b
    }

    /// Follow an OCI manifest; check config diff_ids against layers.
    fn check_manifest(f: &BTreeMap<String, Vec<u8>>, mbytes: &[u8]) -> (Value, Vec<Vec<u8>>) {
        let m: Value = serde_json::from_slice(mbytes).unwrap();
        assert_eq!(m["schemaVersion"], 2);
        assert_eq!(m["mediaType"], MT_OCI_MANIFEST);
        let cfg: Value = serde_json::from_slice(resolve(f, &m["config"])).unwrap();
        let diff_ids = cfg["rootfs"]["diff_ids"].as_array().unwrap();
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(diff_ids.len(), layers.len());
        let mut tars = Vec::new();
        for (l, d) in layers.iter().zip(diff_ids) {
            let mt = l["mediaType"].as_str().unwrap();
            let tar = decompress(resolve(f, l), mt);
            assert_eq!(format!("sha256:{}", sha256_hex(&tar)), d.as_str().unwrap());
            tars.push(tar);
        }
        (cfg, tars)
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn layer_entries_roundtrip() {
        let long = format!("usr/share/{}/file.txt", "d".repeat(120));
        let l = LayerBuilder::new("x")
            .dir("./etc")
            .file("/etc/passwd", b"root")
            .file_with("bin/tool", b"xx", 0o4755, 5, 6)
            .symlink("bin/sh", "bash")
            .hardlink("bin/tool2", "bin/tool")
            .fifo("run/fifo")
            .char_device("dev/null", 1, 3)
            .whiteout("var/old")
            .whiteout("top")
            .opaque("opt/dir")
            .mtime(42)
            .raw_name(b"../evil", b"e")
            .raw_name(b"/abs/path", b"")
            .raw_name(b"bad\xff\xfename", b"z")
            .file(&long, b"long")
            .symlink("lnk", &"t".repeat(150));
        let es = read_tar(&l.tar_bytes());
        let got: Vec<(Vec<u8>, u8)> = es.iter().map(|e| (e.0.clone(), e.1)).collect();
        let want: Vec<(&[u8], u8)> = vec![
            (b"etc/", b'5'),
            (b"etc/passwd", b'0'),
            (b"bin/tool", b'0'),
            (b"bin/sh", b'2'),
            (b"bin/tool2", b'1'),
            (b"run/fifo", b'6'),
            (b"dev/null", b'3'),
            (b"var/.wh.old", b'0'),
            (b".wh.top", b'0'),
            (b"opt/dir/.wh..wh..opq", b'0'),
            (b"../evil", b'0'),
            (b"/abs/path", b'0'),
            (b"bad\xff\xfename", b'0'),
            (long.as_bytes(), b'0'),
            (b"lnk", b'2'),
        ];
        let want: Vec<(Vec<u8>, u8)> = want.into_iter().map(|(n, t)| (n.to_vec(), t)).collect();
        assert_eq!(got, want);
        let tool = &es[2].4;
        assert_eq!(tool.mode().unwrap(), 0o4755);
        assert_eq!(tool.uid().unwrap(), 5);
        assert_eq!(tool.gid().unwrap(), 6);
        assert_eq!(tool.mtime().unwrap(), DEFAULT_MTIME);
        assert_eq!(es[3].2.as_deref(), Some(&b"bash"[..]));
        assert_eq!(es[4].2.as_deref(), Some(&b"bin/tool"[..]));
        assert_eq!(es[4].4.size().unwrap(), 0);
        assert_eq!(es[6].4.device_major().unwrap(), Some(1));
        assert_eq!(es[6].4.device_minor().unwrap(), Some(3));
        assert_eq!(es[10].4.mtime().unwrap(), 42);
        assert_eq!(es[13].3, b"long");
        assert_eq!(es[14].2.as_deref(), Some("t".repeat(150).as_bytes()));
        assert_eq!(tool.as_gnu().map(|_| ()), Some(()));
    }

    #[test]
    fn pax_format_long_names() {
        let split = format!("{}/{}", "p".repeat(120), "n".repeat(60));
        let unsplit = "q".repeat(180);
        let l = LayerBuilder::new("x")
            .format(TarFormat::Pax)
            .file(&split, b"1")
            .file(&unsplit, b"2")
            .symlink("s", &"t".repeat(130))
            .file("short", b"3");
        let tar = l.tar_bytes();
        let es = read_tar(&tar);
        let names: Vec<Vec<u8>> = es.iter().map(|e| e.0.clone()).collect();
        assert_eq!(
            names,
            vec![
                split.clone().into_bytes(),
                unsplit.into_bytes(),
                b"s".to_vec(),
                b"short".to_vec()
            ]
        );
        assert!(es[0].4.as_ustar().is_some());
        assert_eq!(es[2].2.as_deref(), Some("t".repeat(130).as_bytes()));
        // raw headers: the split name uses the prefix field (no extra entry),
        // the unsplittable name and long link use PAX 'x' headers.
        let mut ar = tar::Archive::new(Cursor::new(&tar));
        let raw: Vec<u8> = ar
            .entries()
            .unwrap()
            .raw(true)
            .map(|e| e.unwrap().header().entry_type().as_byte())
            .collect();
        assert_eq!(raw, b"0x0x20".to_vec());
    }

    #[test]
    fn docker_legacy_layout() {
        let img = small_image();
        let ar = img.docker_legacy();
        assert_eq!(ar, img.docker_legacy(), "reproducible");
        for e in read_tar(&ar) {
            assert_eq!(e.4.mtime().unwrap(), 0);
        }
        let f = files(&ar);
        let m: Value = serde_json::from_slice(&f["manifest.json"]).unwrap();
        let m = m.as_array().unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["RepoTags"], json!(["demo/app:1.0", "demo/app:latest"]));
        let cfg_name = m[0]["Config"].as_str().unwrap();
        let cfg_bytes = &f[cfg_name];
        assert_eq!(format!("{}.json", sha256_hex(cfg_bytes)), cfg_name);
        assert_eq!(cfg_bytes, &img.config_json());
        let cfg: Value = serde_json::from_slice(cfg_bytes).unwrap();
        let layers = m[0]["Layers"].as_array().unwrap();
        assert_eq!(layers.len(), 4);
        let diff_ids = cfg["rootfs"]["diff_ids"].as_array().unwrap();
        for (l, d) in layers.iter().zip(diff_ids) {
            let l = l.as_str().unwrap();
            assert!(l.ends_with("/layer.tar"));
            let dir = l.trim_end_matches("layer.tar");
            assert_eq!(f[&format!("{dir}VERSION")], b"1.0");
            assert!(f.contains_key(&format!("{dir}json")));
            assert_eq!(format!("sha256:{}", sha256_hex(&f[l])), d.as_str().unwrap());
        }
        let third = files(&f[layers[2].as_str().unwrap()]);
        assert!(third.contains_key("usr/.wh.b"));
        assert_eq!(third["etc/a"], b"a2");
        let repos: Value = serde_json::from_slice(&f["repositories"]).unwrap();
        let top = layers[3].as_str().unwrap().split('/').next().unwrap();
        assert_eq!(repos["demo/app"]["1.0"], top);
        assert_eq!(repos["demo/app"]["latest"], top);
        // history / config
        let h = cfg["history"].as_array().unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h[1]["empty_layer"], true);
        assert!(h[0].get("empty_layer").is_none());
        assert_eq!(cfg["config"]["Env"], json!(["X=1"]));
        assert_eq!(cfg["architecture"], "amd64");
        assert_eq!(cfg["os"], "linux");
    }

    #[test]
    fn docker_oci_layout() {
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let img = small_image();
            let ar = img.docker_oci(c);
            assert_eq!(ar, img.docker_oci(c));
            let n = names(&ar);
            assert!(n.contains(&"blobs/".to_string()));
            assert!(n.contains(&"oci-layout".to_string()));
            let f = files(&ar);
            let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
            let mans = idx["manifests"].as_array().unwrap();
            assert_eq!(mans.len(), 2, "one descriptor per tag");
            assert_eq!(
                mans[0]["annotations"][ANN_CONTAINERD_NAME],
                "docker.io/demo/app:1.0"
            );
            assert_eq!(mans[0]["annotations"][ANN_REF_NAME], "1.0");
            assert_eq!(mans[1]["annotations"][ANN_REF_NAME], "latest");
            let (cfg, tars) = check_manifest(&f, resolve(&f, &mans[0]));
            let m: Value = serde_json::from_slice(resolve(&f, &mans[0])).unwrap();
            for l in m["layers"].as_array().unwrap() {
                assert_eq!(l["mediaType"], c.layer_media_type());
            }
            assert_eq!(tars.len(), 4);
            assert_eq!(cfg["history"].as_array().unwrap().len(), 5);
            let dm: Value = serde_json::from_slice(&f["manifest.json"]).unwrap();
            let dm = &dm[0];
            let cfg_path = dm["Config"].as_str().unwrap();
            assert!(cfg_path.starts_with("blobs/sha256/"));
            assert_eq!(serde_json::from_slice::<Value>(&f[cfg_path]).unwrap(), cfg);
            let lp = dm["Layers"].as_array().unwrap();
            for (p, l) in lp.iter().zip(m["layers"].as_array().unwrap()) {
                let digest = l["digest"].as_str().unwrap();
                assert_eq!(
                    p.as_str().unwrap(),
                    format!("blobs/sha256/{}", &digest[7..])
                );
                assert_eq!(dm["LayerSources"][digest]["size"], l["size"]);
            }
        }
    }

    #[test]
    fn oci_archive_layout_and_blob_order() {
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let img = small_image();
            let ar = img.oci_archive(c);
            assert_eq!(ar, img.oci_archive(c));
            let f = files(&ar);
            assert!(!f.contains_key("manifest.json"));
            assert_eq!(f["oci-layout"], OCI_LAYOUT);
            let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
            let mans = idx["manifests"].as_array().unwrap();
            assert_eq!(mans.len(), 1);
            assert_eq!(mans[0]["annotations"][ANN_REF_NAME], "demo/app:1.0");
            let mbytes = resolve(&f, &mans[0]);
            let (_, tars) = check_manifest(&f, mbytes);
            assert_eq!(files(&tars[0])["etc/a"], b"a1");
            // Blob order in the archive differs from layer order.
            let m: Value = serde_json::from_slice(mbytes).unwrap();
            let layer_paths: Vec<String> = m["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("blobs/sha256/{}", &l["digest"].as_str().unwrap()[7..]))
                .collect();
            let order: Vec<String> = names(&ar)
                .into_iter()
                .filter(|n| layer_paths.contains(n))
                .collect();
            assert_eq!(order.len(), layer_paths.len());
            assert_ne!(order, layer_paths, "{c:?}");
        }
    }

    #[test]
    fn blob_order_never_layer_order() {
        // Many small images: sorting alone would sometimes give layer order.
        for seed in 0..40u64 {
            let img = ImageBuilder::new()
                .layer(LayerBuilder::new("a").file("a", &pseudo_text(seed, 10)))
                .layer(LayerBuilder::new("b").file("b", &pseudo_text(seed + 100, 10)));
            let ar = img.oci_archive(Compression::None);
            let f = files(&ar);
            let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
            let m: Value = serde_json::from_slice(resolve(&f, &idx["manifests"][0])).unwrap();
            let lp: Vec<String> = m["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("blobs/sha256/{}", &l["digest"].as_str().unwrap()[7..]))
                .collect();
            let order: Vec<String> = names(&ar).into_iter().filter(|n| lp.contains(n)).collect();
            assert_ne!(order, lp);
        }
    }

    #[test]
    fn oci_dir_matches_archive() {
        let img = small_image();
        let tmp = tempfile::tempdir().unwrap();
        img.oci_dir(Compression::Gzip, tmp.path()).unwrap();
        let f = files(&img.oci_archive(Compression::Gzip));
        for (p, d) in &f {
            assert_eq!(&std::fs::read(tmp.path().join(p)).unwrap(), d, "{p}");
        }
        assert!(tmp.path().join("blobs/sha256").is_dir());
    }

    #[test]
    fn docker_legacy_multi_shares_layers() {
        let base = LayerBuilder::new("ADD base").file("base", b"base");
        let a = ImageBuilder::new()
            .tag("a:1")
            .layer(base.clone())
            .layer(LayerBuilder::new("RUN a").file("a", b"a"));
        let b = ImageBuilder::new()
            .tag("b:1")
            .layer(base)
            .layer(LayerBuilder::new("RUN b").file("b", b"b"));
        let ar = docker_legacy_multi(&[a, b]);
        let n = names(&ar);
        let layer_tars: Vec<&String> = n.iter().filter(|n| n.ends_with("layer.tar")).collect();
        assert_eq!(layer_tars.len(), 3, "shared base written once");
        let uniq: HashSet<&String> = n.iter().collect();
        assert_eq!(uniq.len(), n.len(), "no duplicate paths");
        let f = files(&ar);
        let m: Value = serde_json::from_slice(&f["manifest.json"]).unwrap();
        let m = m.as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["Layers"][0], m[1]["Layers"][0]);
        assert_ne!(m[0]["Layers"][1], m[1]["Layers"][1]);
        for e in m {
            assert!(f.contains_key(e["Config"].as_str().unwrap()));
            for l in e["Layers"].as_array().unwrap() {
                assert!(f.contains_key(l.as_str().unwrap()));
            }
        }
        let repos: Value = serde_json::from_slice(&f["repositories"]).unwrap();
        assert!(repos["a"]["1"].is_string() && repos["b"]["1"].is_string());
    }

    #[test]
    fn same_layer_twice_in_legacy_gets_two_dirs() {
        let l = LayerBuilder::new("RUN x").file("x", b"x");
        let img = ImageBuilder::new().layer(l.clone()).layer(l);
        let f = files(&img.docker_legacy());
        let m: Value = serde_json::from_slice(&f["manifest.json"]).unwrap();
        assert_ne!(m[0]["Layers"][0], m[0]["Layers"][1]);
        // In OCI form it is one blob referenced twice.
        let f = files(&img.oci_archive(Compression::Gzip));
        let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
        let (_, tars) = check_manifest(&f, resolve(&f, &idx["manifests"][0]));
        assert_eq!(tars.len(), 2);
    }

    #[test]
    fn multi_platform_index() {
        let amd = small_image();
        let arm = small_image()
            .platform("linux", "arm64", Some("v8"))
            .layer(LayerBuilder::new("RUN arm").file("arm", b"arm"));
        let ar = oci_archive_multi_platform(&[amd, arm], Compression::Zstd);
        let f = files(&ar);
        assert!(!f.contains_key("manifest.json"));
        let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
        let top = idx["manifests"].as_array().unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0]["mediaType"], MT_OCI_INDEX);
        let nested: Value = serde_json::from_slice(resolve(&f, &top[0])).unwrap();
        let mans = nested["manifests"].as_array().unwrap();
        assert_eq!(mans.len(), 2);
        assert_eq!(
            mans[0]["platform"],
            json!({"architecture":"amd64","os":"linux"})
        );
        assert_eq!(
            mans[1]["platform"],
            json!({"architecture":"arm64","os":"linux","variant":"v8"})
        );
        let (cfg0, t0) = check_manifest(&f, resolve(&f, &mans[0]));
        let (cfg1, t1) = check_manifest(&f, resolve(&f, &mans[1]));
        assert_eq!((t0.len(), t1.len()), (4, 5));
        assert_eq!(cfg1["architecture"], "arm64");
        assert_eq!(cfg1["variant"], "v8");
        assert!(cfg0.get("variant").is_none());
        let n = names(&ar);
        let uniq: HashSet<&String> = n.iter().collect();
        assert_eq!(uniq.len(), n.len(), "shared blobs written once");
    }

    #[test]
    fn multi_image_index() {
        let a = small_image().tag("first:1");
        let b = ImageBuilder::new()
            .tag("second:2")
            .layer(LayerBuilder::new("x").file("x", b"x"));
        let ar = oci_archive_multi_image(&[a, b], Compression::Gzip);
        let f = files(&ar);
        let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
        let mans = idx["manifests"].as_array().unwrap();
        assert_eq!(mans.len(), 2);
        assert_eq!(mans[0]["annotations"][ANN_REF_NAME], "demo/app:1.0");
        assert_eq!(mans[1]["annotations"][ANN_REF_NAME], "second:2");
        for m in mans {
            check_manifest(&f, resolve(&f, m));
        }
    }

    #[test]
    fn sample_image_properties() {
        let img = sample_image();
        let ar = img.docker_legacy();
        assert!(ar.len() < 2 * 1024 * 1024, "sample is {} bytes", ar.len());
        let layers: Vec<&LayerBuilder> = img.layers().collect();
        assert!(layers.len() >= 6);
        let h = img.history();
        assert!(h.iter().any(|h| h.empty_layer));
        let all: Vec<Vec<TarEntry>> = layers.iter().map(|l| read_tar(&l.tar_bytes())).collect();
        let has = |pred: &dyn Fn(&TarEntry) -> bool| all.iter().flatten().any(pred);
        assert!(has(&|e| e.1 == b'1'), "hardlink");
        assert!(has(&|e| e.1 == b'2'), "symlink");
        assert!(has(&|e| e.0.ends_with(b".wh..wh..opq")), "opaque");
        assert!(has(&|e| e.0 == b"var/lib/apt/.wh.lists"), "dir whiteout");
        assert!(
            has(&|e| e.0 == b"var/log/apt/.wh.term.log"),
            "file whiteout"
        );
        assert!(has(
            &|e| e.0 == b"var/log/apt/term.log" && e.3.len() >= 600_000
        ));
        // same content at two paths
        let app = files(&layers[3].tar_bytes());
        assert_eq!(app["app/static/logo.png"], app["app/public/logo.png"]);
        // metadata-only change of app/run.sh
        let a = all[3].iter().find(|e| e.0 == b"app/run.sh").unwrap();
        let b = all[4].iter().find(|e| e.0 == b"app/run.sh").unwrap();
        assert_eq!(a.3, b.3);
        assert_ne!(a.4.mode().unwrap(), b.4.mode().unwrap());
        assert_eq!(a.4.mtime().unwrap(), b.4.mtime().unwrap());
        // identical rewrite of the CA bundle
        let ca = b"etc/ssl/certs/ca-certificates.crt";
        let a = all[1].iter().find(|e| e.0 == ca).unwrap();
        let b = all[4].iter().find(|e| e.0 == ca).unwrap();
        assert_eq!(a.3, b.3);
        assert_eq!(a.4.mode().unwrap(), b.4.mode().unwrap());
        assert_eq!(a.4.mtime().unwrap(), b.4.mtime().unwrap());
        // modified file
        let a = all[0].iter().find(|e| e.0 == b"etc/passwd").unwrap();
        let b = all[4].iter().find(|e| e.0 == b"etc/passwd").unwrap();
        assert_ne!(a.3, b.3);
        let cfg: Value = serde_json::from_slice(&img.config_json()).unwrap();
        let c = &cfg["config"];
        for k in [
            "Env",
            "Cmd",
            "Entrypoint",
            "Labels",
            "ExposedPorts",
            "User",
            "WorkingDir",
        ] {
            assert!(c.get(k).is_some(), "{k}");
        }
        // all writers work on it
        let f = files(&img.oci_archive(Compression::Gzip));
        let idx: Value = serde_json::from_slice(&f["index.json"]).unwrap();
        let (_, tars) = check_manifest(&f, resolve(&f, &idx["manifests"][0]));
        assert_eq!(tars.len(), layers.len());
    }

    #[test]
    fn pseudo_reader_is_buffer_independent() {
        let a = pseudo_text(7, 100_000);
        let mut b = Vec::new();
        let mut r = PseudoReader::new(7, 100_000, ContentKind::Text);
        let mut buf = [0u8; 777];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            b.extend_from_slice(&buf[..n]);
        }
        assert_eq!(a, b);
        assert_eq!(a.len(), 100_000);
        let z = compress(&a, Compression::Gzip);
        assert!(z.len() < a.len() / 2, "text compresses");
        assert_eq!(pseudo_bytes(1, 5000).len(), 5000);
    }

    #[test]
    fn hash_writer_and_encoder() {
        let data = pseudo_bytes(3, 50_000);
        let enc = Encoder::new(HashWriter::new(Vec::new()), Compression::Zstd).unwrap();
        let mut hw = HashWriter::new(enc);
        hw.write_all(&data).unwrap();
        let (enc, diff, n) = hw.finish();
        assert_eq!(n, 50_000);
        assert_eq!(diff, sha256_hex(&data));
        let (blob, dig, m) = enc.finish().unwrap().finish();
        assert_eq!(dig, sha256_hex(&blob));
        assert_eq!(m, blob.len() as u64);
        assert_eq!(zstd::decode_all(&blob[..]).unwrap(), data);
    }

    #[test]
    fn ref_helpers() {
        assert_eq!(split_tag("a"), ("a".into(), "latest".into()));
        assert_eq!(
            split_tag("localhost:5000/x/y:2"),
            ("localhost:5000/x/y".into(), "2".into())
        );
        assert_eq!(normalized_ref("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(normalized_ref("me/app:1"), "docker.io/me/app:1");
        assert_eq!(normalized_ref("ghcr.io/me/app:1"), "ghcr.io/me/app:1");
        assert_eq!(whiteout_name("/a/b/"), "a/.wh.b");
        assert_eq!(opaque_name("./x/"), "x/.wh..wh..opq");
    }
}
