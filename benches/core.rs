//! Benchmarks of the core: loading (read + hash + replay), replay alone and
//! analysis, on a synthetic image built in memory. Run: `cargo bench --bench core`.
//! For whole-program figures against dive on big archives, see bench/vs-dive.sh.

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use layerscope::load::{load, LoadOptions, Progress};
use layerscope_synth::{Compression, ImageBuilder, LayerBuilder};

/// ~`files` files over 5 layers with overwrites and deletions.
fn image(files: usize) -> ImageBuilder {
    let mut b = ImageBuilder::new();
    for layer in 0..5 {
        let mut l = LayerBuilder::new(&format!("RUN step {layer}"));
        for i in 0..files / 5 {
            let dir = i % 97;
            let body = vec![(i % 251) as u8; 64 + (i * 37) % 2048];
            l = l.file(&format!("usr/lib/pkg{dir}/mod{}/file{i}.js", i % 13), &body);
            if layer > 0 && i % 50 == 0 {
                l = l.whiteout(&format!("usr/lib/pkg{dir}/mod{}/file{}.js", i % 13, i + 1));
            }
        }
        b = b.layer(l);
    }
    b
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp");
    f.write_all(bytes).expect("write");
    f
}

fn benches(c: &mut Criterion) {
    let img = image(20_000);
    let docker = write_temp(&img.docker_legacy());
    let gzip = write_temp(&img.oci_archive(Compression::Gzip));
    let mut g = c.benchmark_group("load 20k entries");
    g.sample_size(10);
    g.bench_function("docker, hashed", |b| {
        b.iter(|| load(docker.path(), &LoadOptions::default(), &Progress::default()).expect("load"))
    });
    let mut fast = LoadOptions::default();
    fast.scan.hash_files = false;
    fast.scan.hash_layers = false;
    g.bench_function("docker, --no-hash", |b| {
        b.iter(|| load(docker.path(), &fast, &Progress::default()).expect("load"))
    });
    g.bench_function("oci gzip, hashed", |b| {
        b.iter(|| load(gzip.path(), &LoadOptions::default(), &Progress::default()).expect("load"))
    });
    g.finish();

    // Replay alone, over entries scanned once.
    let scans: Vec<_> = img
        .layers()
        .map(|l| {
            let tar = l.tar_bytes();
            layerscope::layer::scan(std::io::Cursor::new(tar), None, Default::default(), |_| {})
                .expect("scan")
                .entries
        })
        .collect();
    c.bench_function("replay 20k entries", |b| {
        b.iter(|| {
            let mut r = layerscope::tree::Replay::new();
            for s in &scans {
                r.apply(s);
            }
            r.finish()
        })
    });

    let loaded = load(docker.path(), &LoadOptions::default(), &Progress::default()).expect("load");
    c.bench_function("analyse 20k entries", |b| {
        b.iter(|| layerscope::analysis::analyse(&loaded))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
