//! The binary's command line: the clap definitions of the top level and
//! the dispatch to one module per command (report, ci, diff, extract, cache,
//! completions and man, the explorer). Shared pieces sit beside them: the
//! load options and loading with progress bars (load.rs), output (output.rs),
//! the bars themselves (progress.rs). The library does the work.

mod cache;
mod ci;
mod diff;
mod explore;
mod extract;
mod load;
mod output;
mod progress;
mod report;
mod shell;
mod verbose;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use cache::CacheCommand;
use ci::CiArgs;
use diff::DiffArgs;
use extract::ExtractArgs;
use load::LoadArgs;
use report::ReportArgs;

/// The package version, and the git commit when built from a checkout (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("LAYERSCOPE_VERSION_SUFFIX"));

/// Look inside container images: layers, changes, wasted space, diffs, CI gates.
#[derive(Parser, Debug)]
#[command(
    name = "layerscope",
    version = VERSION
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Image to explore in the TUI (archive, OCI layout dir, `-` for stdin,
    /// or a reference such as nginx:latest or docker://REF);
    /// the sample image when omitted. With CI=true, runs `ci` instead.
    image: Option<PathBuf>,
    /// TUI config file (keys, theme, view defaults); default
    /// $XDG_CONFIG_HOME/layerscope/config.yaml.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Say on stderr what is done to reach the image: sources tried,
    /// requests and answers, auth steps (never a secret), the cache.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a summary (text) or the full report (JSON).
    Report(ReportArgs),
    /// Evaluate CI rules (.dive-ci compatible); exit 1 when a rule fails.
    Ci(Box<CiArgs>),
    /// Compare two images (OLD NEW), or two layers of one image (IMAGE --from A --to B).
    Diff(Box<DiffArgs>),
    /// Extract a file or directory of the merged tree (`/` for all) into a directory.
    Extract(ExtractArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of layerscope, or of one command (`man report`).
    Man {
        /// A command: report, ci, diff, extract, completions.
        command: Option<String>,
    },
    /// Manage the registry blob cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// `--format` of report and diff.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    verbose::init(cli.verbose);
    let ci_env = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    match cli.command {
        Some(Command::Report(r)) => report::run(&r, &cli.load),
        Some(Command::Ci(c)) => ci::run(&c, &cli.load),
        Some(Command::Diff(d)) => diff::run(&d, &cli.load, cli.config.as_deref()),
        Some(Command::Extract(x)) => extract::run(&x, &cli.load),
        Some(Command::Cache(c)) => cache::run(&c, &cli.load.registry),
        Some(Command::Completions { shell: sh }) => {
            shell::completions(sh)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { command }) => {
            shell::man(command.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let image = match cli.image {
                Some(p) => p,
                None => explore::sample_image()?,
            };
            if ci_env {
                return ci::run(&ci::CiArgs::defaults(image), &cli.load);
            }
            explore::run(&image, &cli.load, cli.config.as_deref())
        }
    }
}
