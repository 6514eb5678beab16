//! Extraction (issue #7): never outside DIR, never through a symlink, never
//! over existing files without --force, sane modes; layers streamed once.
// See: issue #7.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use assert_cmd::Command;
use common::*;
use layerscope::extract::{extract, ExtractOptions};
use layerscope::tree::ROOT;
use layerscope_synth::{ImageBuilder, LayerBuilder};

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI");
    c
}

fn image() -> ImageBuilder {
    ImageBuilder::new()
        .tag("x:1")
        .layer(
            LayerBuilder::new("base")
                .file("etc/passwd", b"root\n")
                .file("etc/hosts", b"127.0.0.1\n")
                .file_with("bin/su", b"\x7fELF-su", 0o4755, 0, 0)
                .file_with("bin/tool", b"tool", 0o755, 0, 0)
                .hardlink("bin/tool-link", "bin/tool")
                .raw_name(b"../../../../escape", b"climb")
                .raw_name(b"/abs/file", b"absolute")
                .raw_name(b"odd\xffname", b"latin1")
                .symlink("etc/abs-link", "/etc/passwd")
                .symlink("etc/out-link", "../../../../../tmp/outside")
                .symlink("loop/a", "b")
                .symlink("loop/b", "a")
                .fifo("run/fifo")
                .char_device("dev/null", 1, 3)
                .hardlink("broken", "no/such/file"),
        )
        .layer(
            LayerBuilder::new("RUN edit")
                .file("etc/hosts", b"10.0.0.1 host\n")
                .whiteout("etc/passwd"),
        )
        .layer(LayerBuilder::new("RUN add").file("srv/data", &[5u8; 10_000]))
}

/// Everything below `dir`, relative, sorted (symlinks not followed).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            let rel = p
                .strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            let ft = e.file_type().expect("type");
            out.push(if ft.is_symlink() {
                format!(
                    "{rel} -> {}",
                    std::fs::read_link(&p).expect("link").display()
                )
            } else if ft.is_dir() {
                stack.push(p);
                format!("{rel}/")
            } else {
                rel
            });
        }
    }
    out.sort();
    out
}

#[test]
fn extracting_everything_stays_inside_and_streams_each_layer_once() {
    let (l, _a) = load_bytes_kept(&image().docker_legacy());
    let outer = tempfile::tempdir().expect("tempdir");
    let dest = outer.path().join("out");
    let r = extract(
        &l,
        ROOT,
        l.tree.final_layer(),
        &dest,
        &ExtractOptions::default(),
    )
    .expect("extract");
    assert_eq!(
        listing(&dest),
        [
            "abs/",
            "abs/file",
            "bin/",
            "bin/su",
            "bin/tool",
            "bin/tool-link",
            "dev/",
            "escape",
            "etc/",
            "etc/abs-link -> /etc/passwd",
            "etc/hosts",
            "etc/out-link -> ../../../../../tmp/outside",
            "loop/",
            "loop/a -> b",
            "loop/b -> a",
            "odd\u{fffd}name",
            "run/",
            "srv/",
            "srv/data",
        ]
    );
    // Nothing beside DIR.
    assert_eq!(
        listing(outer.path())
            .iter()
            .filter(|p| !p.starts_with("out"))
            .count(),
        0
    );
    // Final contents, the layer-1 version of hosts.
    assert_eq!(
        std::fs::read(dest.join("etc/hosts")).expect("hosts"),
        b"10.0.0.1 host\n"
    );
    assert_eq!(
        std::fs::read(dest.join("srv/data")).expect("data").len(),
        10_000
    );
    // setuid dropped by default; exec bits kept.
    let su = std::fs::metadata(dest.join("bin/su")).expect("su");
    assert_eq!(su.permissions().mode() & 0o7777, 0o755);
    // The hardlink is a real hard link.
    let a = std::fs::metadata(dest.join("bin/tool")).expect("tool");
    let b = std::fs::metadata(dest.join("bin/tool-link")).expect("link");
    assert_eq!(a.ino(), b.ino());
    assert_eq!(r.files, 7);
    assert_eq!(r.hardlinks, 1);
    assert_eq!(r.symlinks, 4);
    // Layers 1 and 2 hold final bytes of some files, layer 0 of others: three reads, not one per file.
    assert_eq!(r.layers_read, 3);
    let skipped = r.skipped.join("\n");
    assert!(
        skipped.contains("/run/fifo: FIFOs are not created"),
        "{skipped}"
    );
    assert!(
        skipped.contains("/dev/null: device nodes are not created"),
        "{skipped}"
    );
    assert!(
        skipped.contains("/broken: hardlink target is missing"),
        "{skipped}"
    );
    assert_eq!(
        r.warnings,
        ["2 symlinks point outside the extracted tree (created as they are, never followed)"]
    );
}

#[test]
fn keep_setuid_when_asked() {
    let (l, _a) = load_bytes_kept(&image().docker_legacy());
    let dest = tempfile::tempdir().expect("tempdir");
    let su = l.tree.lookup(b"/bin/su").expect("su");
    let opts = ExtractOptions {
        keep_setuid: true,
        ..ExtractOptions::default()
    };
    extract(&l, su, l.tree.final_layer(), dest.path(), &opts).expect("extract");
    let m = std::fs::metadata(dest.path().join("su")).expect("su");
    assert_eq!(m.permissions().mode() & 0o7777, 0o4755);
}

#[test]
fn an_earlier_layer_gives_earlier_contents() {
    let (l, _a) = load_bytes_kept(&image().docker_legacy());
    let dest = tempfile::tempdir().expect("tempdir");
    let etc = l.tree.lookup(b"/etc").expect("etc");
    extract(&l, etc, 0, dest.path(), &ExtractOptions::default()).expect("extract");
    assert_eq!(
        std::fs::read(dest.path().join("etc/passwd")).expect("p"),
        b"root\n"
    );
    assert_eq!(
        std::fs::read(dest.path().join("etc/hosts")).expect("h"),
        b"127.0.0.1\n"
    );
}

#[test]
fn never_overwrites_without_force_and_never_writes_through_symlinks() {
    let a = write_archive(&image().docker_legacy(), "img.tar");
    let outer = tempfile::tempdir().expect("tempdir");
    let dest = outer.path().join("out");
    let victim = outer.path().join("victim");
    std::fs::create_dir_all(dest.join("etc")).expect("mkdir");
    std::fs::create_dir(&victim).expect("victim");
    std::fs::write(dest.join("etc/hosts"), b"mine").expect("write");
    // A planted symlink where the image has a directory.
    std::os::unix::fs::symlink(&victim, dest.join("srv")).expect("symlink");

    let out = bin()
        .args(["extract"])
        .arg(&a.path)
        .args(["/", "--to"])
        .arg(&dest)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("already exists (use --force to overwrite)"),
        "{err}"
    );
    // Nothing was written: the check comes before any write.
    assert_eq!(
        std::fs::read(dest.join("etc/hosts")).expect("hosts"),
        b"mine"
    );
    assert!(!dest.join("bin").exists());

    let out = bin()
        .args(["extract"])
        .arg(&a.path)
        .args(["/", "--force", "--to"])
        .arg(&dest)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "extracted 7 files, 7 directories, 4 symlinks, 1 hardlinks (10044 bytes) to {}\n",
            dest.display()
        )
    );
    assert_eq!(
        std::fs::read(dest.join("etc/hosts")).expect("hosts"),
        b"10.0.0.1 host\n"
    );
    // The planted symlink was replaced by a real directory; the victim is untouched.
    assert!(std::fs::symlink_metadata(dest.join("srv"))
        .expect("srv")
        .is_dir());
    assert!(std::fs::read_dir(&victim).expect("victim").next().is_none());
}

#[test]
fn a_file_lands_under_its_name_and_bad_paths_are_errors() {
    let a = write_archive(&image().docker_legacy(), "img.tar");
    let dest = tempfile::tempdir().expect("tempdir");
    let out = bin()
        .args(["extract"])
        .arg(&a.path)
        .args(["/srv/data", "--to"])
        .arg(dest.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(dest.path().join("data")).expect("data").len(),
        10_000
    );

    let out = bin()
        .args(["extract"])
        .arg(&a.path)
        .args(["/nope", "--to"])
        .arg(dest.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).replace(&a.path.display().to_string(), "IMAGE");
    assert_eq!(err, "layerscope: IMAGE: /nope is not in the image\n");

    let out = bin()
        .args(["extract"])
        .arg(&a.path)
        .args(["/etc/passwd", "--to"])
        .arg(dest.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).replace(&a.path.display().to_string(), "IMAGE");
    assert_eq!(
        err,
        "layerscope: IMAGE: /etc/passwd does not exist after layer 2\n"
    );
}
