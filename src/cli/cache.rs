//! `layerscope cache`: the registry blob cache (prune).

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::load::RegistryArgs;
use super::output::write_out;

#[derive(Subcommand, Debug)]
pub(super) enum CacheCommand {
    /// Remove the least recently used blobs until the cache fits --cache-size
    /// (`--cache-size 0` empties it).
    Prune,
}

pub(super) fn run(c: &CacheCommand, args: &RegistryArgs) -> Result<ExitCode> {
    match c {
        CacheCommand::Prune => prune(args),
    }
}

fn prune(args: &RegistryArgs) -> Result<ExitCode> {
    let Some(dir) = layerscope::source::registry::Cache::default_dir() else {
        anyhow::bail!("no cache directory: set XDG_CACHE_HOME or HOME");
    };
    let cache = layerscope::source::registry::Cache::new(dir.clone(), args.cache_size);
    let p = cache
        .prune(args.cache_size)
        .with_context(|| format!("pruning {}", dir.display()))?;
    write_out(
        None,
        &format!(
            "removed {} blobs ({} bytes); kept {} blobs ({} bytes) in {}\n",
            p.removed,
            p.removed_bytes,
            p.kept,
            p.kept_bytes,
            dir.display()
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}
