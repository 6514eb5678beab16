//! `layerscope ci`: the rules (file and flags), one image or an image
//! against its baseline, the verdicts as text, JUnit and JSON, exit 1 when
//! a rule fails.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use layerscope::analysis::analyse;
use layerscope::report::{Subject, Units};

use super::load::{load_image, load_pair, side_options, LoadArgs};
use super::output::{ensure_newline, terminal_safe, write_out};
use super::progress;

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

impl CiArgs {
    /// `ci` with nothing but the image: what `CI=true layerscope IMAGE` runs.
    pub fn defaults(image: PathBuf) -> CiArgs {
        CiArgs {
            image,
            rules: Default::default(),
            ci_config: None,
            junit: None,
            json: None,
            bytes: false,
            baseline: None,
            baseline_image: None,
            baseline_platform: None,
        }
    }
}

pub(super) fn run(c: &CiArgs, load_args: &LoadArgs) -> Result<ExitCode> {
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
