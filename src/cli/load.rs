//! Reading images from the command line: the options every command that
//! reads an image shares (selection, hashing, limits, sources, registry
//! access), and loading one image or a pair with progress bars.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};

use layerscope::analysis::{analyse, Analysis};
use layerscope::archive::Selector;
use layerscope::load::{self, LoadOptions, Loaded};
use layerscope::source::SourceKind;

use super::progress;

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
    pub(super) quiet: bool,
    #[command(flatten)]
    pub(super) registry: RegistryArgs,
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
    pub(super) cache_size: u64,
    /// A registry download that receives nothing for this long fails.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    registry_timeout: u64,
}

impl RegistryArgs {
    pub(super) fn options(&self) -> layerscope::source::registry::Options {
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

pub(super) fn parse_size_arg(s: &str) -> layerscope::Result<u64> {
    layerscope::size::parse_size(s)
}

impl LoadArgs {
    pub(super) fn options(&self) -> LoadOptions {
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

pub(super) fn load_image(path: &Path, args: &LoadArgs) -> Result<(Loaded, Analysis)> {
    let show = progress::wanted(args.quiet);
    let loaded = progress::with_bars(&[progress::label(path)], show, |p| {
        load::load(path, &args.options(), &p[0])
    })?;
    let analysis = analyse(&loaded);
    Ok((loaded, analysis))
}

/// Load options for one side of a comparison: its own selection, else the global one.
pub(super) fn side_options(
    args: &LoadArgs,
    image: &Option<String>,
    platform: &Option<String>,
) -> LoadOptions {
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
pub(super) fn load_pair(
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
