//! Command-line arguments and the thin glue from them to the library.

mod progress;
mod shell;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use layerscope::analysis::{analyse, Analysis};
use layerscope::archive::Selector;
use layerscope::load::{self, LoadOptions, Loaded, Progress};
use layerscope::report::{self, Subject, Units};
use layerscope::source::SourceKind;

/// The package version, and the git commit when built from a checkout (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("LAYERSCOPE_VERSION_SUFFIX"));

/// Look inside container images: layers, changes, wasted space, diffs, CI gates.
#[derive(Parser, Debug)]
#[command(
    name = "layerscope",
    version = VERSION,
    args_conflicts_with_subcommands = true
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

#[derive(Subcommand, Debug)]
enum CacheCommand {
    /// Remove the least recently used blobs until the cache fits --cache-size
    /// (`--cache-size 0` empties it).
    Prune,
}

#[derive(Args, Debug)]
struct ExtractArgs {
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
    /// What to hash: `all` (default), `files` (file contents only: same
    /// figures and per-file digests, but layer digests and diff IDs are
    /// trusted, not checked; about twice as fast on compressed layers),
    /// `layers` (only verify layers; content changes judged by size and
    /// mtime), `none`.
    #[arg(long, global = true, value_enum, default_value_t = Hash::All)]
    hash: Hash,
    /// Short for `--hash none`: fastest; nothing is verified and content
    /// changes are judged by size and mtime.
    #[arg(long, global = true, conflicts_with = "hash")]
    no_hash: bool,
    /// Where to look for IMAGE: only this kind of source. Without it, a path
    /// that exists is read as a file, else a reference is tried in the
    /// Docker daemon, podman, then the registry. Prefixes do the same per
    /// image: docker://, podman://, containerd://, registry://,
    /// docker-archive://, oci-archive://, oci://.
    #[arg(long, global = true, value_enum, value_name = "KIND")]
    source: Option<SourceArg>,
    /// Refuse layers with more entries than this.
    #[arg(long, global = true, default_value_t = 10_000_000)]
    max_entries: u64,
    /// Refuse entries whose path is longer than this many bytes.
    #[arg(long, global = true, default_value_t = 65536)]
    max_path_bytes: usize,
    /// Refuse images with more entries than this in all layers together
    /// (a layer listed twice counts twice).
    #[arg(long, global = true, default_value_t = 20_000_000)]
    max_total_entries: u64,
    /// Refuse stdin, pipes and devices (and what a compressed archive
    /// inflates to) beyond this size, e.g. 100GiB; they are copied to a
    /// temporary file first.
    #[arg(long, global = true, value_name = "SIZE", default_value = "32GiB", value_parser = parse_size_arg)]
    max_input_bytes: u64,
    /// No progress bars (they are drawn only on a terminal, on stderr, for
    /// loads that take a while).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// How registries are reached (`registry://REF`).
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// Registry credentials (else those of docker login / podman login).
    #[arg(long, global = true, value_name = "USER:PASSWORD")]
    creds: Option<String>,
    /// Read USER:PASSWORD from this file (keeps the secret out of `ps`).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "creds")]
    creds_file: Option<PathBuf>,
    /// Reach this registry without verifying TLS, or over plain HTTP (repeatable).
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    insecure_registry: Vec<String>,
    /// Verify registries' TLS certificates; --tls-verify=false trusts any.
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1,
          default_value_t = true, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    tls_verify: bool,
    /// Also trust the CA certificates (*.crt, *.pem) in DIR (repeatable).
    #[arg(long, global = true, value_name = "DIR")]
    cert_dir: Vec<PathBuf>,
    /// Cap on the registry blob cache ($XDG_CACHE_HOME/layerscope); 0 disables it.
    #[arg(long, global = true, value_name = "SIZE", default_value = "10GiB", value_parser = parse_size_arg)]
    cache_size: u64,
    /// A registry download that receives nothing for this long fails.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    registry_timeout: u64,
}

impl RegistryArgs {
    fn options(&self) -> layerscope::source::registry::Options {
        let mut o = layerscope::source::registry::Options {
            insecure_registries: self.insecure_registry.clone(),
            tls_verify: self.tls_verify,
            cert_dirs: self.cert_dir.clone(),
            stall_timeout: std::time::Duration::from_secs(self.registry_timeout.max(1)),
            creds_file: self.creds_file.clone(),
            ..Default::default()
        };
        o.creds = self
            .creds
            .as_ref()
            .map(|c| layerscope::source::registry::Credential {
                username: c.split_once(':').map_or(c.as_str(), |p| p.0).to_string(),
                secret: c.split_once(':').map_or("", |p| p.1).to_string(),
                origin: "--creds".into(),
            });
        o.cache = if self.cache_size == 0 {
            None
        } else {
            o.cache.map(|c| {
                layerscope::source::registry::Cache::new(c.root().to_path_buf(), self.cache_size)
            })
        };
        o
    }
}

fn parse_size_arg(s: &str) -> layerscope::Result<u64> {
    layerscope::size::parse_size(s)
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
        let hash = if self.no_hash { Hash::None } else { self.hash };
        o.scan.hash_files = matches!(hash, Hash::All | Hash::Files);
        o.scan.hash_layers = matches!(hash, Hash::All | Hash::Layers);
        o.scan.max_entries = self.max_entries;
        o.scan.max_path_bytes = self.max_path_bytes;
        o.scan.max_total_entries = self.max_total_entries;
        o.source.kind = self.source.map(SourceArg::kind);
        o.source.registry = self.registry.options();
        o.open.max_input_bytes = self.max_input_bytes;
        o
    }
}

/// `--source` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum SourceArg {
    Docker,
    Podman,
    Containerd,
    Registry,
    Archive,
    OciDir,
}

impl SourceArg {
    fn kind(self) -> SourceKind {
        match self {
            SourceArg::Docker => SourceKind::Docker,
            SourceArg::Podman => SourceKind::Podman,
            SourceArg::Containerd => SourceKind::Containerd,
            SourceArg::Registry => SourceKind::Registry,
            SourceArg::Archive => SourceKind::Archive,
            SourceArg::OciDir => SourceKind::OciDir,
        }
    }
}

/// What `--hash` covers.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    All,
    Files,
    Layers,
    None,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct ReportArgs {
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

/// Rule thresholds given on the command line (override the file).
#[derive(Debug, Default, Clone, Args)]
pub struct RuleArgs {
    /// Fail when dive's efficiency is below this ratio (0..1), or "disabled".
    #[arg(long)]
    pub lowest_efficiency: Option<String>,
    /// Fail when dive's wasted bytes exceed this size (e.g. 20MB, 5MiB), or "disabled".
    #[arg(long)]
    pub highest_wasted_bytes: Option<String>,
    /// Fail when wasted / user bytes exceeds this ratio (0..1), or "disabled".
    #[arg(long)]
    pub highest_user_wasted_percent: Option<String>,
    /// Fail when the image is larger than this size.
    #[arg(long)]
    pub max_image_size: Option<String>,
    /// Fail when any layer is larger than this size.
    #[arg(long)]
    pub max_layer_size: Option<String>,
    /// Fail when the image has more layers than this.
    #[arg(long)]
    pub max_layers: Option<String>,
    /// Fail when a path matching this glob ships in any layer (repeatable).
    #[arg(long = "forbid", value_name = "GLOB")]
    pub forbidden_paths: Vec<String>,
    /// Leave paths matching this glob out of the waste figures (repeatable).
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignored_paths: Vec<String>,
    /// With --baseline: fail when the image grew by more than this size.
    #[arg(long)]
    pub highest_size_growth: Option<String>,
    /// With --baseline: fail when the image grew by more than this ratio of
    /// the baseline's size (0.1 or 10%).
    #[arg(long)]
    pub highest_size_growth_percent: Option<String>,
    /// With --baseline: fail when more than this many layers are new.
    #[arg(long)]
    pub highest_added_layers: Option<String>,
    /// With --baseline: fail when dive's wasted bytes grew by more than this size.
    #[arg(long)]
    pub highest_new_wasted_bytes: Option<String>,
}

impl RuleArgs {
    /// The library's plain overrides (clap stays in the binary).
    fn overrides(&self) -> layerscope::ci::Overrides {
        let a = self.clone();
        layerscope::ci::Overrides {
            lowest_efficiency: a.lowest_efficiency,
            highest_wasted_bytes: a.highest_wasted_bytes,
            highest_user_wasted_percent: a.highest_user_wasted_percent,
            max_image_size: a.max_image_size,
            max_layer_size: a.max_layer_size,
            max_layers: a.max_layers,
            forbidden_paths: a.forbidden_paths,
            ignored_paths: a.ignored_paths,
            highest_size_growth: a.highest_size_growth,
            highest_size_growth_percent: a.highest_size_growth_percent,
            highest_added_layers: a.highest_added_layers,
            highest_new_wasted_bytes: a.highest_new_wasted_bytes,
        }
    }
}

#[derive(Args, Debug)]
pub struct CiArgs {
    /// Image: archive, OCI layout directory, `-` for stdin, or a reference
    /// (nginx:latest, docker://REF, podman://REF, registry://REF, …).
    pub image: PathBuf,
    #[command(flatten)]
    pub rules: RuleArgs,
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
    /// Compare with this image (the previous build) and apply the growth rules.
    #[arg(long, value_name = "OLD")]
    pub baseline: Option<PathBuf>,
    /// Pick the baseline's image by name, digest or index (default: --image).
    #[arg(long, value_name = "NAME|DIGEST|N")]
    pub baseline_image: Option<String>,
    /// Pick the baseline's image by platform (default: --platform).
    #[arg(long)]
    pub baseline_platform: Option<String>,
}

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
    let show = progress::wanted(args.quiet);
    let loaded = progress::with_bars(&[progress::label(path)], show, |p| {
        load::load(path, &args.options(), &p[0])
    })?;
    let analysis = analyse(&loaded);
    Ok((loaded, analysis))
}

/// Names, commands and paths in plain-text renderings come from the image:
/// no escape sequences may reach the terminal.
fn terminal_safe(text: String) -> String {
    layerscope::error::clean_text(&text).into_owned()
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
                Format::Text => write_out(
                    r.output.as_deref(),
                    &terminal_safe(report::text::render(&subject, units)),
                )?,
                // Streamed: the full report of a big image is large.
                Format::Json => {
                    with_output(r.output.as_deref(), |w| report::json::write(&subject, w))?
                }
            }
            for w in &loaded.image.warnings {
                eprintln!("layerscope: warning: {}", layerscope::error::clean(w));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ci(c)) => run_ci(&c, &cli.load),
        Some(Command::Diff(d)) => run_diff(&d, &cli.load, cli.config.as_deref()),
        Some(Command::Extract(x)) => run_extract(&x, &cli.load),
        Some(Command::Cache(CacheCommand::Prune)) => run_cache_prune(&cli.load.registry),
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
                    baseline: None,
                    baseline_image: None,
                    baseline_platform: None,
                };
                return run_ci(&c, &cli.load);
            }
            run_tui(&image, &cli.load, cli.config.as_deref())
        }
    }
}

fn run_cache_prune(args: &RegistryArgs) -> Result<ExitCode> {
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

fn run_extract(x: &ExtractArgs, load_args: &LoadArgs) -> Result<ExitCode> {
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

fn run_ci(c: &CiArgs, load_args: &LoadArgs) -> Result<ExitCode> {
    let rules = layerscope::ci::RuleSet::resolve(c.ci_config.as_deref(), &c.rules.overrides())?;
    for w in &rules.warnings {
        eprintln!("layerscope: warning: {}", layerscope::error::clean(w));
    }
    let (loaded, analysis, baseline) = match &c.baseline {
        None => {
            let (l, a) = load_image(&c.image, load_args)?;
            (l, a, None)
        }
        Some(b) => {
            let base_opts = side_options(load_args, &c.baseline_image, &c.baseline_platform);
            let (new, old) = load_pair(
                (&c.image, load_args.options()),
                Some((b.as_path(), base_opts)),
                progress::wanted(load_args.quiet),
            )?;
            let new_analysis = analyse(&new);
            let old = old.map(|o| {
                let a = analyse(&o);
                (o, a)
            });
            (new, new_analysis, old)
        }
    };
    let outcome = layerscope::ci::evaluate_against(
        &rules,
        &loaded,
        &analysis,
        baseline.as_ref().map(|(l, a)| (l, a)),
    )?;
    let units = if c.bytes { Units::Bytes } else { Units::Human };
    let subject = Subject {
        loaded: &loaded,
        analysis: &analysis,
    };
    write_out(
        None,
        &terminal_safe(layerscope::report::ci::render_text(
            &subject, &outcome, units,
        )),
    )?;
    if let Some(p) = &c.junit {
        write_out(
            Some(p),
            &layerscope::report::ci::render_junit(&subject, &outcome)?,
        )?;
    }
    if let Some(p) = &c.json {
        write_out(
            Some(p),
            &ensure_newline(layerscope::report::ci::render_json(&subject, &outcome)?),
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
    write_out(
        None,
        &terminal_safe(report::text::render(&subject, Units::Human)),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Load options for one side of a comparison: its own selection, else the global one.
fn side_options(args: &LoadArgs, image: &Option<String>, platform: &Option<String>) -> LoadOptions {
    let mut o = args.options();
    if image.is_some() {
        o.selector.image = image.clone();
    }
    if platform.is_some() {
        o.selector.platform = platform.clone();
    }
    o
}

/// Load one image, or two in parallel, without a progress display.
fn load_pair(
    first: (&Path, LoadOptions),
    second: Option<(&Path, LoadOptions)>,
    show_bars: bool,
) -> Result<(Loaded, Option<Loaded>)> {
    let mut labels = vec![progress::label(first.0)];
    if let Some((p2, _)) = &second {
        labels.push(progress::label(p2));
    }
    progress::with_bars(&labels, show_bars, |bars| {
        let second = second.as_ref().map(|(path, o)| (*path, o, &bars[1]));
        Ok(load::load_pair((first.0, &first.1, &bars[0]), second)?)
    })
}

fn run_diff(d: &DiffArgs, load_args: &LoadArgs, config: Option<&Path>) -> Result<ExitCode> {
    use layerscope::diff;
    use layerscope::report::{diff_json, diff_text, DiffSubject};
    use std::io::IsTerminal;

    let filter = diff::PathFilter::new(&d.paths, &d.status)?;
    let old_opts = side_options(load_args, &d.old_image, &d.old_platform);
    // On a terminal, without an output format or file, the TUI's diff mode
    // takes over; piped or redirected output stays text.
    let interactive = d.format.is_none()
        && !d.stat
        && !d.exit_code
        && d.output.is_none()
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    if cfg!(feature = "tui") && interactive {
        return run_diff_tui(d, load_args, old_opts, config);
    }
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
    old_opts: LoadOptions,
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
    run(req, config)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "tui"))]
fn run_diff_tui(
    _d: &DiffArgs,
    _load_args: &LoadArgs,
    _old_opts: LoadOptions,
    _config: Option<&Path>,
) -> Result<ExitCode> {
    anyhow::bail!("this build has no terminal UI: use --format text or json")
}
