//! Path globs as the CI rules and the diff filter take them: matched
//! against absolute paths, a pattern without a leading `/` at any depth.
//! A leaf: it imports nothing else of the crate but the error type.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// Globs match absolute paths; a pattern without a leading `/` matches at any depth.
pub fn globs(patterns: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let full = if p.starts_with('/') {
            p.clone()
        } else {
            format!("**/{p}")
        };
        let g = Glob::new(&full).map_err(|e| Error::Usage(format!("invalid glob {p:?}: {e}")))?;
        b.add(g);
    }
    b.build()
        .map_err(|e| Error::Usage(format!("the globs are too complex to match ({e})")))
}
