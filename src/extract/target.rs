//! The destination of an extraction, planned before anything is written:
//! `~` expanded, the directories that would be created, what already
//! exists under it and would be replaced, and the warnings the extraction
//! would give. Plain data, so a front end can ask before it writes (the
//! TUI's extract prompt) and the CLI and the TUI say the same things.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use super::rel;
use super::{ext_err, io_err, plan, What};
use crate::error::{Error, Result};
use crate::load::Loaded;
use crate::tree::NodeId;

/// Conflicts listed by name in a [`Preview`]; the rest are counted.
pub const LISTED_CONFLICTS: usize = 100;

/// What extracting a path into a directory would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// The destination, `~` expanded.
    pub dest: PathBuf,
    /// Directories that do not exist yet and would be created, outermost
    /// first (the destination itself last when it is missing).
    pub create: Vec<PathBuf>,
    /// Existing files and symlinks that would be replaced (the first
    /// `LISTED_CONFLICTS`), each with what is there now.
    pub conflicts: Vec<(PathBuf, &'static str)>,
    /// How many existing paths would be replaced in all.
    pub conflict_count: usize,
    /// A directory where the image has a non-directory: never replaced, so
    /// the extraction cannot go ahead even when overwriting is allowed.
    pub blocked: Option<PathBuf>,
    /// What the extraction would warn about (symlinks pointing outside).
    pub warnings: Vec<String>,
    /// Paths that would not be created (devices, FIFOs, broken hardlinks).
    pub skipped: Vec<String>,
    pub files: u64,
    pub dirs: u64,
    pub links: u64,
}

/// Expand a leading `~` or `~/` to `home` (`~user` is kept as written),
/// trimming surrounding blanks; an empty text is an error.
pub fn expand_home(text: &str, home: Option<&Path>) -> Result<PathBuf> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Usage("no destination directory given".into()));
    }
    let rest = match text.strip_prefix('~') {
        Some("") => Some(""),
        Some(r) if r.starts_with('/') => Some(r.trim_start_matches('/')),
        _ => None,
    };
    match (rest, home) {
        (None, _) => Ok(PathBuf::from(text)),
        (Some(r), Some(h)) => Ok(if r.is_empty() {
            h.to_path_buf()
        } else {
            h.join(r)
        }),
        (Some(_), None) => Err(Error::Usage(format!(
            "{text}: cannot expand ~ (HOME is not set)"
        ))),
    }
}

/// A destination named after the image, in the current directory
/// (`./nginx-1.25-extract`): never a bare `.`.
pub fn default_dest(loaded: &Loaded) -> String {
    let from_name = loaded
        .image
        .name
        .as_deref()
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_string());
    let from_file = || {
        loaded
            .source
            .store
            .display
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
    };
    let raw = from_name
        .filter(|n| !n.is_empty())
        .or_else(from_file)
        .unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches(|c| c == '.' || c == '-').to_string();
    if name.is_empty() {
        name = "image".into();
    }
    format!("./{name}-extract")
}

/// The directories from `dest` up that do not exist, outermost first. An
/// existing one that is not a directory is an error naming it (rather than
/// the system's `File exists`).
pub(super) fn missing_dirs(dest: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut cur = Some(dest);
    while let Some(p) = cur {
        let probe = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        match std::fs::metadata(probe) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(ext_err(probe, "is not a directory")),
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.kind() == io::ErrorKind::NotADirectory =>
            {
                missing.push(p.to_path_buf());
            }
            Err(e) => return Err(io_err(probe, e)),
        }
        cur = p.parent();
    }
    missing.reverse();
    Ok(missing)
}

/// What extracting `path_id` as it is after `layer` into `dest` would do,
/// found without writing anything.
pub fn preview(loaded: &Loaded, path_id: NodeId, layer: usize, dest: &Path) -> Result<Preview> {
    let plan = plan(loaded, path_id, layer)?;
    let items = &plan.items;
    let mut p = Preview {
        dest: dest.to_path_buf(),
        create: missing_dirs(dest)?,
        warnings: plan.warnings.clone(),
        skipped: plan.skipped.clone(),
        ..Preview::default()
    };
    for it in items {
        match it.what {
            What::Dir => p.dirs += 1,
            What::File { .. } => p.files += 1,
            What::Symlink(_) | What::Hardlink(_) => p.links += 1,
        }
    }
    #[cfg(unix)]
    if p.create.is_empty() {
        let mut h = super::handles::Handles::open(dest).map_err(|e| io_err(dest, e))?;
        let c = super::conflicts(&mut h, items, LISTED_CONFLICTS).map_err(|e| io_err(dest, e))?;
        p.blocked = c.blocked.map(|(i, _)| dest.join(rel(items, i)));
        p.conflict_count = c.count;
        p.conflicts = c
            .found
            .into_iter()
            .map(|(i, f)| (dest.join(rel(items, i)), f.describe()))
            .collect();
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expands_to_home_only_at_the_start() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(expand_home("~", home).ok(), Some(PathBuf::from("/home/u")));
        assert_eq!(
            expand_home(" ~/out/x ", home).ok(),
            Some(PathBuf::from("/home/u/out/x"))
        );
        assert_eq!(
            expand_home("~bob/x", home).ok(),
            Some(PathBuf::from("~bob/x"))
        );
        assert_eq!(expand_home("a/~", home).ok(), Some(PathBuf::from("a/~")));
        assert_eq!(
            expand_home("~/x", None).map_err(|e| e.to_string()),
            Err("~/x: cannot expand ~ (HOME is not set)".to_string())
        );
        assert_eq!(
            expand_home("  ", home).map_err(|e| e.to_string()),
            Err("no destination directory given".to_string())
        );
    }
}
