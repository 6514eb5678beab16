//! Resolving the CI thresholds: dive's defaults, then the rules file (the
//! given one or `.dive-ci`), then the overrides given on the command line.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::glob::globs;

/// Rule thresholds given on the command line (override the file); the
/// binary fills it from its flags.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub lowest_efficiency: Option<String>,
    pub highest_wasted_bytes: Option<String>,
    pub highest_user_wasted_percent: Option<String>,
    pub max_image_size: Option<String>,
    pub max_layer_size: Option<String>,
    pub max_layers: Option<String>,
    pub forbidden_paths: Vec<String>,
    pub ignored_paths: Vec<String>,
    pub highest_size_growth: Option<String>,
    pub highest_size_growth_percent: Option<String>,
    pub highest_added_layers: Option<String>,
    pub highest_new_wasted_bytes: Option<String>,
}

/// A YAML scalar that may be a number or a string ("20MB", "disabled").
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Num(f64),
    Str(String),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Num(n) => n.to_string(),
            Scalar::Str(s) => s,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileRules {
    lowest_efficiency: Option<Scalar>,
    highest_wasted_bytes: Option<Scalar>,
    highest_user_wasted_percent: Option<Scalar>,
    highest_image_size: Option<Scalar>,
    highest_layer_size: Option<Scalar>,
    highest_layer_count: Option<Scalar>,
    #[serde(default)]
    forbidden_paths: Vec<String>,
    #[serde(default)]
    ignored_paths: Vec<String>,
    highest_size_growth: Option<Scalar>,
    highest_size_growth_percent: Option<Scalar>,
    highest_added_layers: Option<Scalar>,
    highest_new_wasted_bytes: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
struct CiFile {
    #[serde(default)]
    rules: FileRules,
}

/// A threshold: absent rules are disabled.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold<T> {
    Disabled,
    At(T),
}

/// Resolved rule configuration.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub lowest_efficiency: Threshold<f64>,
    pub highest_wasted_bytes: Threshold<u64>,
    pub highest_user_wasted_percent: Threshold<f64>,
    pub highest_image_size: Threshold<u64>,
    pub highest_layer_size: Threshold<u64>,
    pub highest_layer_count: Threshold<u64>,
    pub forbidden: Vec<String>,
    pub ignored: Vec<String>,
    /// Baseline rules (need `--baseline`).
    pub highest_size_growth: Threshold<u64>,
    pub highest_size_growth_percent: Threshold<f64>,
    pub highest_added_layers: Threshold<u64>,
    pub highest_new_wasted_bytes: Threshold<u64>,
    /// Where the file rules came from, if any.
    pub source: Option<String>,
}

fn is_disabled(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("disabled") || s.trim().is_empty()
}

fn ratio(key: &str, v: Option<String>, default: Threshold<f64>) -> Result<Threshold<f64>> {
    match v {
        None => Ok(default),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Threshold::At)
            .ok_or_else(|| Error::Usage(format!("CI rule {key}: invalid ratio {s:?}"))),
    }
}

/// Parse a size as go-humanize does: `20MB` = 20,000,000, `20MiB` = 20 × 2²⁰
/// (the one rule of [`crate::size`], shared with the explorer's filter).
pub fn parse_size(s: &str) -> Option<u64> {
    crate::size::parse_size(s).ok()
}

/// A ratio written as `0.1` or `10%`; disabled when absent.
fn ratio_or_percent(key: &str, v: Option<String>) -> Result<Threshold<f64>> {
    match v {
        Some(s) if !is_disabled(&s) => {
            let t = s.trim();
            let parsed = match t.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().ok().map(|x| x / 100.0),
                None => t.parse::<f64>().ok(),
            };
            parsed
                .filter(|x| x.is_finite())
                .map(Threshold::At)
                .ok_or_else(|| Error::Usage(format!("CI rule {key}: invalid ratio {s:?}")))
        }
        _ => Ok(Threshold::Disabled),
    }
}

fn count(key: &str, v: Option<String>) -> Result<Threshold<u64>> {
    match v {
        None => Ok(Threshold::Disabled),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map(Threshold::At)
            .map_err(|_| Error::Usage(format!("CI rule {key}: invalid count {s:?}"))),
    }
}

fn size(key: &str, v: Option<String>) -> Result<Threshold<u64>> {
    match v {
        None => Ok(Threshold::Disabled),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => crate::size::parse_size(&s).map(Threshold::At).map_err(|_| {
            Error::Usage(format!(
                "CI rule {key}: invalid size {s:?}: expected {}",
                crate::size::SIZE_GRAMMAR
            ))
        }),
    }
}

impl RuleSet {
    /// Merge, in rising precedence: dive's defaults, the rules file (the
    /// given one, else `.dive-ci` in the working directory), the flags.
    pub fn resolve(file: Option<&Path>, args: &Overrides) -> Result<RuleSet> {
        let (parsed, source) = match file {
            Some(p) => (Some(read_file(p)?), Some(p.display().to_string())),
            None => {
                let p = Path::new(".dive-ci");
                if p.is_file() {
                    (Some(read_file(p)?), Some(".dive-ci".to_string()))
                } else {
                    (None, None)
                }
            }
        };
        let f = parsed.unwrap_or_default();
        let pick = |flag: &Option<String>, file: Option<Scalar>| {
            flag.clone().or_else(|| file.map(Scalar::into_string))
        };
        let mut forbidden = f.forbidden_paths;
        forbidden.extend(args.forbidden_paths.iter().cloned());
        let mut ignored = f.ignored_paths;
        ignored.extend(args.ignored_paths.iter().cloned());
        let rules = RuleSet {
            lowest_efficiency: ratio(
                "lowestEfficiency",
                pick(&args.lowest_efficiency, f.lowest_efficiency),
                Threshold::At(0.9),
            )?,
            highest_wasted_bytes: size(
                "highestWastedBytes",
                pick(&args.highest_wasted_bytes, f.highest_wasted_bytes),
            )?,
            highest_user_wasted_percent: ratio(
                "highestUserWastedPercent",
                pick(
                    &args.highest_user_wasted_percent,
                    f.highest_user_wasted_percent,
                ),
                Threshold::At(0.1),
            )?,
            highest_image_size: size(
                "highestImageSize",
                pick(&args.max_image_size, f.highest_image_size),
            )?,
            highest_layer_size: size(
                "highestLayerSize",
                pick(&args.max_layer_size, f.highest_layer_size),
            )?,
            highest_layer_count: match pick(&args.max_layers, f.highest_layer_count) {
                None => Threshold::Disabled,
                Some(s) if is_disabled(&s) => Threshold::Disabled,
                Some(s) => s.trim().parse::<u64>().map(Threshold::At).map_err(|_| {
                    Error::Usage(format!("CI rule highestLayerCount: invalid count {s:?}"))
                })?,
            },
            forbidden,
            ignored,
            highest_size_growth: size(
                "highestSizeGrowth",
                pick(&args.highest_size_growth, f.highest_size_growth),
            )?,
            highest_size_growth_percent: ratio_or_percent(
                "highestSizeGrowthPercent",
                pick(
                    &args.highest_size_growth_percent,
                    f.highest_size_growth_percent,
                ),
            )?,
            highest_added_layers: count(
                "highestAddedLayers",
                pick(&args.highest_added_layers, f.highest_added_layers),
            )?,
            highest_new_wasted_bytes: size(
                "highestNewWastedBytes",
                pick(&args.highest_new_wasted_bytes, f.highest_new_wasted_bytes),
            )?,
            source,
        };
        globs(&rules.forbidden)?;
        globs(&rules.ignored)?;
        Ok(rules)
    }
}

fn read_file(p: &Path) -> Result<FileRules> {
    let text =
        std::fs::read_to_string(p).map_err(|e| Error::Usage(format!("{}: {e}", p.display())))?;
    if text.trim().is_empty() {
        return Ok(FileRules::default());
    }
    let f: CiFile = serde_yaml_ng::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: invalid CI rules: {e}", p.display())))?;
    Ok(f.rules)
}
