//! Replay semantics: statuses, whiteouts, opaque dirs, links, odd names.
//! Archives are built in code with `layerscope_synth`.

mod common;

use common::*;
use layerscope_synth::{ImageBuilder, LayerBuilder};

fn img(layers: Vec<LayerBuilder>) -> Vec<u8> {
    let mut b = ImageBuilder::new();
    for l in layers {
        b = b.layer(l);
    }
    b.docker_legacy()
}

#[test]
fn statuses_for_add_modify_metadata_unchanged_delete() {
    let bytes = img(vec![
        LayerBuilder::new("base")
            .dir("etc")
            .file("etc/a", b"one")
            .file("etc/b", b"bee")
            .file("etc/c", b"sea")
            .file("etc/d", b"dee"),
        LayerBuilder::new("change")
            .file("etc/a", b"two")
            .file_with("etc/b", b"bee", 0o600, 0, 0)
            .file("etc/c", b"sea")
            .whiteout("etc/d")
            .file("etc/e", b"new"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(
        change_lines(&l, 0),
        [
            "/etc added",
            "/etc/a added",
            "/etc/b added",
            "/etc/c added",
            "/etc/d added"
        ]
    );
    assert_eq!(
        change_lines(&l, 1),
        [
            "/etc/a modified",
            "/etc/b metadata",
            "/etc/c unchanged",
            "/etc/d deleted",
            "/etc/e added"
        ]
    );
    assert_eq!(
        final_paths(&l),
        ["/etc", "/etc/a", "/etc/b", "/etc/c", "/etc/e"]
    );
}

#[test]
fn whiteout_of_a_directory_lists_every_path_below_it() {
    let bytes = img(vec![
        LayerBuilder::new("base")
            .dir("data")
            .dir("data/old")
            .file("data/old/1.txt", b"1")
            .dir("data/old/nested")
            .file("data/old/nested/2.txt", b"22"),
        LayerBuilder::new("rm").whiteout("data/old"),
    ]);
    let (l, a) = load_bytes(&bytes);
    assert_eq!(
        change_lines(&l, 1),
        [
            "/data/old deleted",
            "/data/old/1.txt deleted",
            "/data/old/nested deleted",
            "/data/old/nested/2.txt deleted"
        ]
    );
    assert_eq!(final_paths(&l), ["/data"]);
    // layerscope counts the deleted directory's bytes as reclaimable; dive
    // counts the whiteout once with the directory's size.
    assert_eq!(a.corrected.reclaimable_bytes, 3);
    assert_eq!(a.layers[1].deleted.count, 4);
    assert_eq!(a.layers[1].deleted.bytes, 3);
}

#[test]
fn opaque_directory_hides_lower_entries_and_keeps_its_own() {
    let bytes = img(vec![
        LayerBuilder::new("base")
            .dir("srv")
            .file("srv/keep.txt", b"k")
            .dir("srv/a")
            .file("srv/a/1", b"1"),
        LayerBuilder::new("opaque")
            .dir("srv")
            .opaque("srv")
            .file("srv/fresh.txt", b"f")
            .file("srv/keep.txt", b"k"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(
        change_lines(&l, 1),
        [
            "/srv unchanged",
            "/srv/a deleted",
            "/srv/a/1 deleted",
            "/srv/fresh.txt added",
            // deleted by the opaque marker and re-created by the same layer
            "/srv/keep.txt modified"
        ]
    );
    assert_eq!(final_paths(&l), ["/srv", "/srv/fresh.txt", "/srv/keep.txt"]);
}

#[test]
fn whiteout_then_recreate_in_one_layer_is_modified() {
    let bytes = img(vec![
        LayerBuilder::new("base").file("x", b"same"),
        LayerBuilder::new("again").whiteout("x").file("x", b"same"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(change_lines(&l, 1), ["/x modified"]);
    assert_eq!(final_paths(&l), ["/x"]);
}

#[test]
fn implicit_parents_repeated_entries_and_type_changes() {
    let bytes = img(vec![
        LayerBuilder::new("base")
            .file("a/b/c.txt", b"first")
            .file("a/b/c.txt", b"second")
            .dir("d")
            .file("d/inner", b"i"),
        // a file replacing a directory removes what was below it
        LayerBuilder::new("swap").file("d", b"now a file"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(
        change_lines(&l, 0),
        [
            "/a added",
            "/a/b added",
            "/a/b/c.txt added",
            "/d added",
            "/d/inner added"
        ]
    );
    let id = l.tree.lookup(b"/a/b/c.txt").expect("path");
    assert_eq!(
        l.tree.attrs_at(id, 0).expect("attrs").size,
        6,
        "last entry wins"
    );
    assert!(l
        .tree
        .attrs_at(l.tree.lookup(b"/a").expect("a"), 0)
        .expect("a")
        .implicit());
    assert_eq!(change_lines(&l, 1), ["/d modified", "/d/inner deleted"]);
}

#[test]
fn links_devices_and_odd_names_are_kept() {
    let long = format!("deep/{}/file.txt", "n".repeat(150));
    let bytes = img(vec![LayerBuilder::new("base")
        .file("bin/tool", b"binary!")
        .hardlink("bin/tool-link", "bin/tool")
        .symlink("bin/sl", "/bin/tool")
        .symlink("loop-a", "loop-b")
        .symlink("loop-b", "loop-a")
        .fifo("run/pipe")
        .char_device("dev/null", 1, 3)
        .file(&long, b"long")
        .raw_name(b"odd/\xff\xfename", b"bytes")]);
    let (l, a) = load_bytes(&bytes);
    let t = &l.tree;
    let hl = t
        .attrs_at(t.lookup(b"/bin/tool-link").expect("hl"), 0)
        .expect("attrs");
    let tool = t
        .attrs_at(t.lookup(b"/bin/tool").expect("tool"), 0)
        .expect("attrs");
    assert_eq!(hl.kind, layerscope::layer::Kind::Hardlink);
    assert_eq!(
        hl.sha256, tool.sha256,
        "hardlink resolved to its target's content"
    );
    assert_eq!(
        hl.size, 0,
        "a hardlink's bytes are counted once, at the target"
    );
    let sl = t
        .attrs_at(t.lookup(b"/bin/sl").expect("sl"), 0)
        .expect("attrs");
    assert_eq!(t.link(sl), Some(&b"/bin/tool"[..]));
    assert_eq!(
        t.attrs_at(t.lookup(b"/run/pipe").expect("fifo"), 0)
            .expect("a")
            .kind,
        layerscope::layer::Kind::Fifo
    );
    assert!(t.lookup(long.as_bytes()).is_some(), "long names kept whole");
    let odd = t
        .lookup(b"/odd/\xff\xfename")
        .expect("non-UTF-8 name kept exactly");
    assert_eq!(t.path(odd), "/odd/\u{fffd}\u{fffd}name");
    assert_eq!(a.corrected.final_files, 3);
    assert_eq!(a.corrected.final_bytes, 7 + 4 + 5);
}

#[test]
fn dotdot_and_absolute_entry_names_stay_inside_the_root() {
    let bytes = img(vec![LayerBuilder::new("evil")
        .raw_name(b"../../etc/passwd", b"x")
        .raw_name(b"/abs/file", b"y")
        .raw_name(b"./a/../b", b"z")]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(
        final_paths(&l),
        ["/abs", "/abs/file", "/b", "/etc", "/etc/passwd"]
    );
    assert!(
        l.image.warnings.iter().any(|w| w.contains("'..'")),
        "warned: {:?}",
        l.image.warnings
    );
}

#[test]
fn whiteout_of_a_missing_path_is_a_warning_not_an_error() {
    let bytes = img(vec![
        LayerBuilder::new("base").file("a", b"a"),
        LayerBuilder::new("rm").whiteout("nothing-here"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert!(change_lines(&l, 1).is_empty());
    assert!(l
        .image
        .warnings
        .iter()
        .any(|w| w.contains("1 whiteouts name paths")));
}

#[test]
fn wide_and_deep_trees_do_not_overflow() {
    let mut deep = String::new();
    for i in 0..2000 {
        deep.push_str(&format!("d{i}/"));
    }
    deep.push_str("leaf");
    let mut wide = LayerBuilder::new("wide");
    for i in 0..20_000 {
        wide = wide.file(&format!("w/{i}"), b"");
    }
    let bytes = img(vec![
        LayerBuilder::new("deep").file(&deep, b"x"),
        wide,
        LayerBuilder::new("rm").whiteout("d0").whiteout("w"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(changes(&l, 2).len(), 2001 + 20_001);
    assert!(final_paths(&l).is_empty());
}

#[test]
fn file_content_is_read_back_in_a_bounded_window() {
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("a.txt", b"old")
                .file("big.bin", &big),
        )
        .layer(
            LayerBuilder::new("new")
                .file("a.txt", b"first")
                .file("a.txt", b"newer")
                .hardlink("b.txt", "a.txt"),
        )
        .oci_archive(layerscope_synth::Compression::Gzip);
    let (l, _keep) = load_bytes_kept(&bytes);
    let a = l.tree.lookup(b"/a.txt").expect("a");
    let w = layerscope::content::read_window(&l, a, 0, 0, 100).expect("read");
    assert_eq!(w.bytes, b"old");
    let w = layerscope::content::read_window(&l, a, 1, 0, 100).expect("read");
    assert_eq!(w.bytes, b"newer", "the last entry of a layer wins");
    let b = l.tree.lookup(b"/b.txt").expect("b");
    assert_eq!(
        layerscope::content::read_window(&l, b, 1, 1, 3)
            .expect("hl")
            .bytes,
        b"ewe"
    );
    let big_id = l.tree.lookup(b"/big.bin").expect("big");
    let w = layerscope::content::read_window(&l, big_id, 1, 99_990, 4096).expect("tail");
    assert_eq!(w.total_size, 100_000);
    assert_eq!(w.bytes, &big[99_990..]);
    let dir = l.tree.lookup(b"/").expect("root");
    assert!(layerscope::content::read_window(&l, dir, 1, 0, 10).is_err());
}

/// A GNU tar `--sparse` file in either encoding: 64 KiB of hole, then "tail".
fn sparse_expected() -> (u64, String) {
    let mut content = vec![0u8; 65_536];
    content.extend_from_slice(b"tail");
    (65_540, layerscope_synth::sha256_hex(&content))
}

fn scan_one(tar: Vec<u8>) -> layerscope::layer::RawEntry {
    let s = layerscope::layer::scan(std::io::Cursor::new(tar), None, Default::default(), |_| {})
        .expect("scan");
    assert_eq!(s.entries.len(), 1, "{:?}", s.entries);
    s.entries.into_iter().next().expect("one")
}

// See: real archives check (GNU tar --format=pax --sparse read as
// /GNUSparseFile.N/name with the stored size).
#[test]
fn pax_sparse_files_keep_their_name_size_and_content() {
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([
        ("GNU.sparse.major", &b"1"[..]),
        ("GNU.sparse.minor", b"0"),
        ("GNU.sparse.name", b"pax-sparse.img"),
        ("GNU.sparse.realsize", b"65540"),
    ])
    .expect("pax");
    let mut data = b"1\n65536\n4\n".to_vec();
    data.resize(512, 0);
    data.extend_from_slice(b"tail");
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "GNUSparseFile.0/pax-sparse.img", &data[..])
        .expect("append");
    let e = scan_one(b.into_inner().expect("tar"));
    let (size, sha) = sparse_expected();
    assert_eq!(&e.path[..], b"pax-sparse.img");
    assert_eq!(e.kind, layerscope::layer::Kind::File);
    assert_eq!(e.size, size);
    assert_eq!(hex::encode(e.sha256.expect("hashed")), sha);
}

#[test]
fn gnu_sparse_files_are_regular_files_of_their_logical_size() {
    let mut h = tar::Header::new_gnu();
    h.set_path("gnu-sparse.img").expect("path");
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(4); // stored bytes: the one data chunk "tail"
    {
        let g = h.as_gnu_mut().expect("gnu");
        g.sparse[0].set_offset(65_536);
        g.sparse[0].set_length(4);
        g.set_real_size(65_540);
    }
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    let mut block = b"tail".to_vec();
    block.resize(512, 0);
    tar.extend_from_slice(&block);
    tar.extend_from_slice(&[0u8; 1024]);
    let e = scan_one(tar);
    let (size, sha) = sparse_expected();
    assert_eq!(e.kind, layerscope::layer::Kind::File);
    assert_eq!(e.size, size);
    assert_eq!(hex::encode(e.sha256.expect("hashed")), sha);
}

// dive sums tar header sizes of a deleted directory's entries, and some
// writers give hardlinks the target's size; that size is kept aside from the
// per-entry attributes (see: memory work, issue 6).
#[test]
fn a_hardlinks_header_size_counts_in_dives_whiteout_size() {
    use layerscope::layer::{Action, Kind, RawEntry};
    let e = |path: &str, kind: Kind, size: u64, action: Action, link: Option<&str>| RawEntry {
        path: path.as_bytes().into(),
        action,
        kind,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        link: link.map(|l| l.as_bytes().into()),
        sha256: None,
    };
    let mut r = layerscope::tree::Replay::new();
    r.apply(&[
        e("d", Kind::Dir, 0, Action::Put, None),
        e("d/f", Kind::File, 100, Action::Put, None),
        e("d/h", Kind::Hardlink, 7, Action::Put, Some("d/f")),
    ]);
    r.apply(&[e("d", Kind::Dir, 0, Action::Whiteout, None)]);
    let (tree, dive) = r.finish();
    let d = tree.lookup(b"/d").expect("d");
    let h = tree.lookup(b"/d/h").expect("h");
    // Content bytes count once, at the target; the header size is dive's.
    assert_eq!(tree.attrs_at(h, 0).map(|a| a.size), Some(0));
    assert_eq!(tree.tar_size(tree.change_in(h, 0).expect("v")), 7);
    // /d is a leaf of layer 1 only (the whiteout), sized 100 + 7.
    assert_eq!(dive.get(d), (107, 107, 1));
}

/// kaniko writes directory modes with the type bits (`040700`); a later
/// layer re-shipping the directory as `0700` changed the stored mode field,
/// and the reference figures (the shared kaniko fixture) count it as
/// metadata. The comparator keeps the 16 stored bits for that reason.
#[test]
fn mode_type_bits_change_is_metadata() {
    let bytes = img(vec![
        LayerBuilder::new("base").dir_with("root", 0o040700, 0, 0),
        LayerBuilder::new("again")
            .dir_with("root", 0o700, 0, 0)
            .file("root/x", b"x"),
    ]);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(change_lines(&l, 1), ["/root metadata", "/root/x added"]);
}
