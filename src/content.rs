//! Reading a file's content back from the layer that holds it, in a bounded
//! window: the layer is streamed again and only the wanted entry's bytes in
//! the window are kept, so a 1 GB file never lands in memory.

use std::io::Read;

use crate::error::{Error, Result};
use crate::layer::{normalise, Kind};
use crate::load::Loaded;
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

/// Stream layer `layer_idx` and hand the `nth` entry (0-based, counting the
/// entries whose path is `want`) to `f`. Returns how many matched in all.
fn with_entry(
    l: &Loaded,
    layer_idx: usize,
    want: &[u8],
    nth: Option<usize>,
    f: &mut dyn FnMut(&mut dyn Read, u64) -> Result<()>,
) -> Result<usize> {
    let info = &l.image.layers[layer_idx];
    let blob = l.source.store.open(&info.member)?;
    let buf = std::io::BufReader::with_capacity(1 << 16, blob);
    let (_, reader) = crate::layer::Decoder::detect(buf).map_err(|e| err(l, e.to_string()))?;
    let want_comps = normalise(want).0;
    let mut archive = tar::Archive::new(reader);
    let mut seen = 0;
    let layer_err = |e: std::io::Error| Error::Layer {
        path: l.source.store.display.clone(),
        index: layer_idx,
        digest: info.digest.clone(),
        msg: crate::error::describe_io(&e),
    };
    for entry in archive.entries().map_err(layer_err)? {
        let mut entry = entry.map_err(layer_err)?;
        if normalise(&entry.path_bytes()).0 != want_comps {
            continue;
        }
        if nth == Some(seen) {
            let size = entry.size();
            f(&mut entry, size)?;
            return Ok(seen + 1);
        }
        seen += 1;
    }
    Ok(seen)
}

/// Read at most `max` bytes from `offset` of file `id` as it is after `layer`.
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
    with_entry(l, layer_idx, &path, Some(count - 1), &mut |r, size| {
        out.total_size = size;
        let skip = offset.min(size);
        std::io::copy(&mut r.take(skip), &mut std::io::sink())
            .map_err(|e| err(l, e.to_string()))?;
        r.take(max as u64)
            .read_to_end(&mut out.bytes)
            .map_err(|e| err(l, e.to_string()))?;
        Ok(())
    })?;
    Ok(out)
}
