//! Streaming one blob from the registry as a `Read + Seek`: the bytes go
//! straight to the layer pipeline (and, as they pass, into the blob cache).
//! A cut or reset connection is resumed with `Range:` (or by skipping what
//! was already read, when the registry ignores ranges); a stall fails after
//! the configured idle time. The digest is checked by the layer pipeline
//! (and by the cache before it keeps a copy).

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use ureq::http::StatusCode;

use super::cache::CacheWriter;
use super::client::{Client, RETRIES};

/// The first bytes are kept so that the pipeline's look at the magic bytes
/// and its seek back to the start cost no second request.
const HEAD_KEEP: usize = 64 << 10;

/// One blob's bytes over HTTP.
pub struct BlobReader {
    client: Arc<Client>,
    digest: String,
    size: u64,
    /// Where the reader is.
    pos: u64,
    /// Where the network stream is.
    net_pos: u64,
    body: Option<Box<dyn Read + Send>>,
    head: Vec<u8>,
    tee: Option<CacheWriter>,
    retries: u32,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("pos", &self.pos)
            .finish()
    }
}

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

impl BlobReader {
    pub fn new(client: Arc<Client>, digest: &str, size: u64, tee: Option<CacheWriter>) -> Self {
        BlobReader {
            client,
            digest: digest.to_string(),
            size,
            pos: 0,
            net_pos: 0,
            body: None,
            head: Vec::new(),
            tee,
            retries: 0,
        }
    }

    /// (Re)start the download at `net_pos`.
    fn open_body(&mut self) -> io::Result<()> {
        let path = format!("blobs/{}", self.digest);
        let resp = self
            .client
            .get(&path, None, self.net_pos)
            .map_err(|e| other(e.to_string()))?;
        let status = resp.status();
        let skip = match status {
            StatusCode::OK => self.net_pos,
            StatusCode::PARTIAL_CONTENT if self.net_pos > 0 => 0,
            StatusCode::NOT_FOUND => {
                return Err(other(format!(
                    "blob {} is not in the registry (404)",
                    self.digest
                )))
            }
            _ => {
                return Err(other(
                    self.client
                        .status_error(&format!("blob {}", self.digest), resp)
                        .to_string(),
                ))
            }
        };
        let mut body: Box<dyn Read + Send> = Box::new(resp.into_body().into_reader());
        if skip > 0 {
            // The registry ignored the range: skip what we already have.
            let got = io::copy(&mut (&mut body).take(skip), &mut io::sink())?;
            if got < skip {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        self.body = Some(body);
        Ok(())
    }

    /// Read from the network at `net_pos`, resuming after transient
    /// failures.
    fn read_net(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.body.is_none() {
                if let Err(e) = self.open_body() {
                    if e.kind() == io::ErrorKind::UnexpectedEof && self.retry() {
                        continue;
                    }
                    return Err(e);
                }
            }
            let Some(body) = self.body.as_mut() else {
                continue;
            };
            let read = body.read(buf);
            let cut = match &read {
                Ok(0) => self.net_pos < self.size,
                Err(e) => e.kind() == io::ErrorKind::UnexpectedEof,
                Ok(_) => false,
            };
            match read {
                _ if cut => {
                    // The connection ended before the blob did.
                    self.body = None;
                    if !self.retry() {
                        return Err(other(format!(
                            "the registry closed the connection at byte {} of {} (after {} retries)",
                            self.net_pos, self.size, RETRIES
                        )));
                    }
                }
                Ok(n) => return Ok(n),
                Err(e) if is_stall(&e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "download stalled: no data for {} s at byte {} of {}",
                            self.client.stall.as_secs_f64(),
                            self.net_pos,
                            self.size
                        ),
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.body = None;
                    if !self.retry() {
                        return Err(other(format!(
                            "download failed at byte {} of {}: {e} (after {} retries)",
                            self.net_pos, self.size, RETRIES
                        )));
                    }
                }
            }
        }
    }

    fn retry(&mut self) -> bool {
        self.retries += 1;
        if self.retries > RETRIES {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(
            200 * u64::from(self.retries),
        ));
        true
    }
}

/// Pass network bytes at `*net_pos` on to the kept head and the cache.
fn took(
    head: &mut Vec<u8>,
    tee: &mut Option<CacheWriter>,
    net_pos: &mut u64,
    size: u64,
    data: &[u8],
) {
    if *net_pos < HEAD_KEEP as u64 && head.len() as u64 == *net_pos {
        let keep = (HEAD_KEEP - head.len()).min(data.len());
        head.extend_from_slice(&data[..keep]);
    }
    if let Some(t) = tee {
        if t.written() == *net_pos {
            t.write(data);
        } else {
            *tee = None;
        }
    }
    *net_pos += data.len() as u64;
    if *net_pos == size {
        if let Some(t) = tee.take() {
            t.finish();
        }
    }
}

fn is_stall(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
        || e.kind() == io::ErrorKind::WouldBlock
        || e.to_string().contains("timeout")
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Behind the network: served from the kept head.
        if self.pos < self.net_pos {
            let p = self.pos as usize;
            if p < self.head.len() {
                let n = (self.head.len() - p).min(buf.len());
                buf[..n].copy_from_slice(&self.head[p..p + n]);
                self.pos += n as u64;
                return Ok(n);
            }
            // Further back than the head: start over from there.
            self.body = None;
            self.tee = None;
            self.net_pos = self.pos;
        }
        // Ahead of the network (a forward seek): read and drop up to there.
        let mut scratch = vec![0u8; 0];
        while self.net_pos < self.pos {
            if scratch.is_empty() {
                scratch = vec![0u8; 64 << 10];
            }
            let want = ((self.pos - self.net_pos) as usize).min(scratch.len());
            let n = self.read_net(&mut scratch[..want])?;
            if n == 0 {
                return Ok(0);
            }
            took(
                &mut self.head,
                &mut self.tee,
                &mut self.net_pos,
                self.size,
                &scratch[..n],
            );
        }
        let n = self.read_net(buf)?;
        took(
            &mut self.head,
            &mut self.tee,
            &mut self.net_pos,
            self.size,
            &buf[..n],
        );
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek outside the blob"))?;
        self.pos = target;
        Ok(target)
    }
}
