//! Keypress → frame time of the explorer on a synthetic image of 250,000
//! entries: each sample is one key through `update` plus a full render into
//! a 120x40 TestBackend. Run with `cargo bench --bench tui`; prints median,
//! p95 and max per kind of key (`TUI_BENCH_PHASES=1` also prints each
//! sample's update and render times). Target: every key under 10 ms:
//! navigation, collapse/expand (one, all, to depth), filter, search, sort
//! (key and direction, also when first asked after a layer change), layer
//! switch (both directions, first/last, with a filter or size sort),
//! per-layer/aggregated mode, range compare, and opening the popups. Then
//! the same for the diff explorer (`layerscope diff`) on two such trees.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use layerscope::layer::{Action, Kind, RawEntry};
use layerscope::load::{load, LoadOptions, Loaded, Progress};
use layerscope::tree::Replay;
use layerscope::tui::config::Config;
use layerscope::tui::diff::pair::ImagePair;
use layerscope::tui::diff::state::DiffState;
use layerscope::tui::diff::update::{self as diff_update, DiffMsg};
use layerscope::tui::diff::view as diff_view;
use layerscope::tui::image_data::ImageData;
use layerscope::tui::state::AppState;
use layerscope::tui::update::{apply, Msg};
use layerscope::tui::view;
use layerscope_synth::{ImageBuilder, LayerBuilder};

const ENTRIES: usize = 250_000;

fn entry(path: &str, kind: Kind, size: u64, action: Action, seed: u64) -> RawEntry {
    let mut sha = [0u8; 32];
    sha[..8].copy_from_slice(&seed.to_le_bytes());
    RawEntry {
        path: path.trim_matches('/').as_bytes().into(),
        action,
        kind,
        size,
        mode: if kind == Kind::Dir { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        link: None,
        sha256: (kind == Kind::File).then_some(sha),
    }
}

/// Three layers: a 200k-entry base (dirs of 50 files), 45k changes and
/// additions, 5k deletions: 250k entries in all.
fn layers() -> Vec<Vec<RawEntry>> {
    let mut base = Vec::new();
    let mut n = 0usize;
    let mut dir = 0usize;
    while n < 200_000 {
        let d = format!("usr/lib/pkg{:04}/sub{}", dir / 10, dir % 10);
        base.push(entry(&d, Kind::Dir, 0, Action::Put, 0));
        n += 1;
        for f in 0..49 {
            let p = format!("{d}/file{f:02}.so");
            base.push(entry(
                &p,
                Kind::File,
                1000 + (n as u64 * 37) % 90_000,
                Action::Put,
                n as u64,
            ));
            n += 1;
        }
        dir += 1;
    }
    let mut upd = Vec::new();
    for i in (0..base.len()).step_by(10).take(20_000) {
        let mut e = base[i].clone();
        if e.kind == Kind::File {
            e.sha256 = Some([7; 32]);
            e.size += 1;
        }
        upd.push(e);
    }
    for i in 0..25_000 {
        upd.push(entry(
            &format!("opt/app/m{:03}/asset{i:05}.bin", i / 100),
            Kind::File,
            5_000 + i as u64,
            Action::Put,
            900_000 + i as u64,
        ));
    }
    let del: Vec<RawEntry> = base
        .iter()
        .skip(3)
        .step_by(40)
        .take(ENTRIES - base.len() - upd.len())
        .map(|e| {
            let mut w = e.clone();
            w.action = Action::Whiteout;
            w
        })
        .collect();
    vec![base, upd, del]
}

fn build() -> (tempfile::TempDir, ImageData) {
    // A small real image for the source and metadata, then the big tree.
    let img = ImageBuilder::new()
        .tag("bench/250k:latest")
        .layer(LayerBuilder::new("RUN base").file("a", b"a"))
        .layer(LayerBuilder::new("RUN update").file("b", b"b"))
        .layer(LayerBuilder::new("RUN cleanup").file("c", b"c"))
        .docker_legacy();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("img.tar");
    std::fs::write(&path, img).expect("write");
    let ls = layers();
    let total: usize = ls.iter().map(|l| l.len()).sum();
    let loaded = loaded_with(&path, &ls);
    let t = Instant::now();
    let data = ImageData::new(loaded);
    eprintln!(
        "image: {total} entries, {} nodes; analysis + path index {:?}",
        data.loaded.tree.len(),
        t.elapsed()
    );
    (dir, data)
}

/// The small real image at `path` with its tree replaced by `layers`.
fn loaded_with(path: &std::path::Path, layers: &[Vec<RawEntry>]) -> Loaded {
    let mut loaded = load(path, &LoadOptions::default(), &Progress::default()).expect("load");
    let mut r = Replay::new();
    for l in layers {
        r.apply(l);
    }
    let (tree, dive) = r.finish();
    loaded.tree = tree;
    loaded.dive = dive;
    loaded
}

/// The diff explorer: the image without its cleanup layer against the
/// whole image (45k changed and 5k deleted paths among 250k).
fn diff_bench(path: &std::path::Path) {
    let ls = layers();
    let old = loaded_with(path, &ls[..2]);
    let new = loaded_with(path, &ls);
    let t = Instant::now();
    let data = ImagePair::build(old, Some(new), None, None).expect("diff");
    eprintln!("diff of two 250k-entry trees: {:?}", t.elapsed());
    let mut s = DiffState::ready(data, Config::default());
    diff_update::apply(&mut s, DiffMsg::Resize(120, 40));
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mut time = |label: &str, keys: &[KeyEvent]| {
        let t = keys
            .iter()
            .map(|&k| {
                let start = Instant::now();
                diff_update::apply(&mut s, DiffMsg::Key(k));
                term.draw(|f| diff_view::draw(&s, f.area(), f.buffer_mut()))
                    .expect("draw");
                start.elapsed()
            })
            .collect();
        report(label, t);
    };
    let esc = code(KeyCode::Esc);
    time("diff: down (j)", &vec![key('j'); 1000]);
    time("diff: page down", &vec![code(KeyCode::PageDown); 300]);
    time("diff: end/home (G/g)", &[key('G'), key('g')].repeat(20));
    time(
        "diff: collapse/expand (h/l)",
        &[key('h'), key('l')].repeat(20),
    );
    time(
        "diff: collapse all/expand all",
        &[key('-'), key('=')].repeat(10),
    );
    time("diff: filter regex typed live", &typed('f', "pkg001/sub3"));
    time("diff: filter clear (F)", &[key('F')]);
    time("diff: toggle status (1)", &[key('1')].repeat(10));
    time("diff: search typed live", &typed('/', "file42"));
    time("diff: next match (n)", &vec![key('n'); 200]);
    time(
        "diff: details open/close (d, esc)",
        &[key('d'), esc].repeat(10),
    );
    time(
        "diff: summary open/close (i, esc)",
        &[key('i'), esc].repeat(10),
    );
    time(
        "diff: help open/close (?, esc)",
        &[key('?'), esc].repeat(10),
    );
}

struct Bench {
    s: AppState,
    term: Terminal<TestBackend>,
    /// Print each sample's update and render times (`TUI_BENCH_PHASES=1`).
    phases: bool,
}

impl Bench {
    fn frame(&mut self) {
        let s = &self.s;
        self.term
            .draw(|f| view::draw(s, f.area(), f.buffer_mut()))
            .expect("draw");
    }

    /// One key and its frame, untimed.
    fn press(&mut self, k: KeyEvent) {
        apply(&mut self.s, Msg::Key(k));
        self.frame();
    }

    /// One key and its frame, timed.
    fn sample(&mut self, label: &str, k: KeyEvent) -> Duration {
        let start = Instant::now();
        apply(&mut self.s, Msg::Key(k));
        let updated = start.elapsed();
        self.frame();
        let total = start.elapsed();
        if self.phases {
            eprintln!("{label}: update {:?} render {:?}", updated, total - updated);
        }
        total
    }

    /// Time `n` keypresses, each followed by a frame.
    fn time(&mut self, label: &str, keys: &[KeyEvent]) {
        let t = keys.iter().map(|&k| self.sample(label, k)).collect();
        report(label, t);
    }

    /// `reps` times: press `setup` untimed, then time each key of `timed`.
    fn time_after(&mut self, label: &str, reps: usize, setup: &[KeyEvent], timed: &[KeyEvent]) {
        let mut t = Vec::with_capacity(reps * timed.len());
        for _ in 0..reps {
            for &k in setup {
                self.press(k);
            }
            for &k in timed {
                t.push(self.sample(label, k));
            }
        }
        report(label, t);
    }
}

fn report(label: &str, mut t: Vec<Duration>) {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<40} n={:<5} median {:>7.3} ms  p95 {:>7.3} ms  max {:>7.3} ms",
        t.len(),
        ms(t[t.len() / 2]),
        ms(t[t.len() * 95 / 100]),
        ms(t[t.len() - 1])
    );
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// The keys that type `text` into an open prompt and submit it.
fn typed(open: char, text: &str) -> Vec<KeyEvent> {
    let mut keys = vec![key(open)];
    keys.extend(text.chars().map(key));
    keys.push(code(KeyCode::Enter));
    keys
}

fn main() {
    let (dir, data) = build();
    let t = Instant::now();
    let mut s = AppState::ready(data, Config::default());
    eprintln!("first view (aggregated, 250k rows): {:?}", t.elapsed());
    apply(&mut s, Msg::Resize(120, 40));
    let mut b = Bench {
        s,
        term: Terminal::new(TestBackend::new(120, 40)).expect("terminal"),
        phases: std::env::var_os("TUI_BENCH_PHASES").is_some(),
    };
    b.frame();
    println!("rows in view: {}", b.s.tree.rows.len());
    let tab = code(KeyCode::Tab);
    // The tree pane has the keys.
    b.time("focus: tree (tab)", &[tab]);
    b.time("tree: down (j)", &vec![key('j'); 2000]);
    b.time("tree: up (k)", &vec![key('k'); 1000]);
    b.time("tree: page down", &vec![code(KeyCode::PageDown); 500]);
    b.time("tree: end/home (G/g)", &[key('G'), key('g')].repeat(50));
    b.time(
        "tree: collapse/expand (h/l)",
        &[key('h'), key('l')].repeat(50),
    );
    b.time(
        "tree: collapse all/expand all",
        &[key('-'), key('=')].repeat(10),
    );
    b.time("tree: expand to depth (*)", &[key('*')].repeat(10));
    b.press(key('='));
    // Filter typed live: each character recompiles and refilters.
    b.time("filter: regex typed live", &typed('f', "pkg001/sub3"));
    b.time("filter: clear (F)", &[key('F')]);
    b.time("filter: toggle status (1)", &[key('1')].repeat(10));
    b.time("filter: only wasted (w)", &[key('w')].repeat(10));
    b.time("search: typed live", &typed('/', "file42"));
    b.time("search: next match (n)", &vec![key('n'); 500]);
    b.time("search: previous match (N)", &vec![key('N'); 200]);
    let esc = code(KeyCode::Esc);
    // File details on a file that exists here (its hardlink group is
    // looked for over the whole tree when the popup opens).
    while !b.s.selected_node().is_some_and(|id| {
        let d = b.s.data.as_ref().expect("data");
        d.loaded
            .tree
            .attrs_at(id, b.s.info.layer)
            .is_some_and(|a| a.kind == Kind::File)
    }) {
        b.press(key('j'));
    }
    b.time(
        "popup: file details open/close (d, esc)",
        &[key('d'), esc].repeat(10),
    );
    b.time(
        "popup: image details open/close (i, esc)",
        &[key('i'), esc].repeat(10),
    );
    b.time(
        "popup: help open/close (?, esc)",
        &[key('?'), esc].repeat(10),
    );
    // Sorting (the search stays active, so its matches are re-ordered too).
    b.time("sort: name/size (s)", &[key('s')].repeat(6));
    b.time("sort: direction (S), by name", &[key('S')].repeat(6));
    b.press(key('s'));
    b.time("sort: direction (S), by size", &[key('S')].repeat(6));
    b.press(key('s'));
    // Size order first asked after a layer change (nothing cached for it).
    b.time_after(
        "sort: to size after layer change (s)",
        3,
        &[tab, key('k'), key('j'), tab],
        &[key('s'), key('s')],
    );
    // The layers pane has the keys.
    b.time("focus: layers (tab)", &[tab]);
    b.time("layers: switch (k/j)", &[key('k'), key('j')].repeat(10));
    b.time_after("layers: up (k)", 10, &[key('G')], &[key('k'), key('k')]);
    b.time_after("layers: down (j)", 10, &[key('g')], &[key('j'), key('j')]);
    b.time("layers: first/last (g/G)", &[key('g'), key('G')].repeat(10));
    b.time("mode: per-layer/aggregated (v)", &[key('v')].repeat(10));
    b.press(key('g'));
    b.time(
        "mode: per-layer/aggregated, layer 0",
        &[key('v')].repeat(10),
    );
    // Range compare: mark layer 0 as A, then B = 2, 1, back to 0.
    b.time(
        "range: mark, move B, unmark (m,G,k,g,m)",
        &[key('m'), key('G'), key('k'), key('g'), key('m')].repeat(4),
    );
    b.press(key('G'));
    b.press(key('s'));
    b.time(
        "layers: switch by size (k/j)",
        &[key('k'), key('j')].repeat(10),
    );
    b.press(key('s'));
    b.press(key('/'));
    b.press(code(KeyCode::Enter));
    b.time(
        "layers: switch, no search (k/j)",
        &[key('k'), key('j')].repeat(10),
    );
    for k in typed('f', "sub[0-4]") {
        b.press(k);
    }
    b.time(
        "layers: switch, regex filter (k/j)",
        &[key('k'), key('j')].repeat(10),
    );
    drop(b);
    diff_bench(&dir.path().join("img.tar"));
}
