//! `layerscope [IMAGE]`: the explorer (feature `tui`), on the sample image
//! when none is given; without the feature, the text report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use super::load::LoadArgs;

/// The sample image shipped in assets/, found next to the sources or the binary.
pub(super) fn sample_image() -> Result<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.tar");
    if here.exists() {
        return Ok(here);
    }
    anyhow::bail!(
        "no image given and the sample image {} is missing",
        here.display()
    )
}

#[cfg(feature = "tui")]
pub(super) fn run(image: &Path, args: &LoadArgs, config: Option<&Path>) -> Result<ExitCode> {
    super::verbose::holding(|| {
        layerscope::tui::run_with_config(image.to_path_buf(), args.options(), config)
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "tui"))]
pub(super) fn run(image: &Path, args: &LoadArgs, _config: Option<&Path>) -> Result<ExitCode> {
    use super::load::load_image;
    use super::output::{terminal_safe, write_out};
    use layerscope::report::{self, Subject, Units};
    // Without the terminal UI, fall back to the text report.
    let (loaded, analysis) = load_image(image, args)?;
    let subject = Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    write_out(
        None,
        &terminal_safe(report::text::render(&subject, Units::Human)),
    )?;
    Ok(ExitCode::SUCCESS)
}
