//! Command-line arguments and the thin glue from them to the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use layerscope::analysis::{analyse, Analysis};
use layerscope::archive::Selector;
use layerscope::load::{self, LoadOptions, Loaded, Progress};
use layerscope::report::{self, Subject, Units};

/// Look inside container images: layers, changes, wasted space, diffs, CI gates.
#[derive(Parser, Debug)]
#[command(name = "layerscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Image to explore in the TUI (archive, OCI layout dir, or `-` for stdin);
    /// the sample image when omitted. With CI=true, runs `ci` instead.
    image: Option<PathBuf>,
    /// TUI config file (keys, theme, view defaults); default
    /// $XDG_CONFIG_HOME/layerscope/config.yaml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a summary (text) or the full report (JSON).
    Report(ReportArgs),
    /// Evaluate CI rules (.dive-ci compatible); exit 1 when a rule fails.
    Ci(Box<CiArgs>),
}

/// Options shared by every command that reads an image.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Pick an image by name, digest (prefix) or index when the archive holds several.
    #[arg(
        long = "image",
        id = "select_image",
        value_name = "NAME|DIGEST|N",
        global = true
    )]
    select_image: Option<String>,
    /// Pick an image by platform, os/arch[/variant].
    #[arg(long, global = true)]
    platform: Option<String>,
    /// Report digest mismatches as warnings instead of errors.
    #[arg(long, global = true)]
    no_verify: bool,
    /// Hash nothing: faster, but digests are not verified and content changes
    /// are judged by size and mtime.
    #[arg(long, global = true)]
    no_hash: bool,
    /// Refuse layers with more entries than this.
    #[arg(long, global = true, default_value_t = 10_000_000)]
    max_entries: u64,
    /// Refuse entries whose path is longer than this many bytes.
    #[arg(long, global = true, default_value_t = 65536)]
    max_path_bytes: usize,
}

impl LoadArgs {
    fn options(&self) -> LoadOptions {
        let mut o = LoadOptions {
            selector: Selector {
                image: self.select_image.clone(),
                platform: self.platform.clone(),
            },
            verify: !self.no_verify,
            ..LoadOptions::default()
        };
        o.scan.hash_files = !self.no_hash;
        o.scan.hash_layers = !self.no_hash;
        o.scan.max_entries = self.max_entries;
        o.scan.max_path_bytes = self.max_path_bytes;
        o
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Image archive, OCI layout directory, or `-` for stdin.
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

#[derive(Args, Debug)]
pub struct CiArgs {
    /// Image archive, OCI layout directory, or `-` for stdin.
    pub image: PathBuf,
    #[command(flatten)]
    pub rules: layerscope::ci::RuleArgs,
    /// Rules file (default: .dive-ci in the working directory, if present).
    #[arg(long)]
    pub ci_config: Option<PathBuf>,
    /// Write a JUnit XML report (one test case per rule).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the verdicts and figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Print sizes as raw byte counts.
    #[arg(long)]
    pub bytes: bool,
}

/// The sample image shipped in assets/, found next to the sources or the binary.
fn sample_image() -> Result<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.tar");
    if here.exists() {
        return Ok(here);
    }
    anyhow::bail!(
        "no image given and the sample image {} is missing",
        here.display()
    )
}

pub fn load_image(path: &Path, args: &LoadArgs) -> Result<(Loaded, Analysis)> {
    let progress = Progress::default();
    let loaded = load::load(path, &args.options(), &progress)?;
    let analysis = analyse(&loaded);
    Ok((loaded, analysis))
}

fn write_out(output: Option<&Path>, text: &str) -> Result<()> {
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

fn with_output(
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

fn ensure_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let ci_env = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    match cli.command {
        Some(Command::Report(r)) => {
            let (loaded, analysis) = load_image(&r.image, &cli.load)?;
            let subject = Subject {
                loaded: &loaded,
                analysis: &analysis,
            };
            if let Some(p) = &r.dive_json {
                write_out(
                    Some(p),
                    &ensure_newline(report::dive_json::render(&subject)),
                )?;
            }
            let units = if r.bytes { Units::Bytes } else { Units::Human };
            match r.format {
                Format::Text => {
                    write_out(r.output.as_deref(), &report::text::render(&subject, units))?
                }
                // Streamed: the full report of a big image is large.
                Format::Json => {
                    with_output(r.output.as_deref(), |w| report::json::write(&subject, w))?
                }
            }
            for w in &loaded.image.warnings {
                eprintln!("layerscope: warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ci(c)) => run_ci(&c, &cli.load),
        None => {
            let image = match cli.image {
                Some(p) => p,
                None => sample_image()?,
            };
            if ci_env {
                let c = CiArgs {
                    image,
                    rules: Default::default(),
                    ci_config: None,
                    junit: None,
                    json: None,
                    bytes: false,
                };
                return run_ci(&c, &cli.load);
            }
            run_tui(&image, &cli.load, cli.config.as_deref())
        }
    }
}

fn run_ci(c: &CiArgs, load_args: &LoadArgs) -> Result<ExitCode> {
    let rules = layerscope::ci::RuleSet::resolve(c.ci_config.as_deref(), &c.rules)?;
    let (loaded, analysis) = load_image(&c.image, load_args)?;
    let outcome = layerscope::ci::evaluate(&rules, &loaded, &analysis);
    let units = if c.bytes { Units::Bytes } else { Units::Human };
    let subject = Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    write_out(
        None,
        &layerscope::ci::render_text(&subject, &outcome, units),
    )?;
    if let Some(p) = &c.junit {
        write_out(Some(p), &layerscope::ci::render_junit(&subject, &outcome)?)?;
    }
    if let Some(p) = &c.json {
        write_out(
            Some(p),
            &ensure_newline(layerscope::ci::render_json(&subject, &outcome)),
        )?;
    }
    Ok(if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(feature = "tui")]
fn run_tui(image: &Path, args: &LoadArgs, config: Option<&Path>) -> Result<ExitCode> {
    layerscope::tui::run_with_config(image.to_path_buf(), args.options(), config)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "tui"))]
fn run_tui(image: &Path, args: &LoadArgs, _config: Option<&Path>) -> Result<ExitCode> {
    // Without the terminal UI, fall back to the text report.
    let (loaded, analysis) = load_image(image, args)?;
    let subject = Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    write_out(None, &report::text::render(&subject, Units::Human))?;
    Ok(ExitCode::SUCCESS)
}
