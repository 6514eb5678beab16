//! Extraction (issue #7): never outside DIR, never through a symlink, never
//! over existing files without --force, sane modes; layers streamed once.
// See: issue #7.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use assert_cmd::Command;
use common::*;
use layerscope::extract::{extract, Options};
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
    let r = extract(&l, ROOT, l.tree.final_layer(), &dest, &Options::default()).expect("extract");
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
    let opts = Options {
        keep_setuid: true,
        ..Options::default()
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
    extract(&l, etc, 0, dest.path(), &Options::default()).expect("extract");
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
    common::assert_success(&out);
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

/// A process that can write into DIR while `extract` runs keeps swapping
/// `DIR/d` (a directory the image fills with thousands of files) for a
/// symlink to a sibling directory, and back. Whatever the timing, nothing
/// may land in the sibling and its mode must not change: the extraction
/// either finishes inside DIR or stops with a one-line error.
// See: issue #12 ("Extraction under concurrent change").
#[test]
fn issue_12_a_directory_swapped_for_a_symlink_mid_extraction_writes_nothing_outside() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let mut layer = LayerBuilder::new("many").dir_with("d", 0o755, 0, 0);
    for i in 0..1_500 {
        layer = layer.file(&format!("d/f{i:05}"), b"payload");
    }
    for i in 0..300 {
        layer = layer.file(&format!("d/sub/g{i:05}"), b"payload");
    }
    let (l, _a) = load_bytes_kept(&ImageBuilder::new().tag("x:1").layer(layer).docker_legacy());
    let d = l.tree.lookup(b"/d").expect("d");

    let mut outcomes = Vec::new();
    for round in 0..6 {
        let outer = tempfile::tempdir().expect("tempdir");
        let dest = outer.path().join("out");
        let outside = outer.path().join("outside");
        std::fs::create_dir(&dest).expect("dest");
        std::fs::create_dir(&outside).expect("outside");
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o700)).expect("chmod");

        let stop = Arc::new(AtomicBool::new(false));
        // A symlink to the sibling, swapped with DIR/d atomically
        // (renameat2 RENAME_EXCHANGE), so the name is never missing: it is
        // always either the real directory or the link.
        std::os::unix::fs::symlink(&outside, dest.join("lnk")).expect("symlink");
        let racer = {
            let (stop, dest) = (stop.clone(), dest.clone());
            std::thread::spawn(move || {
                let cwd = rustix::fs::CWD;
                let (d, lnk) = (dest.join("d"), dest.join("lnk"));
                let swap = || {
                    rustix::fs::renameat_with(cwd, &d, cwd, &lnk, rustix::fs::RenameFlags::EXCHANGE)
                        .is_ok()
                };
                let mut swaps = 0u64;
                // Odd rounds wait until files are being written, as an
                // attacker watching DIR would; even rounds swap from the start.
                while round % 2 == 1
                    && !stop.load(Ordering::Relaxed)
                    && !std::fs::read_dir(&d).is_ok_and(|mut r| r.next().is_some())
                {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                while !stop.load(Ordering::Relaxed) {
                    if swap() {
                        swaps += 1;
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        // Back, so the extractor meets both states.
                        while !swap() && !stop.load(Ordering::Relaxed) {}
                    }
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                swaps
            })
        };
        let r = extract(&l, d, l.tree.final_layer(), &dest, &Options::default());
        stop.store(true, Ordering::Relaxed);
        let swaps = racer.join().expect("racer");
        let written = listing(&outside);
        assert!(
            written.is_empty(),
            "round {round}: {} paths written outside DIR ({swaps} swaps), e.g. {:?}",
            written.len(),
            &written[..written.len().min(3)]
        );
        let mode = std::fs::metadata(&outside)
            .expect("outside")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o7777,
            0o700,
            "round {round}: the sibling's mode changed"
        );
        match r {
            Ok(rep) => outcomes.push(format!("ok {} files", rep.files)),
            Err(e) => {
                let msg = e.to_string();
                assert_eq!(msg.lines().count(), 1, "{msg}");
                outcomes.push(format!("error: {msg}"));
            }
        }
    }
    eprintln!("{outcomes:#?}");
}

/// A destination that is a file (or lies below one) is named as such, not
/// `File exists (os error 17)`, and nothing is written.
// See: issue #15 ("Extract from the TUI").
#[test]
fn issue_15_a_destination_that_is_a_file_is_named() {
    let a = write_archive(&image().docker_legacy(), "img.tar");
    let outer = tempfile::tempdir().expect("tempdir");
    let file = outer.path().join("file");
    std::fs::write(&file, b"mine").expect("write");
    for dest in [file.clone(), file.join("below")] {
        let out = bin()
            .args(["extract"])
            .arg(&a.path)
            .args(["/etc", "--to"])
            .arg(&dest)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("layerscope: {}: is not a directory\n", file.display())
        );
    }
    assert_eq!(std::fs::read(&file).expect("file"), b"mine");
}

/// An extraction that fails after writing says what it left behind, and
/// removes nothing: here bytes of the archive change between loading and
/// extracting, so the content check fails after the files are written.
// See: issue #12 ("A failed extraction removes nothing the user had, but
// says what it left behind").
#[test]
fn issue_12_a_failed_extraction_says_what_it_left_behind() {
    let bytes = ImageBuilder::new()
        .tag("x:1")
        .layer(LayerBuilder::new("one").file("a/x", b"first layer"))
        .layer(LayerBuilder::new("two").file("z/y", b"original bytes"))
        .docker_legacy();
    let (l, a) = load_bytes_kept(&bytes);
    let at = bytes
        .windows(14)
        .position(|w| w == b"original bytes")
        .expect("content");
    let mut changed = bytes.clone();
    changed[at..at + 14].copy_from_slice(b"tampered bytes");
    std::fs::write(&a.path, &changed).expect("change archive");

    let outer = tempfile::tempdir().expect("tempdir");
    let dest = outer.path().join("out");
    std::fs::create_dir(&dest).expect("dest");
    std::fs::write(dest.join("mine"), b"mine").expect("mine");
    let err = extract(&l, ROOT, 1, &dest, &Options::default())
        .expect_err("content changed")
        .to_string();
    let d = dest.display();
    assert_eq!(
        err,
        format!(
            "{d}/z/y: content of /z/y differs from what was loaded (the archive changed?); \
             stopped part-way in {d}: 2 directories, 2 files and 0 links it created are left \
             as they are; nothing that was there before was changed"
        )
    );
    assert_eq!(listing(&dest), ["a/", "a/x", "mine", "z/", "z/y"]);
    assert_eq!(std::fs::read(dest.join("mine")).expect("mine"), b"mine");
}
