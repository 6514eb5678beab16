//! CI rules: dive's `.dive-ci` rules (same keys, defaults and semantics) and
//! the ones dive lacks (image/layer size, layer count, forbidden and ignored
//! paths). Evaluation is independent of output; text, JSON and JUnit render
//! the same [`Outcome`].

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::analysis::{self, Analysis};
use crate::error::{Error, Result};
use crate::load::Loaded;
use crate::report::{Subject, Units};

/// Rule thresholds given on the command line (override the file).
#[derive(Debug, Default, Clone, clap::Args)]
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
    pub fn resolve(file: Option<&Path>, args: &RuleArgs) -> Result<RuleSet> {
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

/// Globs match absolute paths; a pattern without a leading `/` matches at any depth.
pub(crate) fn globs(patterns: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let full = if p.starts_with('/') {
            p.clone()
        } else {
            format!("**/{p}")
        };
        let g = Glob::new(&full).map_err(|e| Error::Usage(format!("invalid glob {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map_err(|e| Error::Usage(e.to_string()))
}

/// Result of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One rule's verdict with what was measured.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub rule: String,
    pub status: Status,
    pub measured: String,
    pub threshold: String,
    pub message: String,
}

/// All verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub verdicts: Vec<Verdict>,
    /// dive figures recomputed without ignored paths (equal to the plain
    /// ones when nothing is ignored).
    pub efficiency: f64,
    pub wasted_bytes: u64,
    pub user_wasted_percent: Option<f64>,
    /// The comparison with `--baseline`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineFigures>,
}

/// What the baseline rules measure: the image against its baseline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BaselineFigures {
    pub source: String,
    pub name: Option<String>,
    pub layer_count: usize,
    /// dive's image size of the baseline.
    pub image_size_bytes: u64,
    /// Image size minus the baseline's (negative when it shrank).
    pub size_growth_bytes: i64,
    /// Growth / baseline size; None when the baseline is empty.
    pub size_growth_ratio: Option<f64>,
    /// Layers whose diff ID the baseline lacks.
    pub added_layers: u64,
    /// Baseline layers the image no longer has.
    pub removed_layers: u64,
    /// dive's wasted bytes of the baseline (ignored paths left out).
    pub wasted_bytes: u64,
    /// Wasted bytes minus the baseline's.
    pub new_wasted_bytes: i64,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| v.status != Status::Fail)
    }
    pub fn count(&self, s: Status) -> usize {
        self.verdicts.iter().filter(|v| v.status == s).count()
    }
}

/// A CI rule over an analysed image.
pub trait Rule {
    fn evaluate(&self, ctx: &Context) -> Verdict;
}

/// What rules look at.
pub struct Context<'a> {
    pub loaded: &'a Loaded,
    pub analysis: &'a Analysis,
    pub dive: analysis::DiveFigures,
    /// Set when comparing against a baseline.
    pub baseline: Option<BaselineFigures>,
}

fn verdict(
    rule: &str,
    status: Status,
    measured: String,
    threshold: String,
    message: String,
) -> Verdict {
    Verdict {
        rule: rule.to_string(),
        status,
        measured,
        threshold,
        message,
    }
}

/// PASS or FAIL; the message is only built for a failure.
fn judged(
    rule: &str,
    fail: bool,
    measured: String,
    threshold: String,
    message: impl FnOnce() -> String,
) -> Verdict {
    if fail {
        verdict(rule, Status::Fail, measured, threshold, message())
    } else {
        verdict(rule, Status::Pass, measured, threshold, String::new())
    }
}

fn skipped(rule: &str) -> Verdict {
    verdict(
        rule,
        Status::Skip,
        String::new(),
        "disabled".into(),
        "rule disabled".into(),
    )
}

struct LowestEfficiency(Threshold<f64>);
impl Rule for LowestEfficiency {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "lowestEfficiency";
        let Threshold::At(t) = self.0 else {
            return skipped(key);
        };
        let e = c.dive.efficiency;
        let fail = t > e;
        judged(key, fail, format!("{e:.6}"), t.to_string(), || {
            format!("image efficiency is too low (efficiency={e:.6} < threshold={t})")
        })
    }
}

struct HighestWastedBytes(Threshold<u64>);
impl Rule for HighestWastedBytes {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "highestWastedBytes";
        let Threshold::At(t) = self.0 else {
            return skipped(key);
        };
        let w = c.dive.wasted_bytes;
        let fail = w > t;
        judged(key, fail, w.to_string(), t.to_string(), || {
            format!("too many bytes wasted (wasted-bytes={w} > threshold={t})")
        })
    }
}

struct HighestUserWastedPercent(Threshold<f64>);
impl Rule for HighestUserWastedPercent {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "highestUserWastedPercent";
        let Threshold::At(t) = self.0 else {
            return skipped(key);
        };
        match c.dive.user_wasted_percent {
            // dive compares against NaN here, which never fails.
            None => verdict(
                key,
                Status::Pass,
                "n/a".into(),
                t.to_string(),
                "no user layers".into(),
            ),
            Some(p) => {
                let fail = t < p;
                judged(key, fail, format!("{p:.6}"), t.to_string(), || {
                    format!("too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={p:.6} > threshold={t})")
                })
            }
        }
    }
}

struct MaxSize {
    key: &'static str,
    limit: Threshold<u64>,
    per_layer: bool,
}
impl Rule for MaxSize {
    fn evaluate(&self, c: &Context) -> Verdict {
        let Threshold::At(t) = self.limit else {
            return skipped(self.key);
        };
        let layers = &c.loaded.image.layers;
        let (measured, what) = if self.per_layer {
            let big = layers.iter().max_by_key(|l| l.size_bytes);
            (
                big.map_or(0, |l| l.size_bytes),
                big.map_or(String::new(), |l| format!("layer {}", l.index)),
            )
        } else {
            (c.analysis.dive.image_size_bytes, "image".to_string())
        };
        let fail = measured > t;
        judged(self.key, fail, measured.to_string(), t.to_string(), || {
            format!("{what} is too large (size={measured} > threshold={t})")
        })
    }
}

struct MaxLayers(Threshold<u64>);
impl Rule for MaxLayers {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "highestLayerCount";
        let Threshold::At(t) = self.0 else {
            return skipped(key);
        };
        let n = c.loaded.image.layers.len() as u64;
        let fail = n > t;
        judged(key, fail, n.to_string(), t.to_string(), || {
            format!("too many layers (layers={n} > threshold={t})")
        })
    }
}

struct ForbiddenPaths(Vec<String>);
impl Rule for ForbiddenPaths {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "forbiddenPaths";
        if self.0.is_empty() {
            return skipped(key);
        }
        let Ok(set) = globs(&self.0) else {
            return skipped(key);
        };
        let tree = &c.loaded.tree;
        let mut hits = Vec::new();
        for id in tree.ids().skip(1) {
            let shipped_in: Vec<usize> = tree
                .node(id)
                .versions
                .iter()
                .filter(|v| v.is_live())
                .map(|v| v.layer as usize)
                .collect();
            if shipped_in.is_empty() {
                continue;
            }
            let path = tree.path(id);
            if set.is_match(&path) {
                let l: Vec<String> = shipped_in.iter().map(|l| l.to_string()).collect();
                hits.push(format!("{path} (layer {})", l.join(",")));
            }
        }
        let fail = !hits.is_empty();
        let shown: Vec<&str> = hits.iter().take(10).map(String::as_str).collect();
        judged(key, fail, hits.len().to_string(), self.0.join(" "), || {
            format!(
                "forbidden paths ship in the image: {}{}",
                shown.join(", "),
                if hits.len() > 10 { ", …" } else { "" }
            )
        })
    }
}

/// A growth rule over [`BaselineFigures`]; skipped without a baseline.
struct Growth<T> {
    key: &'static str,
    limit: Threshold<T>,
    /// Measured value (for display, and compared to the threshold) and the message's wording.
    measure: fn(&BaselineFigures) -> Option<T>,
    what: &'static str,
    quantity: &'static str,
}

/// How a measured value is shown: ratios with six decimals, as dive does.
trait Measure: PartialOrd + std::fmt::Display + Copy {
    fn shown(self) -> String {
        self.to_string()
    }
}
impl Measure for i64 {}
impl Measure for u64 {}
impl Measure for f64 {
    fn shown(self) -> String {
        format!("{self:.6}")
    }
}

impl<T: Measure> Rule for Growth<T> {
    fn evaluate(&self, c: &Context) -> Verdict {
        let Threshold::At(t) = self.limit else {
            return skipped(self.key);
        };
        let Some(b) = &c.baseline else {
            return verdict(
                self.key,
                Status::Skip,
                String::new(),
                t.to_string(),
                "no baseline given".into(),
            );
        };
        let Some(m) = (self.measure)(b) else {
            return verdict(
                self.key,
                Status::Pass,
                "n/a".into(),
                t.to_string(),
                "empty baseline".into(),
            );
        };
        let fail = m > t;
        let shown = m.shown();
        judged(self.key, fail, shown.clone(), t.to_string(), || {
            format!("{} ({}={shown} > threshold={t})", self.what, self.quantity)
        })
    }
}

/// Compare the image with its baseline for the growth rules.
pub fn baseline_figures(
    rules: &RuleSet,
    loaded: &Loaded,
    dive: &analysis::DiveFigures,
    base: &Loaded,
    base_analysis: &Analysis,
) -> BaselineFigures {
    let base_dive = dive_without_ignored(rules, base, base_analysis);
    let old_ids: std::collections::HashSet<&str> = base
        .image
        .layers
        .iter()
        .map(|l| l.diff_id.as_str())
        .collect();
    let new_ids: std::collections::HashSet<&str> = loaded
        .image
        .layers
        .iter()
        .map(|l| l.diff_id.as_str())
        .collect();
    let delta = |new: u64, old: u64| -> i64 {
        (i128::from(new) - i128::from(old)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    };
    let growth = delta(dive.image_size_bytes, base_dive.image_size_bytes);
    BaselineFigures {
        source: base.image.source.clone(),
        name: base.image.name.clone(),
        layer_count: base.image.layers.len(),
        image_size_bytes: base_dive.image_size_bytes,
        size_growth_bytes: growth,
        size_growth_ratio: (base_dive.image_size_bytes > 0)
            .then(|| growth as f64 / base_dive.image_size_bytes as f64),
        added_layers: loaded
            .image
            .layers
            .iter()
            .filter(|l| !old_ids.contains(l.diff_id.as_str()))
            .count() as u64,
        removed_layers: base
            .image
            .layers
            .iter()
            .filter(|l| !new_ids.contains(l.diff_id.as_str()))
            .count() as u64,
        wasted_bytes: base_dive.wasted_bytes,
        new_wasted_bytes: delta(dive.wasted_bytes, base_dive.wasted_bytes),
    }
}

fn dive_without_ignored(
    rules: &RuleSet,
    loaded: &Loaded,
    analysis: &Analysis,
) -> analysis::DiveFigures {
    if rules.ignored.is_empty() {
        analysis.dive.clone()
    } else {
        match globs(&rules.ignored) {
            Ok(set) => analysis::dive_figures_filtered(loaded, |p| set.is_match(p)),
            Err(_) => analysis.dive.clone(),
        }
    }
}

/// A size threshold compared with a signed growth.
fn signed(t: &Threshold<u64>) -> Threshold<i64> {
    match t {
        Threshold::Disabled => Threshold::Disabled,
        Threshold::At(v) => Threshold::At(i64::try_from(*v).unwrap_or(i64::MAX)),
    }
}

/// Evaluate every rule.
pub fn evaluate(rules: &RuleSet, loaded: &Loaded, analysis: &Analysis) -> Outcome {
    evaluate_against(rules, loaded, analysis, None)
}

/// Evaluate every rule, and the growth rules against `baseline` when given.
/// Without a baseline the growth rules are left out unless configured (then
/// they are skipped), so plain runs report what they always did.
pub fn evaluate_against(
    rules: &RuleSet,
    loaded: &Loaded,
    analysis: &Analysis,
    baseline: Option<(&Loaded, &Analysis)>,
) -> Outcome {
    let dive = dive_without_ignored(rules, loaded, analysis);
    let baseline = baseline.map(|(b, ba)| baseline_figures(rules, loaded, &dive, b, ba));
    let ctx = Context {
        loaded,
        analysis,
        dive,
        baseline,
    };
    let list: Vec<Box<dyn Rule>> = vec![
        Box::new(LowestEfficiency(rules.lowest_efficiency.clone())),
        Box::new(HighestWastedBytes(rules.highest_wasted_bytes.clone())),
        Box::new(HighestUserWastedPercent(
            rules.highest_user_wasted_percent.clone(),
        )),
        Box::new(MaxSize {
            key: "highestImageSize",
            limit: rules.highest_image_size.clone(),
            per_layer: false,
        }),
        Box::new(MaxSize {
            key: "highestLayerSize",
            limit: rules.highest_layer_size.clone(),
            per_layer: true,
        }),
        Box::new(MaxLayers(rules.highest_layer_count.clone())),
        Box::new(ForbiddenPaths(rules.forbidden.clone())),
    ];
    let growth: Vec<Box<dyn Rule>> = vec![
        Box::new(Growth {
            key: "highestSizeGrowth",
            limit: signed(&rules.highest_size_growth),
            measure: |b| Some(b.size_growth_bytes),
            what: "image grew too much",
            quantity: "size-growth",
        }),
        Box::new(Growth {
            key: "highestSizeGrowthPercent",
            limit: rules.highest_size_growth_percent.clone(),
            measure: |b| b.size_growth_ratio,
            what: "image grew too much, relative to the baseline",
            quantity: "size-growth-percent",
        }),
        Box::new(Growth {
            key: "highestAddedLayers",
            limit: rules.highest_added_layers.clone(),
            measure: |b| Some(b.added_layers),
            what: "too many layers added",
            quantity: "added-layers",
        }),
        Box::new(Growth {
            key: "highestNewWastedBytes",
            limit: signed(&rules.highest_new_wasted_bytes),
            measure: |b| Some(b.new_wasted_bytes),
            what: "too many new bytes wasted",
            quantity: "new-wasted-bytes",
        }),
    ];
    let configured = [
        rules.highest_size_growth != Threshold::Disabled,
        rules.highest_size_growth_percent != Threshold::Disabled,
        rules.highest_added_layers != Threshold::Disabled,
        rules.highest_new_wasted_bytes != Threshold::Disabled,
    ];
    let mut verdicts: Vec<Verdict> = list.iter().map(|r| r.evaluate(&ctx)).collect();
    for (r, on) in growth.iter().zip(configured) {
        if ctx.baseline.is_some() || on {
            verdicts.push(r.evaluate(&ctx));
        }
    }
    Outcome {
        verdicts,
        efficiency: ctx.dive.efficiency,
        wasted_bytes: ctx.dive.wasted_bytes,
        user_wasted_percent: ctx.dive.user_wasted_percent,
        baseline: ctx.baseline.clone(),
    }
}

/// Text in dive's CI layout, with the measured values.
pub fn render_text(s: &Subject, o: &Outcome, units: Units) -> String {
    use crate::text::display_safe;
    use std::fmt::Write;
    let img = &s.loaded.image;
    let mut t = String::new();
    let _ = writeln!(t, "  efficiency: {:.4} %", o.efficiency * 100.0);
    let _ = writeln!(
        t,
        "  wastedBytes: {} bytes ({})",
        o.wasted_bytes,
        units.size(o.wasted_bytes)
    );
    let _ = writeln!(
        t,
        "  userWastedPercent: {}",
        o.user_wasted_percent
            .map_or("n/a".to_string(), |p| format!("{:.4} %", p * 100.0))
    );
    let _ = writeln!(
        t,
        "  image: {} ({} layers, {})",
        display_safe(img.name.as_deref().unwrap_or(&img.source)),
        img.layers.len(),
        units.size(s.analysis.dive.image_size_bytes)
    );
    if let Some(b) = &o.baseline {
        let sign = |d: i64| {
            let m = units.size(d.unsigned_abs());
            if d < 0 {
                format!("-{m}")
            } else {
                format!("+{m}")
            }
        };
        let _ = writeln!(
            t,
            "  baseline: {} ({} layers, {}): growth {} ({}), added layers {}, removed layers {}, new wasted bytes {}",
            display_safe(b.name.as_deref().unwrap_or(&b.source)),
            b.layer_count,
            units.size(b.image_size_bytes),
            sign(b.size_growth_bytes),
            b.size_growth_ratio
                .map_or("n/a".to_string(), |r| format!("{:+.4} %", r * 100.0)),
            b.added_layers,
            b.removed_layers,
            sign(b.new_wasted_bytes)
        );
    }
    let _ = writeln!(t, "Inefficient Files:");
    let _ = writeln!(t, "Count  Wasted Space  File Path");
    for f in s.analysis.dive.inefficient_files.iter().take(20) {
        let _ = writeln!(
            t,
            "{:>5}  {:>12}  {}",
            f.count,
            units.size(f.size_bytes),
            display_safe(&f.path)
        );
    }
    let _ = writeln!(t, "Results:");
    for v in &o.verdicts {
        // Messages quote paths from the image and globs from the rules:
        // one verdict stays one line.
        let mut line = format!("  {}: {}", v.status.as_str(), display_safe(&v.rule));
        if v.status == Status::Skip {
            let _ = write!(line, ": {}", display_safe(&v.message));
        } else {
            let _ = write!(
                line,
                " (measured {}, threshold {})",
                display_safe(&v.measured),
                display_safe(&v.threshold)
            );
            if !v.message.is_empty() {
                let _ = write!(line, ": {}", display_safe(&v.message));
            }
        }
        let _ = writeln!(t, "{line}");
    }
    let _ = writeln!(
        t,
        "Result:{} [Total:{}] [Passed:{}] [Failed:{}] [Warn:0] [Skipped:{}]",
        if o.passed() { "PASS" } else { "FAIL" },
        o.verdicts.len(),
        o.count(Status::Pass),
        o.count(Status::Fail),
        o.count(Status::Skip)
    );
    t
}

/// JSON: verdicts plus the figures they were judged on.
pub fn render_json(s: &Subject, o: &Outcome) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        schema_version: u32,
        image: Option<&'a str>,
        source: &'a str,
        passed: bool,
        outcome: &'a Outcome,
        dive: &'a analysis::DiveFigures,
        corrected: &'a analysis::Corrected,
    }
    serde_json::to_string_pretty(&Doc {
        schema_version: 1,
        image: s.loaded.image.name.as_deref(),
        source: &s.loaded.image.source,
        passed: o.passed(),
        outcome: o,
        dive: &s.analysis.dive,
        corrected: &s.analysis.corrected,
    })
    .unwrap_or_default()
}

/// JUnit XML: one test case per rule.
pub fn render_junit(s: &Subject, o: &Outcome) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("layerscope");
    let name = s
        .loaded
        .image
        .name
        .clone()
        .unwrap_or_else(|| s.loaded.image.source.clone());
    let mut suite = TestSuite::new(format!("layerscope ci: {name}"));
    for v in &o.verdicts {
        let status = match v.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Skip => TestCaseStatus::skipped(),
            Status::Fail => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(v.message.clone());
                st
            }
        };
        let mut tc = TestCase::new(v.rule.clone(), status);
        tc.set_classname("layerscope.ci");
        tc.set_system_out(format!("measured={} threshold={}", v.measured, v.threshold));
        suite.add_test_case(tc);
    }
    report.add_test_suite(suite);
    report
        .to_string()
        .map_err(|e| Error::Usage(format!("writing JUnit: {e}")))
}
