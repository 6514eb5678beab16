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
        "layerscope: IMAGE: index.json: invalid image index: more than 100000 entries at line 1 column 15300167"
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
        "layerscope: IMAGE: not an image archive (not a tar file: tar header field cksum is not a number)"
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

// ---------------------------------------------------------------------------
// The CI rules file
// ---------------------------------------------------------------------------

/// Run `ci IMAGE --ci-config RULES` on a small image, bounded.
fn ci_with_rules(rules: &[u8], extra: &[&str]) -> (Run, String) {
    let a = write_archive(&small_image().docker_legacy(), "small.tar");
    let rules_path = a.dir.path().join("rules.yaml");
    std::fs::write(&rules_path, rules).expect("write rules");
    let mut args = vec![
        "ci",
        a.path.to_str().expect("utf-8"),
        "--ci-config",
        rules_path.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    let start = Instant::now();
    let r = run_bounded_in(Some(a.dir.path()), &args, None, 512, 120);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let dir = format!("{}/", a.dir.path().display());
    let stderr = r.stderr.replace(&dir, "");
    (r, stderr)
}

fn ci_fails(rules: &[u8], want: &str) {
    let (r, stderr) = ci_with_rules(rules, &[]);
    assert_eq!(r.code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.trim_end(), want);
    assert!(r.peak_kib < 100 * 1024, "peak RSS {} KiB", r.peak_kib);
}

#[test]
fn an_aliased_megabyte_anchor_is_refused_without_copies() {
    // 1 MB anchor, aliased 300 times: 300 MB of globs once expanded.
    let mut y = format!(
        "anchor: &big \"{}\"\nrules:\n  forbiddenPaths:\n",
        "a".repeat(1 << 20)
    );
    for _ in 0..300 {
        y.push_str("    - *big\n");
    }
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: the CI rules file is larger than 1048576 bytes",
    );
    // Under the size limit: a 100 KB anchor aliased 1,000 times.
    let mut y = format!(
        "anchor: &big \"{}\"\nrules:\n  forbiddenPaths:\n",
        "a".repeat(100_000)
    );
    for _ in 0..1000 {
        y.push_str("    - *big\n");
    }
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: invalid CI rules: rules.forbiddenPaths[0]: a glob of 100000 bytes, more than 1024 at line 1 column 9",
    );
}

#[test]
fn deep_nesting_in_the_rules_file_is_refused_by_line() {
    // 100,000 levels of block nesting, then of flow nesting.
    let mut y = String::from("rules:\n");
    for i in 0..100_000 {
        y.push_str(&" ".repeat(i % 200 + 2));
        y.push_str("k:\n");
        if i % 200 == 199 {
            break;
        }
    }
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: invalid CI rules: nested deeper than 32 levels at line 33",
    );
    let y = format!("rules:\n  forbiddenPaths: {}", "[".repeat(100_000));
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: invalid CI rules: nested deeper than 32 levels at line 2",
    );
    let y = format!("rules:\n  forbiddenPaths:\n{}", "- ".repeat(100_000));
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: invalid CI rules: nested deeper than 32 levels at line 3",
    );
}

#[test]
fn too_many_globs_are_refused() {
    let mut y = String::from("rules:\n  forbiddenPaths:\n");
    for i in 0..1001 {
        y.push_str(&format!("    - /g{i}\n"));
    }
    ci_fails(
        y.as_bytes(),
        "layerscope: rules.yaml: invalid CI rules: rules.forbiddenPaths: more than 1000 globs at line 3 column 5",
    );
}

#[test]
fn negative_and_rounded_thresholds_name_their_key() {
    for (rules, want) in [
        ("lowestEfficiency: -0.1", "CI rule lowestEfficiency: negative ratio \"-0.1\""),
        (
            "highestUserWastedPercent: 9007199254740993",
            "CI rule highestUserWastedPercent: 9007199254740993 cannot be represented exactly as a ratio",
        ),
        ("highestWastedBytes: -5", "CI rule highestWastedBytes: negative size \"-5\""),
        ("highestWastedBytes: -5MB", "CI rule highestWastedBytes: negative size \"-5MB\""),
        ("highestImageSize: 1.5", "CI rule highestImageSize: 1.5 is not a whole number of bytes"),
        ("highestLayerCount: -1", "CI rule highestLayerCount: invalid count \"-1\""),
        ("highestLayerCount: 1.5", "CI rule highestLayerCount: invalid count \"1.5\""),
    ] {
        ci_fails(
            format!("rules:\n  {rules}\n").as_bytes(),
            &format!("layerscope: {want}"),
        );
    }
    // 2^53+1 as a size is exact.
    let (r, stderr) = ci_with_rules(b"rules:\n  highestImageSize: 9007199254740993\n", &[]);
    assert_eq!(r.code, Some(0), "{stderr}");
    assert!(
        r.stdout
            .contains("  PASS: highestImageSize (measured 3, threshold 9007199254740993)"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unknown_key_warns_with_the_nearest_known_key() {
    let (r, stderr) = ci_with_rules(
        b"rules:\n  lowestEfficency: 0.95\n  zzz: 1\nrule:\n  x: 1\n",
        &[],
    );
    assert_eq!(r.code, Some(0), "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "layerscope: warning: rules.yaml: unknown key \"rules.lowestEfficency\" is ignored; did you mean \"rules.lowestEfficiency\"?",
            "layerscope: warning: rules.yaml: unknown key \"rules.zzz\" is ignored",
            "layerscope: warning: rules.yaml: unknown key \"rule\" is ignored; did you mean \"rules\"?",
        ]
    );
}

// ---------------------------------------------------------------------------
// Config counts
// ---------------------------------------------------------------------------

/// The small image in the legacy layout with its config replaced by
/// `config` (renamed config.json, so no digest names it).
fn with_config(config: &[u8]) -> Vec<u8> {
    let mut ms = members(&small_image().docker_legacy());
    let mi = ms
        .iter()
        .position(|(n, _)| n == "manifest.json")
        .expect("manifest");
    let mut m: serde_json::Value = serde_json::from_slice(&ms[mi].1).expect("json");
    let old = m[0]["Config"].as_str().expect("config").to_string();
    m[0]["Config"] = serde_json::json!("config.json");
    ms[mi].1 = serde_json::to_vec(&m).expect("json");
    let ci = ms
        .iter()
        .position(|(n, _)| *n == old)
        .expect("config member");
    ms[ci] = ("config.json".to_string(), config.to_vec());
    repack(&ms)
}

/// The small image's config with `key` (a top-level key or `config.Key`)
/// holding `json`.
fn config_with(key: &str, json: &str) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&small_image().config_json()).expect("config");
    let (obj, k) = match key.split_once('.') {
        Some((a, b)) => (&mut v[a], b),
        None => (&mut v, key),
    };
    obj[k] = serde_json::json!("PLACEHOLDER");
    serde_json::to_string(&v)
        .expect("json")
        .replace("\"PLACEHOLDER\"", json)
        .into_bytes()
}

#[test]
fn huge_metadata_lists_are_refused_before_parsing() {
    // A million `{}` history entries (3 MB): gigabytes once parsed whole.
    let history = format!("[{}{{}}]", "{},".repeat(999_999));
    let a = write_archive(&with_config(&config_with("history", &history)), "h.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded(&["report", p], None, 1024, 120);
    assert_eq!(
        one_error(&r, &a.path),
        "layerscope: IMAGE: config.json: invalid image config: more than 100000 entries at line 1 column 300083"
    );
    assert!(r.peak_kib < 100 * 1024, "peak RSS {} KiB", r.peak_kib);
    for (key, json) in [
        ("config.Env", format!("[{}\"\"]", "\"\",".repeat(100_000))),
        (
            "config.Labels",
            format!(
                "{{{}\"x\":\"\"}}",
                (0..100_000)
                    .map(|i| format!("\"{i}\":\"\","))
                    .collect::<String>()
            ),
        ),
    ] {
        let a = write_archive(&with_config(&config_with(key, &json)), "c.tar");
        let p = a.path.to_str().expect("utf-8");
        let r = run_bounded(&["report", p], None, 1024, 120);
        let line = one_error(&r, &a.path);
        assert!(
            line.starts_with(
                "layerscope: IMAGE: config.json: invalid image config: more than 100000 entries at line 1 column "
            ),
            "{key}: {line}"
        );
    }
    // Within the limit it loads.
    let history = format!("[{}{{}}]", "{},".repeat(999));
    let a = write_archive(&with_config(&config_with("history", &history)), "ok.tar");
    let p = a.path.to_str().expect("utf-8");
    let r = run_bounded(&["report", p], None, 1024, 120);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Layout blobs that point outside, and their contents
// ---------------------------------------------------------------------------

/// An OCI layout directory of the small image (uncompressed layers) and the
/// path of its one layer blob.
fn layout_dir() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("layout");
    std::fs::create_dir(&dir).expect("mkdir");
    small_image()
        .oci_dir(Compression::None, &dir)
        .expect("layout");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index"))
            .expect("json");
    let blob = |d: &serde_json::Value| {
        dir.join("blobs/sha256")
            .join(d.as_str().expect("digest").trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&index["manifests"][0]["digest"])).expect("m"))
            .expect("json");
    let layer = blob(&manifest["layers"][0]["digest"]);
    (tmp, dir, layer)
}

#[test]
fn a_layout_blob_linking_outside_says_what_it_is() {
    let (tmp, dir, layer) = layout_dir();
    let secret = tmp.path().join("shadow");
    std::fs::write(&secret, "root:$6$secret-hash:19000:0:99999:7:::\n").expect("write");
    std::fs::remove_file(&layer).expect("rm");
    std::os::unix::fs::symlink(&secret, &layer).expect("symlink");
    let d = dir.to_str().expect("utf-8");
    let r = run_bounded(&["report", d], None, 1024, 60);
    let line = one_error(&r, &dir);
    let rel = layer.strip_prefix(&dir).expect("rel").display().to_string();
    assert_eq!(
        line.replace(&tmp.path().display().to_string(), "TMP"),
        format!(
            "layerscope: IMAGE: {rel}: is a symlink to TMP/shadow, outside the layout directory"
        )
    );
}

#[test]
fn a_hard_linked_blob_is_never_quoted() {
    let (tmp, dir, layer) = layout_dir();
    let secret = tmp.path().join("shadow");
    // 512 bytes that fail as a tar header with a non-numeric checksum field.
    let text = "root:$6$secret-hash:19000:0:99999:7:::\n".repeat(14);
    std::fs::write(&secret, &text[..512]).expect("write");
    std::fs::remove_file(&layer).expect("rm");
    if std::fs::hard_link(&secret, &layer).is_err() {
        return; // no hard links here
    }
    let d = dir.to_str().expect("utf-8");
    for extra in [&["--no-verify"][..], &[][..]] {
        let mut args = vec!["report", d];
        args.extend(extra);
        let r = run_bounded(&args, None, 1024, 60);
        let line = one_error(&r, &dir);
        assert!(!line.contains("root") && !line.contains("secret"), "{line}");
        if !extra.is_empty() {
            assert!(
                line.ends_with(": not a tar stream: tar header field cksum is not a number"),
                "{line}"
            );
        }
    }
}

/// A directory where a layer blob should be is refused before any layer
/// is read, in one line naming the layout once and the blob (root opens
/// any file, so a directory is what fails even here). An open that fails
/// later (a race, a registry) is `Error::Layer` with `LayerFault::Open`,
/// which names the input once too (see the unit test in src/error.rs).
// See: issue 11.
#[test]
fn a_layer_blob_that_is_a_directory_names_the_input_once() {
    let (_tmp, dir, layer) = layout_dir();
    std::fs::remove_file(&layer).expect("rm");
    std::fs::create_dir(&layer).expect("mkdir");
    let d = dir.to_str().expect("utf-8");
    let rel = layer.strip_prefix(&dir).expect("rel").display().to_string();
    for extra in [&["--no-verify"][..], &[][..]] {
        let mut args = vec!["report", d];
        args.extend(extra);
        let r = run_bounded(&args, None, 1024, 60);
        assert_eq!(
            one_error(&r, &dir),
            format!("layerscope: IMAGE: {rel}: is a directory, not a blob")
        );
    }
}
