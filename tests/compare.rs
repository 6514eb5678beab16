//! One comparator: `report` (JSON per-layer statuses), `diff IMAGE --from A
//! --to B` (JSON), the explorer's range view (`m`) and the diff explorer
//! give every path the same status, with and without file hashes.
// See: issue 11 "The bug that the structure caused".
#![cfg(feature = "tui")]

mod common;

use std::collections::BTreeMap;

use assert_cmd::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use layerscope::load::LoadOptions;
use layerscope::tui::config::ThemeName;
use layerscope::tui::diff::pair::ImagePair;
use layerscope::tui::image_data::ImageData;
use layerscope::tui::state::AppState;
use layerscope::tui::update::{apply, Msg};
use layerscope_synth::{ImageBuilder, LayerBuilder};

/// Path → status, `unchanged` left out (each view lists unchanged paths
/// differently: context directories, identical rewrites, or not at all).
type Statuses = BTreeMap<String, String>;

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI").env_remove("NO_COLOR");
    c
}

fn json(args: &[&str], image: &std::path::Path, hash: bool) -> serde_json::Value {
    let mut c = bin();
    c.args(args).arg(image);
    if !hash {
        c.arg("--no-hash");
    }
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("json")
}

fn collect<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Statuses {
    pairs
        .filter(|(_, s)| *s != "unchanged")
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// What layer `to` did, from `report --format json` (only for `to = from + 1`).
fn report(image: &std::path::Path, to: usize, hash: bool) -> Statuses {
    let v = json(&["report", "--format", "json"], image, hash);
    let changes = v["layers"][to]["changes"].as_array().expect("changes");
    collect(changes.iter().map(|c| {
        (
            c["path"].as_str().expect("path"),
            c["status"].as_str().expect("status"),
        )
    }))
}

fn diff_cli(image: &std::path::Path, from: usize, to: usize, hash: bool) -> Statuses {
    let (f, t) = (from.to_string(), to.to_string());
    let v = json(
        &["diff", "--format", "json", "--from", &f, "--to", &t],
        image,
        hash,
    );
    let paths = v["paths"].as_array().expect("paths");
    collect(paths.iter().map(|p| {
        (
            p["path"].as_str().expect("path"),
            p["status"].as_str().expect("status"),
        )
    }))
}

fn press(s: &mut AppState, c: char) {
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

/// The explorer's range view: select layer `from`, `m`, select layer `to`.
fn range_view(image: &std::path::Path, from: usize, to: usize, hash: bool) -> Statuses {
    let loaded = common::load_with(image, &options(hash)).expect("load");
    let last = loaded.image.layers.len() - 1;
    let mut s = AppState::ready(
        ImageData::new(loaded),
        common::screen::config(ThemeName::None),
    );
    apply(&mut s, Msg::Resize(100, 30));
    (from..last).for_each(|_| press(&mut s, 'k'));
    press(&mut s, 'm');
    (from..to).for_each(|_| press(&mut s, 'j'));
    (to..from).for_each(|_| press(&mut s, 'k'));
    assert_eq!(s.layer(), to);
    let d = s.data.as_ref().expect("data");
    let tree = &d.loaded.tree;
    let pairs: Vec<(String, String)> = tree
        .ids()
        .skip(1)
        .filter_map(|id| {
            let st = s.info.status[id as usize]?;
            Some((tree.path(id), st.as_str().to_string()))
        })
        .collect();
    collect(pairs.iter().map(|(p, s)| (p.as_str(), s.as_str())))
}

/// The diff explorer on one image, layer `from` against layer `to`.
fn diff_explorer(image: &std::path::Path, from: usize, to: usize, hash: bool) -> Statuses {
    let loaded = common::load_with(image, &options(hash)).expect("load");
    let d = ImagePair::build(loaded, None, Some(from), Some(to)).expect("diff");
    collect(
        d.diff
            .tree
            .entries
            .iter()
            .map(|e| (e.path.as_str(), e.status.as_str())),
    )
}

fn options(hash: bool) -> LoadOptions {
    let mut o = LoadOptions::default();
    o.scan.hash_files = hash;
    o.scan.hash_layers = hash;
    o
}

/// Every view agrees on the net change from `from` to `to`; returns it.
fn agree(bytes: &[u8], from: usize, to: usize, hash: bool) -> Statuses {
    let a = common::write_archive(bytes, "image.tar");
    let diff = diff_cli(&a.path, from, to, hash);
    assert_eq!(
        range_view(&a.path, from, to, hash),
        diff,
        "range view vs diff --from {from} --to {to} (hash {hash})"
    );
    assert_eq!(
        diff_explorer(&a.path, from, to, hash),
        diff,
        "diff explorer vs diff --from {from} --to {to} (hash {hash})"
    );
    if to == from + 1 {
        assert_eq!(
            report(&a.path, to, hash),
            diff,
            "report layer {to} vs diff --from {from} --to {to} (hash {hash})"
        );
    }
    diff
}

fn statuses(pairs: &[(&str, &str)]) -> Statuses {
    pairs
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// Issue 11's image: layer 0 has `a/x` and `d/f` (so `/d` is implied);
/// layer 1 re-ships `a/x` with the same bytes and a new mtime and adds an
/// explicit `d` with mode 0700.
fn issue_image() -> ImageBuilder {
    ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("a/x", b"same bytes")
                .file("d/f", b"f"),
        )
        .layer(
            LayerBuilder::new("touch")
                .mtime(1_800_000_000)
                .file("a/x", b"same bytes")
                .dir_with("d", 0o700, 0, 0),
        )
}

#[test]
fn the_issue_image_has_one_status_per_path_everywhere() {
    let bytes = issue_image().docker_legacy();
    // With hashes the bytes decide: /a/x is unchanged; the implied /d had
    // mode 0755, so the explicit 0700 is a metadata change.
    assert_eq!(agree(&bytes, 0, 1, true), statuses(&[("/d", "metadata")]));
    // Without hashes size and mtime stand in for the bytes: a new mtime
    // is a modification.
    assert_eq!(
        agree(&bytes, 0, 1, false),
        statuses(&[("/a/x", "modified"), ("/d", "metadata")])
    );
    // Backwards, the same changes seen from the other side.
    assert_eq!(agree(&bytes, 1, 0, true), statuses(&[("/d", "metadata")]));
}

#[test]
fn implied_and_explicit_directories_links_and_owners_agree() {
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("same/f", b"1")
                .file("owner/f", b"2")
                .file_with("bin/tool", b"tool", 0o644, 0, 0)
                .file("lib/real", b"real")
                .hardlink("lib/hard", "lib/real")
                .symlink("lib/soft", "real")
                .file("gone/f", b"3")
                .file("swap", b"file first"),
        )
        .layer(
            LayerBuilder::new("change")
                // Explicit with what extraction gives an implied one: unchanged.
                .dir("same")
                .dir_with("owner", 0o755, 1000, 1000)
                .file_with("bin/tool", b"tool", 0o755, 0, 0)
                .file("lib/other", b"other")
                .hardlink("lib/hard", "lib/other")
                .symlink("lib/soft", "other")
                .whiteout("gone")
                .whiteout("swap")
                .file("swap/inner", b"now a dir"),
        )
        .docker_legacy();
    let want = statuses(&[
        ("/bin/tool", "metadata"),
        ("/gone", "deleted"),
        ("/gone/f", "deleted"),
        ("/lib/hard", "modified"),
        ("/lib/other", "added"),
        ("/lib/soft", "modified"),
        ("/owner", "metadata"),
        ("/swap", "modified"),
        ("/swap/inner", "added"),
    ]);
    assert_eq!(agree(&bytes, 0, 1, true), want);
    assert_eq!(agree(&bytes, 0, 1, false), want);
}

#[test]
fn a_change_undone_in_a_later_layer_is_no_net_change() {
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("etc/conf", b"v1")
                .file("d/f", b"f"),
        )
        .layer(
            LayerBuilder::new("change")
                .file("etc/conf", b"v2")
                .dir_with("d", 0o700, 0, 0),
        )
        .layer(
            LayerBuilder::new("undo")
                .file("etc/conf", b"v1")
                .dir_with("d", 0o755, 0, 0),
        )
        .docker_legacy();
    assert_eq!(
        agree(&bytes, 0, 1, true),
        statuses(&[("/d", "metadata"), ("/etc/conf", "modified")])
    );
    assert_eq!(
        agree(&bytes, 1, 2, true),
        statuses(&[("/d", "metadata"), ("/etc/conf", "modified")])
    );
    // Same bytes and mode again after two layers: nothing changed net.
    assert_eq!(agree(&bytes, 0, 2, true), statuses(&[]));
    // Without hashes the same bytes at the same mtime are the same too.
    assert_eq!(agree(&bytes, 0, 2, false), statuses(&[]));
}
