//! CI verdicts rendered: dive's CI text layout with the measured values,
//! a JSON document, and JUnit XML (one test case per rule).

use serde::Serialize;

use super::{Subject, Units};
use crate::analysis;
use crate::ci::{Outcome, RuleStatus};
use crate::error::{Error, Result};

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
        if v.status == RuleStatus::Skip {
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
        o.count(RuleStatus::Pass),
        o.count(RuleStatus::Fail),
        o.count(RuleStatus::Skip)
    );
    t
}

/// JSON: verdicts plus the figures they were judged on. A serializer
/// failure is an error, never an empty document.
pub fn render_json(s: &Subject, o: &Outcome) -> Result<String> {
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
    .map_err(|e| Error::Render {
        format: "CI JSON",
        source: Box::new(e),
    })
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
            RuleStatus::Pass => TestCaseStatus::success(),
            RuleStatus::Skip => TestCaseStatus::skipped(),
            RuleStatus::Fail => {
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
    report.to_string().map_err(|e| Error::Render {
        format: "JUnit",
        source: Box::new(e),
    })
}
