//! `layerscope diff`: two images, or two layers of one, as text, a stat,
//! JSON, or the diff explorer on a terminal; `--exit-code` for scripts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use layerscope::load;
use layerscope::report::Units;

use super::load::{load_pair, side_options, LoadArgs};
use super::output::{ensure_newline, write_out};
use super::{progress, Format};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Old image: archive, OCI layout directory, `-` for stdin, or a reference.
    old: PathBuf,
    /// New image; omit it to compare two layers of OLD with --from/--to.
    new: Option<PathBuf>,
    /// Layer of the old side (one image: the merged tree after this layer).
    #[arg(long, value_name = "LAYER")]
    from: Option<usize>,
    /// Layer of the new side (default: the last layer).
    #[arg(long, value_name = "LAYER")]
    to: Option<usize>,
    /// Pick the old image by name, digest or index (default: --image).
    #[arg(long, value_name = "NAME|DIGEST|N")]
    old_image: Option<String>,
    /// Pick the new image by name, digest or index (default: --image).
    #[arg(long, value_name = "NAME|DIGEST|N")]
    new_image: Option<String>,
    /// Pick the old image by platform (default: --platform).
    #[arg(long)]
    old_platform: Option<String>,
    /// Pick the new image by platform (default: --platform).
    #[arg(long)]
    new_platform: Option<String>,
    /// Output format (default: text).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Only a per-path summary, like `git diff --stat`.
    #[arg(long)]
    stat: bool,
    /// Only paths matching this glob (repeatable; without a leading `/` it matches at any depth).
    #[arg(long = "path", value_name = "GLOB")]
    paths: Vec<String>,
    /// Only these statuses: added, deleted, modified, metadata (comma-separated).
    #[arg(long, value_name = "LIST")]
    status: Vec<String>,
    /// Exit 1 when the images differ (in the shown paths, with filters), 0 when equal.
    #[arg(long)]
    exit_code: bool,
    /// Colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = When::Auto)]
    color: When,
    /// Print sizes as raw byte counts.
    #[arg(long)]
    bytes: bool,
    /// Write the diff here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(super) fn run(d: &DiffArgs, load_args: &LoadArgs, config: Option<&Path>) -> Result<ExitCode> {
    use layerscope::diff;
    use layerscope::report::{diff_json, diff_text, DiffSubject};
    use std::io::IsTerminal;

    let filter = diff::PathFilter::new(&d.paths, &d.status)?;
    let old_opts = side_options(load_args, &d.old_image, &d.old_platform);
    // On a terminal, without an output format or file, the TUI's diff mode
    // takes over; piped or redirected output stays text (always, in a build
    // without the TUI).
    #[cfg(feature = "tui")]
    if d.format.is_none()
        && !d.stat
        && !d.exit_code
        && d.output.is_none()
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal()
    {
        return run_diff_tui(d, load_args, old_opts, config);
    }
    #[cfg(not(feature = "tui"))]
    let _ = config;
    let bars = progress::wanted(load_args.quiet);
    let (old, new, result) = match &d.new {
        Some(newp) => {
            let new_opts = side_options(load_args, &d.new_image, &d.new_platform);
            if load::same_image((&d.old, &old_opts), (newp, &new_opts)) {
                // The same image on both sides (usually with --from/--to): load it once.
                let (old, _) = load_pair((&d.old, old_opts), None, bars)?;
                let r = diff::diff_images(&old, d.from, &old, d.to);
                (old, None, r)
            } else {
                let (old, new) =
                    load_pair((&d.old, old_opts), Some((newp.as_path(), new_opts)), bars)?;
                let new = new.context("loading the new image")?;
                let r = diff::diff_images(&old, d.from, &new, d.to);
                (old, Some(new), r)
            }
        }
        None => {
            let Some(from) = d.from else {
                anyhow::bail!(
                    "diff: give NEW, or --from LAYER (and --to LAYER) to compare two layers of one image"
                );
            };
            let (old, _) = load_pair((&d.old, old_opts), None, bars)?;
            let to = d.to.unwrap_or(old.image.layers.len().saturating_sub(1));
            let r = diff::diff_layers(&old, from, to);
            (old, None, r)
        }
    };
    let result = result?;
    let subject = DiffSubject {
        diff: &result,
        old: &old,
        new: new.as_ref().unwrap_or(&old),
    };
    let color = match d.color {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            d.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let opts = diff_text::TextOptions {
        units: if d.bytes { Units::Bytes } else { Units::Human },
        color,
    };
    let text = match (d.format.unwrap_or(Format::Text), d.stat) {
        (Format::Json, _) => ensure_newline(diff_json::render(&subject, &filter)?),
        (Format::Text, true) => diff_text::render_stat(&subject, &filter, opts),
        (Format::Text, false) => diff_text::render(&subject, &filter, opts),
    };
    write_out(d.output.as_deref(), &text)?;
    for l in std::iter::once(&old).chain(new.as_ref()) {
        for w in &l.image.warnings {
            eprintln!(
                "layerscope: warning: {}: {}",
                layerscope::error::clean(&l.image.source),
                layerscope::error::clean(w)
            );
        }
    }
    if !d.exit_code {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(if result.differs(&filter) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "tui")]
fn run_diff_tui(
    d: &DiffArgs,
    load_args: &LoadArgs,
    old_opts: load::LoadOptions,
    config: Option<&Path>,
) -> Result<ExitCode> {
    use layerscope::tui::diff::{run, DiffRequest};
    let (new, old_layer, new_layer) = match &d.new {
        Some(newp) => {
            let new_opts = side_options(load_args, &d.new_image, &d.new_platform);
            if d.old == Path::new("-") && newp == Path::new("-") {
                anyhow::bail!("only one side can be read from stdin (-)");
            }
            let same = load::same_image((&d.old, &old_opts), (newp, &new_opts));
            // The same image on both sides (usually with --from/--to): load it once.
            let new = (!same).then(|| (newp.clone(), new_opts));
            (new, d.from, d.to)
        }
        None => {
            let Some(from) = d.from else {
                anyhow::bail!(
                    "diff: give NEW, or --from LAYER (and --to LAYER) to compare two layers of one image"
                );
            };
            (None, Some(from), d.to)
        }
    };
    let req = DiffRequest {
        old: d.old.clone(),
        old_opts,
        new,
        old_layer,
        new_layer,
        paths: d.paths.clone(),
        statuses: d.status.clone(),
    };
    super::verbose::holding(|| run(req, config))?;
    Ok(ExitCode::SUCCESS)
}
