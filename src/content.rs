//! Reading a file's content back from the layer that holds it, in a bounded
//! window: the layer is streamed again and only the wanted entry's bytes in
//! the window are kept, so a 1 GB file never lands in memory.

use crate::error::{Error, LayerFault, Result};
use crate::layer::{normalise, Kind, Watched};
use crate::load::Loaded;
use crate::tarstream::{for_each_piece, Header, Limits, Piece, Reader, Stream};
use crate::tree::NodeId;

/// A slice of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Byte offset of `bytes` in the file.
    pub offset: u64,
    pub bytes: Vec<u8>,
    /// The file's full size.
    pub total_size: u64,
}

fn err(l: &Loaded, msg: String) -> Error {
    Error::Format {
        path: l.source.store.display.clone(),
        msg,
    }
}

/// Which layer holds the bytes of `id` as seen after `layer`, and the path to
/// look for in it (a hardlink's target).
fn locate(l: &Loaded, id: NodeId, layer: usize) -> Result<(usize, Vec<u8>)> {
    let t = &l.tree;
    let v = t
        .version_at(id, layer)
        .ok_or_else(|| err(l, format!("{} does not exist in layer {layer}", t.path(id))))?;
    let a = t
        .attrs_of(v)
        .ok_or_else(|| err(l, format!("{} is deleted in layer {layer}", t.path(id))))?;
    match a.kind {
        Kind::File => Ok((v.layer as usize, t.path_bytes(id))),
        Kind::Hardlink => {
            let target = t.link(a).unwrap_or_default().to_vec();
            let tid = t
                .lookup(&target)
                .ok_or_else(|| err(l, format!("{}: hardlink target is missing", t.path(id))))?;
            let tv = t
                .version_at(tid, v.layer as usize)
                .ok_or_else(|| err(l, format!("{}: hardlink target is missing", t.path(id))))?;
            Ok((tv.layer as usize, t.path_bytes(tid)))
        }
        _ => Err(err(l, format!("{} is not a regular file", t.path(id)))),
    }
}

/// A layer's tar stream, decompressed.
type LayerReader = Reader<
    Stream<crate::layer::Decoder<std::io::BufReader<Watched<crate::archive::store::MemberReader>>>>,
>;

/// Where the bytes shown for a path come from: the file itself, a
/// symlink's target (followed inside the image), or for a path deleted by
/// then the last content a layer shipped for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The regular file (or hardlink) whose bytes are read.
    pub node: NodeId,
    /// The state to read it in (pass to [`read_window`]).
    pub state: usize,
    /// The layer whose tar holds the bytes.
    pub shipped_in: usize,
    /// The paths followed, the asked one first, when symlinks were followed.
    pub chain: Vec<String>,
    /// The layer that deleted the path, when the bytes are its last content.
    pub deleted_in: Option<usize>,
}

/// Symlinks followed at most (as Linux's `MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

/// What to read for `id` as it is after `layer`: symlinks are followed
/// inside the image (absolute targets from the image's root, `..` never
/// above it), and a path deleted by then shows the content it last had.
pub fn source(l: &Loaded, id: NodeId, layer: usize) -> Result<Source> {
    let t = &l.tree;
    let mut state = layer;
    let mut deleted_in = None;
    if t.attrs_at(id, layer).is_none() {
        // Deleted (or not there yet): the last live version up to `layer`.
        let vs = &t.node(id).versions;
        let live = vs
            .iter()
            .rposition(|v| v.layer as usize <= layer && t.attrs_of(v).is_some())
            .ok_or_else(|| err(l, format!("{} does not exist in layer {layer}", t.path(id))))?;
        state = vs[live].layer as usize;
        deleted_in = vs.get(live + 1).map(|v| v.layer as usize);
    }
    let mut chain = vec![t.path(id)];
    let mut cur = id;
    let mut hops = 0;
    loop {
        let a = t.attrs_at(cur, state).ok_or_else(|| {
            err(
                l,
                format!("{}: no such file in layer {state}", chain.join(" → ")),
            )
        })?;
        match a.kind {
            Kind::File | Kind::Hardlink => break,
            Kind::Symlink => {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(err(l, format!("{}: too many symlinks", t.path(id))));
                }
                let target = t.link(a).unwrap_or_default().to_vec();
                let mut dir = components(&t.path_bytes(cur));
                dir.pop();
                let at = format!("{} → {}", chain.join(" → "), lossy(&target));
                let comps = walk(l, state, dir, &target, &mut hops, &at)?;
                let path = join(&comps);
                chain.push(String::from_utf8_lossy(&path).into_owned());
                cur = t.lookup(&path).ok_or_else(|| {
                    err(
                        l,
                        format!("{}: no such file in layer {state}", chain.join(" → ")),
                    )
                })?;
            }
            Kind::Dir => return Err(err(l, format!("{} is a directory", chain.join(" → ")))),
            _ => {
                return Err(err(
                    l,
                    format!("{} is not a regular file", chain.join(" → ")),
                ))
            }
        }
    }
    let (shipped_in, _) = locate(l, cur, state)?;
    if chain.len() == 1 {
        chain.clear();
    }
    Ok(Source {
        node: cur,
        state,
        shipped_in,
        chain,
        deleted_in,
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn join(comps: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

/// Resolve `target` from directory `dir` (components) in the state after
/// `layer`, following symlinks met on the way; the last component is left
/// for the caller (so each hop of a chain is shown). Errors start with
/// `at`, the chain followed so far.
fn walk(
    l: &Loaded,
    layer: usize,
    dir: Vec<Vec<u8>>,
    target: &[u8],
    hops: &mut usize,
    at: &str,
) -> Result<Vec<Vec<u8>>> {
    let t = &l.tree;
    let mut comps = if target.starts_with(b"/") {
        Vec::new()
    } else {
        dir
    };
    let mut queue: std::collections::VecDeque<Vec<u8>> = components(target).into();
    while let Some(c) = queue.pop_front() {
        match c.as_slice() {
            b"." => continue,
            b".." => {
                comps.pop();
                continue;
            }
            _ => comps.push(c),
        }
        if queue.is_empty() {
            break;
        }
        let id = t
            .lookup(&join(&comps))
            .filter(|&id| t.attrs_at(id, layer).is_some())
            .ok_or_else(|| err(l, format!("{at}: {} does not exist", lossy(&join(&comps)))))?;
        let Some(a) = t.attrs_at(id, layer) else {
            continue;
        };
        if a.kind == Kind::Symlink {
            *hops += 1;
            if *hops > MAX_HOPS {
                return Err(err(l, format!("{at}: too many symlinks")));
            }
            let link = t.link(a).unwrap_or_default();
            comps.pop();
            if link.starts_with(b"/") {
                comps.clear();
            }
            for (i, c) in components(link).into_iter().enumerate() {
                queue.insert(i, c);
            }
        }
    }
    Ok(comps)
}

/// Stream layer `layer_idx` and hand the `nth` entry (0-based, counting the
/// entries whose path is `want`) to `f`. Returns how many matched in all.
fn with_entry(
    l: &Loaded,
    layer_idx: usize,
    want: &[u8],
    nth: Option<usize>,
    f: &mut dyn FnMut(&mut LayerReader, &Header) -> Result<()>,
) -> Result<usize> {
    let info = &l.image.layers[layer_idx];
    let blob = l.source.store.open(&info.member)?;
    let buf = std::io::BufReader::with_capacity(1 << 16, Watched(blob));
    let layer_err = |e: std::io::Error| Error::Layer {
        path: l.source.store.display.clone(),
        index: layer_idx,
        digest: info.digest.clone(),
        fault: LayerFault::from_io(e),
    };
    let (_, reader) = crate::layer::Decoder::detect(buf).map_err(layer_err)?;
    let want_comps = normalise(want).0;
    let limits = Limits {
        max_path_bytes: l.max_path_bytes,
    };
    let mut rd = Reader::new(Stream(reader), limits);
    let mut seen = 0;
    while let Some(h) = rd.next_header().map_err(layer_err)? {
        if normalise(&h.path).0 != want_comps {
            continue;
        }
        if nth == Some(seen) {
            f(&mut rd, &h)?;
            return Ok(seen + 1);
        }
        seen += 1;
    }
    Ok(seen)
}

/// Read at most `max` bytes from `offset` of file `id` as it is after `layer`.
/// Holes of a sparse file read as zeros without being expanded elsewhere.
pub fn read_window(
    l: &Loaded,
    id: NodeId,
    layer: usize,
    offset: u64,
    max: usize,
) -> Result<Window> {
    let (layer_idx, path) = locate(l, id, layer)?;
    // The last entry for a path in a layer wins: count, then read that one.
    let count = with_entry(l, layer_idx, &path, None, &mut |_, _| Ok(()))?;
    if count == 0 {
        return Err(err(
            l,
            format!("{} not found in layer {layer_idx}", l.tree.path(id)),
        ));
    }
    let mut out = Window {
        offset,
        bytes: Vec::new(),
        total_size: 0,
    };
    with_entry(l, layer_idx, &path, Some(count - 1), &mut |rd, h| {
        out.total_size = h.size;
        let end = offset.saturating_add(max as u64).min(h.size);
        let mut pos = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        for_each_piece(rd, h, &mut buf, |piece| {
            let (len, data) = match piece {
                Piece::Hole(n) => (n, None),
                Piece::Data(d) => (d.len() as u64, Some(d)),
            };
            // The part of [pos, pos + len) inside [offset, end).
            let from = pos.max(offset);
            let to = (pos + len).min(end);
            if from < to {
                match data {
                    Some(d) => out
                        .bytes
                        .extend_from_slice(&d[(from - pos) as usize..(to - pos) as usize]),
                    None => out.bytes.resize(out.bytes.len() + (to - from) as usize, 0),
                }
            }
            pos += len;
            Ok(pos < end)
        })
        .map_err(|e| err(l, crate::error::describe_io(&e)))?;
        Ok(())
    })?;
    Ok(out)
}
