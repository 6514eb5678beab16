//! The content-addressed blob cache (`$XDG_CACHE_HOME/layerscope/blobs/
//! sha256/<hex>`). Blobs are written while they stream to the layer pipeline
//! (a tee), into a temporary file beside their final name that is renamed
//! only once the whole blob matched its digest; a cached blob is verified
//! again while it is read. Size-capped: the least recently used blobs go
//! first. Two loads in one process (a diff of two tags) that want the same
//! blob download it once: the second waits for the first.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// Default cap on the cache's size.
pub const DEFAULT_CACHE_SIZE: u64 = 10 << 30;

/// A blob cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    cap: u64,
}

/// Digests being downloaded by this process right now.
fn in_flight() -> &'static (Mutex<HashSet<String>>, Condvar) {
    static F: OnceLock<(Mutex<HashSet<String>>, Condvar)> = OnceLock::new();
    F.get_or_init(|| (Mutex::new(HashSet::new()), Condvar::new()))
}

/// What a prune did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub removed: u64,
    pub removed_bytes: u64,
    pub kept: u64,
    pub kept_bytes: u64,
}

impl Cache {
    /// `$XDG_CACHE_HOME/layerscope`, else `~/.cache/layerscope`.
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .map(|d| d.join("layerscope"))
    }

    pub fn new(root: PathBuf, cap: u64) -> Cache {
        Cache { root, cap }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    /// The file of a digest; None for anything that is not `sha256:<64 hex>`.
    fn path_of(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| self.dir().join(hex))
    }

    /// Is the blob cached (with the expected size)?
    pub fn has(&self, digest: &str, size: u64) -> bool {
        self.path_of(digest)
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.len() == size)
    }

    /// Open a cached blob, verified while it is read. Marks it recently used.
    pub fn open(&self, digest: &str, size: u64) -> Option<CachedBlob> {
        let path = self.path_of(digest)?;
        let file = File::open(&path).ok()?;
        if file.metadata().ok()?.len() != size {
            return None;
        }
        let _ = file.set_modified(SystemTime::now());
        log::info!("{digest}: from the blob cache ({})", path.display());
        Some(CachedBlob {
            file,
            path,
            digest: digest.to_string(),
            size,
            pos: 0,
            hasher: Some(Sha256::new()),
        })
    }

    /// Claim the download of `digest`: waits while another load of this
    /// process downloads it. None when it is cached by the time we are
    /// done waiting (open it), else a claim to fill it.
    pub fn claim(&self, digest: &str, size: u64) -> Option<Claim> {
        let (lock, cv) = in_flight();
        let mut set = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.has(digest, size) {
                return None;
            }
            if set.insert(digest.to_string()) {
                return Some(Claim {
                    digest: digest.to_string(),
                });
            }
            set = cv
                .wait_timeout(set, Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Start writing a blob (under a claim). None when the cache cannot be
    /// written (the download goes on without it).
    pub fn writer(&self, claim: Claim, size: u64) -> Option<CacheWriter> {
        let path = self.path_of(&claim.digest)?;
        let dir = self.dir();
        std::fs::create_dir_all(&dir).ok()?;
        let tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&dir)
            .ok()?;
        Some(CacheWriter {
            tmp: Some(tmp),
            path,
            size,
            written: 0,
            hasher: Sha256::new(),
            claim,
            cache: self.clone(),
        })
    }

    /// Remove the least recently used blobs until the cache holds at most
    /// `cap` bytes; leftovers of interrupted downloads older than an hour go
    /// too.
    pub fn prune(&self, cap: u64) -> io::Result<Pruned> {
        let mut out = Pruned::default();
        let entries = match std::fs::read_dir(self.dir()) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        let mut blobs = Vec::new();
        let now = SystemTime::now();
        for e in entries {
            let e = e?;
            let meta = e.metadata()?;
            if !meta.is_file() {
                continue;
            }
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = e.file_name();
            if name.to_string_lossy().starts_with(".partial-") {
                if now.duration_since(mtime).unwrap_or_default() > Duration::from_secs(3600) {
                    std::fs::remove_file(e.path())?;
                }
                continue;
            }
            blobs.push((mtime, meta.len(), e.path()));
        }
        blobs.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut total = 0u64;
        for (_, len, path) in blobs {
            if total.saturating_add(len) <= cap {
                total += len;
                out.kept += 1;
                out.kept_bytes += len;
            } else {
                std::fs::remove_file(&path)?;
                out.removed += 1;
                out.removed_bytes += len;
            }
        }
        Ok(out)
    }

    /// Keep the cache within its configured cap.
    pub fn enforce_cap(&self) {
        // A failed prune leaves a bigger cache, never a broken run.
        let _ = self.prune(self.cap);
    }
}

/// The right to download one blob into the cache; released on drop.
#[derive(Debug)]
pub struct Claim {
    digest: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let (lock, cv) = in_flight();
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.digest);
        cv.notify_all();
    }
}

/// A blob being written to the cache as it streams.
#[derive(Debug)]
pub struct CacheWriter {
    tmp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
    size: u64,
    written: u64,
    hasher: Sha256,
    claim: Claim,
    cache: Cache,
}

impl CacheWriter {
    /// Bytes written so far (the offset the next bytes must start at).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Append; a write error abandons the cache copy quietly.
    pub fn write(&mut self, data: &[u8]) {
        if let Some(t) = &mut self.tmp {
            if t.write_all(data).is_err() {
                self.tmp = None;
                return;
            }
            self.hasher.update(data);
            self.written += data.len() as u64;
        }
    }

    /// The whole blob went by: keep it if it matches its digest.
    pub fn finish(mut self) {
        let Some(tmp) = self.tmp.take() else { return };
        let got = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        if self.written == self.size && got == self.claim.digest && tmp.persist(&self.path).is_ok()
        {
            self.cache.enforce_cap();
        }
    }
}

/// A cached blob, checked against its digest when it has been read to the
/// end. A corrupt one is removed, so the next run downloads it again.
#[derive(Debug)]
pub struct CachedBlob {
    file: File,
    path: PathBuf,
    digest: String,
    size: u64,
    pos: u64,
    /// None once a seek made the running hash meaningless.
    hasher: Option<Sha256>,
}

impl Read for CachedBlob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.pos += n as u64;
        if n == 0 && !buf.is_empty() && self.pos == self.size {
            if let Some(h) = self.hasher.take() {
                let got = format!("sha256:{}", hex::encode(h.finalize()));
                if got != self.digest {
                    let _ = std::fs::remove_file(&self.path);
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the cached copy of {} is corrupt (content is {got}); it was removed, run again to download it",
                            self.digest
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

impl Seek for CachedBlob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let p = self.file.seek(to)?;
        if p == 0 {
            self.hasher = Some(Sha256::new());
        } else if p != self.pos {
            self.hasher = None;
        }
        self.pos = p;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(data: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(data)))
    }

    #[test]
    fn written_verified_and_pruned() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = Cache::new(dir.path().to_path_buf(), 1 << 20);
        let data = b"hello blob".to_vec();
        let d = digest(&data);
        let claim = cache.claim(&d, data.len() as u64).expect("claim");
        let mut w = cache.writer(claim, data.len() as u64).expect("writer");
        w.write(&data[..4]);
        w.write(&data[4..]);
        w.finish();
        assert!(cache.has(&d, data.len() as u64));
        assert!(cache.claim(&d, data.len() as u64).is_none());
        let mut back = Vec::new();
        cache
            .open(&d, data.len() as u64)
            .expect("open")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back, data);

        // A wrong digest is never kept.
        let other = digest(b"other");
        let claim = cache.claim(&other, 10).expect("claim");
        let mut w = cache.writer(claim, 10).expect("writer");
        w.write(b"not other!");
        w.finish();
        assert!(!cache.has(&other, 10));

        // A corrupted cache file is an error on read, and removed.
        let path = dir.path().join("blobs/sha256").join(&d[7..]);
        std::fs::write(&path, b"hellO blob").expect("corrupt");
        let mut r = cache.open(&d, data.len() as u64).expect("open");
        let err = r.read_to_end(&mut Vec::new()).expect_err("corrupt");
        assert!(err.to_string().contains("is corrupt"), "{err}");
        assert!(!path.exists());

        // Prune keeps the most recently used within the cap.
        for (i, body) in [b"aaaa".as_slice(), b"bbbbbb", b"cc"].iter().enumerate() {
            let d = digest(body);
            let mut w = cache
                .writer(
                    cache.claim(&d, body.len() as u64).expect("claim"),
                    body.len() as u64,
                )
                .expect("writer");
            w.write(body);
            w.finish();
            let p = dir.path().join("blobs/sha256").join(&d[7..]);
            let f = File::options().write(true).open(&p).expect("open");
            f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + i as u64))
                .expect("mtime");
        }
        let pruned = cache.prune(8).expect("prune");
        assert_eq!(
            pruned,
            Pruned {
                removed: 1,
                removed_bytes: 4,
                kept: 2,
                kept_bytes: 8
            }
        );
        assert!(!cache.has(&digest(b"aaaa"), 4));
        assert!(cache.has(&digest(b"cc"), 2));
    }
}
