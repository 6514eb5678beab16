//! Extracting a file or directory of the merged tree, as it stands after a
//! chosen layer, into a directory on disk, safely: every output name comes
//! from a tree component (never `..`, never absolute), every write goes
//! through directory handles opened without following symlinks (see
//! `handles`), so a process changing the destination while it is written
//! cannot redirect a byte outside it; nothing existing is replaced without
//! `force`, and setuid/setgid/sticky bits are dropped unless asked for. File
//! bytes are read by streaming each needed layer once, with the wanted files
//! grouped by the layer that holds their final bytes, and checked against
//! the hashes recorded while loading. [`preview`] answers, before anything
//! is written, what an extraction would do (the destination with `~`
//! expanded, directories to create, conflicts, warnings), for front ends
//! that ask before they write.

#[cfg(unix)]
mod handles;
mod target;

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use sha2::{Digest, Sha256};

use crate::error::{Error, LayerFault, Result};
use crate::layer::Kind;
#[cfg(unix)]
use crate::layer::{normalise, Watched};
use crate::load::Loaded;
use crate::tree::{NodeId, ROOT};

pub use target::{default_dest, expand_home, preview, Preview};

/// How to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace existing files and symlinks (never a directory by a non-directory).
    pub force: bool,
    /// Keep setuid, setgid and sticky bits (dropped by default).
    pub keep_setuid: bool,
}

/// What an extraction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub dirs: u64,
    pub files: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Content bytes written.
    pub bytes: u64,
    /// Layers streamed to get file contents.
    pub layers_read: usize,
    /// Paths not created (devices, FIFOs, unknown types, broken hardlinks), with why.
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug)]
enum What {
    Dir,
    /// Bytes come from the entry at `src` in layer `layer`.
    File {
        layer: usize,
        src: NodeId,
    },
    Symlink(Box<[u8]>),
    /// A hard link to the plan item at this index.
    Hardlink(usize),
}

/// One path to create. Items are in depth-first pre-order: a directory
/// always comes before everything below it.
#[derive(Debug)]
struct Item {
    /// The directory item this one is created in (`None`: the destination).
    parent: Option<usize>,
    /// One path component, checked by [`safe_component`].
    name: Box<[u8]>,
    /// Components from the destination down to this item.
    depth: u32,
    id: NodeId,
    mode: u32,
    mtime: u64,
    what: What,
}

/// The plan: items plus what the walk found worth saying.
struct Plan {
    items: Vec<Item>,
    skipped: Vec<String>,
    warnings: Vec<String>,
}

/// The path of item `i` below the destination (for messages only: nothing
/// is ever opened by it).
fn rel(items: &[Item], i: usize) -> PathBuf {
    let mut parts = vec![i];
    let mut cur = i;
    while let Some(p) = items[cur].parent {
        parts.push(p);
        cur = p;
    }
    parts
        .iter()
        .rev()
        .map(|&k| component(&items[k].name))
        .collect()
}

fn ext_err(path: &Path, msg: impl Into<String>) -> Error {
    Error::Extract {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

fn io_err(path: &Path, e: io::Error) -> Error {
    ext_err(path, crate::error::describe_io(&e))
}

#[cfg(unix)]
fn component(name: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(name))
}

#[cfg(not(unix))]
fn component(name: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(name).into_owned())
}

/// A tree name usable as one path component.
fn safe_component(name: &[u8]) -> bool {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return false;
    }
    if cfg!(windows)
        && (name.contains(&b'\\') || name.contains(&b':') || std::str::from_utf8(name).is_err())
    {
        return false;
    }
    true
}

/// The node whose entry holds the bytes of `id` as it is after `layer`,
/// following hardlink chains (bounded), with the layer to read.
fn content_source(l: &Loaded, id: NodeId, layer: usize) -> Option<(usize, NodeId)> {
    let t = &l.tree;
    let mut cur = id;
    let mut v = t.version_at(cur, layer)?;
    for _ in 0..64 {
        let a = t.attrs_of(v)?;
        match a.kind {
            Kind::File => return Some((v.layer as usize, cur)),
            Kind::Hardlink => {
                let target = t.lookup(t.link(a)?)?;
                if target == cur {
                    return None;
                }
                v = t.version_at(target, v.layer as usize)?;
                cur = target;
            }
            _ => return None,
        }
    }
    None
}

fn plan(l: &Loaded, path_id: NodeId, layer: usize) -> Result<Plan> {
    let t = &l.tree;
    let display = &l.source.store.display;
    if !t.exists_at(path_id, layer) {
        return Err(Error::Usage(format!(
            "{}: {} does not exist after layer {layer}",
            display.display(),
            t.path(path_id)
        )));
    }
    let mut skipped = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    // (node, parent item, depth)
    let mut stack: Vec<(NodeId, Option<usize>, u32)> = Vec::new();
    let mut root_dir = false;
    if path_id == ROOT {
        root_dir = true;
    } else {
        if !safe_component(t.name(path_id)) {
            return Err(Error::Usage(format!("{}: unusable name", t.path(path_id))));
        }
        stack.push((path_id, None, 1));
    }
    // Iterative depth-first walk: parents always come before their children.
    loop {
        // The directory whose children are pushed next: the root once, then
        // each directory item as it is planned.
        let (dir_node, dir_item, dir_depth) = if root_dir {
            root_dir = false;
            (ROOT, None, 0)
        } else {
            let Some((id, parent, depth)) = stack.pop() else {
                break;
            };
            let Some(a) = t.attrs_at(id, layer) else {
                continue;
            };
            let what = match a.kind {
                Kind::Dir => Some(What::Dir),
                Kind::File => {
                    content_source(l, id, layer).map(|(layer, src)| What::File { layer, src })
                }
                Kind::Hardlink => match content_source(l, id, layer) {
                    // Resolved to a File item or a link in a second pass.
                    Some((layer, src)) => Some(What::File { layer, src }),
                    None => {
                        skipped.push(format!("{}: hardlink target is missing", t.path(id)));
                        None
                    }
                },
                Kind::Symlink => Some(What::Symlink(t.link(a).unwrap_or_default().into())),
                Kind::CharDevice | Kind::BlockDevice => {
                    skipped.push(format!("{}: device nodes are not created", t.path(id)));
                    None
                }
                Kind::Fifo => {
                    skipped.push(format!("{}: FIFOs are not created", t.path(id)));
                    None
                }
                Kind::Other => {
                    skipped.push(format!("{}: unsupported entry type", t.path(id)));
                    None
                }
            };
            let Some(what) = what else { continue };
            let is_dir = matches!(what, What::Dir);
            items.push(Item {
                parent,
                name: t.name(id).into(),
                depth,
                id,
                mode: a.mode.into(),
                mtime: a.mtime,
                what,
            });
            if !is_dir {
                continue;
            }
            (id, Some(items.len() - 1), depth)
        };
        let mut kids: Vec<NodeId> = t.children(dir_node).to_vec();
        kids.sort_by(|a, b| t.name(*b).cmp(t.name(*a)));
        for k in kids {
            if !t.exists_at(k, layer) {
                continue;
            }
            if safe_component(t.name(k)) {
                stack.push((k, dir_item, dir_depth + 1));
            } else {
                skipped.push(format!("{}: name unusable on this system", t.path(k)));
            }
        }
    }
    // Hardlinks whose bytes are those of another extracted file become links.
    let mut by_source: HashMap<(usize, NodeId), usize> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let What::File { layer, src } = it.what {
            if src == it.id {
                by_source.entry((layer, src)).or_insert(i);
            }
        }
    }
    for it in items.iter_mut() {
        if let What::File { layer, src } = it.what {
            if src != it.id {
                if let Some(&target) = by_source.get(&(layer, src)) {
                    it.what = What::Hardlink(target);
                }
            }
        }
    }
    let escaping = items
        .iter()
        .filter(|it| matches!(&it.what, What::Symlink(target) if escapes(it.depth, target)))
        .count();
    let mut warnings = Vec::new();
    if escaping > 0 {
        warnings.push(format!(
            "{escaping} symlinks point outside the extracted tree (created as they are, never followed)"
        ));
    }
    Ok(Plan {
        items,
        skipped,
        warnings,
    })
}

/// Does a symlink `depth` components below the extraction root, pointing
/// at `target`, leave that root?
fn escapes(depth: u32, target: &[u8]) -> bool {
    if target.first() == Some(&b'/') {
        return true;
    }
    let mut depth = i64::from(depth) - 1;
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Open layer `idx`'s tar stream, undoing its compression.
fn layer_stream(l: &Loaded, idx: usize) -> Result<Box<dyn Read + '_>> {
    let info = &l.image.layers[idx];
    let blob = l.source.store.open(&info.member)?;
    let buf = BufReader::with_capacity(1 << 16, Watched(blob));
    let (_, d) = crate::layer::Decoder::detect(buf).map_err(|e| Error::Layer {
        path: l.source.store.display.clone(),
        index: idx,
        digest: info.digest.clone(),
        fault: LayerFault::from_io(e),
    })?;
    Ok(Box::new(d))
}

/// Existing paths in the destination that the plan would write over.
#[cfg(unix)]
struct Conflicts {
    /// Item index and what is there, at most `limit` of them.
    found: Vec<(usize, handles::Found)>,
    count: usize,
    /// A directory where the plan has a non-directory: never replaced.
    blocked: Option<(usize, handles::Found)>,
}

/// Look at every planned name that exists (read-only), through the same
/// handles the writes use.
#[cfg(unix)]
fn conflicts(h: &mut handles::Handles, items: &[Item], limit: usize) -> io::Result<Conflicts> {
    use handles::Found;
    let mut c = Conflicts {
        found: Vec::new(),
        count: 0,
        blocked: None,
    };
    for (i, it) in items.iter().enumerate() {
        let Some(dir) = h.existing_dir(items, it.parent)? else {
            continue;
        };
        let found = handles::stat(dir, &it.name)?;
        match (found, &it.what) {
            (Found::Missing, _) | (Found::Dir, What::Dir) => continue,
            (Found::Dir, _) if c.blocked.is_none() => c.blocked = Some((i, found)),
            _ => {}
        }
        c.count += 1;
        if c.found.len() < limit {
            c.found.push((i, found));
        }
    }
    Ok(c)
}

/// What a run has created so far, for the message when it stops part-way.
#[derive(Debug, Default)]
struct Made {
    dest: bool,
    dirs: u64,
    files: u64,
    links: u64,
    replaced: u64,
}

impl Made {
    fn anything(&self) -> bool {
        self.dest || self.dirs + self.files + self.links + self.replaced > 0
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "{} directories, {} files and {} links it created are left as they are",
            self.dirs, self.files, self.links
        );
        if self.dest {
            s.push_str(" (and the destination, which it created)");
        }
        if self.replaced > 0 {
            s.push_str(&format!(
                "; {} existing files or symlinks were replaced (force)",
                self.replaced
            ));
        } else {
            s.push_str("; nothing that was there before was changed");
        }
        s
    }
}

/// Extract `path_id` as it is after `layer` into `dest` (created if needed).
/// A directory lands as `dest/NAME/…`, a file as `dest/NAME`, and the root
/// `/` as the contents of `dest`.
///
/// An error before the first write leaves the disk as it was; an error
/// after it (a layer that fails to stream, a full disk, a destination
/// changed under the run) says what was left behind. Nothing the user had
/// is removed, except files and symlinks replaced under `force`.
#[cfg(unix)]
pub fn extract(
    loaded: &Loaded,
    path_id: NodeId,
    layer: usize,
    dest: &Path,
    opts: &Options,
) -> Result<Report> {
    let plan = plan(loaded, path_id, layer)?;
    let mut report = Report {
        skipped: plan.skipped,
        warnings: plan.warnings,
        ..Report::default()
    };
    let items = plan.items;
    let mut made = Made::default();
    let missing = target::missing_dirs(dest)?;
    // Conflicts are checked before the destination is even created, so a
    // refused extraction writes nothing.
    let mut h = if missing.is_empty() {
        let mut h = handles::Handles::open(dest).map_err(|e| io_err(dest, e))?;
        let c = conflicts(&mut h, &items, 1).map_err(|e| io_err(dest, e))?;
        if let Some((i, found)) = c.blocked {
            return Err(ext_err(
                &dest.join(rel(&items, i)),
                format!("{} is in the way", found.describe()),
            ));
        }
        if let (false, Some(&(i, _))) = (opts.force, c.found.first()) {
            return Err(ext_err(
                &dest.join(rel(&items, i)),
                "already exists (use --force to overwrite)",
            ));
        }
        h
    } else {
        std::fs::create_dir_all(dest).map_err(|e| io_err(dest, e))?;
        made.dest = true;
        handles::Handles::open(dest).map_err(|e| io_err(dest, e))?
    };
    match write(loaded, &items, &mut h, dest, opts, &mut report, &mut made) {
        Ok(()) => Ok(report),
        Err(e) if !made.anything() => Err(e),
        Err(e) => Err(Error::Incomplete {
            dest: dest.to_path_buf(),
            left: made.describe(),
            cause: Box::new(e),
        }),
    }
}

#[cfg(not(unix))]
pub fn extract(
    _loaded: &Loaded,
    _path_id: NodeId,
    _layer: usize,
    dest: &Path,
    _opts: &Options,
) -> Result<Report> {
    Err(ext_err(dest, "extraction needs a Unix system"))
}

/// Make room for a non-directory at `name` in `dir` (shown as `at`): a
/// file or symlink is removed under `force` (counted), a directory never.
#[cfg(unix)]
fn clear(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &[u8],
    force: bool,
    made: &mut Made,
    at: &Path,
) -> Result<()> {
    use handles::Found;
    match handles::stat(dir, name).map_err(|e| io_err(at, e))? {
        Found::Missing => Ok(()),
        Found::Dir => Err(ext_err(at, "a directory is in the way")),
        _ if force => {
            handles::unlink(dir, name).map_err(|e| io_err(at, e))?;
            made.replaced += 1;
            Ok(())
        }
        _ => Err(ext_err(at, "already exists (use --force to overwrite)")),
    }
}

#[cfg(unix)]
fn write(
    loaded: &Loaded,
    items: &[Item],
    h: &mut handles::Handles,
    dest: &Path,
    opts: &Options,
    report: &mut Report,
    made: &mut Made,
) -> Result<()> {
    use handles::Found;
    use std::os::fd::AsFd;
    let mask = if opts.keep_setuid { 0o7777 } else { 0o777 };
    let at = |i: usize| dest.join(rel(items, i));

    // Directories, parents first; each one opened without following links,
    // so a directory swapped for a symlink stops the run.
    for (i, it) in items.iter().enumerate() {
        if !matches!(it.what, What::Dir) {
            continue;
        }
        let dir = h.dir(items, it.parent).map_err(|e| io_err(&at(i), e))?;
        match handles::stat(dir, &it.name).map_err(|e| io_err(&at(i), e))? {
            Found::Dir => {}
            Found::Missing => {
                if handles::mkdir(dir, &it.name).map_err(|e| io_err(&at(i), e))? {
                    made.dirs += 1;
                }
            }
            _ => {
                clear(dir, &it.name, opts.force, made, &at(i))?;
                if handles::mkdir(dir, &it.name).map_err(|e| io_err(&at(i), e))? {
                    made.dirs += 1;
                }
            }
        }
        h.dir(items, Some(i)).map_err(|e| {
            ext_err(
                &at(i),
                format!(
                    "is not a directory any more ({}): the destination changed while extracting",
                    crate::error::describe_io(&e)
                ),
            )
        })?;
        report.dirs += 1;
    }

    // File contents: one pass over each layer that holds wanted bytes.
    let mut by_layer: HashMap<usize, Wanted> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let What::File { layer, src } = it.what {
            let comps = normalise(&loaded.tree.path_bytes(src)).0;
            by_layer
                .entry(layer)
                .or_default()
                .entry(comps)
                .or_default()
                .push(i);
        }
    }
    let mut written: Vec<Option<(u64, [u8; 32])>> = vec![None; items.len()];
    let mut layers: Vec<usize> = by_layer.keys().copied().collect();
    layers.sort_unstable();
    let mut buf = vec![0u8; 64 * 1024];
    for idx in layers {
        let wanted = &by_layer[&idx];
        let info = &loaded.image.layers[idx];
        let lerr = |fault: LayerFault| Error::Layer {
            path: loaded.source.store.display.clone(),
            index: idx,
            digest: info.digest.clone(),
            fault,
        };
        let limits = crate::tarstream::Limits {
            max_path_bytes: loaded.max_path_bytes,
        };
        let mut rd = crate::tarstream::Reader::new(
            crate::tarstream::Stream(layer_stream(loaded, idx)?),
            limits,
        );
        while let Some(hdr) = rd.next_header().map_err(|e| lerr(LayerFault::from_io(e)))? {
            if hdr.entry_type != crate::tarstream::Kind::File {
                continue;
            }
            let comps = normalise(&hdr.path).0;
            let Some(targets) = wanted.get(&comps) else {
                continue;
            };
            // The last entry for a path wins, as in the tree: each entry
            // makes a new file (replacing this run's own earlier one).
            let mut outs = Vec::with_capacity(targets.len());
            for &i in targets {
                let it = &items[i];
                let dir = h.dir(items, it.parent).map_err(|e| io_err(&at(i), e))?;
                if written[i].is_some() {
                    handles::unlink(dir, &it.name).map_err(|e| io_err(&at(i), e))?;
                    made.files -= 1;
                } else {
                    clear(dir, &it.name, opts.force, made, &at(i))?;
                }
                let f = handles::create(dir, &it.name).map_err(|e| io_err(&at(i), e))?;
                made.files += 1;
                outs.push((i, io::BufWriter::new(f)));
            }
            // Holes of a sparse file are seeked over, not written, and hashed
            // only when loading hashed them (within its budget).
            let hash_holes = hdr.sparse.is_none()
                || targets.iter().any(|&i| match items[i].what {
                    What::File { layer, src } => loaded
                        .tree
                        .attrs_at(src, layer)
                        .is_some_and(|a| a.sha256.is_some()),
                    _ => false,
                });
            let mut sha = Sha256::new();
            let mut write_err = None;
            crate::tarstream::for_each_piece(&mut rd, &hdr, &mut buf, |piece| {
                let res = match piece {
                    crate::tarstream::Piece::Data(d) => {
                        sha.update(d);
                        outs.iter_mut()
                            .try_for_each(|(i, w)| w.write_all(d).map_err(|e| (*i, e)))
                    }
                    crate::tarstream::Piece::Hole(n) => {
                        if hash_holes {
                            crate::layer::hash_zeros(&mut sha, n);
                        }
                        let d = i64::try_from(n).unwrap_or(i64::MAX);
                        outs.iter_mut().try_for_each(|(i, w)| {
                            w.seek(io::SeekFrom::Current(d))
                                .map(|_| ())
                                .map_err(|e| (*i, e))
                        })
                    }
                };
                match res {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        write_err = Some(e);
                        Ok(false)
                    }
                }
            })
            .map_err(|e| {
                lerr(
                    LayerFault::from_io(e)
                        .map_msg(|m| format!("entry {:?}: {m}", String::from_utf8_lossy(&comps))),
                )
            })?;
            if let Some((i, e)) = write_err {
                return Err(io_err(&at(i), e));
            }
            let n = hdr.size;
            let sum: [u8; 32] = sha.finalize().into();
            for (i, w) in outs {
                // Flush now: a write error must fail the extraction. A file
                // ending in a hole gets its length from set_len.
                let f = w.into_inner().map_err(|e| io_err(&at(i), e.into_error()))?;
                f.set_len(n).map_err(|e| io_err(&at(i), e))?;
                let it = &items[i];
                handles::finish(f.as_fd(), (it.mode & mask) | 0o600, it.mtime)
                    .map_err(|e| io_err(&at(i), e))?;
                written[i] = Some((n, sum));
            }
        }
        report.layers_read += 1;
    }
    for (i, it) in items.iter().enumerate() {
        let What::File { layer, src } = it.what else {
            continue;
        };
        let Some((n, sum)) = written[i] else {
            return Err(ext_err(
                &at(i),
                format!(
                    "content of {} not found in layer {layer}",
                    loaded.tree.path(src)
                ),
            ));
        };
        let want = loaded.tree.attrs_at(src, layer).and_then(|a| a.sha256);
        if want.is_some_and(|w| w != sum) {
            return Err(ext_err(
                &at(i),
                format!(
                    "content of {} differs from what was loaded (the archive changed?)",
                    loaded.tree.path(src)
                ),
            ));
        }
        report.files += 1;
        report.bytes += n;
    }

    // Hard links between extracted files.
    for (i, it) in items.iter().enumerate() {
        let What::Hardlink(target) = it.what else {
            continue;
        };
        let src = &items[target];
        let from = h
            .dir(items, src.parent)
            .and_then(|d| d.try_clone_to_owned())
            .map_err(|e| io_err(&at(target), e))?;
        let dir = h.dir(items, it.parent).map_err(|e| io_err(&at(i), e))?;
        clear(dir, &it.name, opts.force, made, &at(i))?;
        if handles::link(from.as_fd(), &src.name, dir, &it.name).is_err() {
            // No hard links here (some file systems): copy the bytes.
            let mut r =
                handles::open_read(from.as_fd(), &src.name).map_err(|e| io_err(&at(target), e))?;
            let mut w = handles::create(dir, &it.name).map_err(|e| io_err(&at(i), e))?;
            io::copy(&mut r, &mut w).map_err(|e| io_err(&at(i), e))?;
            handles::finish(w.as_fd(), (src.mode & mask) | 0o600, src.mtime)
                .map_err(|e| io_err(&at(i), e))?;
        }
        made.links += 1;
        report.hardlinks += 1;
    }

    // Symlinks last, so nothing is ever written through one.
    for (i, it) in items.iter().enumerate() {
        let What::Symlink(target) = &it.what else {
            continue;
        };
        let dir = h.dir(items, it.parent).map_err(|e| io_err(&at(i), e))?;
        clear(dir, &it.name, opts.force, made, &at(i))?;
        handles::symlink(target, dir, &it.name).map_err(|e| io_err(&at(i), e))?;
        made.links += 1;
        report.symlinks += 1;
    }

    // Directory modes and times last (deepest first), so a read-only
    // directory did not block writing below it; each on its open handle.
    for (i, it) in items.iter().enumerate().rev() {
        if !matches!(it.what, What::Dir) {
            continue;
        }
        let dir = h.dir(items, Some(i)).map_err(|e| io_err(&at(i), e))?;
        handles::finish(dir, (it.mode & mask) | 0o700, it.mtime).map_err(|e| io_err(&at(i), e))?;
    }
    Ok(())
}

/// Per layer: normalised entry path → plan items wanting its bytes.
#[cfg(unix)]
type Wanted = HashMap<Vec<u8>, Vec<usize>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_escape_is_judged_from_the_link_position() {
        assert!(escapes(1, b"/etc/passwd"));
        assert!(escapes(1, b"../x"));
        assert!(!escapes(2, b"../x"));
        assert!(escapes(2, b"../../x"));
        assert!(!escapes(2, b"b/../c"));
    }

    #[test]
    fn unsafe_names_are_refused() {
        assert!(!safe_component(b".."));
        assert!(!safe_component(b"a/b"));
        assert!(!safe_component(b"a\0b"));
        assert!(safe_component(b"ok"));
    }
}
