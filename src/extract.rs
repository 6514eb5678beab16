//! Extracting a file or directory of the merged tree, as it stands after a
//! chosen layer, into a directory on disk, safely: every output path is built
//! from tree components (never `..`, never absolute), nothing is written
//! through a symlink (symlinks are created last, every directory on the way
//! is checked to be a real directory, files are created with `create_new`),
//! nothing existing is replaced without `force`, and setuid/setgid/sticky bits
//! are dropped unless asked for. File bytes are read by streaming each needed
//! layer once, with the wanted files grouped by the layer that holds their
//! final bytes, and checked against the hashes recorded while loading.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::layer::{normalise, Kind};
use crate::load::Loaded;
use crate::tree::{NodeId, ROOT};

/// How to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Replace existing files and symlinks (never a directory by a non-directory).
    pub force: bool,
    /// Keep setuid, setgid and sticky bits (dropped by default).
    pub keep_setuid: bool,
}

/// What an extraction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractReport {
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

#[derive(Debug)]
struct Item {
    rel: PathBuf,
    id: NodeId,
    mode: u32,
    mtime: u64,
    what: What,
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
fn component(name: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(name)))
}

#[cfg(not(unix))]
fn component(name: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(name).ok().map(PathBuf::from)
}

/// A tree name usable as one path component, or None.
fn safe_component(name: &[u8]) -> Option<PathBuf> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return None;
    }
    #[cfg(windows)]
    if name.contains(&b'\\') || name.contains(&b':') {
        return None;
    }
    component(name)
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

fn plan(
    l: &Loaded,
    path_id: NodeId,
    layer: usize,
    report: &mut ExtractReport,
) -> Result<Vec<Item>> {
    let t = &l.tree;
    let display = &l.source.store.display;
    if !t.exists_at(path_id, layer) {
        return Err(Error::Usage(format!(
            "{}: {} does not exist after layer {layer}",
            display.display(),
            t.path(path_id)
        )));
    }
    let mut items = Vec::new();
    let mut stack: Vec<(NodeId, PathBuf)> = Vec::new();
    if path_id == ROOT {
        stack.push((ROOT, PathBuf::new()));
    } else {
        let name = safe_component(t.name(path_id))
            .ok_or_else(|| Error::Usage(format!("{}: unusable name", t.path(path_id))))?;
        stack.push((path_id, name));
    }
    // Iterative depth-first walk: parents always come before their children.
    while let Some((id, rel)) = stack.pop() {
        let is_dir = if id == ROOT {
            true
        } else {
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
                        report
                            .skipped
                            .push(format!("{}: hardlink target is missing", t.path(id)));
                        None
                    }
                },
                Kind::Symlink => Some(What::Symlink(t.link(a).unwrap_or_default().into())),
                Kind::CharDevice | Kind::BlockDevice => {
                    report
                        .skipped
                        .push(format!("{}: device nodes are not created", t.path(id)));
                    None
                }
                Kind::Fifo => {
                    report
                        .skipped
                        .push(format!("{}: FIFOs are not created", t.path(id)));
                    None
                }
                Kind::Other => {
                    report
                        .skipped
                        .push(format!("{}: unsupported entry type", t.path(id)));
                    None
                }
            };
            let Some(what) = what else { continue };
            let is_dir = matches!(what, What::Dir);
            items.push(Item {
                rel: rel.clone(),
                id,
                mode: a.mode.into(),
                mtime: a.mtime,
                what,
            });
            is_dir
        };
        if is_dir {
            let mut kids: Vec<NodeId> = t.children(id).to_vec();
            kids.sort_by(|a, b| t.name(*b).cmp(t.name(*a)));
            for k in kids {
                if !t.exists_at(k, layer) {
                    continue;
                }
                match safe_component(t.name(k)) {
                    Some(c) => stack.push((k, rel.join(c))),
                    None => report
                        .skipped
                        .push(format!("{}: name unusable on this system", t.path(k))),
                }
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
    Ok(items)
}

/// Does the symlink target leave the extraction root when placed at `rel`?
fn escapes(rel: &Path, target: &[u8]) -> bool {
    if target.first() == Some(&b'/') {
        return true;
    }
    let mut depth = rel.components().count() as i64 - 1;
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
    let lerr = |msg: String| Error::Layer {
        path: l.source.store.display.clone(),
        index: idx,
        digest: info.digest.clone(),
        msg,
    };
    let blob = l.source.store.open(&info.member)?;
    let buf = BufReader::with_capacity(1 << 16, blob);
    let (_, d) =
        crate::layer::Decoder::detect(buf).map_err(|e| lerr(crate::error::describe_io(&e)))?;
    Ok(Box::new(d))
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &[u8], p: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), p)
}

#[cfg(not(unix))]
fn make_symlink(_target: &[u8], _p: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks are not supported here",
    ))
}

fn mtime_of(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.min(1 << 40))
}

/// Make room for a non-directory at `p` (with `force`): an existing file or
/// symlink is removed; a directory is never replaced.
fn clear_for_file(p: &Path, force: bool) -> Result<()> {
    match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(p, e)),
        Ok(m) if m.is_dir() => Err(ext_err(p, "a directory is in the way")),
        Ok(_) if force => fs::remove_file(p).map_err(|e| io_err(p, e)),
        Ok(_) => Err(ext_err(p, "already exists (use --force to overwrite)")),
    }
}

/// Extract `path_id` as it is after `layer` into `dest` (created if needed).
/// A directory lands as `dest/NAME/…`, a file as `dest/NAME`, and the root
/// `/` as the contents of `dest`.
pub fn extract(
    loaded: &Loaded,
    path_id: NodeId,
    layer: usize,
    dest: &Path,
    opts: &ExtractOptions,
) -> Result<ExtractReport> {
    let mut report = ExtractReport::default();
    let items = plan(loaded, path_id, layer, &mut report)?;
    fs::create_dir_all(dest).map_err(|e| io_err(dest, e))?;
    let root = dest.canonicalize().map_err(|e| io_err(dest, e))?;
    let mask = if opts.keep_setuid { 0o7777 } else { 0o777 };

    // Check every conflict before writing anything.
    for it in &items {
        let p = root.join(&it.rel);
        match fs::symlink_metadata(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&p, e)),
            Ok(m) => match (&it.what, m.is_dir()) {
                (What::Dir, true) => {}
                (_, true) => return Err(ext_err(&p, "a directory is in the way")),
                _ if opts.force => {}
                _ => return Err(ext_err(&p, "already exists (use --force to overwrite)")),
            },
        }
    }

    // Directories, parents first; each one checked to be a real directory.
    for it in &items {
        if !matches!(it.what, What::Dir) {
            continue;
        }
        let p = root.join(&it.rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                clear_for_file(&p, opts.force)?;
                fs::create_dir(&p).map_err(|e| io_err(&p, e))?;
            }
            Err(_) => fs::create_dir(&p).map_err(|e| io_err(&p, e))?,
        }
        let m = fs::symlink_metadata(&p).map_err(|e| io_err(&p, e))?;
        if !m.is_dir() {
            return Err(ext_err(&p, "is not a directory after creating it"));
        }
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
            clear_for_file(&root.join(&it.rel), opts.force)?;
        }
    }
    let mut written: Vec<Option<(u64, [u8; 32])>> = vec![None; items.len()];
    let mut layers: Vec<usize> = by_layer.keys().copied().collect();
    layers.sort_unstable();
    let mut buf = vec![0u8; 64 * 1024];
    for idx in layers {
        let wanted = &by_layer[&idx];
        let info = &loaded.image.layers[idx];
        let lerr = |msg: String| Error::Layer {
            path: loaded.source.store.display.clone(),
            index: idx,
            digest: info.digest.clone(),
            msg,
        };
        let mut archive = tar::Archive::new(layer_stream(loaded, idx)?);
        let entries = archive
            .entries()
            .map_err(|e| lerr(crate::error::describe_io(&e)))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| lerr(crate::error::describe_io(&e)))?;
            let et = entry.header().entry_type();
            if !(et == tar::EntryType::Regular || et == tar::EntryType::Continuous) {
                continue;
            }
            let comps = normalise(&entry.path_bytes()).0;
            let Some(targets) = wanted.get(&comps) else {
                continue;
            };
            // The last entry for a path wins, as in the tree: rewrite each time.
            let mut outs = Vec::with_capacity(targets.len());
            for &i in targets {
                let p = root.join(&items[i].rel);
                let f = if written[i].is_some() {
                    fs::OpenOptions::new().write(true).truncate(true).open(&p)
                } else {
                    fs::OpenOptions::new().write(true).create_new(true).open(&p)
                }
                .map_err(|e| io_err(&p, e))?;
                outs.push((i, p, io::BufWriter::new(f)));
            }
            let mut h = Sha256::new();
            let mut n = 0u64;
            loop {
                let k = entry.read(&mut buf).map_err(|e| {
                    lerr(format!(
                        "entry {:?}: {}",
                        String::from_utf8_lossy(&comps),
                        crate::error::describe_io(&e)
                    ))
                })?;
                if k == 0 {
                    break;
                }
                h.update(&buf[..k]);
                n += k as u64;
                for (_, p, w) in outs.iter_mut() {
                    w.write_all(&buf[..k]).map_err(|e| io_err(p, e))?;
                }
            }
            let sum: [u8; 32] = h.finalize().into();
            for (i, p, w) in outs {
                // Flush now: a write error must fail the extraction.
                w.into_inner().map_err(|e| io_err(&p, e.into_error()))?;
                written[i] = Some((n, sum));
            }
        }
        report.layers_read += 1;
    }
    for (i, it) in items.iter().enumerate() {
        let What::File { layer, src } = it.what else {
            continue;
        };
        let p = root.join(&it.rel);
        let Some((n, sum)) = written[i] else {
            return Err(ext_err(
                &p,
                format!(
                    "content of {} not found in layer {layer}",
                    loaded.tree.path(src)
                ),
            ));
        };
        let want = loaded.tree.attrs_at(src, layer).and_then(|a| a.sha256);
        if want.is_some_and(|w| w != sum) {
            return Err(ext_err(
                &p,
                format!(
                    "content of {} differs from what was loaded (the archive changed?)",
                    loaded.tree.path(src)
                ),
            ));
        }
        set_mode(&p, (it.mode & mask) | 0o600).map_err(|e| io_err(&p, e))?;
        if let Ok(f) = fs::OpenOptions::new().write(true).open(&p) {
            let _ = f.set_modified(mtime_of(it.mtime));
        }
        report.files += 1;
        report.bytes += n;
    }

    // Hard links between extracted files.
    for it in &items {
        let What::Hardlink(target) = it.what else {
            continue;
        };
        let p = root.join(&it.rel);
        let src = root.join(&items[target].rel);
        clear_for_file(&p, opts.force)?;
        if fs::hard_link(&src, &p).is_err() {
            fs::copy(&src, &p).map_err(|e| io_err(&p, e))?;
        }
        report.hardlinks += 1;
    }

    // Symlinks last, so nothing is ever written through one.
    let mut escaping = 0u64;
    for it in &items {
        let What::Symlink(target) = &it.what else {
            continue;
        };
        let p = root.join(&it.rel);
        clear_for_file(&p, opts.force)?;
        make_symlink(target, &p).map_err(|e| io_err(&p, e))?;
        if escapes(&it.rel, target) {
            escaping += 1;
        }
        report.symlinks += 1;
    }
    if escaping > 0 {
        report.warnings.push(format!(
            "{escaping} symlinks point outside the extracted tree (created as they are, never followed)"
        ));
    }

    // Directory modes and times last (deepest first), so a read-only
    // directory did not block writing below it.
    for it in items.iter().rev() {
        if !matches!(it.what, What::Dir) {
            continue;
        }
        let p = root.join(&it.rel);
        set_mode(&p, (it.mode & mask) | 0o700).map_err(|e| io_err(&p, e))?;
        if let Ok(f) = fs::File::open(&p) {
            let _ = f.set_modified(mtime_of(it.mtime));
        }
    }
    Ok(report)
}

/// Per layer: normalised entry path → plan items wanting its bytes.
type Wanted = HashMap<Vec<u8>, Vec<usize>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_escape_is_judged_from_the_link_position() {
        assert!(escapes(Path::new("a"), b"/etc/passwd"));
        assert!(escapes(Path::new("a"), b"../x"));
        assert!(!escapes(Path::new("d/a"), b"../x"));
        assert!(escapes(Path::new("d/a"), b"../../x"));
        assert!(!escapes(Path::new("d/a"), b"b/../c"));
    }

    #[test]
    fn unsafe_names_are_refused() {
        assert!(safe_component(b"..").is_none());
        assert!(safe_component(b"a/b").is_none());
        assert!(safe_component(b"a\0b").is_none());
        assert!(safe_component(b"ok").is_some());
    }
}
