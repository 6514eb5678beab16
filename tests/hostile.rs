//! Issue #7 "Hostile input": a corpus of malformed and nasty archives, built
//! here in code, each run through the real binary (one-line error, exit 2,
//! no panic) or the library (faithful, safe results).
// See: issue #7.

mod common;

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use common::*;
use layerscope::load::LoadOptions;
use layerscope_synth::{
    self as synth, Compression, Descriptor, ImageBuilder, LayerBuilder, OuterTar,
};

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI");
    c
}

/// Run `report` on a path; assert exit 2 and exactly one clean stderr line
/// containing every `want`; return that line with the path replaced by IMAGE.
fn fails_path(path: &Path, extra: &[&str], want: &[&str]) -> String {
    let out = bin()
        .arg("report")
        .arg(path)
        .args(extra)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "no partial report on stdout");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("layerscope: "), "{stderr}");
    assert!(
        !stderr.trim_end().chars().any(char::is_control),
        "control characters: {stderr:?}"
    );
    let line = stderr
        .trim_end()
        .replace(&path.display().to_string(), "IMAGE");
    for w in want {
        assert!(line.contains(w), "expected {w:?} in {line:?}");
    }
    line
}

fn fails(bytes: &[u8], want: &[&str]) -> String {
    fails_with(bytes, &[], want)
}

fn fails_with(bytes: &[u8], extra: &[&str], want: &[&str]) -> String {
    let a = write_archive(bytes, "image.tar");
    fails_path(&a.path, extra, want)
}

/// Run `report`, expect success; returns stderr (warnings).
fn succeeds_with(bytes: &[u8], extra: &[&str]) -> String {
    let a = write_archive(bytes, "image.tar");
    let out = bin()
        .arg("report")
        .arg(&a.path)
        .args(extra)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    stderr
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

fn base() -> ImageBuilder {
    ImageBuilder::new()
        .tag("hostile:1")
        .layer(
            LayerBuilder::new("base")
                .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
                .file("bin/tool", &[7u8; 3000]),
        )
        .layer(LayerBuilder::new("RUN edit").file("etc/motd", b"hello\n"))
}

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
        std::io::Read::read_to_end(&mut e, &mut data).expect("read");
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

/// Replace member `name` (exact) by `f(old)`.
fn edit(bytes: &[u8], name: &str, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut ms = members(bytes);
    let m = ms
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no member {name}"));
    m.1 = f(std::mem::take(&mut m.1));
    repack(&ms)
}

fn member_names(bytes: &[u8]) -> Vec<String> {
    members(bytes).into_iter().map(|(n, _)| n).collect()
}

/// Member names of the layers, as manifest.json lists them.
fn layer_members(bytes: &[u8]) -> Vec<String> {
    let ms = members(bytes);
    let m = &ms
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .expect("manifest")
        .1;
    let v: serde_json::Value = serde_json::from_slice(m).expect("json");
    v[0]["Layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l.as_str().expect("str").to_string())
        .collect()
}

/// A custom OCI archive from raw layer blobs (nothing checked or fixed up).
struct Custom {
    layers: Vec<(Vec<u8>, String)>, // blob, media type
    diff_ids: Vec<String>,          // hex
    declared: Vec<Option<u64>>,
}

impl Custom {
    fn new() -> Self {
        Custom {
            layers: Vec::new(),
            diff_ids: Vec::new(),
            declared: Vec::new(),
        }
    }
    /// A layer from a builder, with its true diff ID.
    fn layer(mut self, l: LayerBuilder, c: Compression) -> Self {
        let tar = l.tar_bytes();
        self.diff_ids.push(synth::sha256_hex(&tar));
        let blob = if c == Compression::None {
            tar
        } else {
            synth::compress(&tar, c)
        };
        self.layers.push((blob, c.layer_media_type().to_string()));
        self.declared.push(None);
        self
    }
    /// A raw blob with a claimed diff ID.
    fn raw(mut self, blob: Vec<u8>, diff_id_of: &[u8]) -> Self {
        self.diff_ids.push(synth::sha256_hex(diff_id_of));
        self.layers
            .push((blob, Compression::None.layer_media_type().to_string()));
        self.declared.push(None);
        self
    }
    fn build(&self) -> Vec<u8> {
        let config = ImageBuilder::new().config_json_from(&[], &self.diff_ids);
        let config_desc = Descriptor::of("application/vnd.oci.image.config.v1+json", &config);
        let descs: Vec<Descriptor> = self
            .layers
            .iter()
            .zip(&self.declared)
            .map(|((b, mt), d)| {
                Descriptor::new(mt, &synth::sha256_hex(b), d.unwrap_or(b.len() as u64))
            })
            .collect();
        let manifest = synth::oci_manifest_json(&config_desc, &descs);
        let mdesc = Descriptor::of("application/vnd.oci.image.manifest.v1+json", &manifest);
        let mut ms = vec![
            ("oci-layout".to_string(), synth::OCI_LAYOUT.to_vec()),
            (
                "index.json".to_string(),
                synth::oci_index_json(std::slice::from_ref(&mdesc)),
            ),
            (mdesc.blob_path(), manifest),
            (config_desc.blob_path(), config),
        ];
        for ((b, _), d) in self.layers.iter().zip(&descs) {
            if !ms.iter().any(|(n, _)| *n == d.blob_path()) {
                ms.push((d.blob_path(), b.clone()));
            }
        }
        repack(&ms)
    }
}

fn legacy_manifest(config: &str, layers: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([{
        "Config": config, "RepoTags": ["x:1"], "Layers": layers
    }]))
    .expect("json")
}

/// A docker-legacy-style archive with a non-content-addressed config.
fn legacy_custom(layers: &[(&str, Vec<u8>)], diff_ids: &[String]) -> Vec<u8> {
    let config = ImageBuilder::new().config_json_from(&[], diff_ids);
    let names: Vec<&str> = layers.iter().map(|(n, _)| *n).collect();
    let mut ms = vec![
        (
            "manifest.json".to_string(),
            legacy_manifest("config.json", &names),
        ),
        ("config.json".to_string(), config),
    ];
    for (n, b) in layers {
        ms.push((n.to_string(), b.clone()));
    }
    repack(&ms)
}

// ---------------------------------------------------------------------------
// Malformed inputs: one line, exit 2
// ---------------------------------------------------------------------------

#[test]
fn outer_truncation_at_every_offset_is_an_error() {
    // Library level for every offset (step 61), the binary for a few. The
    // synthetic writer ends with two zero blocks; tar needs the first.
    let bytes = base().docker_legacy();
    let marker = bytes.len() - 1024;
    let a = write_archive(&bytes, "image.tar");
    let mut cuts: Vec<usize> = (0..marker + 512).step_by(61).collect();
    cuts.extend([marker - 1, marker, marker + 511]);
    for n in cuts {
        std::fs::write(&a.path, &bytes[..n]).expect("write");
        assert!(load_path(&a.path).is_err(), "truncated at {n} loaded");
    }
    // Cutting only the second zero block loses nothing.
    std::fs::write(&a.path, &bytes[..marker + 512]).expect("write");
    assert!(load_path(&a.path).is_ok());
    for cut in [0usize, 300, 512 + 100, marker / 2, marker - 1] {
        fails(&bytes[..cut], &["IMAGE: "]);
    }
    fails(
        &bytes[..marker],
        &[
            "IMAGE: truncated archive: it ends at byte",
            "before the end-of-archive marker",
        ],
    );
}

#[test]
fn truncated_member_is_reported_with_sizes() {
    let bytes = base().docker_legacy();
    let names = member_names(&bytes);
    let last = names.last().expect("members");
    // Cut inside the body of the last member.
    let mut a = tar::Archive::new(&bytes[..]);
    let mut at = 0;
    for e in a.entries().expect("tar") {
        let e = e.expect("entry");
        if e.path_bytes() == last.as_bytes() {
            at = e.raw_file_position() as usize + 10;
        }
    }
    fails(
        &bytes[..at],
        &[&format!(
            "IMAGE: truncated archive: member \"{last}\" needs"
        )],
    );
}

#[test]
fn truncation_inside_an_uncompressed_layer() {
    let bytes = base().docker_legacy();
    let layer = layer_members(&bytes)[0].clone();
    let cut = edit(&bytes, &layer, |mut t| {
        t.truncate(700);
        t
    });
    fails(
        &cut,
        &["IMAGE: layer 0 (", "unexpected end of data (truncated?)"],
    );
}

#[test]
fn layer_truncated_at_an_entry_boundary_fails_its_diff_id() {
    let bytes = base().docker_legacy();
    let layer = layer_members(&bytes)[0].clone();
    // Keep only the first entry (header + one block of data): no end marker.
    let cut = edit(&bytes, &layer, |mut t| {
        t.truncate(1024);
        t
    });
    fails(
        &cut,
        &["IMAGE: layer 0 (", "diff ID mismatch: expected sha256:"],
    );
    let warn = succeeds_with(&cut, &["--no-verify"]);
    assert!(
        warn.contains("ends without an end-of-archive marker (truncated?)"),
        "{warn}"
    );
    assert!(warn.contains("diff ID mismatch"), "{warn}");
}

#[test]
fn truncation_inside_a_gzip_stream() {
    let bytes = Custom::new()
        .layer(
            LayerBuilder::new("x").file("big", &synth::pseudo_bytes(3, 50_000)),
            Compression::Gzip,
        )
        .build();
    let blob = members(&bytes)
        .into_iter()
        .find(|(_, d)| d.starts_with(&[0x1f, 0x8b]))
        .expect("gzip blob");
    let cut = edit(&bytes, &blob.0, |mut d| {
        d.truncate(d.len() / 2);
        d
    });
    fails(
        &cut,
        &[
            "IMAGE: layer 0 (sha256:",
            "unexpected end of data (truncated?) (gzip stream)",
        ],
    );
}

#[test]
fn corrupt_gzip_data_and_checksum() {
    let bytes = Custom::new()
        .layer(
            LayerBuilder::new("x").file("text", &synth::pseudo_text(4, 20_000)),
            Compression::Gzip,
        )
        .build();
    let (name, _) = members(&bytes)
        .into_iter()
        .find(|(_, d)| d.starts_with(&[0x1f, 0x8b]))
        .expect("gzip blob");
    // The CRC32 in the gzip trailer.
    let bad_crc = edit(&bytes, &name, |mut d| {
        let n = d.len();
        d[n - 8] ^= 0xff;
        d
    });
    fails(
        &bad_crc,
        &[
            "IMAGE: layer 0 (sha256:",
            "corrupt gzip stream does not have a matching checksum",
        ],
    );
    // The deflate data itself.
    let bad_data = edit(&bytes, &name, |mut d| {
        for b in &mut d[20..60] {
            *b = 0xff;
        }
        d
    });
    let line = fails(&bad_data, &["IMAGE: layer 0 (sha256:"]);
    assert!(line.contains("deflate") || line.contains("gzip"), "{line}");
}

#[test]
fn corrupt_zstd_data() {
    let bytes = Custom::new()
        .layer(
            LayerBuilder::new("x").file("text", &synth::pseudo_text(5, 20_000)),
            Compression::Zstd,
        )
        .build();
    let (name, _) = members(&bytes)
        .into_iter()
        .find(|(_, d)| d.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]))
        .expect("zstd blob");
    let bad = edit(&bytes, &name, |mut d| {
        for b in &mut d[8..40] {
            *b = 0x5a;
        }
        d
    });
    fails(&bad, &["IMAGE: layer 0 (sha256:"]);
    let cut = edit(&bytes, &name, |mut d| {
        d.truncate(d.len() - 5);
        d
    });
    fails(&cut, &["IMAGE: layer 0 (sha256:"]);
    // A frame carrying a content checksum, with the checksum damaged.
    let tar = LayerBuilder::new("x")
        .file("text", &synth::pseudo_text(6, 5_000))
        .tar_bytes();
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd");
    enc.include_checksum(true).expect("checksum flag");
    enc.write_all(&tar).expect("compress");
    let mut blob = enc.finish().expect("finish");
    let n = blob.len();
    blob[n - 1] ^= 0xff;
    fails(
        &Custom::new().raw(blob, &tar).build(),
        &["IMAGE: layer 0 (sha256:", "checksum", "(zstd stream)"],
    );
}

#[test]
fn bad_tar_header_checksums() {
    let bytes = base().docker_legacy();
    let layer = layer_members(&bytes)[0].clone();
    let inner = edit(&bytes, &layer, |mut t| {
        t[0] ^= 0x01; // first header's name: checksum no longer matches
        t
    });
    fails(
        &inner,
        &[
            "IMAGE: layer 0 (",
            "not a tar stream: archive header checksum mismatch",
        ],
    );
    let mut outer = bytes.clone();
    outer[1] ^= 0x01;
    fails(
        &outer,
        &["IMAGE: not an image archive (not a tar file: archive header checksum mismatch)"],
    );
}

#[test]
fn manifest_json_missing_empty_or_invalid() {
    let bytes = base().docker_legacy();
    let without: Vec<_> = members(&bytes)
        .into_iter()
        .filter(|(n, _)| n != "manifest.json")
        .collect();
    fails(
        &repack(&without),
        &["IMAGE: not an image archive: no manifest.json or index.json"],
    );
    fails(
        &edit(&bytes, "manifest.json", |_| Vec::new()),
        &["IMAGE: manifest.json: invalid JSON: EOF while parsing a value at line 1 column 0"],
    );
    fails(
        &edit(&bytes, "manifest.json", |_| b"[{\"Config\": ".to_vec()),
        &["IMAGE: manifest.json: invalid JSON: EOF while parsing"],
    );
    fails(
        &edit(&bytes, "manifest.json", |_| b"[]".to_vec()),
        &["IMAGE: manifest.json: lists no images"],
    );
    fails(
        &edit(&bytes, "manifest.json", |_| b"{}".to_vec()),
        &["IMAGE: manifest.json: invalid image manifest: missing field `schemaVersion`"],
    );
}

#[test]
fn index_json_empty_or_invalid() {
    let bytes = base().oci_archive(Compression::Gzip);
    fails(
        &edit(&bytes, "index.json", |_| Vec::new()),
        &["IMAGE: index.json: invalid image index"],
    );
    fails(
        &edit(&bytes, "index.json", |_| b"{\"schemaVersion\":2}".to_vec()),
        &["IMAGE: index.json: invalid image index"],
    );
    fails(
        &edit(&bytes, "index.json", |_| {
            b"{\"schemaVersion\":2,\"manifests\":[]}".to_vec()
        }),
        &["IMAGE: index.json: names no image manifest"],
    );
}

#[test]
fn config_missing_or_invalid() {
    let bytes = base().docker_legacy();
    let config = members(&bytes)
        .into_iter()
        .find(|(n, _)| n.ends_with(".json") && n != "manifest.json" && !n.contains('/'))
        .expect("config")
        .0;
    let without: Vec<_> = members(&bytes)
        .into_iter()
        .filter(|(n, _)| *n != config)
        .collect();
    fails(
        &repack(&without),
        &[&format!("IMAGE: {config}: missing from the archive")],
    );
    let garbage = edit(&bytes, &config, |_| b"{\"os\": 7}".to_vec());
    fails(
        &garbage,
        &[&format!(
            "IMAGE: {config}: digest mismatch: expected sha256:"
        )],
    );
    fails_with(
        &garbage,
        &["--no-verify"],
        &[&format!("IMAGE: {config}: invalid image config")],
    );
}

#[test]
fn manifest_naming_a_missing_blob_or_escaping_path() {
    let bytes = base().docker_legacy();
    let layers = layer_members(&bytes);
    let config = members(&bytes)
        .into_iter()
        .find(|(n, _)| n.ends_with(".json") && n != "manifest.json" && !n.contains('/'))
        .expect("config")
        .0;
    let with_layers = |ls: &[&str]| edit(&bytes, "manifest.json", |_| legacy_manifest(&config, ls));
    fails(
        &with_layers(&[&layers[0], "nothere/layer.tar"]),
        &["IMAGE: nothere/layer.tar: layer named by the manifest is missing from the archive"],
    );
    fails(
        &with_layers(&[&layers[0], "../../etc/passwd"]),
        &["IMAGE: manifest.json entry 0: refers to a path outside the archive \"../../etc/passwd\""],
    );
    fails(
        &with_layers(&["/etc/passwd"]),
        &["IMAGE: manifest.json entry 0: refers to an absolute path \"/etc/passwd\""],
    );
    // An OCI index naming a blob that is not there.
    let oci = base().oci_archive(Compression::Gzip);
    let idx = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{}", "ab".repeat(32)), "size": 10}]});
    fails(
        &edit(&oci, "index.json", |_| {
            serde_json::to_vec(&idx).expect("json")
        }),
        &[
            "IMAGE: index.json: names blob sha256:abab",
            "which is missing from the archive",
        ],
    );
    // A digest that tries to climb out of blobs/.
    let idx = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:../../../etc/passwd", "size": 10}]});
    fails(
        &edit(&oci, "index.json", |_| {
            serde_json::to_vec(&idx).expect("json")
        }),
        &["IMAGE: index.json: invalid image index: Invalid encoded value ../../../etc/passwd"],
    );
}

#[test]
fn layer_that_is_not_a_tar() {
    let junk = synth::pseudo_bytes(9, 4000);
    fails(
        &Custom::new().raw(junk.clone(), &junk).build(),
        &["IMAGE: layer 0 (sha256:", "not a tar stream"],
    );
    let text = synth::compress(&synth::pseudo_text(9, 4000), Compression::Gzip);
    fails(
        &Custom::new().raw(text.clone(), &text).build(),
        &[
            "IMAGE: layer 0 (sha256:",
            "not a tar stream",
            "(gzip stream)",
        ],
    );
    fails(
        &Custom::new().raw(Vec::new(), b"").build(),
        &[
            "IMAGE: layer 0 (sha256:",
            "empty blob (0 bytes), not a tar stream",
        ],
    );
}

#[test]
fn archives_that_are_not_images() {
    let mut t = OuterTar::new(Vec::new());
    t.add_bytes("etc/hosts", b"127.0.0.1 localhost\n")
        .expect("add");
    let plain = t.finish().expect("tar");
    fails(
        &plain,
        &["IMAGE: not an image archive: no manifest.json or index.json"],
    );
    fails(
        &synth::pseudo_bytes(1, 5000),
        &["IMAGE: not an image archive (not a tar file: "],
    );
    fails(
        &synth::compress(&synth::pseudo_text(2, 5000), Compression::Gzip),
        &["IMAGE: not an image archive (not a tar file: "],
    );
    fails(&[], &["IMAGE: empty file, not an image archive"]);
    fails(
        &[0u8; 1024],
        &["IMAGE: not an image archive: the tar holds no files"],
    );
}

#[test]
fn empty_stdin() {
    let out = bin()
        .args(["report", "-"])
        .write_stdin(Vec::<u8>::new())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "layerscope: <stdin>: empty file, not an image archive\n"
    );
}

#[test]
fn directories_that_are_not_oci_layouts() {
    let d = tempfile::tempdir().expect("tempdir");
    fails_path(
        d.path(),
        &[],
        &["IMAGE: not an OCI image layout: the directory has no index.json or manifest.json"],
    );
    std::fs::write(d.path().join("oci-layout"), synth::OCI_LAYOUT).expect("write");
    std::fs::create_dir(d.path().join("blobs")).expect("mkdir");
    fails_path(d.path(), &[], &["IMAGE: not an OCI image layout"]);
    // A layout whose index names a missing manifest blob.
    let full = tempfile::tempdir().expect("tempdir");
    base()
        .oci_dir(Compression::Gzip, full.path())
        .expect("oci dir");
    for e in std::fs::read_dir(full.path().join("blobs/sha256")).expect("blobs") {
        std::fs::remove_file(e.expect("entry").path()).expect("rm");
    }
    fails_path(
        full.path(),
        &[],
        &[
            "IMAGE: index.json: names blob sha256:",
            "which is missing from the archive",
        ],
    );
}

#[test]
fn a_layer_listed_twice_is_legal_only_when_its_diff_ids_agree() {
    // The same blob twice with the same diff ID twice: legal (OCI allows it;
    // Docker's empty layer used to repeat), so a warning.
    let l = LayerBuilder::new("x").file("a", b"1");
    let bytes = Custom::new()
        .layer(l.clone(), Compression::Gzip)
        .layer(l.clone(), Compression::Gzip)
        .build();
    let warn = succeeds_with(&bytes, &[]);
    assert!(warn.contains("is listed more than once"), "{warn}");
    // The same member twice where the config expects two different layers:
    // cannot be legitimate, and verification says which.
    let tar = l.tar_bytes();
    let other = LayerBuilder::new("y").file("b", b"2").tar_bytes();
    let twice = legacy_custom(
        &[("l/layer.tar", tar.clone()), ("l/layer.tar", tar.clone())],
        &[synth::sha256_hex(&tar), synth::sha256_hex(&other)],
    );
    fails(
        &twice,
        &["IMAGE: layer 1 (", "diff ID mismatch: expected sha256:"],
    );
}

// ---------------------------------------------------------------------------
// Digest verification
// ---------------------------------------------------------------------------

#[test]
fn blob_digest_mismatch_names_the_blob() {
    let bytes = Custom::new()
        .layer(LayerBuilder::new("x").file("a", b"1"), Compression::Gzip)
        .build();
    let other = synth::compress(
        &LayerBuilder::new("y").file("a", b"2").tar_bytes(),
        Compression::Gzip,
    );
    let (name, _) = members(&bytes)
        .into_iter()
        .find(|(_, d)| d.starts_with(&[0x1f, 0x8b]))
        .expect("blob");
    let swapped = edit(&bytes, &name, |_| other.clone());
    let hex = name.rsplit('/').next().expect("hex");
    fails(
        &swapped,
        &[&format!(
            "IMAGE: layer 0 (sha256:{hex}): blob digest mismatch: expected sha256:{hex}, content is sha256:{}",
            synth::sha256_hex(&other)
        )],
    );
    let warn = succeeds_with(&swapped, &["--no-verify"]);
    assert!(
        warn.contains("layerscope: warning: layer 0: blob digest mismatch"),
        "{warn}"
    );
}

#[test]
fn diff_id_mismatch_names_the_layer() {
    let tar = LayerBuilder::new("x").file("a", b"1").tar_bytes();
    let bytes = legacy_custom(&[("l0/layer.tar", tar.clone())], &["00".repeat(32)]);
    fails(
        &bytes,
        &[&format!(
            "IMAGE: layer 0 (sha256:{}): diff ID mismatch: expected sha256:{}, content is sha256:{}",
            "00".repeat(32),
            "00".repeat(32),
            synth::sha256_hex(&tar)
        )],
    );
    let warn = succeeds_with(&bytes, &["--no-verify"]);
    assert!(warn.contains("layer 0: diff ID mismatch"), "{warn}");
}

#[test]
fn declared_size_mismatch() {
    let mut c = Custom::new().layer(LayerBuilder::new("x").file("a", b"1"), Compression::Gzip);
    c.declared[0] = Some(5);
    fails(
        &c.build(),
        &[
            "IMAGE: layer 0 (sha256:",
            "blob size mismatch: expected 5, content is",
        ],
    );
}

#[test]
fn layer_count_must_match_the_diff_ids() {
    let tar = LayerBuilder::new("x").file("a", b"1").tar_bytes();
    let bytes = legacy_custom(&[("l0/layer.tar", tar.clone())], &[]);
    fails(
        &bytes,
        &["IMAGE: config.json: the manifest lists 1 layers but the config has 0 diff IDs"],
    );
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

#[test]
fn entry_and_path_limits_have_clear_errors_and_flags() {
    let mut l = LayerBuilder::new("many");
    for i in 0..20 {
        l = l.file(&format!("f{i}"), b"");
    }
    let long = format!("d/{}", "n".repeat(300));
    let bytes = ImageBuilder::new()
        .layer(l)
        .layer(LayerBuilder::new("long").file(&long, b"x"))
        .docker_legacy();
    fails_with(
        &bytes,
        &["--max-entries", "10"],
        &[
            "IMAGE: layer 0 (",
            "more than 10 entries (raise the limit with --max-entries)",
        ],
    );
    fails_with(
        &bytes,
        &["--max-path-bytes", "100"],
        &[
            "IMAGE: layer 1 (",
            "entry #1 has a 302-byte path, over the 100-byte limit (--max-path-bytes)",
        ],
    );
    succeeds_with(&bytes, &["--max-entries", "20", "--max-path-bytes", "302"]);
}

#[test]
fn a_layer_bomb_streams_in_bounded_memory() {
    // 256 MiB of zeros in one file compresses to ~250 KiB; it is hashed as
    // it streams and never held.
    let mut tar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar);
        let mut h = tar::Header::new_gnu();
        h.set_size(256 << 20);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "zeros", std::io::repeat(0).take_exact(256 << 20))
            .expect("append");
        b.finish().expect("finish");
    }
    let blob = synth::compress(&tar, Compression::Gzip);
    assert!(blob.len() < 1 << 20);
    let bytes = Custom::new().raw(blob, &tar).build();
    drop(tar);
    let a = write_archive(&bytes, "bomb.tar");
    let l = load_path(&a.path).expect("load");
    assert_eq!(l.image.layers[0].size_bytes, 256 << 20);
}

trait TakeExact: std::io::Read + Sized {
    fn take_exact(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeExact for R {}

// ---------------------------------------------------------------------------
// Legal but nasty layer contents
// ---------------------------------------------------------------------------

fn nasty() -> ImageBuilder {
    ImageBuilder::new()
        .tag("nasty:1")
        .layer(
            LayerBuilder::new("base")
                .file("etc/passwd", b"root\n")
                .raw_name(b"../../../../escape/up", b"climb")
                .raw_name(b"/abs/file", b"absolute")
                .raw_name(b"bad\xff\xfename", b"latin")
                .file_with("bin/su", b"\x7fELF", 0o4755, 0, 0)
                .symlink("loop/a", "b")
                .symlink("loop/b", "a")
                .symlink("chain/1", "2")
                .symlink("chain/2", "3")
                .symlink("chain/3", "/etc/passwd")
                .symlink("out", "../../../../../etc/shadow")
                .hardlink("hl/missing", "does/not/exist")
                .hardlink("hl/ok", "etc/passwd")
                .fifo("run/fifo")
                .char_device("dev/null", 1, 3)
                .block_device("dev/sda", 8, 0)
                .file("dup", b"first")
                .file("dup", b"second")
                .file(&format!("long/{}", "x".repeat(4000)), b"long name"),
        )
        .layer(
            LayerBuilder::new("RUN rm")
                .whiteout("never/existed")
                .whiteout("etc/passwd"),
        )
}

#[test]
fn nasty_entries_are_shown_faithfully_inside_the_root() {
    let (l, _a) = load_bytes_kept(&nasty().docker_legacy());
    let paths = final_paths(&l);
    for p in [
        "/escape/up",
        "/abs/file",
        "/loop/a",
        "/chain/3",
        "/run/fifo",
        "/dev/null",
        "/dev/sda",
        "/hl/missing",
        "/dup",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
    }
    assert!(paths.iter().any(|p| p == "/bad\u{fffd}\u{fffd}name"));
    let raw = l.tree.lookup(b"bad\xff\xfename").expect("raw name kept");
    assert_eq!(l.tree.name(raw), b"bad\xff\xfename");
    let w = l.image.warnings.join("\n");
    for want in [
        "layer 0: 1 entries had '..' components climbing above the root; kept inside the image root",
        "layer 0: 1 entries had absolute paths; read relative to the image root",
        "1 whiteouts name paths that do not exist below them",
        "1 hardlinks point to missing targets",
    ] {
        assert!(w.contains(want), "{want:?} in {w}");
    }
    // The last of duplicate entries wins, in the tree and in content reads.
    let last = l.tree.final_layer();
    let dup = l.tree.lookup(b"/dup").expect("dup");
    let win = layerscope::content::read_window(&l, dup, last, 0, 100).expect("read");
    assert_eq!(win.bytes, b"second");
    // Loops and missing targets are errors for content reads, not hangs.
    let a = l.tree.lookup(b"/loop/a").expect("loop");
    let e = layerscope::content::read_window(&l, a, last, 0, 10).expect_err("symlink");
    assert!(e.to_string().contains("is not a regular file"), "{e}");
    let m = l.tree.lookup(b"/hl/missing").expect("hl");
    let e = layerscope::content::read_window(&l, m, last, 0, 10).expect_err("missing");
    assert!(e.to_string().contains("hardlink target is missing"), "{e}");
    // The hardlink that worked still reads its bytes after its target is gone.
    let ok = l.tree.lookup(b"/hl/ok").expect("hl ok");
    let win = layerscope::content::read_window(&l, ok, last, 0, 100).expect("read");
    assert_eq!(win.bytes, b"root\n");
}

#[test]
fn nasty_image_reports_through_the_binary() {
    let a = write_archive(&nasty().docker_legacy(), "nasty.tar");
    let out = bin()
        .args(["report", "--format", "json"])
        .arg(&a.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["image"]["name"], "nasty:1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("climbing above the root"), "{stderr}");
}

/// A layer of `n` nested directories written as ONE entry (its parents implied).
fn deep_image(depth: usize) -> Vec<u8> {
    let path = "d/".repeat(depth) + "leaf";
    ImageBuilder::new()
        .layer(LayerBuilder::new("deep").file(&path, b"bottom"))
        .layer(LayerBuilder::new("rm").whiteout("d"))
        .docker_legacy()
}

#[test]
fn a_hundred_thousand_deep_tree_needs_no_stack() {
    let bytes = deep_image(100_000);
    let a = write_archive(&bytes, "deep.tar");
    let mut opts = LoadOptions::default();
    opts.scan.max_path_bytes = 300_000;
    // Run on a 2 MiB-stack thread like the loader's workers.
    let path = a.path.clone();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let l = load_with(&path, &opts).expect("deep load");
            assert_eq!(l.tree.len(), 100_000 + 2);
            let leaf = l.tree.ids().last().expect("leaf");
            assert_eq!(l.tree.depth(leaf), 100_001);
            // The whiteout of the top deletes the whole chain iteratively.
            assert_eq!(l.tree.layer_changes(1).len(), 100_001);
            let an = layerscope::analysis::analyse(&l);
            let s = layerscope::report::Subject {
                loaded: &l,
                analysis: &an,
            };
            // (The JSON report lists every changed path in full: its size is
            // the sum of path lengths, quadratic for such a chain, so only
            // the text summary is rendered here.)
            let _ = layerscope::report::text::render(&s, layerscope::report::Units::Bytes);
            drop(l);
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    // Through the binary: the default path limit refuses it with a flag to raise.
    fails_path(
        &a.path,
        &[],
        &[
            "IMAGE: layer 0 (",
            "over the 65536-byte limit (--max-path-bytes)",
        ],
    );
}

fn wide_image(n: usize) -> Vec<u8> {
    let mut tar = Vec::new();
    {
        let mut enc = flate2::write::GzEncoder::new(&mut tar, flate2::Compression::fast());
        {
            let mut b = tar::Builder::new(&mut enc);
            for i in 0..n {
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, format!("w/{i:07}"), std::io::empty())
                    .expect("append");
            }
            b.finish().expect("finish");
        }
        enc.finish().expect("gzip");
    }
    // The diff ID is of the uncompressed tar, which we did not keep: skip verification.
    Custom::new().raw(tar, b"").build()
}

fn check_wide(n: usize) {
    let a = write_archive(&wide_image(n), "wide.tar");
    let opts = LoadOptions {
        verify: false,
        ..LoadOptions::default()
    };
    let l = load_with(&a.path, &opts).expect("wide load");
    let w = l.tree.lookup(b"/w").expect("w");
    assert_eq!(l.tree.children(w).len(), n);
    let _ = layerscope::analysis::analyse(&l);
}

#[test]
fn a_hundred_thousand_wide_directory() {
    check_wide(100_000);
}

#[test]
#[ignore = "slow: a million entries (run with --ignored)"]
fn a_million_wide_directory() {
    check_wide(1_000_000);
}

// ---------------------------------------------------------------------------
// Temp files
// ---------------------------------------------------------------------------

#[test]
fn compressed_and_stdin_inputs_leave_no_temp_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let gz = synth::compress(&base().docker_legacy(), Compression::Gzip);
    let bad = synth::compress(&synth::pseudo_text(1, 3000), Compression::Gzip);
    let a = write_archive(&gz, "ok.tar.gz");
    let b = write_archive(&bad, "bad.tar.gz");
    for (path, code) in [(&a.path, 0), (&b.path, 2)] {
        let out = bin()
            .env("TMPDIR", tmp.path())
            .arg("report")
            .arg(path)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(code));
    }
    let out = bin()
        .env("TMPDIR", tmp.path())
        .args(["report", "-"])
        .write_stdin(gz.clone())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let out = bin()
        .env("TMPDIR", tmp.path())
        .args(["report", "-"])
        .write_stdin(bad.clone())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn terminal_escapes_in_names_never_reach_the_terminal() {
    let bytes = ImageBuilder::new()
        .tag("evil\u{1b}]0;pwned\u{7}:1")
        .layer(LayerBuilder::new("RUN \u{1b}[2J clear").file("a", b"1"))
        .docker_legacy();
    let a = write_archive(&bytes, "evil.tar");
    let out = bin().arg("report").arg(&a.path).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stdout.contains(&0x1b), "escape byte on stdout");
    // And in errors: a manifest naming a layer with a newline and escape.
    let bad = edit(&bytes, "manifest.json", |m| {
        let mut v: serde_json::Value = serde_json::from_slice(&m).expect("json");
        v[0]["Layers"][0] = serde_json::json!("x\n\u{1b}[31mred/layer.tar");
        serde_json::to_vec(&v).expect("json")
    });
    fails(&bad, &["missing from the archive"]);
}

#[test]
fn a_named_pipe_is_spooled_like_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return; // no mkfifo here
    }
    let bytes = base().docker_legacy();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, &bytes))
    };
    let l = load_path(&fifo).expect("load from a pipe");
    assert!(final_paths(&l).contains(&"/etc/motd".to_string()));
    writer.join().expect("join").expect("write");
}

#[test]
fn truncated_layer_without_hashing_still_fails() {
    // --no-verify --no-hash takes the seeking fast path: truncation must still show.
    let bytes = base().docker_legacy();
    let layer = layer_members(&bytes)[0].clone();
    let cut = edit(&bytes, &layer, |mut t| {
        t.truncate(700);
        t
    });
    fails_with(
        &cut,
        &["--no-verify", "--no-hash"],
        &["IMAGE: layer 0 (", "unexpected end of data (truncated?)"],
    );
    // Cut at an entry boundary: nothing to verify, but a warning says so.
    let cut = edit(&bytes, &layer, |mut t| {
        t.truncate(1024);
        t
    });
    let warn = succeeds_with(&cut, &["--no-hash"]);
    assert!(
        warn.contains("layer 0: the tar stream ends without an end-of-archive marker (truncated?)"),
        "{warn}"
    );
    assert!(
        warn.contains("layer digests and diff IDs were not verified (--no-hash)"),
        "{warn}"
    );
}

// A docker-save archive with gzip layers names no blob digest anywhere:
// --hash files still takes it (cheap: the compressed bytes), and does not
// verify the diff ID, which --hash all does.
#[test]
fn hash_files_still_shows_digests_the_manifest_does_not_name() {
    let tar = LayerBuilder::new("x").file("a", b"1").tar_bytes();
    let gz = synth::compress(&tar, Compression::Gzip);
    let wrong = "00".repeat(32);
    let bytes = legacy_custom(
        &[("l0/layer.tar.gz", gz.clone())],
        std::slice::from_ref(&wrong),
    );
    let a = write_archive(&bytes, "image.tar");
    let digest_of = |extra: &[&str]| {
        let out = bin()
            .args(["report", "--format", "json"])
            .arg(&a.path)
            .args(extra)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        (
            v["layers"][0]["digest"]
                .as_str()
                .expect("digest")
                .to_string(),
            v["layers"][0]["diff_id"]
                .as_str()
                .expect("diff id")
                .to_string(),
            stderr,
        )
    };
    let (digest, diff_id, warn) = digest_of(&["--hash", "files"]);
    assert_eq!(digest, format!("sha256:{}", synth::sha256_hex(&gz)));
    assert_eq!(diff_id, format!("sha256:{wrong}"), "taken from the config");
    assert!(warn.contains("were not verified (--hash files)"), "{warn}");
    let (digest, _, _) = digest_of(&["--no-hash", "--no-verify"]);
    assert_eq!(digest, "", "--no-hash hashes nothing");
    fails(&bytes, &["diff ID mismatch"]);
}
