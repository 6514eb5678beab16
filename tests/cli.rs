//! The real binary: report, ci, exit codes and one-line errors.

mod common;

use assert_cmd::Command;
use common::*;
use layerscope_synth::{Compression, ImageBuilder, LayerBuilder};
use predicates::prelude::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI");
    c
}

fn wasteful() -> Vec<u8> {
    ImageBuilder::new()
        .tag("waste:1")
        .layer(
            LayerBuilder::new("base")
                .file("etc/a", &[1u8; 1000])
                .file("etc/secret.key", b"k"),
        )
        .layer(LayerBuilder::new("RUN rewrite").file("etc/a", &[2u8; 1000]))
        .layer(LayerBuilder::new("RUN rm key").whiteout("etc/secret.key"))
        .docker_legacy()
}

#[test]
fn report_json_has_the_versioned_schema() {
    let a = write_archive(&wasteful(), "w.tar");
    let out = bin()
        .args(["report", "--format", "json"])
        .arg(&a.path)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["image"]["name"], "waste:1");
    assert_eq!(v["image"]["size_bytes"], 2001);
    assert_eq!(v["image"]["dive"]["wasted_bytes"], 2001);
    assert_eq!(v["image"]["corrected"]["reclaimable_bytes"], 1001);
    let l1 = &v["layers"][1];
    assert_eq!(l1["index"], 1);
    assert_eq!(l1["command"], "RUN rewrite");
    assert_eq!(l1["size_bytes"], 1000);
    let ch = &l1["changes"][0];
    assert_eq!(ch["path"], "/etc/a");
    assert_eq!(ch["status"], "modified");
    assert_eq!(ch["kind"], "file");
    assert_eq!(ch["size_bytes"], 1000);
    assert_eq!(ch["mode"], "0644");
    assert!(ch["sha256"].as_str().expect("sha").starts_with("sha256:"));
    let del = &v["layers"][2]["changes"][0];
    assert_eq!(del["path"], "/etc/secret.key");
    assert_eq!(del["status"], "deleted");
}

/// The document `report --dive-json FILE` writes for an archive.
fn dive_json_of(bytes: &[u8]) -> serde_json::Value {
    let a = write_archive(bytes, "w.tar");
    let dj = a.dir.path().join("dive.json");
    bin()
        .args(["report"])
        .arg(&a.path)
        .arg("--dive-json")
        .arg(&dj)
        .assert()
        .success();
    serde_json::from_slice(&std::fs::read(&dj).expect("file")).expect("json")
}

#[test]
fn dive_json_keeps_dives_schema() {
    let v = dive_json_of(&wasteful());
    assert_eq!(v["image"]["sizeBytes"], 2001);
    assert_eq!(v["image"]["inefficientBytes"], 2001);
    assert_eq!(v["image"]["fileReference"][0]["file"], "/etc/a");
    assert_eq!(v["image"]["fileReference"][0]["count"], 2);
    assert_eq!(v["image"]["fileReference"][0]["sizeBytes"], 2000);
    assert_eq!(v["layer"][1]["command"], "RUN rewrite");
    assert!(v["layer"][0]["digestId"]
        .as_str()
        .expect("id")
        .starts_with("sha256:"));
}

#[test]
fn text_report_from_stdin() {
    let bytes = ImageBuilder::new()
        .tag("piped:1")
        .layer(LayerBuilder::new("base").file("hello", b"hi"))
        .oci_archive(Compression::Gzip);
    bin()
        .args(["report", "--bytes", "-"])
        .write_stdin(bytes)
        .assert()
        .success()
        .stdout(predicate::str::contains("Image:     piped:1"))
        .stdout(predicate::str::contains("Total image size:      2\n"));
}

#[test]
fn ci_passes_and_fails_with_dive_exit_codes() {
    let a = write_archive(&wasteful(), "w.tar");
    // dive defaults: lowestEfficiency 0.9 fails here (efficiency 1000/2001... ).
    bin()
        .arg("ci")
        .arg(&a.path)
        .current_dir(a.dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL: lowestEfficiency"))
        .stdout(predicate::str::contains(
            "Result:FAIL [Total:7] [Passed:0] [Failed:2] [Warn:0] [Skipped:5]",
        ));
    std::fs::write(
        a.dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.4\n  highestWastedBytes: 3KB\n  highestUserWastedPercent: disabled\n",
    )
    .expect("write .dive-ci");
    bin()
        .arg("ci")
        .arg(&a.path)
        .current_dir(a.dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS: lowestEfficiency"))
        .stdout(predicate::str::contains(
            "PASS: highestWastedBytes (measured 2001, threshold 3000)",
        ))
        .stdout(predicate::str::contains("SKIP: highestUserWastedPercent"));
}

#[test]
fn ci_extra_rules_junit_and_json() {
    let a = write_archive(&wasteful(), "w.tar");
    let junit = a.dir.path().join("ci.xml");
    let json = a.dir.path().join("ci.json");
    bin()
        .arg("ci")
        .arg(&a.path)
        .args(["--lowest-efficiency", "disabled", "--highest-user-wasted-percent", "disabled"])
        .args(["--max-layers", "2", "--max-layer-size", "900", "--max-image-size", "1MB"])
        .args(["--forbid", "*.key"])
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .current_dir(a.dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL: highestLayerCount (measured 3, threshold 2)"))
        .stdout(predicate::str::contains("FAIL: highestLayerSize (measured 1001, threshold 900)"))
        .stdout(predicate::str::contains("PASS: highestImageSize"))
        .stdout(predicate::str::contains(
            "FAIL: forbiddenPaths (measured 1, threshold *.key): forbidden paths ship in the image: /etc/secret.key (layer 0)",
        ));
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("<testcase name=\"highestLayerCount\""),
        "{xml}"
    );
    assert!(
        xml.contains("tests=\"7\"") && xml.contains("failures=\"3\""),
        "{xml}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("parse");
    assert_eq!(v["passed"], false);
    assert_eq!(v["outcome"]["verdicts"].as_array().expect("arr").len(), 7);
}

#[test]
fn ci_ignored_paths_leave_the_waste_figures() {
    let a = write_archive(&wasteful(), "w.tar");
    bin()
        .arg("ci")
        .arg(&a.path)
        .args([
            "--highest-wasted-bytes",
            "1",
            "--ignore",
            "/etc/a",
            "--ignore",
            "/etc/secret.key",
        ])
        .args([
            "--lowest-efficiency",
            "disabled",
            "--highest-user-wasted-percent",
            "disabled",
        ])
        .current_dir(a.dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "PASS: highestWastedBytes (measured 0, threshold 1)",
        ));
}

#[test]
fn ci_mode_from_the_environment() {
    let a = write_archive(&wasteful(), "w.tar");
    let mut c = bin();
    c.env("CI", "true")
        .arg(&a.path)
        .current_dir(a.dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Result:FAIL"));
}

#[test]
fn bad_rules_file_is_an_error() {
    let a = write_archive(&wasteful(), "w.tar");
    let cfg = a.dir.path().join("rules.yaml");
    std::fs::write(&cfg, "rules:\n  highestWastedBytes: lots\n").expect("write");
    bin()
        .arg("ci")
        .arg(&a.path)
        .arg("--ci-config")
        .arg(&cfg)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "CI rule highestWastedBytes: invalid size \"lots\"",
        ));
}

#[test]
fn broken_inputs_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.tar", vec![], "empty file, not an image archive"),
        (
            "random.bin",
            (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "not an image archive",
        ),
        (
            "plain.tar",
            LayerBuilder::new("x").file("hello.txt", b"hi").tar_bytes(),
            "not an image archive: no manifest.json or index.json",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).expect("write");
        let out = bin().arg("report").arg(&p).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
    bin()
        .args(["report", "/nonexistent/image.tar"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "layerscope: /nonexistent/image.tar: No such file",
        ));
}

#[test]
fn dive_json_file_list_and_commands_follow_dive() {
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("/bin/sh -c #(nop) ADD file:abc in / ")
                .dir("etc")
                .file("etc/a", b"aaa"),
        )
        .layer(
            LayerBuilder::new("/bin/sh -c rm /etc/a && ln -s x /etc/l")
                .whiteout("etc/a")
                .symlink("etc/l", "x"),
        )
        .docker_legacy();
    let v = dive_json_of(&bytes);
    assert_eq!(v["layer"][0]["command"], "#(nop) ADD file:abc in / ");
    assert_eq!(v["layer"][1]["command"], "rm /etc/a && ln -s x /etc/l");
    let l0 = &v["layer"][0]["fileList"];
    assert_eq!(l0[0]["path"], "etc");
    assert_eq!(l0[0]["isDir"], true);
    assert_eq!(l0[0]["typeFlag"], 53);
    assert_eq!(l0[0]["fileMode"], 2_147_484_141u64); // os.ModeDir | 0755
    assert_eq!(l0[1]["path"], "etc/a");
    assert_eq!(l0[1]["size"], 3);
    assert_eq!(l0[1]["fileMode"], 420);
    let l1: Vec<&str> = v["layer"][1]["fileList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(l1, ["etc/.wh.a", "etc/l"]);
    assert_eq!(v["layer"][1]["fileList"][1]["linkName"], "x");
    assert_eq!(v["layer"][1]["fileList"][1]["fileMode"], 134_218_239u64); // os.ModeSymlink | 0777
}

#[test]
fn explorer_without_a_terminal_says_what_to_run_instead() {
    let a = write_archive(&wasteful(), "w.tar");
    let out = bin().arg(&a.path).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.ends_with("w.tar: the explorer needs a terminal; use `layerscope report` (or CI=true) for non-interactive output\n"),
        "{err}"
    );
}

fn report_json(archive: &std::path::Path, extra: &[&str]) -> (serde_json::Value, String) {
    let out = bin()
        .args(["report", "--format", "json"])
        .args(extra)
        .arg(archive)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (serde_json::from_slice(&out.stdout).expect("json"), err)
}

#[test]
fn hash_files_keeps_every_figure_and_file_digest_but_trusts_the_layers() {
    let img = ImageBuilder::new()
        .tag("dup:1")
        .layer(
            LayerBuilder::new("base")
                .file("etc/a", &[1u8; 1000])
                .file("etc/b", &[1u8; 1000]),
        )
        .layer(LayerBuilder::new("RUN touch").file("etc/a", &[1u8; 1000]));
    let archives = [
        wasteful(),
        img.oci_archive(Compression::Zstd),
        img.oci_archive(Compression::Gzip),
    ];
    for bytes in archives {
        let a = write_archive(&bytes, "h.tar");
        let (all, quiet) = report_json(&a.path, &[]);
        let (files, warned) = report_json(&a.path, &["--hash", "files"]);
        assert_eq!(quiet, "");
        assert_eq!(
            warned,
            "layerscope: warning: layer digests and diff IDs were not verified (--hash files)\n"
        );
        // Same figures, statuses, per-file digests and layer digests (taken
        // from the manifest and config instead of computed).
        let strip = |mut v: serde_json::Value| {
            v["image"]["warnings"] = serde_json::Value::Null;
            v
        };
        assert_eq!(strip(all), strip(files));
    }
}

#[test]
fn hash_layers_verifies_but_judges_content_by_size_and_mtime() {
    let a = write_archive(&wasteful(), "w.tar");
    let (v, err) = report_json(&a.path, &["--hash", "layers"]);
    assert_eq!(err, "");
    let ch = &v["layers"][1]["changes"][0];
    assert_eq!(ch["path"], "/etc/a");
    assert_eq!(ch["sha256"], serde_json::Value::Null);
    // Same size and mtime: without content hashes it cannot be told apart.
    assert_eq!(ch["status"], "unchanged");
    assert!(v["layers"][0]["diff_id"]
        .as_str()
        .expect("diff id")
        .starts_with("sha256:"));
}

#[test]
fn no_hash_and_hash_cannot_be_combined() {
    let a = write_archive(&wasteful(), "w.tar");
    bin()
        .args(["report", "--no-hash", "--hash", "files"])
        .arg(&a.path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}
