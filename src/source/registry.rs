//! The registry source: an image pulled from an OCI distribution registry
//! (docker.io, ghcr.io, a private one), tried after the daemons.

use super::{Lookup, Reference};
use crate::error::Result;
use crate::options::LoadOptions;
use crate::progress::Progress;

/// Look the reference up in its registry. `Ok(Lookup::Missing(phrase))`
/// when the registry does not have it (the phrase names the registry and
/// why, e.g. `docker.io (401 unauthorized: …)`); `Err` for a failure that
/// should stop the resolution (a corrupt download).
pub fn try_open(
    reference: &Reference,
    _opts: &LoadOptions,
    _progress: &Progress,
) -> Result<Lookup> {
    let place = reference.registry().unwrap_or("the registry");
    Ok(Lookup::Missing(format!(
        "{place} (not found: the registry source is not built yet)"
    )))
}
