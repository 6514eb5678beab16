//! Reading tar streams the way GNU tar and Go's archive/tar (what container
//! runtimes use) read them, for the outer archive and for every layer: PAX
//! records are split by their length as POSIX says (tar-rs splits them on
//! newlines, so a record whose value holds a newline made it see a different
//! file size, and so different files, than a runtime), GNU long names and PAX
//! headers are refused by their declared size before they are read, and GNU
//! sparse files (type `S` and PAX formats 0.0, 0.1 and 1.0) are understood:
//! the real size is reported and the data chunks come with their offsets, so
//! holes are never read or expanded here.
//!
//! Anything two tar readers could read differently is an error, not a guess:
//! a PAX record that does not parse, a GNU long name together with a PAX path,
//! two metadata headers of one kind before an entry, a global PAX header that
//! sets a path or size, a lone zero block followed by more data, and a valid
//! header after the end-of-archive marker (GNU tar with `-i` reads it), but
//! for eStargz's table of contents, which that format puts there by design.
//!
//! Errors are `io::Error`s of kind `InvalidData` (`QuotaExceeded` for a header
//! over a configured limit) with a one-line message; the
//! callers add the file and layer.

use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;

const BLOCK: usize = 512;

/// The sparse map may hold at most this many chunks (16 bytes each in
/// memory; a GNU `S` header stores 21 per 512-byte block).
pub const MAX_SPARSE_CHUNKS: usize = 1 << 20;

/// PAX headers may be this much larger than two paths (the path and link
/// target records) before they are refused unread: room for timestamps,
/// extended attributes and a sparse map of a few ten thousand chunks.
const PAX_SLACK: u64 = 1 << 20;

/// What an entry is: the tar type flag as the tree keeps it (one type
/// from the reader up, re-exported as `layer::Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A regular file (also contiguous `7` and sparse files).
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// Any other type flag.
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

/// One entry's header, with every extension header folded in.
#[derive(Debug, Clone)]
pub struct Header {
    /// 1-based number of the entry (metadata headers not counted).
    pub index: u64,
    /// The path as stored (PAX `path`, GNU long name or ustar prefix + name).
    pub path: Vec<u8>,
    /// Link target as stored (empty when none).
    pub link: Vec<u8>,
    pub entry_type: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// The file's size: the real size for a sparse file.
    pub size: u64,
    /// Bytes of data stored after the header (after the sparse map for PAX
    /// 1.0); for a sparse file, the chunks of `sparse` back to back.
    pub stored: u64,
    /// Offset of the stored data in the stream.
    pub data_offset: u64,
    /// For a sparse file, the data chunks as (offset, length) in the file,
    /// ordered and not overlapping; everything else is a hole of zeros.
    pub sparse: Option<Vec<(u64, u64)>>,
}

impl Header {
    /// Total bytes of holes in a sparse file (0 for other files).
    pub fn hole_bytes(&self) -> u64 {
        match &self.sparse {
            Some(_) => self.size.saturating_sub(self.stored),
            None => 0,
        }
    }
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Two zero blocks (or one, then the end of the data, which readers
    /// accept too).
    Marker,
    /// The data ended at an entry boundary without a marker.
    Eof,
}

/// A source of bytes that can skip ahead; streams read and discard.
pub trait Skip: Read {
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// A plain stream: skipping reads.
pub struct Stream<R>(pub R);

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Skip for Stream<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut (&mut self.0).take(n), &mut io::sink())?;
        if got < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// A seekable source: skipping seeks (bodies are never read).
pub struct Seeking<R>(pub R);

impl<R: Read> Read for Seeking<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Skip for Seeking<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let d = i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        self.0.seek(SeekFrom::Current(d)).map(|_| ())
    }
}

/// Limits checked while reading headers, before anything is allocated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_path_bytes: usize,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A header over a configured limit: its own kind, so callers tell a limit
/// (raise it with a flag) from malformed data.
fn over_limit(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::QuotaExceeded, msg)
}

/// A tar stream read entry by entry.
pub struct Reader<R> {
    inner: R,
    limits: Limits,
    /// Bytes consumed from `inner`.
    pos: u64,
    /// Stored data of the current entry not yet read, then its padding.
    remaining: u64,
    padding: u64,
    count: u64,
    end: Option<End>,
}

/// PAX records that matter for reading, collected from one `x` header.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<u64>,
    sparse_major: Option<Vec<u8>>,
    sparse_minor: Option<Vec<u8>>,
    sparse_name: Option<Vec<u8>>,
    sparse_size: Option<u64>,
    sparse_map: Option<Vec<u64>>,
    /// `GNU.sparse.offset` / `numbytes` pairs (format 0.0), in order.
    sparse_pairs: Vec<u64>,
}

impl<R: Skip> Reader<R> {
    pub fn new(inner: R, limits: Limits) -> Self {
        Reader {
            inner,
            limits,
            pos: 0,
            remaining: 0,
            padding: 0,
            count: 0,
            end: None,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// How the stream ended (once `next_header` returned `None`).
    pub fn end(&self) -> Option<End> {
        self.end
    }

    /// Entries returned so far.
    pub fn entries_read(&self) -> u64 {
        self.count
    }

    /// The underlying reader, positioned after what was consumed.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += got as u64;
        Ok(got)
    }

    fn read_exact_counted(&mut self, buf: &mut [u8]) -> io::Result<()> {
        if self.fill(buf)? < buf.len() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        self.inner.skip(n)?;
        self.pos += n;
        Ok(())
    }

    /// Read up to `buf.len()` bytes of the current entry's stored data.
    pub fn read_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = loop {
            match self.inner.read(&mut buf[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.remaining -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }

    /// Skip `n` bytes of the current entry's stored data.
    pub fn skip_data(&mut self, n: u64) -> io::Result<()> {
        let n = n.min(self.remaining);
        self.skip(n)?;
        self.remaining -= n;
        Ok(())
    }

    /// The current entry's stored data as a reader.
    pub fn data(&mut self) -> Data<'_, R> {
        Data(self)
    }

    /// Read a metadata header's body whole (its size was checked).
    fn body(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let len = usize::try_from(size).map_err(|_| bad("header body too large"))?;
        let mut v = vec![0u8; len];
        self.read_exact_counted(&mut v)?;
        self.skip(pad(size))?;
        Ok(v)
    }

    /// The next entry's header, or `None` at the end of the stream.
    pub fn next_header(&mut self) -> io::Result<Option<Header>> {
        if self.end.is_some() {
            return Ok(None);
        }
        let rest = self.remaining + self.padding;
        self.skip(rest)?;
        self.remaining = 0;
        self.padding = 0;
        let index = self.count + 1;
        let mut pax: Option<Pax> = None;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let pending = |pax: &Option<Pax>, n: &Option<Vec<u8>>, l: &Option<Vec<u8>>| {
            pax.is_some() || n.is_some() || l.is_some()
        };
        let max_path = self.limits.max_path_bytes as u64;
        loop {
            let mut block = [0u8; BLOCK];
            let at = self.pos;
            let got = self.fill(&mut block)?;
            if got == 0 {
                if pending(&pax, &long_name, &long_link) {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.end = Some(End::Eof);
                return Ok(None);
            }
            if got < BLOCK {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if block.iter().all(|&b| b == 0) {
                if pending(&pax, &long_name, &long_link) {
                    return Err(bad(format!(
                        "entry #{index}: extension headers followed by the end-of-archive marker"
                    )));
                }
                let mut second = [0u8; BLOCK];
                match self.fill(&mut second)? {
                    0 => {}
                    BLOCK if second.iter().all(|&b| b == 0) => {}
                    _ => {
                        return Err(bad(format!(
                            "a single zero block at byte {at} is followed by more data (tar readers disagree on whether the archive ends there)"
                        )))
                    }
                }
                self.end = Some(End::Marker);
                return Ok(None);
            }
            verify_checksum(&block).map_err(|e| {
                if self.count == 0 && !pending(&pax, &long_name, &long_link) {
                    e
                } else {
                    bad(format!("entry #{index}: {e}"))
                }
            })?;
            let flag = block[156];
            let size = field_num(&block[124..136])
                .map_err(|e| bad(format!("entry #{index}: tar header field size {e}")))?;
            match flag {
                b'x' | b'X' => {
                    if pax.is_some() {
                        return Err(bad(format!(
                            "entry #{index}: two PAX headers for one entry (tar readers disagree on which applies)"
                        )));
                    }
                    let limit = 2 * max_path + PAX_SLACK;
                    if size > limit {
                        return Err(over_limit(format!(
                            "entry #{index}: PAX header of {size} bytes, over the {limit}-byte limit (twice --max-path-bytes plus 1 MiB)"
                        )));
                    }
                    let data = self.body(size)?;
                    pax = Some(parse_pax(&data).map_err(|e| bad(format!("entry #{index}: {e}")))?);
                }
                b'g' => {
                    let limit = 2 * max_path + PAX_SLACK;
                    if size > limit {
                        return Err(over_limit(format!(
                            "entry #{index}: global PAX header of {size} bytes, over the {limit}-byte limit (twice --max-path-bytes plus 1 MiB)"
                        )));
                    }
                    let data = self.body(size)?;
                    // GNU tar applies global records to every later entry,
                    // Go's archive/tar to none: one that changes what an
                    // entry is cannot be read one way.
                    for_each_record(&data, |k, _| {
                        if matches!(k, b"path" | b"linkpath" | b"size") || k.starts_with(b"GNU.sparse.") {
                            return Err(bad(format!(
                                "a global PAX header sets {:?} (tar readers disagree on whether it applies)",
                                String::from_utf8_lossy(k)
                            )));
                        }
                        Ok(())
                    })
                    .map_err(|e| bad(format!("entry #{index}: {e}")))?;
                }
                b'L' | b'K' => {
                    let what = if flag == b'L' {
                        "long name"
                    } else {
                        "long link target"
                    };
                    let slot = if flag == b'L' { &long_name } else { &long_link };
                    if slot.is_some() {
                        return Err(bad(format!(
                            "entry #{index}: two GNU {what} headers for one entry (tar readers disagree on which applies)"
                        )));
                    }
                    // The value ends with a NUL; allow a block of slack.
                    if size > max_path + BLOCK as u64 {
                        return Err(over_limit(format!(
                            "entry #{index}: GNU {what} of {size} bytes, over the {max_path}-byte limit (--max-path-bytes)"
                        )));
                    }
                    let mut data = self.body(size)?;
                    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                    data.truncate(end);
                    if flag == b'L' {
                        long_name = Some(data);
                    } else {
                        long_link = Some(data);
                    }
                }
                _ => {
                    let h = self.entry(
                        index,
                        &block,
                        flag,
                        size,
                        pax.take(),
                        long_name.take(),
                        long_link.take(),
                    )?;
                    self.count += 1;
                    return Ok(Some(h));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        index: u64,
        block: &[u8; BLOCK],
        flag: u8,
        header_size: u64,
        pax: Option<Pax>,
        long_name: Option<Vec<u8>>,
        long_link: Option<Vec<u8>>,
    ) -> io::Result<Header> {
        let err = |m: String| bad(format!("entry #{index}: {m}"));
        let ustar = &block[257..263] == b"ustar\0";
        let gnu = &block[257..265] == b"ustar  \0";
        let mut path = cstr(&block[0..100]).to_vec();
        if ustar {
            let prefix = cstr(&block[345..500]);
            if !prefix.is_empty() {
                let mut p = prefix.to_vec();
                p.push(b'/');
                p.extend_from_slice(&path);
                path = p;
            }
        }
        let mut link = cstr(&block[157..257]).to_vec();
        let num = |r: std::ops::Range<usize>, name: &str| {
            field_num(&block[r]).map_err(|e| err(format!("tar header field {name} {e}")))
        };
        let mode = num(100..108, "mode")? as u32;
        let mut uid = num(108..116, "uid")?;
        let mut gid = num(116..124, "gid")?;
        let mut mtime = num(136..148, "mtime")?;
        let mut size = header_size;
        // The whole field: some writers (kaniko) store the file type bits too.
        let mut pax = pax.unwrap_or_default();
        if pax.path.is_some() && long_name.is_some() {
            return Err(err(
                "both a GNU long name and a PAX path (tar readers disagree on which applies)"
                    .into(),
            ));
        }
        if pax.linkpath.is_some() && long_link.is_some() {
            return Err(err(
                "both a GNU long link target and a PAX linkpath (tar readers disagree on which applies)"
                    .into(),
            ));
        }
        if let Some(n) = long_name {
            path = n;
        }
        if let Some(l) = long_link {
            link = l;
        }
        if let Some(p) = pax.path.take() {
            path = p;
        }
        if let Some(l) = pax.linkpath.take() {
            link = l;
        }
        uid = pax.uid.unwrap_or(uid);
        gid = pax.gid.unwrap_or(gid);
        mtime = pax.mtime.unwrap_or(mtime);
        let entry_type = match flag {
            b'0' | b'\0' | b'7' | b'S' => Kind::File,
            b'1' => Kind::Hardlink,
            b'2' => Kind::Symlink,
            b'3' => Kind::CharDevice,
            b'4' => Kind::BlockDevice,
            b'5' => Kind::Dir,
            b'6' => Kind::Fifo,
            _ => Kind::Other,
        };
        if let Some(s) = pax.size {
            size = s;
        }
        let header_only = matches!(
            entry_type,
            Kind::Hardlink
                | Kind::Symlink
                | Kind::CharDevice
                | Kind::BlockDevice
                | Kind::Dir
                | Kind::Fifo
        );
        if header_only && size != 0 {
            return Err(err(format!(
                "a {entry_type:?} entry with {size} bytes of data (tar readers disagree on whether data follows it)"
            )));
        }
        let stored_total = size;
        let mut stored = size;
        let mut sparse = None;
        if flag == b'S' {
            if !gnu {
                return Err(err("a GNU sparse entry without a GNU header".into()));
            }
            let mut chunks = Vec::new();
            // As GNU and Go read it: entries up to the first empty one, then
            // extension blocks for as long as the "extended" flag is set.
            old_gnu_map(&block[386..482], &mut chunks).map_err(|e| err(e.to_string()))?;
            let mut more = block[482] != 0;
            while more {
                let mut ext = [0u8; BLOCK];
                self.read_exact_counted(&mut ext)?;
                verify_not_header(&ext).map_err(|e| err(e.to_string()))?;
                old_gnu_map(&ext[..504], &mut chunks).map_err(|e| err(e.to_string()))?;
                more = ext[504] != 0;
                if chunks.len() > MAX_SPARSE_CHUNKS {
                    return Err(err(format!(
                        "sparse map of more than {MAX_SPARSE_CHUNKS} chunks"
                    )));
                }
            }
            let real =
                field_num(&block[483..495]).map_err(|e| err(format!("real size field {e}")))?;
            size = real;
            sparse = Some(chunks);
        } else if let Some(kind) = pax_sparse_kind(&pax).map_err(|e| err(e.to_string()))? {
            if let Some(n) = &pax.sparse_name {
                path = n.clone();
            }
            if let Some(s) = pax.sparse_size {
                size = s;
            } else {
                return Err(err("a PAX sparse file without its real size".into()));
            }
            let chunks = match kind {
                SparseKind::V0 => pairs(&pax.sparse_pairs).map_err(|e| err(e.to_string()))?,
                SparseKind::V01 => pairs(pax.sparse_map.as_deref().unwrap_or(&[]))
                    .map_err(|e| err(e.to_string()))?,
                SparseKind::V1 => {
                    let (chunks, used) = self
                        .sparse_map_1_0(stored_total)
                        .map_err(|e| err(e.to_string()))?;
                    stored = stored_total - used;
                    chunks
                }
            };
            sparse = Some(chunks);
        }
        if let Some(chunks) = &sparse {
            check_chunks(chunks, size, stored).map_err(|e| err(e.to_string()))?;
        }
        if path.len() > self.limits.max_path_bytes {
            return Err(over_limit(format!(
                "entry #{index} has a {}-byte path, over the {}-byte limit (--max-path-bytes)",
                path.len(),
                self.limits.max_path_bytes
            )));
        }
        if link.len() > self.limits.max_path_bytes {
            return Err(over_limit(format!(
                "entry #{index} has a {}-byte link target, over the {}-byte limit (--max-path-bytes)",
                link.len(),
                self.limits.max_path_bytes
            )));
        }
        self.remaining = stored;
        self.padding = pad(stored_total);
        Ok(Header {
            index,
            path,
            link,
            entry_type,
            mode,
            uid,
            gid,
            mtime,
            size,
            stored,
            data_offset: self.pos,
            sparse,
        })
    }

    /// Format 1.0 keeps the map at the start of the data: decimal numbers,
    /// one a line (the count, then offset and length pairs), padded to a
    /// block. Returns the chunks and the bytes the map took.
    fn sparse_map_1_0(&mut self, stored: u64) -> io::Result<(Vec<(u64, u64)>, u64)> {
        let mut used = 0u64;
        let mut numbers: Vec<u64> = Vec::new();
        let mut want: Option<u64> = None;
        let mut line: Vec<u8> = Vec::new();
        let mut block = [0u8; BLOCK];
        'blocks: loop {
            if used + BLOCK as u64 > stored {
                return Err(bad("sparse map runs past the entry's data"));
            }
            self.read_exact_counted(&mut block)
                .map_err(|e| bad(crate::error::describe_io(&e)))?;
            used += BLOCK as u64;
            for &b in &block {
                if want.is_some_and(|w| numbers.len() as u64 == 2 * w) {
                    break 'blocks;
                }
                if b != b'\n' {
                    if line.len() >= 20 || !b.is_ascii_digit() {
                        return Err(bad("sparse map: not a number"));
                    }
                    line.push(b);
                    continue;
                }
                let n = std::str::from_utf8(&line)
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| bad("sparse map: not a number"))?;
                line.clear();
                match want {
                    None => {
                        if n > MAX_SPARSE_CHUNKS as u64 {
                            return Err(bad(format!(
                                "sparse map of more than {MAX_SPARSE_CHUNKS} chunks"
                            )));
                        }
                        want = Some(n);
                    }
                    Some(_) => numbers.push(n),
                }
            }
            if want.is_some_and(|w| numbers.len() as u64 == 2 * w) {
                break;
            }
        }
        Ok((
            numbers.chunks_exact(2).map(|c| (c[0], c[1])).collect(),
            used,
        ))
    }

    /// After the end marker: read what follows (the blocking padding, or
    /// anything appended) and fail if any of it is a tar header, since
    /// `tar -i` and other lenient readers would take it for entries.
    /// Returns (bytes, non-zero bytes).
    pub fn check_after_end(&mut self) -> io::Result<(u64, u64)> {
        let (mut total, mut data) = (0u64, 0u64);
        let mut block = [0u8; BLOCK];
        loop {
            let at = self.pos;
            let n = self.fill(&mut block)?;
            if n == 0 {
                return Ok((total, data));
            }
            total += n as u64;
            let nz = block[..n].iter().filter(|&&b| b != 0).count() as u64;
            data += nz;
            // eStargz layers put their table of contents after the end
            // marker on purpose (GNU tar and Go's archive/tar stop before
            // it, as we do): a known format, not an ambiguity, so it only
            // counts as trailing data.
            let estargz_toc = block.starts_with(b"stargz.index.json\0");
            if n == BLOCK && nz > 0 && !estargz_toc && verify_checksum(&block).is_ok() {
                return Err(bad(format!(
                    "a tar header at byte {at}, after the end-of-archive marker (some tar readers read on)"
                )));
            }
        }
    }
}

/// The current entry's stored data (see [`Reader::data`]).
pub struct Data<'a, R>(&'a mut Reader<R>);

impl<R: Skip> Read for Data<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_data(buf)
    }
}

/// A piece of a file's content, in order.
pub enum Piece<'a> {
    /// This many zero bytes (a hole of a sparse file).
    Hole(u64),
    Data(&'a [u8]),
}

/// Walk the current entry's content from its start, holes as lengths and
/// stored bytes as slices of `buf`. Stops early when `f` returns false.
pub fn for_each_piece<R: Skip>(
    r: &mut Reader<R>,
    h: &Header,
    buf: &mut [u8],
    mut f: impl FnMut(Piece<'_>) -> io::Result<bool>,
) -> io::Result<()> {
    let whole = [(0, h.size)];
    let chunks: &[(u64, u64)] = h.sparse.as_deref().unwrap_or(&whole);
    let mut pos = 0u64;
    for &(off, len) in chunks {
        if off > pos && !f(Piece::Hole(off - pos))? {
            return Ok(());
        }
        let mut left = len;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            let n = r.read_data(&mut buf[..k])?;
            left -= n as u64;
            if !f(Piece::Data(&buf[..n]))? {
                return Ok(());
            }
        }
        pos = off + len;
    }
    if h.size > pos {
        f(Piece::Hole(h.size - pos))?;
    }
    Ok(())
}

fn pad(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// The bytes of a NUL-terminated header field.
fn cstr(f: &[u8]) -> &[u8] {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    &f[..end]
}

/// A numeric header field: octal (spaces and NULs around it), or GNU
/// base-256 (high bit set). An empty field is 0.
fn field_num(f: &[u8]) -> io::Result<u64> {
    if f.first().is_some_and(|&b| b & 0x80 != 0) {
        if f[0] == 0xff {
            return Err(bad("is negative"));
        }
        let mut v: u64 = u64::from(f[0] & 0x7f);
        for &b in &f[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| bad("overflows"))?;
        }
        return Ok(v);
    }
    let t = f
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0)
        .collect::<Vec<u8>>();
    let rest_ok = f
        .iter()
        .skip_while(|&&b| b == b' ' || b == 0)
        .skip_while(|&&b| b != b' ' && b != 0)
        .all(|&b| b == b' ' || b == 0);
    if !rest_ok || !t.iter().all(|b| (b'0'..=b'7').contains(b)) {
        // The bytes are not quoted: they may come from a file that is not a
        // tar at all (a layout blob hard-linked to /etc/shadow).
        return Err(bad("is not a number"));
    }
    let mut v = 0u64;
    for &b in &t {
        v = v
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| bad("overflows"))?;
    }
    Ok(v)
}

fn verify_checksum(block: &[u8; BLOCK]) -> io::Result<()> {
    let want =
        field_num(&block[148..156]).map_err(|e| bad(format!("tar header field cksum {e}")))?;
    let mut unsigned = 0u64;
    let mut signed = 0i64;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if want != unsigned && i64::try_from(want).ok() != Some(signed) {
        return Err(bad("archive header checksum mismatch"));
    }
    Ok(())
}

/// Split PAX data into records by their lengths: `"<len> <key>=<value>\n"`,
/// where `<len>` counts the whole record, so values may hold newlines.
fn for_each_record(
    data: &[u8],
    mut f: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut rest = data;
    let mut at = 0usize;
    while !rest.is_empty() {
        let malformed = |why: &str| {
            bad(format!(
                "malformed PAX record at byte {at} of the header: {why}"
            ))
        };
        let sp = rest
            .iter()
            .take(21)
            .position(|&b| b == b' ')
            .ok_or_else(|| malformed("no length"))?;
        let digits = &rest[..sp];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(malformed("no length"));
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| malformed("no length"))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(malformed(&format!("length {len} runs past the header")));
        }
        let rec = &rest[..len];
        if rec[len - 1] != b'\n' {
            return Err(malformed("no newline at the end of the record"));
        }
        let kv = &rec[sp + 1..len - 1];
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| malformed("no '='"))?;
        if eq == 0 {
            return Err(malformed("empty key"));
        }
        f(&kv[..eq], &kv[eq + 1..])?;
        at += len;
        rest = &rest[len..];
    }
    Ok(())
}

/// The `size` record of a PAX header's data, if it has one (what a reader
/// uses instead of the header's size field).
pub fn pax_size(data: &[u8]) -> io::Result<Option<u64>> {
    Ok(parse_pax(data)?.size)
}

fn parse_pax(data: &[u8]) -> io::Result<Pax> {
    let mut p = Pax::default();
    for_each_record(data, |k, v| {
        let key = || String::from_utf8_lossy(k).into_owned();
        let number = || -> io::Result<u64> {
            std::str::from_utf8(v)
                .ok()
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| {
                    bad(format!(
                        "PAX record {}={:?} is not a number",
                        key(),
                        String::from_utf8_lossy(v)
                    ))
                })
        };
        match k {
            b"path" | b"linkpath" | b"GNU.sparse.name" => {
                if v.contains(&0) {
                    return Err(bad(format!("PAX record {} holds a NUL byte", key())));
                }
                let slot = match k {
                    b"path" => &mut p.path,
                    b"linkpath" => &mut p.linkpath,
                    _ => &mut p.sparse_name,
                };
                *slot = Some(v.to_vec());
            }
            b"size" => p.size = Some(number()?),
            b"uid" => p.uid = Some(number()?),
            b"gid" => p.gid = Some(number()?),
            b"mtime" => {
                // Seconds, maybe with a fraction (and a sign, before 1970).
                let t = std::str::from_utf8(v).unwrap_or("");
                let whole = t.split('.').next().unwrap_or("");
                let ok = !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                    && t.matches('.').count() <= 1;
                if !ok {
                    return Err(bad(format!("PAX record mtime={t:?} is not a time")));
                }
                p.mtime = Some(whole.parse::<u64>().unwrap_or(0));
            }
            b"GNU.sparse.major" => p.sparse_major = Some(v.to_vec()),
            b"GNU.sparse.minor" => p.sparse_minor = Some(v.to_vec()),
            b"GNU.sparse.size" | b"GNU.sparse.realsize" => p.sparse_size = Some(number()?),
            b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                if p.sparse_pairs.len() >= 2 * MAX_SPARSE_CHUNKS {
                    return Err(bad(format!(
                        "sparse map of more than {MAX_SPARSE_CHUNKS} chunks"
                    )));
                }
                p.sparse_pairs.push(number()?);
            }
            b"GNU.sparse.map" => {
                let mut nums = Vec::new();
                if !v.is_empty() {
                    for part in v.split(|&b| b == b',') {
                        let n = std::str::from_utf8(part)
                            .ok()
                            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                            .and_then(|t| t.parse::<u64>().ok())
                            .ok_or_else(|| {
                                bad("PAX record GNU.sparse.map is not a list of numbers")
                            })?;
                        nums.push(n);
                    }
                }
                p.sparse_map = Some(nums);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

enum SparseKind {
    V0,
    V01,
    V1,
}

/// Which PAX sparse format the records describe, if any (as Go decides).
fn pax_sparse_kind(p: &Pax) -> io::Result<Option<SparseKind>> {
    match (p.sparse_major.as_deref(), p.sparse_minor.as_deref()) {
        (Some(b"0"), Some(b"0")) => Ok(Some(SparseKind::V0)),
        (Some(b"0"), Some(b"1")) => Ok(Some(SparseKind::V01)),
        (Some(b"1"), Some(b"0")) => Ok(Some(SparseKind::V1)),
        (None, None) if p.sparse_map.is_some() => Ok(Some(SparseKind::V01)),
        (None, None) if !p.sparse_pairs.is_empty() => Ok(Some(SparseKind::V0)),
        (None, None) => Ok(None),
        (a, b) => Err(bad(format!(
            "unknown GNU sparse format {}.{}",
            String::from_utf8_lossy(a.unwrap_or(b"?")),
            String::from_utf8_lossy(b.unwrap_or(b"?"))
        ))),
    }
}

fn pairs(nums: &[u64]) -> io::Result<Vec<(u64, u64)>> {
    if nums.len() % 2 != 0 {
        return Err(bad("sparse map has an offset without a length"));
    }
    Ok(nums.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

/// Read old-GNU sparse entries (24 bytes each: offset, length) up to the
/// first empty one.
fn old_gnu_map(area: &[u8], out: &mut Vec<(u64, u64)>) -> io::Result<()> {
    for e in area.chunks_exact(24) {
        if e[0] == 0 {
            break;
        }
        let off = field_num(&e[..12]).map_err(|m| bad(format!("sparse map offset {m}")))?;
        let len = field_num(&e[12..]).map_err(|m| bad(format!("sparse map length {m}")))?;
        out.push((off, len));
    }
    Ok(())
}

/// An extension block is never a valid header; one that is would be read
/// as an entry by a reader that does not know the sparse format.
fn verify_not_header(b: &[u8; BLOCK]) -> io::Result<()> {
    if verify_checksum(b).is_ok() {
        return Err(bad(
            "a sparse map extension block that is also a tar header",
        ));
    }
    Ok(())
}

/// Chunks must be in order, inside the file, and add up to the stored data.
fn check_chunks(chunks: &[(u64, u64)], size: u64, stored: u64) -> io::Result<()> {
    let mut pos = 0u64;
    let mut total = 0u64;
    for &(off, len) in chunks {
        let end = off
            .checked_add(len)
            .ok_or_else(|| bad("sparse map overflows"))?;
        if off < pos || end > size {
            return Err(bad(format!(
                "sparse map chunk ({off}, {len}) overlaps another or ends past the file's {size} bytes"
            )));
        }
        pos = end;
        total += len;
    }
    if total != stored {
        return Err(bad(format!(
            "sparse map covers {total} bytes but the entry stores {stored}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_are_split_by_length() {
        let mut seen = Vec::new();
        for_each_record(b"19 comment=a\nb c=d\n10 size=7\n", |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .expect("records");
        assert_eq!(
            seen,
            [
                (b"comment".to_vec(), b"a\nb c=d".to_vec()),
                (b"size".to_vec(), b"7".to_vec())
            ]
        );
        for broken in [
            &b"13 size=7\n"[..],
            b"9 size=7\n\0",
            b"x size=1\n",
            b"11 size=7x",
        ] {
            assert!(
                for_each_record(broken, |_, _| Ok(())).is_err(),
                "{broken:?}"
            );
        }
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(field_num(b"0000644\0").ok(), Some(0o644));
        assert_eq!(field_num(b"  12 \0").ok(), Some(0o12));
        assert_eq!(field_num(b"\0\0\0").ok(), Some(0));
        assert_eq!(field_num(&[0x80, 0, 0, 1, 0]).ok(), Some(256));
        assert!(field_num(b"12 3").is_err());
        assert_eq!(
            field_num(b"9").map_err(|e| (e.kind(), e.to_string())).err(),
            Some((io::ErrorKind::InvalidData, "is not a number".to_string()))
        );
    }
}
