//! Issue #12 "Hostile input, round 2", the metadata and output classes:
//! forged lines in the text outputs, nested index fan-out, unbounded spools
//! of plain input, CI rules files that cost gigabytes, huge config counts,
//! and the smaller error-message cases. Each attack is built here in code and
//! run through the real binary under a memory rlimit and a wall-clock
//! timeout (which only catches hangs), asserting the exact outcome.
// See: issue #12.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use layerscope_synth::{ImageBuilder, LayerBuilder};

/// What a bounded run of the binary gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident set of the child in KiB (VmHWM, last sampled).
    peak_kib: u64,
}

/// Run the binary with `args` under `ulimit -v mem_mib` and a `secs` timeout,
/// feeding `stdin` if given; the peak RSS is sampled from /proc.
fn run_bounded(args: &[&str], stdin: Option<Stdio>, mem_mib: u64, secs: u64) -> Run {
    run_bounded_in(None, args, stdin, mem_mib, secs)
}

fn run_bounded_in(
    dir: Option<&Path>,
    args: &[&str],
    stdin: Option<Stdio>,
    mem_mib: u64,
    secs: u64,
) -> Run {
    let bin = assert_cmd::cargo::cargo_bin("layerscope");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {}; exec \"$@\"", mem_mib * 1024))
        .arg("sh")
        .arg(bin)
        .args(args)
        .env_remove("CI")
        .stdin(stdin.unwrap_or(Stdio::null()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(v) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(v);
            }
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("layerscope {args:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_t.join().expect("join")).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().expect("join")).into_owned(),
        peak_kib: peak,
    }
}

/// Assert exit 2 and exactly one stderr line, returned with `path` shown as IMAGE.
fn one_error(r: &Run, path: &Path) -> String {
    assert_eq!(r.code, Some(2), "stderr: {}", r.stderr);
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {:?}", r.stderr);
    r.stderr
        .trim_end()
        .replace(&path.display().to_string(), "IMAGE")
}

// ---------------------------------------------------------------------------
// Text outputs: one line per item
// ---------------------------------------------------------------------------

const FORGED_PATH: &str = "waste\n  Efficiency: 100.00%";
const FORGED_TAG: &str = "x:1\nResult:PASS";

/// An image whose tag and a wasted file's name would forge report lines.
fn forging_image() -> Vec<u8> {
    ImageBuilder::new()
        .tag(FORGED_TAG)
        .layer(
            LayerBuilder::new("RUN a\u{202e}b")
                .file(FORGED_PATH, &[1u8; 5000])
                .file("ok", b"1"),
        )
        .layer(LayerBuilder::new("RUN again").file(FORGED_PATH, &[2u8; 5000]))
        .docker_legacy()
}

#[test]
fn forged_lines_in_report_text_are_escaped() {
    let a = write_archive(&forging_image(), "forge.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded(&["report", p, "--bytes"], None, 1024, 120);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines.contains(&"Image:     x:1\\nResult:PASS"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"        5000  /waste\\n  Efficiency: 100.00%  (layers 0)"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"      2       10000  /waste\\n  Efficiency: 100.00%"),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.ends_with("  RUN a\\u{202e}b")));
    assert!(r.peak_kib < 200 * 1024, "peak RSS {} KiB", r.peak_kib);
    // No line starts with forged text.
    assert!(!lines.iter().any(|l| l.starts_with("Result:")
        || l.starts_with("  Efficiency: 100.00%")
        || l.contains('\u{202e}')));
}

#[test]
fn forged_lines_in_ci_text_are_escaped() {
    let a = write_archive(&forging_image(), "forge.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded_in(
        Some(a.dir.path()),
        &["ci", p, "--bytes", "--forbid", "waste*"],
        None,
        1024,
        120,
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines.contains(&"  image: x:1\\nResult:PASS (2 layers, 10001)"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"    2         10000  /waste\\n  Efficiency: 100.00%"),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"  FAIL: forbiddenPaths (measured 1, threshold waste*): forbidden paths ship in the image: /waste\\n  Efficiency: 100.00% (layer 0,1)"
        ),
        "{lines:#?}"
    );
    let results: Vec<&&str> = lines.iter().filter(|l| l.starts_with("Result:")).collect();
    assert_eq!(results.len(), 1, "{lines:#?}");
    assert!(results[0].starts_with("Result:FAIL"), "{lines:#?}");
}

#[test]
fn forged_lines_in_diff_text_are_escaped() {
    let old = write_archive(
        &ImageBuilder::new()
            .tag("old:1")
            .layer(LayerBuilder::new("RUN a").file("ok", b"1"))
            .docker_legacy(),
        "old.tar",
    );
    let new = write_archive(
        &ImageBuilder::new()
            .tag(FORGED_TAG)
            .env("A=1\nB=2")
            .layer(LayerBuilder::new("RUN a").file("ok", b"1"))
            .layer(LayerBuilder::new("RUN b").file(FORGED_PATH, b"12"))
            .docker_legacy(),
        "new.tar",
    );
    let (o, n) = (
        old.path.to_str().expect("utf-8"),
        new.path.to_str().expect("utf-8"),
    );
    for extra in [&[][..], &["--stat"][..]] {
        let mut args = vec!["diff", o, n, "--bytes", "--color", "never"];
        args.extend(extra);
        let r = run_bounded(&args, None, 1024, 120);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(
            !lines.iter().any(|l| l.starts_with("  Efficiency")
                || l.starts_with("Result:")
                || l.starts_with("B=2")),
            "{lines:#?}"
        );
        if extra.is_empty() {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("+++ new: x:1\\nResult:PASS (")),
                "{lines:#?}"
            );
            assert!(
                lines.contains(
                    &"  + /waste\\n  Efficiency: 100.00%                        2           +2"
                ),
                "{lines:#?}"
            );
            assert!(lines.contains(&"  + env.A: 1\\nB=2"), "{lines:#?}");
        } else {
            assert!(
                lines.contains(&" + /waste\\n  Efficiency: 100.00% | +2 ++++++++++++++++++++++++++++++++++++++++"),
                "{lines:#?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Smaller: error text
// ---------------------------------------------------------------------------

#[test]
fn a_missing_input_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run_bounded_in(
        Some(dir.path()),
        &["report", "nginx:latest"],
        None,
        1024,
        60,
    );
    assert_eq!(
        one_error(&r, Path::new("/nonexistent")),
        "layerscope: nginx:latest: No such file or directory (os error 2)"
    );
}
