//! The text summary printed by `layerscope report`.

use std::fmt::Write;

use super::{Subject, Units};
use crate::text::display_safe;

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// Render the summary.
pub fn render(s: &Subject, units: Units) -> String {
    let img = &s.loaded.image;
    let a = &s.analysis;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Image:     {}",
        display_safe(img.name.as_deref().unwrap_or("(unnamed)"))
    );
    let _ = writeln!(o, "Source:    {}", display_safe(&img.origin.describe()));
    let _ = writeln!(o, "Platform:  {}", display_safe(&img.config.platform()));
    let _ = writeln!(o, "Config:    {}", display_safe(&img.config_digest));
    if let Some(d) = &img.manifest_digest {
        let _ = writeln!(o, "Manifest:  {}", display_safe(d));
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:>3}  {:>10}  {:>10}  {:>6} {:>6} {:>6} {:>6} {:>6}  {:>10}  Command",
        "#", "Size", "Stored", "+add", "~mod", "-del", "m", "=", "Wasted"
    );
    for (l, f) in img.layers.iter().zip(&a.layers) {
        let _ = writeln!(
            o,
            "{:>3}  {:>10}  {:>10}  {:>6} {:>6} {:>6} {:>6} {:>6}  {:>10}  {}",
            l.index,
            units.size(l.size_bytes),
            units.size(l.compressed_size_bytes),
            f.added.count,
            f.modified.count,
            f.deleted.count,
            f.metadata.count,
            f.unchanged.count,
            units.size(f.reclaimable_bytes),
            display_safe(&super::one_line(&l.command, 60))
        );
    }
    let d = &a.dive;
    let c = &a.corrected;
    let _ = writeln!(o);
    let _ = writeln!(o, "dive-compatible figures:");
    let _ = writeln!(
        o,
        "  Total image size:      {}",
        units.size(d.image_size_bytes)
    );
    let _ = writeln!(o, "  Efficiency:            {}", pct(d.efficiency));
    let _ = writeln!(o, "  Wasted bytes:          {}", units.size(d.wasted_bytes));
    let _ = writeln!(
        o,
        "  User wasted percent:   {}",
        d.user_wasted_percent.map_or("n/a".to_string(), pct)
    );
    let _ = writeln!(o, "  Inefficient paths:     {}", d.inefficient_files.len());
    let _ = writeln!(o);
    let _ = writeln!(o, "layerscope figures:");
    let _ = writeln!(
        o,
        "  Final tree:            {} in {} files",
        units.size(c.final_bytes),
        c.final_files
    );
    let _ = writeln!(
        o,
        "  Shipped file content:  {}",
        units.size(c.shipped_bytes)
    );
    let _ = writeln!(
        o,
        "  Reclaimable bytes:     {} (efficiency {})",
        units.size(c.reclaimable_bytes),
        pct(c.efficiency)
    );
    let _ = writeln!(
        o,
        "  Duplicate content:     {} in {} group{}",
        units.size(c.duplicate_bytes),
        c.duplicate_groups.len(),
        if c.duplicate_groups.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if !c.top_wasted.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Top wasted paths:");
        for w in c.top_wasted.iter().take(10) {
            let layers: Vec<String> = w.layers.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(
                o,
                "  {:>10}  {}  (layers {})",
                units.size(w.wasted_bytes),
                display_safe(&w.path),
                layers.join(",")
            );
        }
    }
    if !d.inefficient_files.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Inefficient files (dive):");
        let _ = writeln!(o, "  {:>5}  {:>10}  Path", "Count", "Wasted");
        for f in d.inefficient_files.iter().take(10) {
            let _ = writeln!(
                o,
                "  {:>5}  {:>10}  {}",
                f.count,
                units.size(f.size_bytes),
                display_safe(&f.path)
            );
        }
    }
    if !img.warnings.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Warnings:");
        for w in &img.warnings {
            let _ = writeln!(o, "  {}", display_safe(w));
        }
    }
    o
}
