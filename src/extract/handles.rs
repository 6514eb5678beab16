//! Directory handles for extraction. Every write goes through a directory
//! opened with `O_DIRECTORY | O_NOFOLLOW`, one component at a time from the
//! destination's own handle, and every name is acted on with the `*at` calls
//! (`mkdirat`, `openat` with `O_EXCL | O_NOFOLLOW`, `symlinkat`, `linkat`,
//! `unlinkat`), so no path is ever resolved twice and no symlink is ever
//! followed below the destination: another process that swaps a directory
//! for a symlink mid-way makes the extraction fail, never write elsewhere.
//! Modes and times are set on open descriptors (`fchmod`, `futimens`).
//!
//! `rustix` provides the calls: it is the safe, maintained wrapper that std
//! itself and `tempfile` build on (already in the dependency tree), and it
//! gives each flag as written. `cap-std` resolves paths inside a sandbox
//! too, but it follows symlinks that stay inside, which is more than
//! extraction wants, and `openat2` is Linux-only.
//!
//! Handles are kept in a small least-recently-used cache keyed by plan item,
//! so a deep tree or a layer that writes files in any order costs at most
//! [`CACHE`] descriptors, and a miss re-opens from the nearest cached
//! ancestor (never by path).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};

use super::Item;

/// Directory descriptors kept open at once.
const CACHE: usize = 64;

/// What is at a name in a directory (never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Missing,
    Dir,
    Symlink,
    File,
    /// A FIFO, socket or device.
    Special,
}

impl Found {
    pub fn describe(self) -> &'static str {
        match self {
            Found::Missing => "nothing",
            Found::Dir => "a directory",
            Found::Symlink => "a symlink",
            Found::File => "a file",
            Found::Special => "a special file",
        }
    }
}

struct Slot {
    item: usize,
    fd: OwnedFd,
    used: u64,
}

/// The destination's handle and the cache of directory handles below it.
pub struct Handles {
    root: OwnedFd,
    cache: Vec<Slot>,
    tick: u64,
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Handles {
    /// Open the destination itself (the user's own path: resolved once,
    /// here, and never again).
    pub fn open(dest: &Path) -> io::Result<Handles> {
        let root = rfs::open(
            dest,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Handles {
            root,
            cache: Vec::with_capacity(CACHE),
            tick: 0,
        })
    }

    fn slot(&mut self, item: usize) -> Option<usize> {
        let i = self.cache.iter().position(|s| s.item == item)?;
        self.tick += 1;
        self.cache[i].used = self.tick;
        Some(i)
    }

    fn insert(&mut self, item: usize, fd: OwnedFd) -> usize {
        self.tick += 1;
        let slot = Slot {
            item,
            fd,
            used: self.tick,
        };
        if self.cache.len() < CACHE {
            self.cache.push(slot);
            return self.cache.len() - 1;
        }
        let oldest = self
            .cache
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.used)
            .map_or(0, |(i, _)| i);
        self.cache[oldest] = slot;
        oldest
    }

    /// The handle of directory item `k` (`None`: the destination), opened
    /// from its nearest cached ancestor one component at a time.
    pub fn dir(&mut self, items: &[Item], k: Option<usize>) -> io::Result<BorrowedFd<'_>> {
        let Some(k) = k else {
            return Ok(self.root.as_fd());
        };
        if let Some(i) = self.slot(k) {
            return Ok(self.cache[i].fd.as_fd());
        }
        // Uncached items from k up to the first cached one (or the root).
        let mut chain = vec![k];
        let mut base = None;
        let mut cur = k;
        while let Some(p) = items[cur].parent {
            if let Some(i) = self.slot(p) {
                base = Some(i);
                break;
            }
            chain.push(p);
            cur = p;
        }
        let mut fd = match base {
            Some(i) => self.cache[i].fd.try_clone()?,
            None => self.root.try_clone()?,
        };
        let mut last = 0;
        for &c in chain.iter().rev() {
            let next = rfs::openat(&fd, &*items[c].name, dir_flags(), Mode::empty())?;
            last = self.insert(c, next.try_clone()?);
            fd = next;
        }
        Ok(self.cache[last].fd.as_fd())
    }

    /// Like [`Handles::dir`], but `None` when the directory is not there
    /// (or is not a directory): used to look for conflicts before writing.
    pub fn existing_dir(
        &mut self,
        items: &[Item],
        k: Option<usize>,
    ) -> io::Result<Option<BorrowedFd<'_>>> {
        match self.dir(items, k) {
            Ok(fd) => Ok(Some(fd)),
            Err(e) if absent(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The errors that mean "no directory there" when opening without following.
fn absent(e: &io::Error) -> bool {
    matches!(
        rustix::io::Errno::from_io_error(e),
        Some(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP)
    )
}

/// What is at `name` in `dir`, not following a symlink.
pub fn stat(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Found> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => Found::Dir,
            FileType::Symlink => Found::Symlink,
            FileType::RegularFile => Found::File,
            _ => Found::Special,
        }),
        Err(rustix::io::Errno::NOENT) => Ok(Found::Missing),
        Err(e) => Err(e.into()),
    }
}

/// Create a directory (owner-only until its final mode is set). `Ok(false)`
/// when something already has the name.
pub fn mkdir(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<bool> {
    match rfs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Remove a non-directory (`unlinkat` without `AT_REMOVEDIR` cannot remove
/// a directory, whatever happened to the name since it was checked).
pub fn unlink(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    Ok(rfs::unlinkat(dir, name, AtFlags::empty())?)
}

/// Create a new file (`O_EXCL`: never opens what is there, never follows a
/// symlink), owner-only until its final mode is set.
pub fn create(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let fd = rfs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    Ok(File::from(fd))
}

/// Open a file for reading without following a symlink.
pub fn open_read(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let fd = rfs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

pub fn symlink(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    Ok(rfs::symlinkat(target, dir, name)?)
}

/// A hard link; without `AT_SYMLINK_FOLLOW`, so a source swapped for a
/// symlink is linked as the symlink, never through it.
pub fn link(
    from_dir: BorrowedFd<'_>,
    from: &[u8],
    to_dir: BorrowedFd<'_>,
    to: &[u8],
) -> io::Result<()> {
    Ok(rfs::linkat(from_dir, from, to_dir, to, AtFlags::empty())?)
}

/// Set the mode and modification time of an open file or directory.
pub fn finish(fd: BorrowedFd<'_>, mode: u32, mtime: u64) -> io::Result<()> {
    rfs::fchmod(fd, Mode::from_raw_mode(mode))?;
    let secs = mtime.min(1 << 40) as i64;
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: 0,
            tv_nsec: rfs::UTIME_OMIT,
        },
        last_modification: Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
    };
    rfs::futimens(fd, &times)?;
    Ok(())
}
