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
use layerscope_synth::{
    self as synth, Compression, Descriptor, ImageBuilder, LayerBuilder, OuterTar,
};

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
    let r = run_bounded_in(Some(dir.path()), &["report", "./nginx.tar"], None, 1024, 60);
    assert_eq!(
        one_error(&r, Path::new("/nonexistent")),
        "layerscope: ./nginx.tar: No such file or directory (os error 2)"
    );
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/// The file members of an outer tar, in order.
fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in a.entries().expect("tar") {
        let mut e = e.expect("entry");
        if !e.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("read");
        out.push((name, data));
    }
    out
}

fn repack(ms: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut t = OuterTar::new(Vec::new());
    for (n, d) in ms {
        t.add_bytes(n, d).expect("add");
    }
    t.finish().expect("finish")
}

fn small_image() -> ImageBuilder {
    ImageBuilder::new()
        .tag("small:1")
        .layer(LayerBuilder::new("RUN a").file("etc/motd", b"hi\n"))
}

// ---------------------------------------------------------------------------
// Nested image indexes
// ---------------------------------------------------------------------------

const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An OCI archive whose index.json and `levels - 1` nested indexes each
/// list the next level `k` times, the last level listing the manifest `k`
/// times: k^levels paths to the one image.
fn fan_out(levels: usize, k: usize) -> Vec<u8> {
    let mut ms = members(&small_image().oci_archive(Compression::Gzip));
    let index = ms
        .iter()
        .position(|(n, _)| n == "index.json")
        .expect("index.json");
    let v: serde_json::Value = serde_json::from_slice(&ms[index].1).expect("json");
    let m = &v["manifests"][0];
    let mut next = Descriptor::new(
        m["mediaType"].as_str().expect("mt"),
        m["digest"]
            .as_str()
            .expect("digest")
            .trim_start_matches("sha256:"),
        m["size"].as_u64().expect("size"),
    );
    for level in 0..levels {
        let listing = synth::oci_index_json(&vec![next.clone(); k]);
        if level + 1 == levels {
            ms[index].1 = listing;
        } else {
            next = Descriptor::of(MT_INDEX, &listing);
            ms.push((next.blob_path(), listing));
        }
    }
    repack(&ms)
}

#[test]
fn nested_indexes_fanning_out_are_read_once() {
    // 5 levels (index.json and 4 nested) of 60 listings: 60^5 = 777 million
    // paths to one manifest, in a 60 KB archive.
    let bytes = fan_out(5, 60);
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let a = write_archive(&bytes, "fan.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded(&["report", p, "--bytes"], None, 1024, 120);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.lines().any(|l| l == "Image:     (unnamed)"),
        "{}",
        r.stdout
    );
    assert!(r.peak_kib < 100 * 1024, "peak RSS {} KiB", r.peak_kib);
}

#[test]
fn too_many_index_entries_are_refused() {
    let n = layerscope::archive::MAX_INDEX_ENTRIES + 1;
    let a = write_archive(&fan_out(1, n), "wide.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded(&["report", p], None, 1024, 120);
    assert_eq!(
        one_error(&r, &a.path),
        "layerscope: IMAGE: index.json: image indexes list more than 100000 descriptors in all"
    );
}

// ---------------------------------------------------------------------------
// Plain streams: stdin, pipes, devices
// ---------------------------------------------------------------------------

/// `sh -c CMD | layerscope report - ARGS`, bounded; the writer is killed after.
fn report_stdin_from(cmd: &str, args: &[&str]) -> Run {
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let out = writer.stdout.take().expect("pipe");
    let mut all = vec!["report", "-"];
    all.extend(args);
    let r = run_bounded(&all, Some(Stdio::from(out)), 1024, 120);
    let _ = writer.kill();
    let _ = writer.wait();
    r
}

#[test]
fn an_endless_stream_that_is_not_a_tar_stops_at_its_first_block() {
    // `yes | layerscope report -` used to fill the temp directory.
    let start = Instant::now();
    let r = report_stdin_from("exec yes", &[]);
    assert_eq!(
        one_error(&r, Path::new("<stdin>")),
        format!(
            "layerscope: IMAGE: not an image archive (not a tar file: numeric field was not a number: {} when getting cksum for {})",
            "y\\n".repeat(4),
            "y\\n".repeat(50)
        )
    );
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(r.peak_kib < 100 * 1024, "peak RSS {} KiB", r.peak_kib);
}

#[test]
fn an_endless_stream_of_zeros_stops_after_the_end_marker() {
    let r = report_stdin_from("exec cat /dev/zero", &[]);
    assert_eq!(
        one_error(&r, Path::new("<stdin>")),
        "layerscope: IMAGE: not an image archive: the tar holds no files"
    );
    // A character device given by path, the same.
    let r = run_bounded(&["report", "/dev/zero"], None, 1024, 120);
    assert_eq!(
        one_error(&r, Path::new("/dev/zero")),
        "layerscope: IMAGE: not an image archive: the tar holds no files"
    );
}

#[test]
fn a_valid_stream_beyond_the_input_limit_names_the_option() {
    let bytes = ImageBuilder::new()
        .tag("big:1")
        .layer(LayerBuilder::new("RUN big").file("big", &vec![3u8; 3 << 20]))
        .docker_legacy();
    let a = write_archive(&bytes, "big.tar");
    let cmd = format!("exec cat '{}'", a.path.display());
    let r = report_stdin_from(&cmd, &["--max-input-bytes", "2MiB"]);
    assert_eq!(
        one_error(&r, Path::new("<stdin>")),
        "layerscope: IMAGE: the input is larger than 2 MiB (2097152 bytes), the limit for a stream or compressed archive (raise it with --max-input-bytes, or pass a plain archive file, which is read in place)"
    );
    // Raised, it loads.
    let r = report_stdin_from(&cmd, &["--max-input-bytes", "4MiB"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.starts_with("Image:     big:1\n"), "{}", r.stdout);
}
