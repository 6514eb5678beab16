//! The threads a layer's bytes pass through when they are hashed: one reads
//! (and decompresses) the blob, one hashes the uncompressed stream for the
//! diff ID, and the caller's thread parses the tar and hashes file contents.
//! SHA-256 runs at about 2 GB/s per core, so without this split the largest
//! layer keeps one core busy for the whole load while the other idles.
//!
//! Buffers move by ownership from stage to stage and come back to the reader
//! for reuse; the channels are bounded, so a layer holds a few MiB at most.
//! Dropping a later stage makes the earlier ones stop at their next send.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest, Sha256};

use super::{Compression, Decoder, HashingReader};
use crate::error::LayerFault;

const CHUNK: usize = 256 * 1024;
const DEPTH: usize = 2;

/// A filled buffer and how many of its bytes count, or the read error that
/// ended the stream.
type Chunk = io::Result<(Vec<u8>, usize)>;

/// What the reading stage found once the stream ended.
pub(super) struct Read1 {
    pub blob_digest: String,
    pub blob_bytes: u64,
    /// Uncompressed bytes delivered.
    pub tar_bytes: u64,
    /// Bytes after the end of the compressed stream.
    pub trailing: u64,
}

/// Run `parse` on the uncompressed stream of `blob` while other threads
/// read, decompress and hash it. The digest returned is the SHA-256 of the
/// uncompressed stream when `hash` is set (the diff ID; for an uncompressed
/// blob also its digest); a compressed blob's own digest is taken when
/// `hash_compressed` is set.
pub(super) fn run<R, F, T>(
    blob: R,
    compression: Compression,
    hash: bool,
    hash_compressed: bool,
    progress: F,
    parse: impl FnOnce(&mut ChunkReader) -> T,
) -> Result<(T, Read1, Option<String>), LayerFault>
where
    R: Read + Send,
    F: FnMut(u64) + Send,
{
    std::thread::scope(|s| {
        let (raw_tx, raw_rx) = sync_channel::<Chunk>(DEPTH);
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(2 * DEPTH + 2);
        // The compressed blob's own digest is taken by the reading stage;
        // an uncompressed blob's digest is the stream digest below.
        let hash_blob = hash_compressed && compression != Compression::None;
        let reader =
            s.spawn(move || read_stage(blob, compression, hash_blob, progress, raw_tx, back_rx));
        let (parse_rx, hasher) = if hash {
            let (tx, rx) = sync_channel::<Chunk>(DEPTH);
            let h = s.spawn(move || {
                let mut h = Sha256::new();
                for c in raw_rx {
                    if let Ok((b, n)) = &c {
                        h.update(&b[..*n]);
                    }
                    if tx.send(c).is_err() {
                        break;
                    }
                }
                format!("sha256:{}", hex::encode(h.finalize()))
            });
            (rx, Some(h))
        } else {
            (raw_rx, None)
        };
        let mut chunks = ChunkReader {
            rx: parse_rx,
            back: back_tx,
            cur: Vec::new(),
            len: 0,
            pos: 0,
        };
        let parsed = parse(&mut chunks);
        drop(chunks);
        let lost = |_| LayerFault::Internal("a layer reading thread panicked");
        let digest = hasher.map(|h| h.join().map_err(lost)).transpose()?;
        let read = reader.join().map_err(lost)??;
        Ok((parsed, read, digest))
    })
}

/// Read the blob, decompress it, and send the uncompressed bytes on.
fn read_stage<R: Read, F: FnMut(u64)>(
    blob: R,
    compression: Compression,
    hash_blob: bool,
    progress: F,
    tx: SyncSender<Chunk>,
    back: Receiver<Vec<u8>>,
) -> Result<Read1, LayerFault> {
    let outer = HashingReader::new(blob, hash_blob, progress);
    // Plain blobs are read in chunks of CHUNK or more, so the buffer is
    // bypassed (std's BufReader hands large reads straight through).
    let buf = BufReader::with_capacity(CHUNK, outer);
    let mut dec = Decoder::new(compression, buf)
        .map_err(|e| LayerFault::from_io(e).map_msg(|m| format!("zstd: {m}")))?;
    let tar_bytes = pump(&mut dec, &tx, &back);
    let mut rest = dec.into_inner();
    // The parser learns of the end by the channel closing.
    drop(tx);
    let Some(tar_bytes) = tar_bytes else {
        // Stopped early (an error was sent on, or the parser quit): the
        // parser's result is the one that counts.
        return Ok(Read1 {
            blob_digest: String::new(),
            blob_bytes: 0,
            tar_bytes: 0,
            trailing: 0,
        });
    };
    // Whatever follows the compressed stream still belongs to the blob.
    let trailing = io::copy(&mut rest, &mut io::sink()).map_err(LayerFault::from_io)?;
    let (blob_digest, blob_bytes, _) = rest.into_inner().finish();
    Ok(Read1 {
        blob_digest,
        blob_bytes,
        tar_bytes,
        trailing,
    })
}

/// Copy `src` into chunks until it ends; `None` when it stopped early.
fn pump(src: &mut impl Read, tx: &SyncSender<Chunk>, back: &Receiver<Vec<u8>>) -> Option<u64> {
    let mut total = 0u64;
    loop {
        let mut buf = back.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let mut n = 0;
        let mut failed = None;
        while n < buf.len() {
            match src.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        total += n as u64;
        if n > 0 && tx.send(Ok((buf, n))).is_err() {
            return None;
        }
        if let Some(e) = failed {
            let _ = tx.send(Err(e));
            return None;
        }
        if n < CHUNK {
            return Some(total);
        }
    }
}

/// The parser's end: reads the chunks in order and hands each used buffer
/// back to the reading stage.
pub(super) struct ChunkReader {
    rx: Receiver<Chunk>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            match self.rx.recv() {
                Ok(Ok((buf, n))) => {
                    let used = std::mem::replace(&mut self.cur, buf);
                    if !used.is_empty() {
                        let _ = self.back.try_send(used);
                    }
                    (self.len, self.pos) = (n, 0);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn delivers_every_byte_in_order_and_hashes_them() {
        // Several chunks plus a partial one.
        let blob = data(3 * CHUNK + 1234);
        let (got, read, digest) = run(
            &blob[..],
            Compression::None,
            true,
            true,
            |_| {},
            |r| {
                let mut v = Vec::new();
                r.read_to_end(&mut v).map(|_| v)
            },
        )
        .unwrap();
        assert_eq!(got.unwrap(), blob);
        assert_eq!(read.tar_bytes, blob.len() as u64);
        assert_eq!(read.blob_bytes, blob.len() as u64);
        let want = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
        assert_eq!(digest.as_deref(), Some(want.as_str()));
    }

    #[test]
    fn a_parser_that_stops_early_does_not_hang_the_readers() {
        let blob = data(40 * CHUNK);
        let (got, _, _) = run(
            &blob[..],
            Compression::None,
            true,
            true,
            |_| {},
            |r| {
                let mut head = [0u8; 10];
                r.read_exact(&mut head).map(|_| head)
            },
        )
        .unwrap();
        assert_eq!(got.unwrap(), blob[..10]);
    }

    #[test]
    fn a_decoding_error_reaches_the_parser() {
        // A gzip header followed by junk.
        let mut blob = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        blob.extend_from_slice(&[0xff; 64]);
        let (got, _, _) = run(
            &blob[..],
            Compression::Gzip,
            true,
            true,
            |_| {},
            |r| {
                let mut v = Vec::new();
                r.read_to_end(&mut v)
            },
        )
        .unwrap();
        let e = got.unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            (io::ErrorKind::InvalidInput, "corrupt deflate stream")
        );
    }
}
