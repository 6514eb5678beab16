//! Receiving an image as a `docker save` / OCI archive stream (from a
//! daemon's export or a child process) without waiting for all of it. The
//! stream is copied to an unnamed temporary file (the spool: the image's
//! members are read again from it later, by content views and `extract`,
//! and it vanishes with the process), and every layer is decoded and hashed
//! on a worker thread while its bytes pass. The manifest comes near the end
//! of such streams, so the layers' order is known only then: the scans are
//! kept by member name and the load replays them in manifest order. A layer
//! not recognised on the way (or whose early scan failed) is scanned again
//! from the spool by the ordinary load, which also words its errors.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender};

use crate::archive::{self, store::clean_member_name, Store};
use crate::error::{Error, Result};
use crate::layer::{self, Scan};
use crate::progress::Progress;
use crate::source::options::LoadOptions;

use super::Scans;

/// Bytes handed to a layer's scanner at a time.
const CHUNK: usize = 256 << 10;
/// Chunks in flight per layer before the reader waits for its scanner.
const QUEUE: usize = 16;

/// Copies what is read through it to the spool and counts it.
struct Tee<'a, R> {
    inner: R,
    spool: BufWriter<std::fs::File>,
    received: u64,
    /// `--max-input-bytes`: the spool is bounded like stdin's.
    max: u64,
    progress: &'a Progress,
    spool_error: Option<io::Error>,
    too_big: bool,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if self.received == 0 {
                // Bytes flow: the daemon is done exporting.
                self.progress.set_note(None);
            }
            self.received += n as u64;
            if self.received > self.max {
                self.too_big = true;
                return Err(io::Error::other("over the input limit"));
            }
            self.progress
                .bytes_done
                .fetch_add(n as u64, Ordering::Relaxed);
            if let Err(e) = self.spool.write_all(&buf[..n]) {
                // Reported as what it is (a full disk), not as a bad stream.
                let kind = e.kind();
                self.spool_error = Some(e);
                return Err(io::Error::new(kind, "writing the spool failed"));
            }
        }
        Ok(n)
    }
}

/// Receive an archive stream. `display` names the image in messages (the
/// reference as typed); `from` names the sender (`the Docker daemon`).
pub(crate) fn receive(
    display: &str,
    from: &str,
    input: impl Read,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<(archive::Source, Scans)> {
    let path = Path::new(display);
    let fail = |msg: String| Error::Source {
        input: display.to_string(),
        msg,
    };
    let spool = tempfile::tempfile().map_err(|e| {
        fail(format!(
            "cannot create a temporary file for the image: {e} (TMPDIR={})",
            std::env::temp_dir().display()
        ))
    })?;
    let spool_copy = spool.try_clone().map_err(|e| fail(e.to_string()))?;
    let mut tee = Tee {
        inner: io::BufReader::with_capacity(CHUNK, input),
        spool: BufWriter::with_capacity(1 << 20, spool),
        received: 0,
        max: opts.open.max_input_bytes,
        progress,
        spool_error: None,
        too_big: false,
    };
    let scan_opts = layer::ScanOptions {
        blob_digest_unknown: opts.scan.hash_files,
        ..opts.scan
    };
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let outcome = std::thread::scope(|s| -> io::Result<Scans> {
        let mut running: VecDeque<ScanJob<'_>> = VecDeque::new();
        let mut scans = Scans::new();
        {
            // The same tar reader as the store's, so a layer scanned here
            // is the member the store indexes under that name.
            let limits = crate::tarstream::Limits {
                max_path_bytes: 64 * 1024,
            };
            let mut rd = crate::tarstream::Reader::new(crate::tarstream::Stream(&mut tee), limits);
            loop {
                let h = match rd.next_header() {
                    Ok(Some(h)) => h,
                    Ok(None) => break,
                    // Malformed: stop scanning early; the store, reading
                    // the spool, says what is wrong.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::InvalidData | io::ErrorKind::QuotaExceeded
                        ) =>
                    {
                        break
                    }
                    Err(e) => return Err(e),
                };
                if progress.cancel.load(Ordering::Relaxed) {
                    return Err(io::Error::other("cancelled"));
                }
                let name = clean_member_name(&String::from_utf8_lossy(&h.path));
                // Layers are `ID/layer.tar` (docker), `blobs/sha256/HEX`
                // (Docker 25+, OCI) or `HEX.tar` (podman's docker-archive):
                // whatever is not JSON is sniffed.
                let layer_like = name.as_deref().is_some_and(|n| {
                    !n.ends_with(".json") && !matches!(n, "repositories" | "oci-layout")
                });
                let is_file = h.entry_type == crate::tarstream::Kind::File && h.sparse.is_none();
                let Some(name) = name.filter(|_| layer_like && is_file) else {
                    continue;
                };
                let len = h.size;
                let mut entry = rd.data();
                let mut first = Vec::new();
                fill(&mut entry, &mut first)?;
                let is_layer = layer::Compression::detect(&first) != layer::Compression::None
                    || first.get(257..262) == Some(b"ustar".as_slice());
                if !is_layer {
                    continue;
                }
                while running.len() >= workers {
                    if let Some(h) = running.pop_front() {
                        finish(h, &mut scans);
                    }
                }
                let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
                let (back_tx, back_rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE + 2);
                running.push_back(s.spawn(move || {
                    let r = ChunkStream::new(rx, back_tx, len);
                    (name, layer::scan(r, None, scan_opts, |_| {}).ok())
                }));
                feed(tx, &back_rx, first, &mut entry)?;
            }
        }
        // The end-of-archive marker is not the end of the stream: read the
        // rest (tar padding, and the chunked body's end, which tells a whole
        // stream from a cut one).
        io::copy(&mut tee, &mut io::sink())?;
        for h in running {
            finish(h, &mut scans);
        }
        Ok(scans)
    });
    progress.set_note(None);
    let scans = match outcome {
        Ok(scans) => scans,
        Err(e) => {
            if tee.too_big {
                let max = tee.max;
                return Err(fail(format!(
                    "the image from {from} is larger than {} ({max} bytes), the limit for a stream (raise it with --max-input-bytes)",
                    humansize::format_size(max, humansize::BINARY)
                )));
            }
            if let Some(se) = tee.spool_error.take() {
                return Err(fail(format!(
                    "writing the image to a temporary file in {} failed: {se}",
                    std::env::temp_dir().display()
                )));
            }
            return Err(fail(format!(
                "the image stream from {from} broke off after {} bytes: {}",
                tee.received,
                // Keep a reader's own words for a cut ("the connection
                // closed in the middle of the response").
                match e.get_ref() {
                    Some(inner) if e.kind() == io::ErrorKind::UnexpectedEof => inner.to_string(),
                    _ => crate::error::describe_io(&e),
                }
            )));
        }
    };
    tee.spool
        .flush()
        .map_err(|e| fail(format!("writing the spool failed: {e}")))?;
    drop(tee);
    progress.bytes_done.store(0, Ordering::Relaxed);
    let store = Store::open_tar_file(path, spool_copy)?;
    Ok((archive::Source::from_store(store)?, scans))
}

type ScanJob<'s> = std::thread::ScopedJoinHandle<'s, (String, Option<Scan>)>;

/// Keep a finished scan (a failed one is redone from the spool).
fn finish(h: ScanJob<'_>, scans: &mut Scans) {
    if let Ok((name, Some(scan))) = h.join() {
        scans.insert(name, scan);
    }
}

/// Read up to [`CHUNK`] bytes into `buf` (fewer only at the end).
fn fill(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    buf.reserve(CHUNK);
    r.by_ref().take(CHUNK as u64).read_to_end(buf)?;
    Ok(())
}

/// Hand an entry's bytes to its scanner in full chunks, in buffers the
/// scanner gives back: a fresh 256 KiB buffer per chunk is a fresh mapping
/// (over glibc's mmap threshold), and faulting its pages in cost more
/// system time than all the rest of the copying. A scanner that stopped
/// early (a bad layer) no longer listens; the bytes still pass to the
/// spool.
fn feed(
    tx: SyncSender<Vec<u8>>,
    back: &Receiver<Vec<u8>>,
    first: Vec<u8>,
    entry: &mut impl Read,
) -> io::Result<()> {
    let mut listening = tx.send(first).is_ok();
    let mut spare = Vec::new();
    loop {
        let mut chunk = back
            .try_recv()
            .unwrap_or_else(|_| std::mem::take(&mut spare));
        fill(entry, &mut chunk)?;
        if chunk.is_empty() {
            return Ok(());
        }
        if listening {
            if let Err(mpsc::SendError(c)) = tx.send(chunk) {
                listening = false;
                spare = c;
            }
        } else {
            spare = chunk;
        }
    }
}

/// A layer's bytes arriving in chunks: readable once, seekable forward (a
/// skip) and back within the current chunk (the scanner rewinds after
/// sniffing the compression from the first bytes). Its length is the tar
/// header's, so asking for it (the scanner does, for its sparse-file
/// budget) reads nothing: draining the stream to learn it made every early
/// scan fail, and every layer was read again from the spool.
struct ChunkStream {
    rx: Receiver<Vec<u8>>,
    /// Spent chunks go back to the feeder for reuse.
    back: SyncSender<Vec<u8>>,
    len: u64,
    cur: Vec<u8>,
    /// Offset of `cur[0]` in the stream.
    cur_start: u64,
    pos: u64,
    ended: bool,
}

impl ChunkStream {
    fn new(rx: Receiver<Vec<u8>>, back: SyncSender<Vec<u8>>, len: u64) -> Self {
        ChunkStream {
            rx,
            back,
            len,
            cur: Vec::new(),
            cur_start: 0,
            pos: 0,
            ended: false,
        }
    }

    /// Make `cur` hold `pos`, fetching chunks; false at the end.
    fn reach(&mut self) -> bool {
        while self.pos >= self.cur_start + self.cur.len() as u64 {
            if self.ended {
                return false;
            }
            match self.rx.recv() {
                Ok(next) => {
                    self.cur_start += self.cur.len() as u64;
                    let spent = std::mem::replace(&mut self.cur, next);
                    // The feeder may be gone or have enough: then drop it.
                    let _ = self.back.try_send(spent);
                }
                Err(_) => {
                    self.ended = true;
                    return false;
                }
            }
        }
        true
    }
}

impl Read for ChunkStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || !self.reach() {
            return Ok(0);
        }
        let at = (self.pos - self.cur_start) as usize;
        let n = buf.len().min(self.cur.len() - at);
        buf[..n].copy_from_slice(&self.cur[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ChunkStream {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target < self.cur_start {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "cannot seek back in a stream",
            ));
        }
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(chunks: &[&[u8]]) -> ChunkStream {
        let (tx, rx) = mpsc::sync_channel(chunks.len() + 1);
        for c in chunks {
            tx.send(c.to_vec()).unwrap();
        }
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        ChunkStream::new(rx, mpsc::sync_channel(4).0, len)
    }

    #[test]
    fn chunk_stream_reads_rewinds_and_skips() {
        let mut s = stream(&[b"abcd", b"efgh", b"ij"]);
        let mut b = [0u8; 3];
        assert_eq!(s.read(&mut b).unwrap(), 3);
        assert_eq!(&b, b"abc");
        s.seek(SeekFrom::Start(0)).unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdefghij");

        let mut s = stream(&[b"abcd", b"efgh", b"ij"]);
        s.seek(SeekFrom::Current(5)).unwrap();
        let mut rest = String::new();
        s.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "fghij");
        assert!(s.seek(SeekFrom::Start(1)).is_err());

        // The length is known without reading: the start is still there.
        let mut s = stream(&[b"abcd", b"efgh", b"ij"]);
        assert_eq!(s.read(&mut b).unwrap(), 3);
        assert_eq!(s.seek(SeekFrom::End(0)).unwrap(), 10);
        s.seek(SeekFrom::Start(0)).unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdefghij");
        assert_eq!(s.seek(SeekFrom::End(-2)).unwrap(), 8);
        assert_eq!(s.read(&mut b).unwrap(), 2);
        assert_eq!(&b[..2], b"ij");
    }

    #[test]
    fn every_layer_is_scanned_while_it_streams() {
        // See: issue #13 "decode and hash each layer as it passes". A
        // layer whose early scan fails is read again from the spool after
        // the stream: correct, but the stream's decoding is wasted.
        use layerscope_synth::{Compression, ImageBuilder, LayerBuilder};
        let img = ImageBuilder::new()
            .tag("app:1")
            .layer(
                LayerBuilder::new("ADD rootfs /")
                    .file("bin/tool", &layerscope_synth::pseudo_bytes(1, 700_000)),
            )
            .layer(LayerBuilder::new("RUN a").file("a", b"a\n"))
            .layer(LayerBuilder::new("RUN b").whiteout("a"));
        for (what, bytes) in [
            ("docker legacy", img.docker_legacy()),
            ("docker OCI-style, zstd", img.docker_oci(Compression::Zstd)),
            ("OCI archive, gzip", img.oci_archive(Compression::Gzip)),
        ] {
            let (source, scans) = receive(
                "app:1",
                "a test",
                io::Cursor::new(bytes),
                &LoadOptions::default(),
                &Progress::default(),
            )
            .unwrap();
            let cand = source.select(&Default::default()).unwrap();
            let mut want: Vec<&str> = cand.layers.iter().map(|l| l.member.as_str()).collect();
            let mut got: Vec<&str> = scans.keys().map(String::as_str).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{what}");
            let blob = &scans[&cand.layers[0].member];
            assert_eq!(blob.entries.len(), 1, "{what}");
            assert!(!blob.diff_id.is_empty(), "{what}");
        }
    }
}
