//! `layerscope extract`: a file or directory of the merged tree (after a
//! chosen layer) written into a directory.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use layerscope::load::{self, Progress};

use super::load::LoadArgs;
use super::output::write_out;

#[derive(Args, Debug)]
pub(super) struct ExtractArgs {
    /// Image: archive, OCI layout directory, `-` for stdin, or a reference
    /// (nginx:latest, docker://REF, podman://REF, registry://REF, …).
    image: PathBuf,
    /// Path inside the image, e.g. /etc or /usr/bin/env; `/` extracts everything.
    path: PathBuf,
    /// Directory to extract into (created if missing).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// Take the tree as it is after this layer (0-based; default: the last).
    #[arg(long)]
    layer: Option<usize>,
    /// Replace existing files and symlinks in DIR.
    #[arg(long)]
    force: bool,
    /// Keep setuid, setgid and sticky bits (dropped by default).
    #[arg(long)]
    keep_setuid: bool,
}

pub(super) fn run(x: &ExtractArgs, load_args: &LoadArgs) -> Result<ExitCode> {
    let loaded = load::load(&x.image, &load_args.options(), &Progress::default())?;
    let tree = &loaded.tree;
    let layers = loaded.image.layers.len();
    let layer = match x.layer {
        Some(l) if l >= layers.max(1) => {
            anyhow::bail!(
                "--layer {l}: the image has {layers} layers (0..{})",
                layers.saturating_sub(1)
            )
        }
        Some(l) => l,
        None => tree.final_layer(),
    };
    let want = x.path.as_os_str().as_encoded_bytes();
    let id = tree.lookup(want).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: {} is not in the image",
            x.image.display(),
            x.path.display()
        )
    })?;
    let opts = layerscope::extract::Options {
        force: x.force,
        keep_setuid: x.keep_setuid,
    };
    let report = layerscope::extract::extract(&loaded, id, layer, &x.to, &opts)?;
    for w in loaded.image.warnings.iter().chain(&report.warnings) {
        eprintln!("layerscope: warning: {}", layerscope::error::clean(w));
    }
    for s in &report.skipped {
        eprintln!("layerscope: skipped: {}", layerscope::error::clean(s));
    }
    write_out(
        None,
        &format!(
            "extracted {} files, {} directories, {} symlinks, {} hardlinks ({} bytes) to {}\n",
            report.files,
            report.dirs,
            report.symlinks,
            report.hardlinks,
            report.bytes,
            x.to.display()
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}
