//! What a shell and `man` need, generated from the clap definitions so they
//! never drift from the real options: `layerscope completions SHELL` prints
//! a completion script, `layerscope man [COMMAND]` a roff man page.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Cli;

/// Print the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "layerscope", &mut out);
    out.flush()?;
    Ok(())
}

/// Print the man page of `layerscope` or of one of its commands
/// (`layerscope-report(1)`) to stdout.
pub fn man(command: Option<&str>) -> Result<()> {
    let top = Cli::command();
    let page = match command {
        None => top,
        Some(name) => {
            let sub = top
                .find_subcommand(name)
                .with_context(|| {
                    let names: Vec<&str> = top.get_subcommands().map(|c| c.get_name()).collect();
                    format!("man: no command {name:?} (commands: {})", names.join(", "))
                })?
                .clone();
            let full = format!("layerscope-{name}");
            sub.name(full.clone())
                .bin_name(format!("layerscope {name}"))
                .display_name(full)
                .version(super::VERSION)
        }
    };
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    out.flush()?;
    Ok(())
}
