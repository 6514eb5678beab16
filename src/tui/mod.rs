//! The interactive terminal UI (feature `tui`). Placeholder until the explorer lands.

use std::path::PathBuf;

use crate::load::LoadOptions;

/// Run the explorer on an image.
pub fn run(image: PathBuf, opts: LoadOptions) -> crate::Result<()> {
    let progress = crate::load::Progress::default();
    let loaded = crate::load::load(&image, &opts, &progress)?;
    let analysis = crate::analysis::analyse(&loaded);
    let s = crate::report::Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    print!(
        "{}",
        crate::report::text::render(&s, crate::report::Units::Human)
    );
    Ok(())
}
