//! Progress bars on stderr while images load (`report`, `ci`, `diff`):
//! drawn with indicatif from the loader's [`Progress`] atomics, one bar per
//! image, only on a terminal, never with `--quiet`, and only for loads that
//! last long enough to need one (nothing flickers on a small image). The bars
//! are cleared when loading ends, so the output that follows starts clean.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use layerscope::load::{Phase, Progress};

/// A load shorter than this shows no bar.
const DELAY: Duration = Duration::from_millis(300);
/// How often the bars are redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Should bars be drawn? Not with `--quiet`, not when stderr is a pipe or
/// a file, not on a terminal that says it cannot move the cursor.
pub fn wanted(quiet: bool) -> bool {
    !quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Run `f` with one [`Progress`] per label, drawing a bar for each on stderr
/// meanwhile when `show` holds.
pub fn with_bars<T>(labels: &[String], show: bool, f: impl FnOnce(&[Progress]) -> T) -> T {
    let progress: Vec<Progress> = labels.iter().map(|_| Progress::default()).collect();
    if !show {
        return f(&progress);
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| draw(labels, &progress, &done));
        let out = f(&progress);
        done.store(true, Ordering::Relaxed);
        out
    })
}

fn draw(labels: &[String], progress: &[Progress], done: &AtomicBool) {
    let start = Instant::now();
    while start.elapsed() < DELAY {
        if done.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(TICK.min(DELAY));
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    let style = ProgressStyle::with_template(
        "{prefix:.bold} {msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let bars: Vec<ProgressBar> = labels
        .iter()
        .map(|l| {
            let b = multi.add(ProgressBar::new(0).with_style(style.clone()));
            b.set_prefix(format!("{l:width$}"));
            b
        })
        .collect();
    while !done.load(Ordering::Relaxed) {
        for (b, p) in bars.iter().zip(progress) {
            update(b, p);
        }
        std::thread::sleep(TICK);
    }
    for b in &bars {
        b.finish_and_clear();
    }
    let _ = multi.clear();
}

/// One bar from one loader's counters: bytes of layers read out of the
/// total, and the phase (or what the source is waiting for) as its message.
fn update(b: &ProgressBar, p: &Progress) {
    let total = p.bytes_total.load(Ordering::Relaxed);
    let done = p.bytes_done.load(Ordering::Relaxed).min(total);
    b.set_length(total);
    b.set_position(done);
    let msg = match p.phase() {
        Phase::Opening => p.note().unwrap_or_else(|| "opening".to_string()),
        Phase::ReadingLayers => format!(
            "layers {}/{}",
            p.layers_done.load(Ordering::Relaxed),
            p.layers_total.load(Ordering::Relaxed)
        ),
        Phase::Analysing => "analysing".to_string(),
        Phase::Done => "done".to_string(),
    };
    b.set_message(layerscope::error::clean(&msg).into_owned());
}

/// The label of an image's bar: its file name (or what was typed).
pub fn label(input: &std::path::Path) -> String {
    let shown = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    layerscope::error::clean(&shown).into_owned()
}
