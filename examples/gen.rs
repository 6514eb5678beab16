//! Image archive generator.
//!
//! ```text
//! cargo run --release --example gen -- synth --layers 10 --entries 250000 --size 2300M \
//!     --format docker|docker-oci|oci|oci-gzip|oci-zstd --out FILE [--seed N] [--tar pax|gnu]
//! cargo run --example gen -- sample OUT.tar [--format docker|docker-oci|oci|oci-gzip|oci-zstd|oci-dir]
//! cargo run --example gen -- sample-v2 OUT.tar [--format ...]   # the sample's next build
//! ```
//!
//! `synth` streams: each layer tar is written (and compressed and hashed on
//! the fly) to a temporary file next to `--out`, then copied into the outer
//! tar. No layer is ever held in memory.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{json, Value};

use layerscope_synth::{
    self as synth, Compression, ContentKind, Descriptor, Encoder, EntryKind, EntryMeta, HashWriter,
    HistoryItem, ImageBuilder, LayerWriter, OuterTar, PseudoReader, TarFormat, XorShift64,
};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() {
    if let Err(e) = run() {
        eprintln!("gen: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage:
  gen synth --layers N --entries N --size SIZE[K|M|G] --format FMT --out FILE [--seed N] [--tar gnu|pax]
  gen sample OUT [--format FMT|oci-dir]
  gen sample-v2 OUT [--format FMT|oci-dir]   (the sample's next build, for diffs)
FMT: docker (pre-25 docker save), docker-oci (Docker 25+), oci, oci-gzip, oci-zstd";

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("synth") => synth_cmd(&args[1..]),
        Some("sample") => sample_cmd(&args[1..], synth::sample_image()),
        Some("sample-v2") => sample_cmd(&args[1..], synth::sample_image_v2()),
        _ => Err(USAGE.into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Docker,
    DockerOci,
    Oci(Compression),
}

impl Format {
    fn parse(s: &str) -> Res<Format> {
        Ok(match s {
            "docker" | "docker-legacy" => Format::Docker,
            "docker-oci" => Format::DockerOci,
            "oci" => Format::Oci(Compression::None),
            "oci-gzip" => Format::Oci(Compression::Gzip),
            "oci-zstd" => Format::Oci(Compression::Zstd),
            _ => return Err(format!("unknown format {s:?}\n{USAGE}").into()),
        })
    }
    fn compression(self) -> Compression {
        match self {
            Format::Oci(c) => c,
            _ => Compression::None,
        }
    }
}

/// Parse `--key value` options.
type Opts = (Vec<String>, Vec<(String, String)>);

fn opts(args: &[String]) -> Res<Opts> {
    let mut pos = Vec::new();
    let mut kv = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(k) = a.strip_prefix("--") {
            let v = it.next().ok_or_else(|| format!("--{k} needs a value"))?;
            kv.push((k.to_string(), v.clone()));
        } else {
            pos.push(a.clone());
        }
    }
    Ok((pos, kv))
}

fn get<'a>(kv: &'a [(String, String)], k: &str) -> Option<&'a str> {
    kv.iter()
        .rev()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
}

fn parse_size(s: &str) -> Res<u64> {
    let s = s.trim();
    let (num, mul) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 1 << 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: f64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    Ok((n * mul as f64) as u64)
}

fn sample_cmd(args: &[String], img: ImageBuilder) -> Res<()> {
    let (pos, kv) = opts(args)?;
    let out = pos.first().ok_or(USAGE)?;
    let fmt = get(&kv, "format").unwrap_or("docker");
    if fmt == "oci-dir" {
        img.oci_dir(Compression::Gzip, Path::new(out))?;
        return Ok(());
    }
    let bytes = match Format::parse(fmt)? {
        Format::Docker => img.docker_legacy(),
        Format::DockerOci => img.docker_oci(Compression::None),
        Format::Oci(c) => img.oci_archive(c),
    };
    std::fs::write(out, bytes)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------

struct DirRec {
    path: String,
    parent: u32,
    depth: u8,
}

const NO_PARENT: u32 = u32::MAX;

struct FileRec {
    dir: u32,
    name: String,
    layer: usize,
    alive: bool,
    kind: ContentKind,
    mode: u32,
}

enum Item {
    Dir,
    File {
        size: u64,
        seed: u64,
        kind: ContentKind,
        mode: u32,
    },
    /// Empty marker file (whiteout / opaque).
    Marker,
    Symlink(String),
    Hardlink(String),
}

struct PlanEntry {
    path: String,
    item: Item,
}

struct LayerPlan {
    created_by: String,
    mtime: u64,
    entries: Vec<PlanEntry>,
    content_bytes: u64,
}

const DIR_WORDS: &[&str] = &[
    "lib",
    "share",
    "src",
    "include",
    "doc",
    "man",
    "locale",
    "python3",
    "site",
    "dist",
    "core",
    "utils",
    "common",
    "test",
    "tests",
    "internal",
    "build",
    "node",
    "esm",
    "cjs",
    "types",
    "plugins",
    "modules",
    "assets",
    "static",
    "i18n",
    "config",
    "data",
    "cache",
    "bin",
    "scripts",
    "vendor",
    "pkg",
    "api",
    "ext",
    "compat",
    "helpers",
    "fixtures",
    "templates",
    "legacy",
];
const FILE_WORDS: &[&str] = &[
    "index", "main", "util", "README", "LICENSE", "package", "config", "init", "__init__", "core",
    "types", "errors", "parser", "client", "server", "handler", "worker", "module", "base", "io",
    "string", "array", "hash", "stream", "buffer", "events", "path", "os", "crypto", "http",
];
const TEXT_EXTS: &[&str] = &[
    "js", "js", "js", "ts", "json", "py", "py", "md", "txt", "h", "c", "conf", "yml", "html",
    "css", "map", "pl", "sh",
];
const BIN_EXTS: &[&str] = &[
    "so", "so.1", "pyc", "png", "gz", "mo", "a", "node", "jar", "bin",
];

const RUN_CMDS: &[&str] = &[
    "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends build-essential python3 && rm -rf /var/lib/apt/lists/*",
    "RUN /bin/sh -c npm ci --omit=dev # buildkit",
    "RUN /bin/sh -c pip install --no-cache-dir -r requirements.txt # buildkit",
    "COPY . /app # buildkit",
    "RUN /bin/sh -c make -C /src install && rm -rf /src # buildkit",
    "RUN /bin/sh -c apk add --no-cache curl git openssh # buildkit",
    "COPY --from=builder /out/ /usr/local/ # buildkit",
    "RUN /bin/sh -c ./configure --prefix=/usr && make -j8 && make install # buildkit",
    "RUN /bin/sh -c useradd -m app && chown -R app /app # buildkit",
    "ADD https://example.com/release.tar.gz /opt/ # buildkit",
];

fn cmp_paths(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

struct Planner {
    rng: XorShift64,
    seed: u64,
    dirs: Vec<DirRec>,
    files: Vec<FileRec>,
    name_counter: u64,
}

impl Planner {
    fn add_dir(&mut self, parent: u32, name: &str) -> u32 {
        let (path, depth) = if parent == NO_PARENT {
            (name.to_string(), 1)
        } else {
            let p = &self.dirs[parent as usize];
            (format!("{}/{}", p.path, name), p.depth + 1)
        };
        self.dirs.push(DirRec {
            path,
            parent,
            depth,
        });
        (self.dirs.len() - 1) as u32
    }

    fn ensure_path(&mut self, path: &str) -> u32 {
        let mut cur = NO_PARENT;
        let mut acc = String::new();
        for part in path.split('/') {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            cur = match self.dirs.iter().position(|d| d.path == acc) {
                Some(i) => i as u32,
                None => self.add_dir(cur, part),
            };
        }
        cur
    }

    fn fresh(&mut self) -> u64 {
        self.name_counter += 1;
        self.name_counter
    }

    fn file_path(&self, f: &FileRec) -> String {
        format!("{}/{}", self.dirs[f.dir as usize].path, f.name)
    }

    fn under(&self, mut d: u32, ancestor: u32) -> bool {
        while d != NO_PARENT {
            if d == ancestor {
                return true;
            }
            d = self.dirs[d as usize].parent;
        }
        false
    }

    fn ancestors(&self, mut d: u32, out: &mut HashSet<u32>) {
        while d != NO_PARENT && out.insert(d) {
            d = self.dirs[d as usize].parent;
        }
    }

    /// Long-tailed raw size (median 1.0).
    fn raw_size(&mut self) -> f64 {
        if self.rng.chance(0.02) {
            return 0.0;
        }
        (self.rng.normal() * 2.0).exp().min(60_000.0)
    }

    fn new_file(&mut self, dir: u32, layer: usize) -> usize {
        let binary = self.rng.chance(0.25);
        let ext = if binary {
            *self.rng.pick(BIN_EXTS)
        } else {
            *self.rng.pick(TEXT_EXTS)
        };
        let word = *self.rng.pick(FILE_WORDS);
        let n = self.fresh();
        let in_bin = self.dirs[dir as usize].path.ends_with("bin");
        let mode = if in_bin || self.rng.chance(0.03) {
            0o755
        } else {
            0o644
        };
        self.files.push(FileRec {
            dir,
            name: format!("{word}-{n}.{ext}"),
            layer,
            alive: true,
            kind: if binary {
                ContentKind::Binary
            } else {
                ContentKind::Text
            },
            mode,
        });
        self.files.len() - 1
    }

    /// A directory (depth >= 3) holding between 1 and `max` live files from
    /// layers before `layer` and none of `forbidden` files.
    fn pick_subtree(&mut self, layer: usize, max: usize, forbidden: &[usize]) -> Option<u32> {
        for _ in 0..200 {
            let d = self.rng.below(self.dirs.len() as u64) as u32;
            if self.dirs[d as usize].depth < 3 {
                continue;
            }
            if forbidden.iter().any(|&f| self.under(self.files[f].dir, d)) {
                continue;
            }
            let n = self
                .files
                .iter()
                .filter(|f| f.alive && f.layer < layer && self.under(f.dir, d))
                .count();
            if (1..=max).contains(&n) {
                return Some(d);
            }
        }
        None
    }

    fn kill_subtree(&mut self, d: u32, layer: usize) {
        for i in 0..self.files.len() {
            if self.files[i].alive
                && self.files[i].layer < layer
                && self.under(self.files[i].dir, d)
            {
                self.files[i].alive = false;
            }
        }
    }
}

/// Plan, re-planning with a corrected file count until the entry count is
/// within 2% of `entries`.
fn plan(layers: usize, entries: u64, total_size: u64, seed: u64) -> Vec<LayerPlan> {
    let mut nfiles = ((entries as f64 / 1.25) as usize).max(10);
    let mut plans = plan_once(layers, nfiles, total_size, seed);
    for _ in 0..3 {
        let got: usize = plans.iter().map(|p| p.entries.len()).sum();
        let ratio = entries as f64 / got.max(1) as f64;
        if (ratio - 1.0).abs() < 0.02 {
            break;
        }
        nfiles = ((nfiles as f64 * ratio) as usize).max(10);
        plans = plan_once(layers, nfiles, total_size, seed);
    }
    plans
}

// The per-layer loop also pushes to `new_by_layer[layer]`.
#[allow(clippy::needless_range_loop)]
fn plan_once(layers: usize, nfiles: usize, total_size: u64, seed: u64) -> Vec<LayerPlan> {
    let layers = layers.max(1);
    let mut p = Planner {
        rng: XorShift64::new(seed),
        seed,
        dirs: Vec::new(),
        files: Vec::new(),
        name_counter: 0,
    };
    let ndirs = (nfiles / 10).max(30);

    // --- directory tree -------------------------------------------------
    for r in [
        "bin", "etc", "home", "opt", "root", "srv", "var/log", "var/lib", "usr/bin",
    ] {
        p.ensure_path(r);
    }
    let hubs: Vec<u32> = [
        "usr/lib/x86_64-linux-gnu",
        "usr/share/doc",
        "usr/share/locale",
        "usr/lib/python3/dist-packages",
        "app/node_modules",
        "usr/include",
    ]
    .iter()
    .map(|h| p.ensure_path(h))
    .collect();
    while p.dirs.len() < ndirs {
        let parent = if p.rng.chance(0.3) {
            *p.rng.pick(&hubs)
        } else {
            // Random recursive tree, capped at depth 7 (files then sit at 3-8).
            loop {
                let d = p.rng.below(p.dirs.len() as u64) as u32;
                if p.dirs[d as usize].depth < 7 {
                    break d;
                }
            }
        };
        let word = *p.rng.pick(DIR_WORDS);
        let n = p.fresh();
        p.add_dir(parent, &format!("{word}{n}"));
    }
    let deep: Vec<u32> = (0..p.dirs.len() as u32)
        .filter(|&d| p.dirs[d as usize].depth >= 2)
        .collect();

    // --- new files per layer --------------------------------------------
    let mut weights = vec![0.0f64; layers];
    weights[0] = if layers == 1 { 1.0 } else { 0.4 };
    if layers > 1 {
        let raw: Vec<f64> = (1..layers).map(|_| 0.5 + p.rng.next_f64()).collect();
        let s: f64 = raw.iter().sum();
        for (i, r) in raw.iter().enumerate() {
            weights[i + 1] = 0.6 * r / s;
        }
    }
    let mut cum = Vec::with_capacity(layers);
    let mut acc = 0.0;
    for w in &weights {
        acc += w;
        cum.push(acc);
    }
    // Later layers mostly touch a few subtrees (like `npm ci` touching
    // node_modules), the base layer is spread everywhere.
    let shallow: Vec<u32> = deep
        .iter()
        .copied()
        .filter(|&d| p.dirs[d as usize].depth <= 3)
        .collect();
    let mut focus: Vec<Vec<u32>> = vec![Vec::new(); layers];
    for f in focus.iter_mut().skip(1) {
        let k = 2 + p.rng.below(3) as usize;
        let roots: Vec<u32> = (0..k).map(|_| *p.rng.pick(&shallow)).collect();
        *f = deep
            .iter()
            .copied()
            .filter(|&d| roots.iter().any(|&r| p.under(d, r)))
            .collect();
    }
    let mut new_by_layer: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for _ in 0..nfiles {
        let u = p.rng.next_f64() * acc;
        let layer = cum.iter().position(|&c| u < c).unwrap_or(layers - 1);
        let dir = if focus[layer].len() >= 5 && p.rng.chance(0.8) {
            *p.rng.pick(&focus[layer])
        } else {
            *p.rng.pick(&deep)
        };
        let f = p.new_file(dir, layer);
        new_by_layer[layer].push(f);
    }

    // --- raw sizes (scaled at the end) -----------------------------------
    // Each file version: (layer, index into layer entries) gets a raw size;
    // a few big binaries take ~8% of the total.
    let big_total = if total_size > 64 << 20 {
        total_size / 12
    } else {
        0
    };
    let big_dir = p.ensure_path("usr/lib/x86_64-linux-gnu");
    let mut bigs: Vec<usize> = Vec::new();
    if big_total > 0 {
        for (i, layer) in [0, layers / 2, layers - 1].into_iter().enumerate() {
            let f = p.new_file(big_dir, layer);
            p.files[f].name = format!("libLLVM-{}.so.{}", 15 + i, p.fresh());
            p.files[f].kind = ContentKind::Binary;
            new_by_layer[layer].push(f);
            bigs.push(f);
        }
    }

    let n_over = if layers > 1 {
        (nfiles as f64 * 0.05 / (layers - 1) as f64).round() as usize
    } else {
        0
    };
    let n_wh = if layers > 1 {
        (nfiles as f64 * 0.02 / (layers - 1) as f64).round() as usize
    } else {
        0
    };
    let n_sym = (nfiles / 100 / layers).max(1);
    let n_hard = (nfiles / 200 / layers).max(1);
    let opaque_layer = if layers > 1 { (layers / 2).max(1) } else { 0 };
    let dirwh_layer = if layers > 2 { layers - 1 } else { 0 };

    struct Pending {
        path: String,
        dir: u32,
        item: Item,
        raw: f64,
        big: Option<usize>,
    }
    let mut pending: Vec<Vec<Pending>> = Vec::with_capacity(layers);
    let mut all_raw = 0.0f64;

    for layer in 0..layers {
        let mut out: Vec<Pending> = Vec::new();
        let mut touched: HashSet<usize> = HashSet::new();
        let news = new_by_layer[layer].clone();
        touched.extend(news.iter().copied());

        if layer > 0 && layer == opaque_layer {
            if let Some(d) = p.pick_subtree(layer, 400, &[]) {
                p.kill_subtree(d, layer);
                let dpath = p.dirs[d as usize].path.clone();
                out.push(Pending {
                    path: format!("{dpath}/.wh..wh..opq"),
                    dir: d,
                    item: Item::Marker,
                    raw: 0.0,
                    big: None,
                });
                // one entry re-added
                let f = p.new_file(d, layer);
                new_by_layer[layer].push(f);
                touched.insert(f);
            }
        }
        if layer > 0 && layer == dirwh_layer {
            if let Some(d) = p.pick_subtree(layer, 400, &news) {
                p.kill_subtree(d, layer);
                let parent = p.dirs[d as usize].parent;
                out.push(Pending {
                    path: synth::whiteout_name(&p.dirs[d as usize].path),
                    dir: parent,
                    item: Item::Marker,
                    raw: 0.0,
                    big: None,
                });
            }
        }
        // Overwrites and whiteouts of live files from earlier layers.
        if layer > 0 {
            for (count, is_over) in [(n_over, true), (n_wh, false)] {
                let mut done = 0;
                let mut tries = 0;
                while done < count && tries < count * 20 + 100 {
                    tries += 1;
                    let i = p.rng.below(p.files.len() as u64) as usize;
                    let f = &p.files[i];
                    if !f.alive || f.layer >= layer || touched.contains(&i) {
                        continue;
                    }
                    if bigs.contains(&i) {
                        continue;
                    }
                    touched.insert(i);
                    done += 1;
                    let path = p.file_path(&p.files[i]);
                    let dir = p.files[i].dir;
                    if is_over {
                        let raw = p.raw_size();
                        let seed = p.seed ^ p.fresh().wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        out.push(Pending {
                            path,
                            dir,
                            item: Item::File {
                                size: 0,
                                seed,
                                kind: p.files[i].kind,
                                mode: p.files[i].mode,
                            },
                            raw,
                            big: None,
                        });
                    } else {
                        p.files[i].alive = false;
                        out.push(Pending {
                            path: synth::whiteout_name(&path),
                            dir,
                            item: Item::Marker,
                            raw: 0.0,
                            big: None,
                        });
                    }
                }
            }
        }
        // New files of this layer.
        for &f in &new_by_layer[layer] {
            let big = bigs.iter().position(|&b| b == f);
            let raw = if big.is_some() { 0.0 } else { p.raw_size() };
            let seed = p.seed ^ p.fresh().wrapping_mul(0x9E37_79B9_7F4A_7C15);
            out.push(Pending {
                path: p.file_path(&p.files[f]),
                dir: p.files[f].dir,
                item: Item::File {
                    size: 0,
                    seed,
                    kind: p.files[f].kind,
                    mode: p.files[f].mode,
                },
                raw,
                big,
            });
        }
        // Symlinks and hardlinks next to this layer's new files.
        let targets: Vec<usize> = new_by_layer[layer].clone();
        if !targets.is_empty() {
            for _ in 0..n_sym {
                let t = *p.rng.pick(&targets);
                let dir = p.files[t].dir;
                let n = p.fresh();
                let target = if p.rng.chance(0.7) {
                    p.files[t].name.clone()
                } else {
                    format!("/{}", p.file_path(&p.files[t]))
                };
                out.push(Pending {
                    path: format!("{}/link-{n}", p.dirs[dir as usize].path),
                    dir,
                    item: Item::Symlink(target),
                    raw: 0.0,
                    big: None,
                });
            }
            for _ in 0..n_hard {
                let t = *p.rng.pick(&targets);
                let path = p.file_path(&p.files[t]);
                // Same directory, name sorts right after the target's.
                out.push(Pending {
                    path: format!("{path}.{}", p.fresh()),
                    dir: p.files[t].dir,
                    item: Item::Hardlink(path),
                    raw: 0.0,
                    big: None,
                });
            }
        }
        all_raw += out.iter().map(|e| e.raw).sum::<f64>();
        pending.push(out);
    }

    // --- scale sizes to the requested total ------------------------------
    let small_total = total_size.saturating_sub(big_total) as f64;
    let scale = if all_raw > 0.0 {
        small_total / all_raw
    } else {
        0.0
    };
    let big_each: Vec<u64> = [5u64, 4, 3].iter().map(|w| big_total * w / 12).collect();

    let mut plans = Vec::with_capacity(layers);
    for (layer, out) in pending.into_iter().enumerate() {
        let mut dirs: HashSet<u32> = HashSet::new();
        let mut entries: Vec<PlanEntry> = Vec::with_capacity(out.len() + 64);
        let mut content = 0u64;
        for e in out {
            p.ancestors(e.dir, &mut dirs);
            let item = match e.item {
                Item::File {
                    seed, kind, mode, ..
                } => {
                    let size = match e.big {
                        Some(k) => big_each[k],
                        None => (e.raw * scale).round() as u64,
                    };
                    content += size;
                    Item::File {
                        size,
                        seed,
                        kind,
                        mode,
                    }
                }
                other => other,
            };
            entries.push(PlanEntry { path: e.path, item });
        }
        for d in dirs {
            entries.push(PlanEntry {
                path: p.dirs[d as usize].path.clone(),
                item: Item::Dir,
            });
        }
        entries.sort_by(|a, b| cmp_paths(&a.path, &b.path));
        let created_by = if layer == 0 {
            "/bin/sh -c #(nop) ADD file:0d6c4e2bd4d0a8dd8ad4fbc1f7d5b0b1c9b0c23f84f1b71e6c0b0fa1ad2b3c4d in / "
                .to_string()
        } else {
            RUN_CMDS[(layer - 1) % RUN_CMDS.len()].to_string()
        };
        plans.push(LayerPlan {
            created_by,
            mtime: synth::DEFAULT_MTIME + layer as u64 * 3600,
            entries,
            content_bytes: content,
        });
    }
    plans
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

struct LayerOut {
    file: File,
    diff_id: String,
    digest: String,
    size: u64,
}

fn write_layer(plan: &LayerPlan, c: Compression, tar: TarFormat, tmp: &Path) -> Res<LayerOut> {
    let file = tempfile::tempfile_in(tmp)?;
    let sink = HashWriter::new(BufWriter::with_capacity(1 << 20, file));
    let enc = Encoder::new(sink, c)?;
    let hashed = HashWriter::new(enc);
    let mut w = LayerWriter::new(BufWriter::with_capacity(256 << 10, hashed), tar);
    w.set_mtime(plan.mtime);
    for e in &plan.entries {
        match &e.item {
            Item::Dir => w.dir(&e.path)?,
            Item::File {
                size,
                seed,
                kind,
                mode,
            } => {
                let mut r = PseudoReader::new(*seed, *size, *kind);
                w.file_from_reader(&e.path, *size, &mut r, *mode, 0, 0)?;
            }
            Item::Marker => w.file(&e.path, b"")?,
            Item::Symlink(t) => w.symlink(&e.path, t)?,
            Item::Hardlink(t) => {
                let m = EntryMeta::hardlink(&e.path, t, plan.mtime);
                debug_assert_eq!(m.kind, EntryKind::Hardlink);
                w.entry(&m, &mut io::empty())?;
            }
        }
    }
    let buf = w.finish()?;
    let hashed = buf.into_inner().map_err(|e| e.into_error())?;
    let (enc, diff_id, _) = hashed.finish();
    let sink = enc.finish()?;
    let (buf, digest, size) = sink.finish();
    let mut file = buf.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    Ok(LayerOut {
        file,
        diff_id,
        digest,
        size,
    })
}

fn synth_cmd(args: &[String]) -> Res<()> {
    let (_, kv) = opts(args)?;
    let layers: usize = get(&kv, "layers").unwrap_or("10").parse()?;
    let entries: u64 = get(&kv, "entries").unwrap_or("250000").parse()?;
    let size = parse_size(get(&kv, "size").unwrap_or("2300M"))?;
    let format = Format::parse(get(&kv, "format").unwrap_or("docker"))?;
    let seed: u64 = get(&kv, "seed").unwrap_or("1").parse()?;
    let tar = match get(&kv, "tar").unwrap_or("gnu") {
        "gnu" => TarFormat::Gnu,
        "pax" => TarFormat::Pax,
        t => return Err(format!("unknown --tar {t:?}").into()),
    };
    let out: PathBuf = get(&kv, "out").ok_or("--out is required")?.into();
    let tmp = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };

    let t0 = Instant::now();
    let plans = plan(layers, entries, size, seed);
    let n_entries: usize = plans.iter().map(|p| p.entries.len()).sum();
    let n_bytes: u64 = plans.iter().map(|p| p.content_bytes).sum();
    eprintln!(
        "planned {} layers, {} entries, {:.1} MiB content in {:.1?}",
        plans.len(),
        n_entries,
        n_bytes as f64 / (1 << 20) as f64,
        t0.elapsed()
    );

    let c = format.compression();
    let outs: Vec<LayerOut> = plans
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let t = Instant::now();
            let r = write_layer(p, c, tar, &tmp);
            if let Ok(o) = &r {
                eprintln!(
                    "layer {i}: {} entries, {:.1} MiB stored, {:.1?}",
                    p.entries.len(),
                    o.size as f64 / (1 << 20) as f64,
                    t.elapsed()
                );
            }
            r
        })
        .collect::<Res<Vec<_>>>()?;

    let img = ImageBuilder::new()
        .tag("synth:latest")
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env(&format!("SYNTH_SEED={seed}"))
        .workdir("/app")
        .cmd(&["/bin/sh"])
        .label("org.opencontainers.image.title", "synthetic");
    let history: Vec<HistoryItem> = plans
        .iter()
        .map(|p| HistoryItem {
            created_by: p.created_by.clone(),
            comment: None,
            empty_layer: false,
        })
        .collect();
    let diff_ids: Vec<String> = outs.iter().map(|o| o.diff_id.clone()).collect();
    let config = img.config_json_from(&history, &diff_ids);

    let w = BufWriter::with_capacity(1 << 20, File::create(&out)?);
    let mut ot = OuterTar::new(w);
    match format {
        Format::Docker => write_docker_legacy(&mut ot, &img, outs, &config)?,
        Format::DockerOci | Format::Oci(_) => {
            write_oci(&mut ot, &img, outs, &config, c, format == Format::DockerOci)?
        }
    }
    ot.finish()?.flush()?;
    eprintln!(
        "wrote {} ({:.1} MiB) in {:.1?}",
        out.display(),
        std::fs::metadata(&out)?.len() as f64 / (1 << 20) as f64,
        t0.elapsed()
    );
    Ok(())
}

fn write_docker_legacy<W: Write>(
    ot: &mut OuterTar<W>,
    img: &ImageBuilder,
    outs: Vec<LayerOut>,
    config: &[u8],
) -> Res<()> {
    let mut parent: Option<String> = None;
    let mut paths = Vec::new();
    for (i, mut o) in outs.into_iter().enumerate() {
        let id = synth::legacy_layer_id(parent.as_deref(), &o.diff_id);
        let created = synth::rfc3339(synth::DEFAULT_MTIME + 3600 * i as u64);
        ot.add_dir(&format!("{id}/"))?;
        ot.add_bytes(&format!("{id}/VERSION"), b"1.0")?;
        ot.add_bytes(
            &format!("{id}/json"),
            &synth::legacy_layer_json(&id, parent.as_deref(), &created, "linux"),
        )?;
        let path = format!("{id}/layer.tar");
        ot.add_reader(&path, o.size, &mut o.file)?;
        paths.push(path);
        parent = Some(id);
    }
    let cfg_path = format!("{}.json", synth::sha256_hex(config));
    ot.add_bytes(&cfg_path, config)?;
    let entry = synth::docker_manifest_entry(&cfg_path, img.tags(), &paths, None);
    ot.add_bytes(
        "manifest.json",
        &serde_json::to_vec(&Value::Array(vec![entry]))?,
    )?;
    if let Some(top) = parent {
        let mut repos = serde_json::Map::new();
        for t in img.tags() {
            let (repo, tag) = synth::split_tag(t);
            let e = repos.entry(repo).or_insert_with(|| json!({}));
            e[tag] = json!(top);
        }
        ot.add_bytes("repositories", &serde_json::to_vec(&Value::Object(repos))?)?;
    }
    Ok(())
}

fn write_oci<W: Write>(
    ot: &mut OuterTar<W>,
    img: &ImageBuilder,
    outs: Vec<LayerOut>,
    config: &[u8],
    c: Compression,
    docker: bool,
) -> Res<()> {
    let descs: Vec<Descriptor> = outs
        .iter()
        .map(|o| Descriptor::new(c.layer_media_type(), &o.digest, o.size))
        .collect();
    let config_desc = Descriptor::of(synth::MT_OCI_CONFIG, config);
    let manifest = synth::oci_manifest_json(&config_desc, &descs);
    let manifest_desc = Descriptor::of(synth::MT_OCI_MANIFEST, &manifest);

    ot.add_bytes("oci-layout", synth::OCI_LAYOUT)?;
    ot.add_dir("blobs/")?;
    ot.add_dir("blobs/sha256/")?;
    // Layer blobs: Docker writes them in layer order; for plain OCI, use
    // digest order (reversed if that happens to be layer order).
    let mut order: Vec<usize> = (0..outs.len()).collect();
    if !docker {
        order.sort_by(|&a, &b| outs[a].digest.cmp(&outs[b].digest));
        let mut uniq = order.clone();
        uniq.dedup_by(|a, b| outs[*a].digest == outs[*b].digest);
        if uniq.len() >= 2 && uniq.windows(2).all(|w| w[0] < w[1]) {
            order.reverse();
        }
    }
    let mut outs: Vec<Option<LayerOut>> = outs.into_iter().map(Some).collect();
    let mut written = HashSet::new();
    for i in order {
        if let Some(mut o) = outs[i].take() {
            if written.insert(o.digest.clone()) {
                ot.add_reader(&format!("blobs/sha256/{}", o.digest), o.size, &mut o.file)?;
            }
        }
    }
    ot.add_bytes(&config_desc.blob_path(), config)?;
    ot.add_bytes(&manifest_desc.blob_path(), &manifest)?;
    let tag = img.tags().first().cloned().unwrap_or_default();
    let index_desc = if docker {
        manifest_desc
            .clone()
            .annotate("io.containerd.image.name", &synth::normalized_ref(&tag))
            .annotate(
                "org.opencontainers.image.ref.name",
                &synth::split_tag(&tag).1,
            )
    } else {
        manifest_desc
            .clone()
            .annotate("org.opencontainers.image.ref.name", &tag)
    };
    ot.add_bytes("index.json", &synth::oci_index_json(&[index_desc]))?;
    if docker {
        let paths: Vec<String> = descs.iter().map(Descriptor::blob_path).collect();
        let entry = synth::docker_manifest_entry(
            &config_desc.blob_path(),
            img.tags(),
            &paths,
            Some(&descs),
        );
        ot.add_bytes(
            "manifest.json",
            &serde_json::to_vec(&Value::Array(vec![entry]))?,
        )?;
    }
    Ok(())
}
