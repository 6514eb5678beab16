//! Where a command's text goes (stdout or `--output FILE`) and how it is
//! made safe for a terminal.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Names, commands and paths in plain-text renderings come from the image:
/// no escape sequences may reach the terminal.
pub(super) fn terminal_safe(text: String) -> String {
    layerscope::error::clean_text(&text).into_owned()
}

pub(super) fn write_out(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

pub(super) fn with_output(
    output: Option<&Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => {
            let file =
                std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            f(&mut w).with_context(|| format!("writing {}", p.display()))?;
            w.flush()?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            f(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

pub(super) fn ensure_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
