//! A quick measurement (not a timed test): how long diffing two big images
//! takes next to loading them.
//!
//! ```text
//! cargo run --release --example diff_bench -- [ENTRIES] [LAYERS]
//! cargo run --release --example diff_bench -- OLD.tar NEW.tar
//! ```
//!
//! Builds two OCI archives (zstd) of ENTRIES files (default 250,000) over
//! LAYERS layers (default 10). The new image shares the old one's layers but
//! the last, which changes, adds and deletes a share of its paths; then both
//! are loaded and diffed, and the times are printed.

use std::time::Instant;

use layerscope::diff;
use layerscope::load::{load, LoadOptions, Progress};
use layerscope_synth::{Compression, ImageBuilder, LayerBuilder};

fn layer(i: usize, per: usize, variant: u8) -> LayerBuilder {
    let mut l = LayerBuilder::new(&format!("RUN step {i}"));
    for j in 0..per {
        let path = format!("opt/l{i}/d{}/f{j}.txt", j % 200);
        // In the changed layer, every 10th file gets new content, every 50th
        // goes away and every 25th gains a sibling.
        if variant == 1 && j % 50 == 0 {
            continue;
        }
        let body = if variant == 1 && j % 10 == 0 {
            format!("changed {i} {j}\n")
        } else {
            format!("content {i} {j}\n")
        };
        l = l.file(&path, body.as_bytes());
        if variant == 1 && j % 25 == 0 {
            l = l.file(&format!("{path}.new"), b"new\n");
        }
    }
    l
}

fn image(entries: usize, layers: usize, variant: u8) -> Vec<u8> {
    let per = entries / layers;
    let mut b = ImageBuilder::new().tag(&format!("bench:{variant}"));
    for i in 0..layers {
        let v = if i + 1 == layers { variant } else { 0 };
        b = b.layer(layer(i, per, v));
    }
    b.oci_archive(Compression::Zstd)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir()?;
    let (old_p, new_p) = if args.len() == 2 && args.iter().all(|a| a.parse::<usize>().is_err()) {
        // Two existing archives (e.g. from examples/gen.rs).
        (args[0].clone().into(), args[1].clone().into())
    } else {
        let entries: usize = args.first().map_or(Ok(250_000), |s| s.parse())?;
        let layers: usize = args.get(1).map_or(Ok(10), |s| s.parse())?;
        let t = Instant::now();
        let (old_p, new_p) = (dir.path().join("old.tar"), dir.path().join("new.tar"));
        std::fs::write(&old_p, image(entries, layers, 0))?;
        std::fs::write(&new_p, image(entries, layers, 1))?;
        println!(
            "generated 2 × {entries} files in {layers} layers: {:.2?}",
            t.elapsed()
        );
        (old_p, new_p)
    };

    let opts = LoadOptions::default();
    let t = Instant::now();
    let old = load(&old_p, &opts, &Progress::default())?;
    let load_old = t.elapsed();
    let t = Instant::now();
    let new = load(&new_p, &opts, &Progress::default())?;
    let load_new = t.elapsed();
    println!(
        "load old: {load_old:.2?} ({} nodes), load new: {load_new:.2?} ({} nodes)",
        old.tree.len(),
        new.tree.len()
    );
    let t = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| load(&old_p, &opts, &Progress::default()));
        let b = load(&new_p, &opts, &Progress::default());
        (h.join(), b)
    });
    drop((a, b));
    println!("load both in parallel: {:.2?}", t.elapsed());

    let t = Instant::now();
    let d = diff::diff_images(&old, None, &new, None)?;
    let took = t.elapsed();
    let c = d.tree.counts();
    println!(
        "diff_images: {took:.2?}: {} entries kept; {} added, {} deleted, {} modified, {} metadata",
        d.tree.entries.len(),
        c.added,
        c.deleted,
        c.modified,
        c.metadata
    );
    let t = Instant::now();
    let full = diff::diff_trees_with(
        (&old.tree, old.tree.final_layer()),
        (&new.tree, new.tree.final_layer()),
        diff::TreeOptions { unchanged: true },
    );
    println!(
        "diff_trees_with(unchanged): {:.2?}: {} entries",
        t.elapsed(),
        full.entries.len()
    );
    let t = Instant::now();
    let same = diff::diff_images(&old, None, &old, None)?;
    println!(
        "diff of an image with itself: {:.2?} (identical: {})",
        t.elapsed(),
        same.is_identical()
    );
    Ok(())
}
