//! `layerscope report`: the text summary or the JSON report of one image,
//! and dive's JSON beside it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use layerscope::report::{self, Subject, Units};

use super::load::{load_image, LoadArgs};
use super::output::{ensure_newline, terminal_safe, with_output, write_out};
use super::Format;

#[derive(Args, Debug)]
pub(super) struct ReportArgs {
    /// Image: archive, OCI layout directory, `-` for stdin, or a reference
    /// (nginx:latest, docker://REF, podman://REF, registry://REF, …).
    image: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Also write dive 0.13.1's --json document to this file.
    #[arg(long)]
    dive_json: Option<PathBuf>,
    /// Print sizes as raw byte counts.
    #[arg(long)]
    bytes: bool,
}

pub(super) fn run(r: &ReportArgs, load: &LoadArgs) -> Result<ExitCode> {
    let (loaded, analysis) = load_image(&r.image, load)?;
    let subject = Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    if let Some(p) = &r.dive_json {
        write_out(
            Some(p),
            &ensure_newline(report::dive_json::render(&subject)?),
        )?;
    }
    let units = if r.bytes { Units::Bytes } else { Units::Human };
    match r.format {
        Format::Text => write_out(
            r.output.as_deref(),
            &terminal_safe(report::text::render(&subject, units)),
        )?,
        // Streamed: the full report of a big image is large.
        Format::Json => with_output(r.output.as_deref(), |w| report::json::write(&subject, w))?,
    }
    for w in &loaded.image.warnings {
        eprintln!("layerscope: warning: {}", layerscope::error::clean(w));
    }
    Ok(ExitCode::SUCCESS)
}
