//! CI rules: dive's `.dive-ci` rules (same keys, defaults and semantics) and
//! the ones dive lacks (image/layer size, layer count, forbidden and ignored
//! paths). This module owns the verdict types and evaluation; [`config`]
//! resolves the thresholds (defaults, rules file, overrides), `rules` holds
//! one [`Rule`] per check. Evaluation is independent of output: text, JSON
//! and JUnit render the same [`Outcome`] in [`crate::report::ci`].

pub mod config;
mod rules;

use serde::Serialize;

use crate::analysis::{self, Analysis};
use crate::error::Result;
use crate::glob::globs;
use crate::load::Loaded;
pub use config::{parse_size, Overrides, RuleSet, Threshold};
use rules::{
    ForbiddenPaths, Growth, HighestUserWastedPercent, HighestWastedBytes, LowestEfficiency,
    MaxLayers, MaxSize,
};

/// The result of one CI rule (PASS, FAIL, SKIP), as dive prints it; the
/// status of a path in the tree is [`crate::tree::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RuleStatus {
    Pass,
    Fail,
    Skip,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "PASS",
            RuleStatus::Fail => "FAIL",
            RuleStatus::Skip => "SKIP",
        }
    }
}

/// One rule's verdict with what was measured.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub rule: String,
    pub status: RuleStatus,
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
        self.verdicts.iter().all(|v| v.status != RuleStatus::Fail)
    }
    pub fn count(&self, s: RuleStatus) -> usize {
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

/// Compare the image with its baseline for the growth rules.
pub fn baseline_figures(
    rules: &RuleSet,
    loaded: &Loaded,
    dive: &analysis::DiveFigures,
    base: &Loaded,
    base_analysis: &Analysis,
) -> Result<BaselineFigures> {
    let base_dive = dive_without_ignored(rules, base, base_analysis)?;
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
    Ok(BaselineFigures {
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
    })
}

fn dive_without_ignored(
    rules: &RuleSet,
    loaded: &Loaded,
    analysis: &Analysis,
) -> Result<analysis::DiveFigures> {
    // A bad ignore glob is an error, not figures that quietly ignore nothing.
    if rules.ignored.is_empty() {
        Ok(analysis.dive.clone())
    } else {
        let set = globs(&rules.ignored)?;
        Ok(analysis::dive_figures_filtered(loaded, |p| set.is_match(p)))
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
pub fn evaluate(rules: &RuleSet, loaded: &Loaded, analysis: &Analysis) -> Result<Outcome> {
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
) -> Result<Outcome> {
    let dive = dive_without_ignored(rules, loaded, analysis)?;
    let baseline = baseline
        .map(|(b, ba)| baseline_figures(rules, loaded, &dive, b, ba))
        .transpose()?;
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
    Ok(Outcome {
        verdicts,
        efficiency: ctx.dive.efficiency,
        wasted_bytes: ctx.dive.wasted_bytes,
        user_wasted_percent: ctx.dive.user_wasted_percent,
        baseline: ctx.baseline.clone(),
    })
}
