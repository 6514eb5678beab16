//! Every input shape: docker save (legacy and Docker 25+), OCI archive and
//! layout directory, gzip/zstd/plain layers, stdin, several images and
//! platforms with selection.

mod common;

use common::*;
use layerscope::archive::Selector;
use layerscope::load::LoadOptions;
use layerscope_synth::{self as synth, Compression, ImageBuilder, LayerBuilder};

fn sample() -> ImageBuilder {
    ImageBuilder::new()
        .tag("demo/app:1.0")
        .env("PATH=/usr/bin")
        .cmd(&["/bin/app", "--serve"])
        .entrypoint(&["/entry.sh"])
        .label("org.example.team", "core")
        .expose("8080/tcp")
        .user("app")
        .workdir("/srv")
        .layer(
            LayerBuilder::new("ADD rootfs.tar /")
                .dir("bin")
                .file("bin/app", b"#!/bin/sh\necho app\n")
                .file("etc/conf", b"v1"),
        )
        .empty_layer("ENV PATH=/usr/bin")
        .layer(LayerBuilder::new("RUN update conf").file("etc/conf", b"v2"))
        .layer(LayerBuilder::new("RUN rm app").whiteout("bin/app"))
}

fn assert_sample(l: &layerscope::load::Loaded) {
    assert_eq!(l.image.layers.len(), 3);
    assert_eq!(
        change_lines(l, 0),
        [
            "/bin added",
            "/bin/app added",
            "/etc added",
            "/etc/conf added"
        ]
    );
    assert_eq!(change_lines(l, 1), ["/etc/conf modified"]);
    assert_eq!(change_lines(l, 2), ["/bin/app deleted"]);
    assert_eq!(l.image.layers[1].command, "RUN update conf");
    assert_eq!(l.image.layers[2].command, "RUN rm app");
    assert_eq!(l.image.history.len(), 4);
    assert!(l.image.history[1].empty_layer);
    let c = &l.image.config;
    assert_eq!(c.platform(), "linux/amd64");
    assert_eq!(c.cmd, ["/bin/app", "--serve"]);
    assert_eq!(c.entrypoint, ["/entry.sh"]);
    assert_eq!(c.env, ["PATH=/usr/bin"]);
    assert_eq!(c.user.as_deref(), Some("app"));
    assert_eq!(c.workdir.as_deref(), Some("/srv"));
    assert_eq!(c.exposed_ports, ["8080/tcp"]);
    assert_eq!(
        c.labels.get("org.example.team").map(String::as_str),
        Some("core")
    );
    for layer in &l.image.layers {
        assert!(layer.diff_id.starts_with("sha256:"));
        assert!(layer.digest.starts_with("sha256:"));
    }
}

#[test]
fn docker_save_legacy_layout() {
    let (l, _) = load_bytes(&sample().docker_legacy());
    assert_sample(&l);
    assert_eq!(l.image.layout, layerscope::archive::Layout::DockerLegacy);
    assert_eq!(l.image.name.as_deref(), Some("demo/app:1.0"));
    assert_eq!(
        l.image.layers[0].media_type,
        "application/vnd.docker.image.rootfs.diff.tar"
    );
}

#[test]
fn docker_save_oci_style_with_gzip_layers() {
    let (l, _) = load_bytes(&sample().docker_oci(Compression::Gzip));
    assert_sample(&l);
    assert_eq!(l.image.layout, layerscope::archive::Layout::DockerOci);
    assert!(l.image.manifest_digest.is_some());
    assert_eq!(
        l.image.layers[0].compression,
        layerscope::layer::Compression::Gzip
    );
    assert_eq!(
        l.image.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
}

#[test]
fn oci_archive_plain_gzip_zstd() {
    for (c, want) in [
        (Compression::None, layerscope::layer::Compression::None),
        (Compression::Gzip, layerscope::layer::Compression::Gzip),
        (Compression::Zstd, layerscope::layer::Compression::Zstd),
    ] {
        let (l, _) = load_bytes(&sample().oci_archive(c));
        assert_sample(&l);
        assert_eq!(l.image.layout, layerscope::archive::Layout::Oci);
        assert!(l.image.layers.iter().all(|x| x.compression == want));
        // Layer sizes do not depend on compression.
        assert_eq!(l.image.layers[0].size_bytes, 21);
    }
}

#[test]
fn oci_layout_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    sample()
        .oci_dir(Compression::Zstd, dir.path())
        .expect("write dir");
    let l = load_path(dir.path()).expect("load dir");
    assert_sample(&l);
}

#[test]
fn same_image_in_every_layout_gives_the_same_tree() {
    let a = load_bytes(&sample().docker_legacy());
    let b = load_bytes(&sample().oci_archive(Compression::Zstd));
    let c = load_bytes(&sample().docker_oci(Compression::Gzip));
    for i in 0..3 {
        assert_eq!(changes(&a.0, i), changes(&b.0, i));
        assert_eq!(changes(&a.0, i), changes(&c.0, i));
        assert_eq!(a.0.image.layers[i].diff_id, b.0.image.layers[i].diff_id);
    }
    assert_eq!(a.1.dive, b.1.dive);
}

#[test]
fn several_images_need_a_selection() {
    let one = ImageBuilder::new()
        .tag("one:latest")
        .layer(LayerBuilder::new("one").file("one", b"1"));
    let two = ImageBuilder::new()
        .tag("two:latest")
        .layer(LayerBuilder::new("two").file("two", b"2"));
    let bytes = synth::docker_legacy_multi(&[one.clone(), two.clone()]);
    let msg = load_err(&bytes);
    assert!(
        msg.starts_with("IMAGE: holds 2 images; choose one with --image"),
        "{msg}"
    );
    assert!(
        msg.contains("[0] one:latest") && msg.contains("[1] two:latest"),
        "{msg}"
    );
    let a = write_archive(&bytes, "multi.tar");
    let pick = |sel: &str| {
        let opts = LoadOptions {
            selector: Selector {
                image: Some(sel.into()),
                platform: None,
            },
            ..LoadOptions::default()
        };
        load_with(&a.path, &opts).map(|l| final_paths(&l))
    };
    assert_eq!(pick("two:latest").expect("by name"), ["/two"]);
    assert_eq!(pick("one").expect("by name without :latest"), ["/one"]);
    assert_eq!(pick("1").expect("by index"), ["/two"]);
    let err = pick("three").expect_err("no match").to_string();
    assert!(err.contains("no image matches --image three"), "{err}");

    let oci = synth::oci_archive_multi_image(&[one, two], Compression::Gzip);
    let o = write_archive(&oci, "multi-oci.tar");
    let opts = LoadOptions {
        selector: Selector {
            image: Some("two:latest".into()),
            platform: None,
        },
        ..LoadOptions::default()
    };
    assert_eq!(
        final_paths(&load_with(&o.path, &opts).expect("oci multi")),
        ["/two"]
    );
}

#[test]
fn multi_platform_index_picks_host_or_requested_platform() {
    let amd = ImageBuilder::new()
        .platform("linux", "amd64", None)
        .layer(LayerBuilder::new("amd").file("arch", b"amd64"));
    let arm = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer(LayerBuilder::new("arm").file("arch", b"arm64"));
    let bytes = synth::oci_archive_multi_platform(&[amd, arm], Compression::Gzip);
    let a = write_archive(&bytes, "multi-arch.tar");
    let with_platform = |p: Option<&str>| {
        let opts = LoadOptions {
            selector: Selector {
                image: None,
                platform: p.map(str::to_string),
            },
            ..LoadOptions::default()
        };
        load_with(&a.path, &opts)
    };
    let arm = with_platform(Some("linux/arm64")).expect("arm");
    assert_eq!(arm.image.config.platform(), "linux/arm64/v8");
    let err = with_platform(Some("linux/s390x"))
        .expect_err("none")
        .to_string();
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
    if layerscope::archive::host_platform() == "linux/amd64" {
        let host = with_platform(None).expect("host default");
        assert_eq!(host.image.config.architecture, "amd64");
    }
}

#[test]
fn wrong_media_type_still_reads_with_a_warning() {
    // docker_oci says +gzip; hand the reader a plain tar under that claim.
    let plain = sample().oci_archive(Compression::None);
    let (l, _) = load_bytes(&plain);
    assert!(l.image.warnings.is_empty(), "{:?}", l.image.warnings);
    let mut scan_warnings = Vec::new();
    let tar = LayerBuilder::new("x").file("a", b"a").tar_bytes();
    let s = layerscope::layer::scan(
        std::io::Cursor::new(&tar[..]),
        Some("application/vnd.oci.image.layer.v1.tar+gzip"),
        Default::default(),
        |_| {},
    )
    .expect("scan");
    scan_warnings.extend(s.warnings);
    assert_eq!(scan_warnings.len(), 1);
    assert!(
        scan_warnings[0].contains("says gzip but the data is uncompressed"),
        "{scan_warnings:?}"
    );
}

#[test]
fn no_hash_mode_seeks_over_bodies_and_agrees_on_the_sample() {
    let bytes = synth::sample_image().docker_legacy();
    let a = write_archive(&bytes, "sample.tar");
    let full = load_path(&a.path).expect("hashed");
    let mut opts = LoadOptions::default();
    opts.scan.hash_files = false;
    opts.scan.hash_layers = false;
    let fast = load_with(&a.path, &opts).expect("unhashed");
    for i in 0..full.image.layers.len() {
        assert_eq!(changes(&full, i), changes(&fast, i), "layer {i}");
        // digests come from the config when nothing is hashed
        assert_eq!(full.image.layers[i].diff_id, fast.image.layers[i].diff_id);
        assert_eq!(
            full.image.layers[i].tar_size_bytes,
            fast.image.layers[i].tar_size_bytes
        );
    }
    let id = fast.tree.lookup(b"/etc/passwd").expect("passwd");
    assert!(fast.tree.attrs_at(id, 0).expect("attrs").sha256.is_none());
}

#[test]
fn skopeo_dir_layout() {
    // `skopeo copy … dir:` = the image manifest as manifest.json and every
    // blob as a file named by its hex digest. Build one from an OCI layout.
    let oci = tempfile::tempdir().expect("tmp");
    sample()
        .oci_dir(Compression::Gzip, oci.path())
        .expect("oci dir");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.path().join("index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"][0]["digest"].as_str().expect("digest");
    let blob = |d: &str| {
        oci.path()
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = std::fs::read(blob(digest)).expect("manifest");
    std::fs::write(dir.path().join("manifest.json"), &manifest).expect("write");
    std::fs::write(
        dir.path().join("version"),
        "Directory Transport Version: 1.1\n",
    )
    .expect("write");
    for entry in std::fs::read_dir(oci.path().join("blobs/sha256")).expect("blobs") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dir.path().join(p.file_name().expect("name"))).expect("copy");
    }
    let l = load_path(dir.path()).expect("load skopeo dir");
    assert_sample(&l);
    assert_eq!(l.image.layout, layerscope::archive::Layout::SkopeoDir);
}

#[test]
fn xz_compressed_archive_names_the_compression() {
    let a = write_archive(&[0xfd, b'7', b'z', b'X', b'Z', 0, 1, 2], "image.tar.xz");
    let err = load_path(&a.path).expect_err("xz").to_string();
    assert!(err.ends_with("the archive is compressed with xz, which layerscope does not read; decompress it first (gzip and zstd are read directly)"), "{err}");
}
