//! One [`Rule`] per CI check, each judging the [`Context`] into a [`Verdict`].

use super::{BaselineFigures, Context, Rule, RuleStatus, Threshold, Verdict};
use crate::glob::globs;

fn verdict(
    rule: &str,
    status: RuleStatus,
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
        verdict(rule, RuleStatus::Fail, measured, threshold, message())
    } else {
        verdict(rule, RuleStatus::Pass, measured, threshold, String::new())
    }
}

fn skipped(rule: &str) -> Verdict {
    verdict(
        rule,
        RuleStatus::Skip,
        String::new(),
        "disabled".into(),
        "rule disabled".into(),
    )
}

pub(super) struct LowestEfficiency(pub(super) Threshold<f64>);
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

pub(super) struct HighestWastedBytes(pub(super) Threshold<u64>);
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

pub(super) struct HighestUserWastedPercent(pub(super) Threshold<f64>);
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
                RuleStatus::Pass,
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

pub(super) struct MaxSize {
    pub(super) key: &'static str,
    pub(super) limit: Threshold<u64>,
    pub(super) per_layer: bool,
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

pub(super) struct MaxLayers(pub(super) Threshold<u64>);
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

pub(super) struct ForbiddenPaths(pub(super) Vec<String>);
impl Rule for ForbiddenPaths {
    fn evaluate(&self, c: &Context) -> Verdict {
        let key = "forbiddenPaths";
        if self.0.is_empty() {
            return skipped(key);
        }
        // `RuleSet::resolve` checks the globs; a rule set built otherwise
        // says why the rule did not run rather than passing it.
        let set = match globs(&self.0) {
            Ok(set) => set,
            Err(e) => {
                return verdict(
                    key,
                    RuleStatus::Skip,
                    String::new(),
                    self.0.join(" "),
                    e.to_string(),
                )
            }
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
pub(super) struct Growth<T> {
    pub(super) key: &'static str,
    pub(super) limit: Threshold<T>,
    /// Measured value (for display, and compared to the threshold) and the message's wording.
    pub(super) measure: fn(&BaselineFigures) -> Option<T>,
    pub(super) what: &'static str,
    pub(super) quantity: &'static str,
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
                RuleStatus::Skip,
                String::new(),
                t.to_string(),
                "no baseline given".into(),
            );
        };
        let Some(m) = (self.measure)(b) else {
            return verdict(
                self.key,
                RuleStatus::Pass,
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
