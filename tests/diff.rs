//! Diffs: path, layer and config level on pairs of archives built in code
//! with known differences; the `diff` command's outputs, filters and exit
//! codes; `ci --baseline`.
// See: issue #5 "Diff".

mod common;

use assert_cmd::Command;
use common::*;
use layerscope::diff::{self, Changed, PathFilter};
use layerscope::load::Loaded;
use layerscope::tree::Status;
use layerscope_synth::{Compression, ImageBuilder, LayerBuilder};

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI").env_remove("NO_COLOR");
    c
}

fn base_layer() -> LayerBuilder {
    LayerBuilder::new("ADD rootfs /")
        .dir("etc")
        .file("etc/passwd", &[b'a'; 100])
        .file("etc/hosts", b"127.0.0.1\n")
        .file_with("bin/bash", &[7u8; 1000], 0o755, 0, 0)
        .symlink("bin/sh", "bash")
        .file("usr/bin/tool", &[3u8; 50])
        .dir("var/cache")
        .file("var/cache/big", &[9u8; 5000])
}

fn old_image() -> ImageBuilder {
    ImageBuilder::new()
        .tag("app:1")
        .env("PATH=/usr/bin")
        .cmd(&["sh"])
        .label("version", "1")
        .layer(base_layer())
        .layer(LayerBuilder::new("RUN build app").file("app/main.py", &[b'p'; 300]))
}

fn new_image() -> ImageBuilder {
    ImageBuilder::new()
        .tag("app:2")
        .env("PATH=/usr/local/bin:/usr/bin")
        .cmd(&["python3", "/app/main.py"])
        .label("version", "2")
        .expose("8080/tcp")
        .user("app")
        .layer(base_layer())
        .layer(
            LayerBuilder::new("RUN build app v2")
                .file("app/main.py", &[b'q'; 400])
                .file("app/new.txt", b"0123456789")
                .whiteout("var/cache")
                .file_with("usr/bin/tool", &[3u8; 50], 0o755, 0, 0)
                .symlink("bin/sh", "dash"),
        )
        .layer(LayerBuilder::new("RUN adduser").file("etc/passwd", &[b'b'; 150]))
}

/// `marker path old->new delta`, dirs with a trailing `/`.
fn lines(d: &diff::TreeDiff) -> Vec<String> {
    d.entries
        .iter()
        .map(|e| {
            let m = if e.status == Status::Unchanged {
                ' '
            } else {
                e.status.marker()
            };
            let slash = if e.is_dir() && e.depth > 0 { "/" } else { "" };
            format!(
                "{m} {}{slash} {}->{} {:+}",
                e.path,
                e.old_bytes(),
                e.new_bytes(),
                e.delta()
            )
        })
        .collect()
}

fn pair() -> (Loaded, Loaded, TempArchive, TempArchive) {
    let a = write_archive(&old_image().docker_legacy(), "old.tar");
    let b = write_archive(&new_image().oci_archive(Compression::Gzip), "new.tar");
    let old = load_path(&a.path).expect("old");
    let new = load_path(&b.path).expect("new");
    (old, new, a, b)
}

#[test]
fn the_same_image_in_two_layouts_is_identical() {
    let a = write_archive(&old_image().docker_legacy(), "legacy.tar");
    let b = write_archive(&old_image().oci_archive(Compression::Zstd), "oci.tar");
    let old = load_path(&a.path).expect("legacy");
    let new = load_path(&b.path).expect("oci");
    let d = diff::diff_images(&old, None, &new, None).expect("diff");
    assert_eq!(lines(&d.tree), vec!["  / 6460->6460 +0"]);
    assert_eq!(d.tree.counts().total(), 0);
    assert_eq!(d.layers.shared, 2);
    assert_eq!((d.layers.old_only, d.layers.new_only), (0, 0));
    assert_eq!(d.layers.diverge_at, None);
    assert!(d.layers.rows.iter().all(|r| r.same));
    assert!(d.config.is_empty());
    assert_eq!(d.summary.size_delta_bytes, 0);
    assert!(d.is_identical());

    // The full walk sees every path as unchanged.
    let full = diff::diff_trees_with(
        (&old.tree, 1),
        (&new.tree, 1),
        diff::TreeOptions { unchanged: true },
    );
    assert_eq!(full.entries.len(), 15);
    assert!(full.entries.iter().all(|e| e.status == Status::Unchanged));

    bin()
        .args(["diff", "--exit-code"])
        .arg(&a.path)
        .arg(&b.path)
        .assert()
        .code(0);
}

#[test]
fn path_level_changes_are_exact() {
    let (old, new, _a, _b) = pair();
    let d = diff::diff_images(&old, None, &new, None).expect("diff");
    assert_eq!(
        lines(&d.tree),
        vec![
            "  / 6460->1620 -4840",
            "  /app/ 300->410 +110",
            "~ /app/main.py 300->400 +100",
            "+ /app/new.txt 0->10 +10",
            "  /bin/ 1000->1000 +0",
            "~ /bin/sh 0->0 +0",
            "  /etc/ 110->160 +50",
            "~ /etc/passwd 100->150 +50",
            "  /usr/ 50->50 +0",
            "  /usr/bin/ 50->50 +0",
            "m /usr/bin/tool 50->50 +0",
            "  /var/ 5000->0 -5000",
            "- /var/cache/ 5000->0 -5000",
            "- /var/cache/big 5000->0 -5000",
        ]
    );
    let c = d.tree.counts();
    assert_eq!((c.added, c.deleted, c.modified, c.metadata), (1, 2, 3, 1));
    let by = |p: &str| d.tree.entries.iter().find(|e| e.path == p).expect("entry");
    assert_eq!(by("/app/main.py").changed.names(), vec!["content"]);
    assert_eq!(by("/bin/sh").changed.names(), vec!["link"]);
    assert_eq!(by("/usr/bin/tool").changed, Changed::MODE);
    let tool = by("/usr/bin/tool");
    assert_eq!(tool.old_attrs.map(|a| a.mode), Some(0o644));
    assert_eq!(tool.new_attrs.map(|a| a.mode), Some(0o755));
    // Both node ids, and they name the same path in their own trees.
    let main = by("/app/main.py");
    assert_eq!(old.tree.path(main.old.expect("old id")), "/app/main.py");
    assert_eq!(new.tree.path(main.new.expect("new id")), "/app/main.py");
    assert_eq!(by("/app/new.txt").old, None);
    assert_eq!(by("/var/cache/big").new, None);
    // Directory totals count what changed below.
    let root = d.tree.root().and_then(|e| e.totals).expect("totals");
    assert_eq!((root.old_bytes, root.new_bytes), (6460, 1620));
    let var = by("/var").totals.expect("totals");
    assert_eq!((var.deleted, var.added), (2, 0));
    // Parents point at the enclosing directory's entry.
    let p = by("/usr/bin/tool").parent.expect("parent") as usize;
    assert_eq!(d.tree.entries[p].path, "/usr/bin");

    let growth: Vec<(String, i64)> = d
        .summary
        .growth
        .iter()
        .map(|g| (g.path.clone(), g.delta_bytes))
        .collect();
    assert_eq!(
        growth,
        vec![
            ("/app/main.py".to_string(), 100),
            ("/etc/passwd".to_string(), 50),
            ("/app/new.txt".to_string(), 10)
        ]
    );
    assert_eq!(d.summary.files_delta_bytes, -4840);
    assert!(!d.is_identical());
}

#[test]
fn layer_and_config_levels() {
    let (old, new, _a, _b) = pair();
    let d = diff::diff_images(&old, None, &new, None).expect("diff");
    let l = &d.layers;
    assert_eq!((l.shared, l.old_only, l.new_only), (1, 1, 2));
    assert_eq!(l.diverge_at, Some(1));
    assert_eq!(l.rows.len(), 3);
    assert!(l.rows[0].same);
    let o0 = l.rows[0].old.as_ref().expect("old 0");
    let n0 = l.rows[0].new.as_ref().expect("new 0");
    assert_eq!(o0.diff_id, n0.diff_id);
    assert!(o0.shared && n0.shared);
    assert!(!l.rows[1].same);
    assert_eq!(
        l.rows[1].new.as_ref().map(|b| b.command.as_str()),
        Some("RUN build app v2")
    );
    assert!(l.rows[2].old.is_none());
    assert_eq!(
        d.new.size_bytes as i64 - d.old.size_bytes as i64,
        d.summary.size_delta_bytes
    );

    let cfg: Vec<String> = d
        .config
        .iter()
        .map(|c| {
            format!(
                "{} {} {:?} {:?}",
                c.status().marker(),
                c.field,
                c.old,
                c.new
            )
        })
        .collect();
    assert_eq!(
        cfg,
        vec![
            r#"+ user None Some("app")"#,
            r#"~ cmd Some("[\"sh\"]") Some("[\"python3\",\"/app/main.py\"]")"#,
            r#"~ env.PATH Some("/usr/bin") Some("/usr/local/bin:/usr/bin")"#,
            r#"~ labels.version Some("1") Some("2")"#,
            r#"+ exposed_ports.8080/tcp None Some("8080/tcp")"#,
        ]
    );
}

#[test]
fn chosen_layers_of_two_images() {
    let (old, new, _a, _b) = pair();
    // Both at layer 0: the shared base.
    let d = diff::diff_images(&old, Some(0), &new, Some(0)).expect("diff");
    assert!(d.tree.is_empty());
    assert_eq!(d.layers.diverge_at, None);
    assert_eq!(d.old.layer, Some(0));
    let e = diff::diff_images(&old, Some(2), &new, None).expect_err("out of range");
    assert!(e.to_string().contains("layer 2 out of range"), "{e}");
}

#[test]
fn two_layers_of_one_image() {
    let (_, new, _a, _b) = pair();
    let d = diff::diff_layers(&new, 0, 2).expect("diff");
    assert_eq!(
        lines(&d.tree),
        vec![
            "  / 6160->1620 -4540",
            "+ /app/ 0->410 +410",
            "+ /app/main.py 0->400 +400",
            "+ /app/new.txt 0->10 +10",
            "  /bin/ 1000->1000 +0",
            "~ /bin/sh 0->0 +0",
            "  /etc/ 110->160 +50",
            "~ /etc/passwd 100->150 +50",
            "  /usr/ 50->50 +0",
            "  /usr/bin/ 50->50 +0",
            "m /usr/bin/tool 50->50 +0",
            "  /var/ 5000->0 -5000",
            "- /var/cache/ 5000->0 -5000",
            "- /var/cache/big 5000->0 -5000",
        ]
    );
    assert!(d.config.is_empty());
    assert_eq!(d.layers.diverge_at, Some(1));
    assert_eq!((d.layers.shared, d.layers.new_only), (1, 2));
    // One layer against itself: nothing.
    assert!(diff::diff_layers(&new, 1, 1).expect("diff").is_identical());
    // Backwards works too: added becomes deleted.
    let back = diff::diff_layers(&new, 2, 1).expect("diff");
    assert_eq!(
        lines(&back.tree),
        vec![
            "  / 1620->1570 -50",
            "  /etc/ 160->110 -50",
            "~ /etc/passwd 150->100 -50"
        ]
    );
}

#[test]
fn a_type_change_lists_the_subtree() {
    let old = ImageBuilder::new()
        .layer(
            LayerBuilder::new("a")
                .file("x/one", b"1")
                .file("x/two", b"22"),
        )
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(LayerBuilder::new("a").file("x", b"now a file"))
        .docker_legacy();
    let (o, _) = load_bytes(&old);
    let (n, _) = load_bytes(&new);
    let d = diff::diff_images(&o, None, &n, None).expect("diff");
    assert_eq!(
        lines(&d.tree),
        vec![
            "  / 3->10 +7",
            "~ /x/ 3->10 +7",
            "- /x/one 1->0 -1",
            "- /x/two 2->0 -2",
        ]
    );
    // The implied directory had mode 0755, the file has 0644 (issue 11:
    // implied directories compare like explicit ones).
    assert_eq!(d.tree.entries[1].changed.names(), vec!["type", "mode"]);
}

#[test]
fn filters_select_paths_and_statuses() {
    let (old, new, _a, _b) = pair();
    let d = diff::diff_images(&old, None, &new, None).expect("diff");
    let shown = |f: &PathFilter| -> Vec<String> {
        d.tree
            .entries
            .iter()
            .zip(d.tree.keep_mask(f))
            .filter(|(_, k)| *k)
            .map(|(e, _)| e.path.clone())
            .collect()
    };
    let f = PathFilter::new(&["/app/**".into()], &[]).expect("filter");
    assert_eq!(shown(&f), vec!["/", "/app", "/app/main.py", "/app/new.txt"]);
    let f = PathFilter::new(&[], &["deleted,metadata".into()]).expect("filter");
    assert_eq!(
        shown(&f),
        vec![
            "/",
            "/usr",
            "/usr/bin",
            "/usr/bin/tool",
            "/var",
            "/var/cache",
            "/var/cache/big"
        ]
    );
    let f = PathFilter::new(&["*.py".into()], &["added".into()]).expect("filter");
    assert!(shown(&f).iter().all(|p| p == "/"));
    let e = PathFilter::new(&[], &["renamed".into()]).expect_err("bad status");
    assert_eq!(
        e.to_string(),
        "unknown status \"renamed\" (expected added, deleted, modified, metadata)"
    );
}

fn run(args: &[&str], a: &TempArchive, b: Option<&TempArchive>) -> (i32, String, String) {
    let mut c = bin();
    c.arg("diff").arg(&a.path);
    if let Some(b) = b {
        c.arg(&b.path);
    }
    let out = c.args(args).output().expect("run");
    let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout = stdout.replace(&a.path.display().to_string(), "OLD");
    if let Some(b) = b {
        stdout = stdout.replace(&b.path.display().to_string(), "NEW");
    }
    (
        out.status.code().unwrap_or(-1),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_text_lists_the_changes() {
    let (_, _, a, b) = pair();
    let (code, out, err) = run(&["--bytes"], &a, Some(&b));
    assert_eq!(code, 0, "{err}");
    let paths: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Paths:"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        paths,
        vec![
            "Paths: 1 added, 2 deleted, 3 modified, 1 metadata",
            "    /                     6460 →       1620        -4840",
            "    /app/                  300 →        410         +110",
            "  ~ /app/main.py           300 →        400         +100  content",
            "  + /app/new.txt                         10          +10",
            "    /bin/                 1000 →       1000",
            "  ~ /bin/sh                  0 →          0               link bash→dash",
            "    /etc/                  110 →        160          +50",
            "  ~ /etc/passwd            100 →        150          +50  content",
            "    /usr/                   50 →         50",
            "    /usr/bin/               50 →         50",
            "  m /usr/bin/tool           50 →         50               mode 0644→0755",
            "    /var/                 5000 →          0        -5000",
            "  - /var/cache/           5000                     -5000",
            "  - /var/cache/big        5000                     -5000",
        ]
    );
    assert!(out.starts_with("--- old: app:1 (OLD), linux/amd64, layer 1 of 2\n+++ new: app:2 (NEW), linux/amd64, layer 2 of 3\n"), "{out}");
    assert!(
        out.contains(
            "Layers: 1 shared, 1 only in old, 2 only in new; histories diverge at layer 1\n"
        ),
        "{out}"
    );
    assert!(out.contains("\nConfig:\n  + user: app\n  ~ cmd: [\"sh\"] → [\"python3\",\"/app/main.py\"]\n  ~ env.PATH: /usr/bin → /usr/local/bin:/usr/bin\n  ~ labels.version: 1 → 2\n  + exposed_ports.8080/tcp: 8080/tcp\n"), "{out}");
    assert!(out.contains("  Biggest growth:\n           +100  /app/main.py\n            +50  /etc/passwd\n            +10  /app/new.txt\nDifferent.\n"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when piped");
}

#[test]
fn cli_stat_filters_colour_and_exit_codes() {
    let (_, _, a, b) = pair();
    let (code, out, _) = run(&["--stat", "--bytes"], &a, Some(&b));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        concat!(
            " ~ /app/main.py   |  +100 +\n",
            " + /app/new.txt   |   +10 +\n",
            " ~ /bin/sh        |     0\n",
            " ~ /etc/passwd    |   +50 +\n",
            " m /usr/bin/tool  |     0\n",
            " - /var/cache/big | -5000 ----------------------------------------\n",
            " 6 paths changed, 1 added, 1 deleted, 3 modified, 1 metadata; -4840 (+160, -5000); image 6460 → 6770\n",
        )
    );
    let (code, out, _) = run(
        &["--stat", "--bytes", "--path", "/etc/**", "--exit-code"],
        &a,
        Some(&b),
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        " ~ /etc/passwd | +50 ++++++++++++++++++++++++++++++++++++++++\n 1 path changed, 0 added, 0 deleted, 1 modified, 0 metadata; +50 (+50, 0); image 6460 → 6770\n"
    );
    // Filters that match nothing: equal as far as --exit-code is concerned.
    let (code, _, _) = run(&["--path", "/etc/hosts", "--exit-code"], &a, Some(&b));
    assert_eq!(code, 0);
    let (code, out, _) = run(&["--status", "added", "--color", "always"], &a, Some(&b));
    assert_eq!(code, 0);
    assert!(out.contains("\x1b[32m  + /app/new.txt"), "{out}");
    assert!(!out.contains("/var/cache"), "{out}");
    let (code, _, _) = run(&["--exit-code"], &a, Some(&b));
    assert_eq!(code, 1);
    let (code, _, err) = run(&["--exit-code", "--to", "9"], &a, Some(&b));
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end().replace(&b.path.display().to_string(), "NEW"),
        "layerscope: new image: layer 9 out of range: NEW has 3 layers (0..2)"
    );
    let (code, _, err) = run(&["--status", "bogus"], &a, Some(&b));
    assert_eq!(code, 2);
    assert!(err.contains("unknown status \"bogus\""), "{err}");
}

#[test]
fn cli_json_schema() {
    let (_, _, a, b) = pair();
    let (code, out, err) = run(&["--format", "json"], &a, Some(&b));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["identical"], false);
    assert_eq!(v["old"]["name"], "app:1");
    assert_eq!(v["new"]["layer"], 2);
    assert_eq!(v["new"]["layer_count"], 3);
    assert_eq!(v["summary"]["paths"]["deleted"], 2);
    assert_eq!(v["summary"]["files_delta_bytes"], -4840);
    assert_eq!(v["summary"]["growth"][0]["path"], "/app/main.py");
    assert_eq!(v["layers"]["diverge_at"], 1);
    assert_eq!(v["layers"]["shared"], 1);
    assert_eq!(v["layers"]["rows"][0]["same"], true);
    assert_eq!(v["config"][0]["field"], "user");
    assert_eq!(v["config"][0]["status"], "added");
    assert_eq!(v["config"][0]["new"], "app");
    let paths = v["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 14);
    let sh = paths
        .iter()
        .find(|p| p["path"] == "/bin/sh")
        .expect("/bin/sh");
    assert_eq!(sh["status"], "modified");
    assert_eq!(sh["changed"], serde_json::json!(["link"]));
    assert_eq!(sh["old"]["link_target"], "bash");
    assert_eq!(sh["new"]["link_target"], "dash");
    let main = paths
        .iter()
        .find(|p| p["path"] == "/app/main.py")
        .expect("main");
    assert_eq!(main["old_bytes"], 300);
    assert_eq!(main["new_bytes"], 400);
    assert_eq!(main["delta_bytes"], 100);
    assert!(main["new"]["sha256"]
        .as_str()
        .expect("sha")
        .starts_with("sha256:"));
    assert_eq!(main["new"]["mode"], "0644");
    let var = paths.iter().find(|p| p["path"] == "/var").expect("var");
    assert_eq!(var["status"], "unchanged");
    assert_eq!(var["dir"], true);
    assert_eq!(var["totals"]["deleted"], 2);
    assert_eq!(var["totals"]["old_bytes"], 5000);
}

#[test]
fn cli_from_to_on_one_image() {
    let (_, _, _a, b) = pair();
    let (code, out, err) = run(&["--from", "1", "--to", "2", "--stat", "--bytes"], &b, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        " ~ /etc/passwd | +50 ++++++++++++++++++++++++++++++++++++++++\n 1 path changed, 0 added, 0 deleted, 1 modified, 0 metadata; +50 (+50, 0); image 6620 → 6770\n"
    );
    // The same file on both sides is read once and compared at the chosen layers.
    let (code, out2, _) = run(
        &["--from", "1", "--to", "2", "--stat", "--bytes"],
        &b,
        Some(&b),
    );
    assert_eq!(code, 0);
    assert_eq!(out2, out);
    let (code, _, err) = run(&["--stat"], &b, None);
    assert_eq!(code, 2);
    assert!(err.contains("give NEW, or --from LAYER"), "{err}");
    let (code, _, _) = run(&["--from", "2", "--exit-code"], &b, None);
    assert_eq!(code, 0);
}

#[test]
fn cli_reads_one_side_from_stdin() {
    let (_, _, a, b) = pair();
    let bytes = std::fs::read(&b.path).expect("read");
    let out = bin()
        .args(["diff", "--stat", "--bytes"])
        .arg(&a.path)
        .arg("-")
        .write_stdin(bytes)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 6 paths changed"));
    let out = bin().args(["diff", "-", "-"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "layerscope: only one side can be read from stdin (-)\n"
    );
}

#[test]
fn cli_selects_an_image_per_side() {
    let multi =
        layerscope_synth::oci_archive_multi_image(&[old_image(), new_image()], Compression::Gzip);
    let a = write_archive(&multi, "multi.tar");
    let out = bin()
        .args([
            "diff",
            "--stat",
            "--bytes",
            "--old-image",
            "app:1",
            "--new-image",
            "app:2",
        ])
        .arg(&a.path)
        .arg(&a.path)
        .output()
        .expect("run");
    common::assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 6 paths changed"));
}

fn ci(args: &[&str], new: &TempArchive, base: Option<&TempArchive>) -> (i32, String) {
    let mut c = bin();
    c.current_dir(new.dir.path());
    c.arg("ci")
        .arg(&new.path)
        .args(["--lowest-efficiency", "disabled"]);
    c.args(["--highest-user-wasted-percent", "disabled"]);
    if let Some(b) = base {
        c.arg("--baseline").arg(&b.path);
    }
    let out = c.args(args).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn results(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| *l != "Results:")
        .skip(1)
        .collect()
}

#[test]
fn ci_baseline_growth_rules() {
    // Baseline 6460 bytes in 2 layers; the new image 6770 in 3 (2 new), with
    // dive's wasted bytes 0 → 350.
    let (_, _, a, b) = pair();
    let (code, out) = ci(
        &[
            "--highest-size-growth",
            "1KB",
            "--highest-size-growth-percent",
            "10%",
            "--highest-added-layers",
            "1",
            "--highest-new-wasted-bytes",
            "0",
        ],
        &b,
        Some(&a),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  baseline: app:1 (2 layers, 6.31 KiB): growth +310 B (+4.7988 %), added layers 2, removed layers 1, new wasted bytes +350 B\n"), "{out}");
    assert_eq!(
        results(&out)[7..],
        [
            "  PASS: highestSizeGrowth (measured 310, threshold 1000)",
            "  PASS: highestSizeGrowthPercent (measured 0.047988, threshold 0.1)",
            "  FAIL: highestAddedLayers (measured 2, threshold 1): too many layers added (added-layers=2 > threshold=1)",
            "  FAIL: highestNewWastedBytes (measured 350, threshold 0): too many new bytes wasted (new-wasted-bytes=350 > threshold=0)",
            "Result:FAIL [Total:11] [Passed:2] [Failed:2] [Warn:0] [Skipped:7]",
        ]
    );
    let (code, out) = ci(
        &[
            "--highest-size-growth",
            "100",
            "--highest-size-growth-percent",
            "0.01",
        ],
        &b,
        Some(&a),
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        results(&out)[7..],
        [
            "  FAIL: highestSizeGrowth (measured 310, threshold 100): image grew too much (size-growth=310 > threshold=100)",
            "  FAIL: highestSizeGrowthPercent (measured 0.047988, threshold 0.01): image grew too much, relative to the baseline (size-growth-percent=0.047988 > threshold=0.01)",
            "  SKIP: highestAddedLayers: rule disabled",
            "  SKIP: highestNewWastedBytes: rule disabled",
            "Result:FAIL [Total:11] [Passed:0] [Failed:2] [Warn:0] [Skipped:9]",
        ]
    );
    // The other way round the image shrank: a growth limit of 0 passes.
    let (code, out) = ci(&["--highest-size-growth", "0"], &a, Some(&b));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  PASS: highestSizeGrowth (measured -310, threshold 0)\n"),
        "{out}"
    );
    // Rules in .dive-ci; a baseline equal to the image passes; JUnit and JSON.
    std::fs::write(
        b.dir.path().join(".dive-ci"),
        "rules:\n  highestSizeGrowth: 0\n  highestAddedLayers: 0\n",
    )
    .expect("write");
    let copy = write_archive(&std::fs::read(&b.path).expect("read"), "same.tar");
    let (code, out) = ci(&["--junit", "j.xml", "--json", "c.json"], &b, Some(&copy));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  PASS: highestSizeGrowth (measured 0, threshold 0)\n"),
        "{out}"
    );
    assert!(
        out.contains("  PASS: highestAddedLayers (measured 0, threshold 0)\n"),
        "{out}"
    );
    let junit = std::fs::read_to_string(b.dir.path().join("j.xml")).expect("junit");
    assert!(junit.contains("name=\"highestAddedLayers\""), "{junit}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.dir.path().join("c.json")).expect("json"))
            .expect("parse");
    assert_eq!(json["outcome"]["baseline"]["added_layers"], 0);
    assert_eq!(json["outcome"]["baseline"]["size_growth_bytes"], 0);
    // Without --baseline the configured growth rules are skipped, not failed.
    let (code, out) = ci(&[], &b, None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  SKIP: highestSizeGrowth: no baseline given\n"),
        "{out}"
    );
    assert!(!out.contains("highestSizeGrowthPercent"), "{out}");
}

#[test]
fn without_hashes_content_is_judged_by_size_and_mtime() {
    let old = ImageBuilder::new()
        .layer(
            LayerBuilder::new("a")
                .file("same-size", b"aaaa")
                .file("grown", b"a"),
        )
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(
            LayerBuilder::new("a")
                .mtime(1_800_000_000)
                .file("same-size", b"bbbb")
                .mtime(1_700_000_000)
                .file("grown", b"ab"),
        )
        .docker_legacy();
    let mut opts = layerscope::load::LoadOptions::default();
    opts.scan.hash_files = false;
    let a = write_archive(&old, "a.tar");
    let b = write_archive(&new, "b.tar");
    let o = load_with(&a.path, &opts).expect("old");
    let n = load_with(&b.path, &opts).expect("new");
    let d = diff::diff_images(&o, None, &n, None).expect("diff");
    assert_eq!(
        lines(&d.tree),
        vec!["  / 5->6 +1", "~ /grown 1->2 +1", "~ /same-size 4->4 +0"]
    );
}

#[test]
fn deep_paths_do_not_overflow_the_stack() {
    let deep: String = (0..3000).map(|i| format!("d{}/", i % 10)).collect();
    let old = ImageBuilder::new()
        .layer(LayerBuilder::new("a").file(&format!("{deep}f"), b"1"))
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(LayerBuilder::new("a").file(&format!("{deep}f"), b"22"))
        .docker_legacy();
    let (o, _) = load_bytes(&old);
    let (n, _) = load_bytes(&new);
    let d = diff::diff_images(&o, None, &n, None).expect("diff");
    assert_eq!(d.tree.entries.len(), 3002);
    assert_eq!(d.tree.counts().modified, 1);
    assert_eq!(d.summary.files_delta_bytes, 1);
}

/// Consecutive layer states differ exactly where the layer says it acted:
/// every changed path is in the layer's change set, and its added and
/// deleted paths are added and deleted in the diff.
fn check_consecutive_layers(l: &Loaded, what: &str) {
    use std::collections::HashMap;
    for k in 1..l.image.layers.len() {
        let d = diff::diff_layers(l, k - 1, k).expect("diff");
        let touched: HashMap<String, Status> = l
            .tree
            .layer_changes(k)
            .iter()
            .filter_map(|&id| Some((l.tree.path(id), l.tree.change_in(id, k)?.status)))
            .collect();
        let got: HashMap<&str, Status> = d
            .tree
            .changes()
            .map(|e| (e.path.as_str(), e.status))
            .collect();
        for (p, s) in &got {
            assert!(
                touched.contains_key(*p),
                "{what} layer {k}: {p} {s:?} not touched"
            );
        }
        for (p, s) in &touched {
            if matches!(s, Status::Added | Status::Deleted) {
                assert_eq!(got.get(p.as_str()), Some(s), "{what} layer {k}: {p}");
            }
        }
    }
}

#[test]
fn consecutive_layers_agree_with_the_change_sets() {
    let (l, _) = load_bytes(&layerscope_synth::sample_image().docker_legacy());
    check_consecutive_layers(&l, "sample");
    let Some(dir) = shared_fixtures() else { return };
    for name in ["dive-test-docker-image.tar", "tiny-umoci.docker.tar"] {
        let l = load_path(&dir.join(name)).expect("fixture");
        check_consecutive_layers(&l, name);
    }
}

#[test]
fn the_same_image_from_two_tools_is_identical() {
    // skopeo's docker-archive and oci-archive exports of one image.
    let Some(dir) = shared_fixtures() else { return };
    let a = load_path(&dir.join("tiny-umoci.docker.tar")).expect("docker");
    let b = load_path(&dir.join("tiny-umoci.oci.tar")).expect("oci");
    let d = diff::diff_images(&a, None, &b, None).expect("diff");
    assert!(d.tree.is_empty());
    assert_eq!(d.layers.shared, a.image.layers.len());
    assert_eq!(d.layers.diverge_at, None);
    assert!(d.is_identical(), "{:?}", d.config);
}

#[test]
fn cli_errors_are_one_line_with_exit_2() {
    let (_, _, a, _b) = pair();
    let out = bin()
        .args(["diff", "--exit-code"])
        .arg(&a.path)
        .arg("/nonexistent/new.tar")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("layerscope: /nonexistent/new.tar: "),
        "{err}"
    );
}

#[test]
fn cli_json_filters_limit_paths_not_the_summary() {
    let (_, _, a, b) = pair();
    let (code, out, _) = run(
        &["--format", "json", "--status", "deleted", "--exit-code"],
        &a,
        Some(&b),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let paths: Vec<&str> = v["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| p["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, vec!["/", "/var", "/var/cache", "/var/cache/big"]);
    assert_eq!(v["summary"]["paths"]["added"], 1);
}

#[test]
fn escape_sequences_in_paths_never_reach_the_terminal() {
    let old = ImageBuilder::new().layer(LayerBuilder::new("base").file("a", b"1"));
    let new = ImageBuilder::new().layer(
        LayerBuilder::new("base")
            .file("a", b"1")
            .raw_name(b"evil\x1b]52;c;aGk=\x07name", b"x"),
    );
    let o = write_archive(&old.docker_legacy(), "old.tar");
    let n = write_archive(&new.docker_legacy(), "new.tar");
    for args in [
        &["--color", "never"][..],
        &["--color", "never", "--stat"][..],
    ] {
        let out = bin()
            .arg("diff")
            .arg(&o.path)
            .arg(&n.path)
            .args(args)
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(text.contains("/evil\\u{1b}]52;c;aGk=\\u{7}name"), "{text}");
    }
}

/// Load two archives as a pair (as `diff` does): the loads, and how many
/// layers were replayed from the other side's scan instead of being read.
fn load_as_pair(
    a: &std::path::Path,
    b: &std::path::Path,
) -> (layerscope::Result<(Loaded, Option<Loaded>)>, usize) {
    use layerscope::load::{LoadOptions, Progress};
    use std::sync::atomic::Ordering;
    let opts = LoadOptions::default();
    let (pa, pb) = (Progress::default(), Progress::default());
    let res = layerscope::load::load_pair((a, &opts, &pa), Some((b, &opts, &pb)));
    let shared =
        pa.layers_shared.load(Ordering::Relaxed) + pb.layers_shared.load(Ordering::Relaxed);
    (res, shared)
}

/// What a load made: every layer's figures and the merged tree.
fn made(l: &Loaded) -> (String, Vec<String>, Vec<String>) {
    (
        format!("{:?}", l.image.layers),
        final_paths(l),
        (0..l.image.layers.len())
            .flat_map(|i| change_lines(l, i))
            .collect(),
    )
}

#[test]
fn a_pair_reads_each_shared_layer_once() {
    // See: issue #14 "diffing two tags downloads and parses each shared layer once".
    for (what, old, new) in [
        (
            "two OCI archives (by blob digest)",
            old_image().oci_archive(Compression::Gzip),
            new_image().oci_archive(Compression::Gzip),
        ),
        (
            "two docker-save archives (by diff ID)",
            old_image().docker_legacy(),
            new_image().docker_legacy(),
        ),
    ] {
        let a = write_archive(&old, "old.tar");
        let b = write_archive(&new, "new.tar");
        let (res, shared) = load_as_pair(&a.path, &b.path);
        let (old, new) = res.expect("pair");
        let new = new.expect("second side");
        assert_eq!(shared, 1, "{what}");
        // The same images as loaded apart.
        assert_eq!(
            made(&old),
            made(&load_path(&a.path).expect("old")),
            "{what}"
        );
        assert_eq!(
            made(&new),
            made(&load_path(&b.path).expect("new")),
            "{what}"
        );
        let d = diff::diff_images(&old, None, &new, None).expect("diff");
        assert_eq!(d.layers.shared, 1, "{what}");
    }

    // Different blobs of the same content (plain tar vs gzip) share nothing.
    let a = write_archive(&old_image().docker_legacy(), "old.tar");
    let b = write_archive(&new_image().oci_archive(Compression::Gzip), "new.tar");
    let (res, shared) = load_as_pair(&a.path, &b.path);
    assert!(res.is_ok());
    assert_eq!(shared, 0);
}

#[test]
fn a_pair_still_catches_a_tampered_copy_of_a_shared_layer() {
    // The new side is an OCI layout directory whose copy of the shared base
    // blob was changed (same size, same name): with the old side reading
    // that layer for both, the new side must still fail as it does alone.
    let a = write_archive(&old_image().oci_archive(Compression::Gzip), "old.tar");
    let dir = tempfile::tempdir().expect("tmp");
    tar::Archive::new(&new_image().oci_archive(Compression::Gzip)[..])
        .unpack(dir.path())
        .expect("unpack");
    let old = load_path(&a.path).expect("old");
    let base = old.image.layers[0].digest.clone();
    let blob = dir.path().join("blobs/sha256").join(&base[7..]);
    let mut bytes = std::fs::read(&blob).expect("blob");
    bytes[4] ^= 0x55; // the gzip header's time: still a valid stream
    std::fs::write(&blob, &bytes).expect("tamper");
    let alone = load_path(dir.path()).expect_err("tampered").to_string();
    assert!(alone.contains("blob digest mismatch"), "{alone}");
    for _ in 0..3 {
        let (res, _) = load_as_pair(&a.path, dir.path());
        let err = res.expect_err("tampered side").to_string();
        assert_eq!(err, alone);
    }
}
