//! Random access to the named members of an image archive: a tar file read
//! once for its index (bodies are skipped by seeking), an unpacked
//! directory, or a remote blob store (a registry, served as an OCI layout).
//! Member names are validated so that nothing a manifest names can reach
//! outside the archive.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Where a member's bytes live in the outer tar.
#[derive(Debug, Clone)]
struct Member {
    offset: u64,
    size: u64,
}

#[derive(Debug)]
enum Backing {
    Tar {
        /// One handle shared by all readers: members are read with positional
        /// reads, so the file (possibly an unnamed temp file) needs no path.
        file: Arc<File>,
        members: HashMap<String, Member>,
        symlinks: HashMap<String, String>,
    },
    Dir {
        root: PathBuf,
    },
    Remote(Arc<dyn Remote>),
}

/// What a name in the outer archive was, to tell harmless repeats from
/// ambiguous ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    File,
    Dir,
    Link(Option<String>),
    Other,
}

impl Seen {
    fn what(&self) -> &'static str {
        match self {
            Seen::File => "a file",
            Seen::Dir => "a directory",
            Seen::Link(_) => "a link",
            Seen::Other => "a special file",
        }
    }
}

/// Members served from elsewhere (a registry), laid out as an OCI image
/// layout: `index.json`, `oci-layout` and `blobs/<alg>/<hex>`. Readers
/// stream; a seek backwards may cost a new request.
pub trait Remote: Send + Sync + std::fmt::Debug {
    /// Is the member there? (Need not ask the server: a missing blob may
    /// fail later, when it is opened.)
    fn contains(&self, name: &str) -> bool;
    /// The member's size in bytes.
    fn size(&self, name: &str) -> Result<u64>;
    /// Open the member for streaming.
    fn open(&self, name: &str) -> Result<Box<dyn RemoteReader>>;
    /// How many members are best read at once (downloads are I/O bound).
    fn parallelism(&self) -> usize {
        4
    }
}

/// A stream of a remote member's bytes.
pub trait RemoteReader: Read + Seek + Send + std::fmt::Debug {}
impl<T: Read + Seek + Send + std::fmt::Debug> RemoteReader for T {}

/// A set of named members.
#[derive(Debug)]
pub struct Store {
    /// What the user named (shown in messages); `-` for stdin.
    pub display: PathBuf,
    backing: Backing,
}

/// Normalise a member name as written in an archive or manifest: strip `./`
/// and leading `/`, resolve `..`. Returns None when it would leave the root.
pub(crate) fn clean_member_name(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A name a manifest may reference: relative, no `..`, not empty; else an
/// error about `what` (the manifest entry) in the archive shown as `display`.
fn checked_reference(display: &Path, what: &str, name: &str) -> Result<String> {
    let refused = |msg: String| Error::Member {
        path: display.to_path_buf(),
        member: what.to_string(),
        msg,
    };
    if name.starts_with('/') {
        return Err(refused(format!("refers to an absolute path {name:?}")));
    }
    if name.split('/').any(|p| p == "..") {
        return Err(refused(format!(
            "refers to a path outside the archive {name:?}"
        )));
    }
    match clean_member_name(name) {
        Some(n) if !n.is_empty() => Ok(n),
        _ => Err(refused(format!("refers to an invalid path {name:?}"))),
    }
}

impl Store {
    /// Index an uncompressed tar file without reading member bodies.
    pub fn open_tar(display: &Path, file_path: &Path) -> Result<Store> {
        let file = File::open(file_path).map_err(|source| Error::Io {
            path: display.to_path_buf(),
            source,
        })?;
        Store::open_tar_file(display, file)
    }

    /// Same, from an open file (e.g. an unnamed temp file holding stdin).
    pub fn open_tar_file(display: &Path, mut file: File) -> Result<Store> {
        let io_err = |source| Error::Io {
            path: display.to_path_buf(),
            source,
        };
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let file_len = file.metadata().map_err(io_err)?.len();
        let fmt = |msg: String| Error::Format {
            path: display.to_path_buf(),
            msg,
        };
        if file_len == 0 {
            return Err(fmt("empty file, not an image archive".into()));
        }
        // Outer member names are short; the layer path limit is plenty.
        let limits = crate::tarstream::Limits {
            max_path_bytes: 64 * 1024,
        };
        let mut rd = crate::tarstream::Reader::new(crate::tarstream::Seeking(&file), limits);
        let mut members = HashMap::new();
        let mut symlinks = HashMap::new();
        // Every name seen, and what it was: the same name twice is ambiguous
        // (tar readers and runtimes disagree on which copy counts) unless
        // both copies are the same.
        let mut seen: HashMap<String, Seen> = HashMap::new();
        let mut duplicates = Vec::new();
        loop {
            let h = match rd.next_header() {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e)
                    if rd.entries_read() == 0
                        && e.kind() == io::ErrorKind::InvalidData
                        && !e.to_string().starts_with("entry #") =>
                {
                    return Err(fmt(format!(
                        "not an image archive (not a tar file: {})",
                        crate::error::describe_io(&e)
                    )))
                }
                Err(e) if e.to_string().starts_with("entry #") => {
                    return Err(fmt(crate::error::describe_io(&e)))
                }
                Err(e) => {
                    return Err(fmt(format!(
                        "bad tar entry #{}: {}",
                        rd.entries_read() + 1,
                        crate::error::describe_io(&e)
                    )))
                }
            };
            let raw = String::from_utf8_lossy(&h.path).into_owned();
            let Some(name) = clean_member_name(&raw) else {
                // An outer member that escapes the root is never referenced
                // legitimately; ignore it rather than index it.
                continue;
            };
            use crate::tarstream::Kind;
            let what = match h.entry_type {
                Kind::File => {
                    if h.sparse.is_some() {
                        return Err(fmt(format!(
                            "member {name:?} is a sparse file, which image archives never hold"
                        )));
                    }
                    let (offset, size) = (h.data_offset, h.stored);
                    if offset.saturating_add(size) > file_len {
                        return Err(fmt(format!(
                            "truncated archive: member {name:?} needs {size} bytes at offset {offset}, file has {file_len}"
                        )));
                    }
                    let m = Member { offset, size };
                    if let Some(prev) = members.insert(name.clone(), m.clone()) {
                        duplicates.push((name.clone(), prev));
                    }
                    Seen::File
                }
                Kind::Symlink | Kind::Hardlink => {
                    let target = String::from_utf8_lossy(&h.link).into_owned();
                    let base = if h.entry_type == Kind::Symlink {
                        match name.rfind('/') {
                            Some(p) => format!("{}/{}", &name[..p], target),
                            None => target,
                        }
                    } else {
                        target
                    };
                    let t = clean_member_name(&base);
                    if let Some(t) = &t {
                        symlinks.insert(name.clone(), t.clone());
                    }
                    Seen::Link(t)
                }
                Kind::Dir => Seen::Dir,
                _ => Seen::Other,
            };
            if let Some(prev) = seen.insert(name.clone(), what.clone()) {
                let same = match (&prev, &what) {
                    (Seen::File, Seen::File) => true, // contents compared below
                    (a, b) => a == b && *a != Seen::Other,
                };
                if !same {
                    return Err(fmt(format!(
                        "member {name:?} appears twice, as {} and as {} (ambiguous archive)",
                        prev.what(),
                        what.what()
                    )));
                }
            }
        }
        if members.is_empty() {
            return Err(fmt("not an image archive: the tar holds no files".into()));
        }
        // An archive cut at a member boundary would otherwise pass as whole.
        if rd.end() != Some(crate::tarstream::End::Marker) {
            return Err(fmt(format!(
                "truncated archive: it ends at byte {file_len}, before the end-of-archive marker"
            )));
        }
        rd.check_after_end()
            .map_err(|e| fmt(crate::error::describe_io(&e)))?;
        for (name, prev) in duplicates {
            let Some(last) = members.get(&name) else {
                continue;
            };
            if !same_bytes(&file, &prev, last).map_err(io_err)? {
                return Err(fmt(format!(
                    "member {name:?} appears twice with different contents (ambiguous archive)"
                )));
            }
        }
        Ok(Store {
            display: display.to_path_buf(),
            backing: Backing::Tar {
                file: Arc::new(file),
                members,
                symlinks,
            },
        })
    }

    /// Use an unpacked directory (OCI layout or extracted docker save).
    pub fn open_dir(display: &Path) -> Result<Store> {
        let root = display.canonicalize().map_err(|source| Error::Io {
            path: display.to_path_buf(),
            source,
        })?;
        Ok(Store {
            display: display.to_path_buf(),
            backing: Backing::Dir { root },
        })
    }

    fn fmt_err(&self, member: &str, msg: String) -> Error {
        Error::Member {
            path: self.display.clone(),
            member: member.to_string(),
            msg,
        }
    }

    /// Resolve a name to a tar member, following in-archive links a few times.
    fn tar_member<'a>(
        members: &'a HashMap<String, Member>,
        symlinks: &HashMap<String, String>,
        name: &str,
    ) -> Option<&'a Member> {
        let mut cur = name.to_string();
        for _ in 0..8 {
            if let Some(m) = members.get(&cur) {
                return Some(m);
            }
            cur = symlinks.get(&cur)?.clone();
        }
        None
    }

    fn dir_path(&self, root: &Path, name: &str) -> Result<Option<PathBuf>> {
        let rel = Path::new(name);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(self.fmt_err(name, "path outside the layout directory".into()));
        }
        let p = root.join(rel);
        // Say what a blob is when it is there but unusable: "missing" would
        // send the user looking for a file that exists. Only its kind and
        // where it points are said, never its contents.
        let is_link = p
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        match p.canonicalize() {
            Ok(real) => {
                if !real.starts_with(root) {
                    return Err(self.fmt_err(
                        name,
                        format!(
                            "is a symlink to {}, outside the layout directory",
                            real.display()
                        ),
                    ));
                }
                if real.is_file() {
                    Ok(Some(real))
                } else if real.is_dir() {
                    Err(self.fmt_err(name, "is a directory, not a blob".into()))
                } else {
                    Err(self.fmt_err(
                        name,
                        "is not a regular file (a device, FIFO or socket)".into(),
                    ))
                }
            }
            Err(_) if is_link => {
                Err(self.fmt_err(name, "is a symlink to a file that does not exist".into()))
            }
            Err(_) => Ok(None),
        }
    }

    /// Serve the members of a remote store (a registry).
    pub fn open_remote(display: &Path, remote: Arc<dyn Remote>) -> Store {
        Store {
            display: display.to_path_buf(),
            backing: Backing::Remote(remote),
        }
    }

    /// How many layers are best read at once, when the source says.
    pub fn parallelism(&self) -> Option<usize> {
        match &self.backing {
            Backing::Remote(r) => Some(r.parallelism()),
            _ => None,
        }
    }

    /// Is this an unpacked directory (rather than a tar)?
    pub fn is_dir(&self) -> bool {
        matches!(self.backing, Backing::Dir { .. })
    }

    /// Does the archive hold this member? `name` must already be checked.
    pub fn contains(&self, name: &str) -> bool {
        match &self.backing {
            Backing::Tar {
                members, symlinks, ..
            } => Self::tar_member(members, symlinks, name).is_some(),
            // Present but unusable counts as present, so that reading it
            // says what is wrong instead of "missing".
            Backing::Dir { root } => !matches!(self.dir_path(root, name), Ok(None)),
            Backing::Remote(r) => r.contains(name),
        }
    }

    /// Validate a name taken from a manifest and return its clean form.
    pub fn reference(&self, what: &str, name: &str) -> Result<String> {
        checked_reference(&self.display, what, name)
    }

    /// Size of a member in bytes.
    pub fn size(&self, name: &str) -> Result<u64> {
        match &self.backing {
            Backing::Tar {
                members, symlinks, ..
            } => Self::tar_member(members, symlinks, name)
                .map(|m| m.size)
                .ok_or_else(|| self.fmt_err(name, "missing from the archive".into())),
            Backing::Dir { root } => {
                let p = self
                    .dir_path(root, name)?
                    .ok_or_else(|| self.fmt_err(name, "missing from the layout".into()))?;
                std::fs::metadata(&p)
                    .map(|m| m.len())
                    .map_err(|e| self.fmt_err(name, e.to_string()))
            }
            Backing::Remote(r) => r.size(name),
        }
    }

    /// Open a member for streaming (and seeking, within the member). Readers
    /// use positional reads on a shared handle, so members can be read in
    /// parallel.
    pub fn open(&self, name: &str) -> Result<MemberReader> {
        let (file, start, len) = match &self.backing {
            Backing::Tar {
                file,
                members,
                symlinks,
            } => {
                let m = Self::tar_member(members, symlinks, name)
                    .ok_or_else(|| self.fmt_err(name, "missing from the archive".into()))?;
                (Arc::clone(file), m.offset, m.size)
            }
            Backing::Dir { root } => {
                let p = self
                    .dir_path(root, name)?
                    .ok_or_else(|| self.fmt_err(name, "missing from the layout".into()))?;
                let f = File::open(&p).map_err(|e| self.fmt_err(name, e.to_string()))?;
                let len = f
                    .metadata()
                    .map(|m| m.len())
                    .map_err(|e| self.fmt_err(name, e.to_string()))?;
                (Arc::new(f), 0, len)
            }
            Backing::Remote(r) => {
                let len = r.size(name)?;
                return Ok(MemberReader {
                    inner: Inner::Remote(r.open(name)?),
                    len,
                });
            }
        };
        Ok(MemberReader {
            inner: Inner::File {
                file,
                start,
                pos: 0,
            },
            len,
        })
    }

    /// Read a small member (JSON) whole, refusing absurd sizes.
    pub fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let size = self.size(name)?;
        if size > limit {
            return Err(self.fmt_err(
                name,
                format!("is {size} bytes, larger than the {limit}-byte limit for metadata"),
            ));
        }
        let mut buf = Vec::with_capacity(size as usize);
        self.open(name)?
            .read_to_end(&mut buf)
            .map_err(|e| self.fmt_err(name, crate::error::describe_io(&e)))?;
        Ok(buf)
    }
}

/// Do two members hold the same bytes?
fn same_bytes(file: &File, a: &Member, b: &Member) -> io::Result<bool> {
    if a.size != b.size {
        return Ok(false);
    }
    let mut buf_a = vec![0u8; 1 << 16];
    let mut buf_b = vec![0u8; 1 << 16];
    let mut done = 0u64;
    while done < a.size {
        let n = ((a.size - done) as usize).min(buf_a.len());
        read_exact_at(file, &mut buf_a[..n], a.offset + done)?;
        read_exact_at(file, &mut buf_b[..n], b.offset + done)?;
        if buf_a[..n] != buf_b[..n] {
            return Ok(false);
        }
        done += n as u64;
    }
    Ok(true)
}

fn read_exact_at(file: &File, mut buf: &mut [u8], mut pos: u64) -> io::Result<()> {
    while !buf.is_empty() {
        let n = read_at(file, buf, pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        pos += n as u64;
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, pos)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, pos)
}

/// One member's bytes: reads stop at the member's end, a file shorter than
/// the member is an error (truncation), never a silent end, and seeks stay
/// inside the member.
#[derive(Debug)]
pub struct MemberReader {
    inner: Inner,
    len: u64,
}

#[derive(Debug)]
enum Inner {
    File {
        file: Arc<File>,
        start: u64,
        pos: u64,
    },
    Remote(Box<dyn RemoteReader>),
}

impl MemberReader {
    /// The member's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (file, start, pos) = match &mut self.inner {
            Inner::File { file, start, pos } => (file, start, pos),
            Inner::Remote(r) => return r.read(buf),
        };
        let left = self.len - *pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = read_at(file, &mut buf[..want], *start + *pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "unexpected end of file (truncated archive)",
            ));
        }
        *pos += n as u64;
        Ok(n)
    }
}

impl Seek for MemberReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match &mut self.inner {
            Inner::File { pos, .. } => pos,
            Inner::Remote(r) => return r.seek(to),
        };
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek outside the member")
        })?;
        if target > self.len {
            // A reader skipping data the member does not hold: truncation.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "seek past the end of the member",
            ));
        }
        *pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_are_normalised_and_confined() {
        assert_eq!(clean_member_name("./a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(clean_member_name("/x//y/").as_deref(), Some("x/y"));
        assert_eq!(clean_member_name("../etc/passwd"), None);
        let check = |name| checked_reference(Path::new("a.tar"), "manifest layer 0", name);
        assert_eq!(
            check("../x").map_err(|e| e.to_string()),
            Err(r#"a.tar: manifest layer 0: refers to a path outside the archive "../x""#.into())
        );
        assert_eq!(
            check("/etc/passwd").map_err(|e| e.to_string()),
            Err(r#"a.tar: manifest layer 0: refers to an absolute path "/etc/passwd""#.into())
        );
        assert_eq!(
            check("blobs/sha256/ab").map_err(|e| e.to_string()),
            Ok("blobs/sha256/ab".to_string())
        );
    }
}
