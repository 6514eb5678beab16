//! Issue #12, the tar-reading classes: what layerscope sees must be what GNU
//! tar (and a container runtime) sees, headers are refused by their declared
//! size before they are read, sparse files are understood, a repeated layer
//! is parsed once, and compressions we do not read are named. Every archive
//! is built here, byte by byte where it has to be crafted; where GNU tar is
//! installed its listing and extraction of the same bytes are the reference.
// See: issue #12.

mod common;

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::*;
use layerscope::load::{LoadOptions, Progress};
use layerscope_synth::{self as synth, Compression, Descriptor, ImageBuilder, OuterTar};

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI");
    c
}

// ---------------------------------------------------------------------------
// Raw tar blocks
// ---------------------------------------------------------------------------

/// Octal when it fits, else GNU base-256 (as GNU tar writes big sizes).
fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0w$o}\0", v, w = field.len() - 1);
    if s.len() == field.len() {
        field.copy_from_slice(s.as_bytes());
    } else {
        field.fill(0);
        let n = field.len();
        field[n - 8..].copy_from_slice(&v.to_be_bytes());
        field[0] = 0x80;
    }
}

fn checksum(b: &mut [u8; 512]) {
    b[148..156].copy_from_slice(b"        ");
    let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
    let s = format!("{sum:06o}\0 ");
    b[148..156].copy_from_slice(s.as_bytes());
}

/// A header block: ustar, or GNU (`ustar  \0`) when `gnu`.
fn header(name: &[u8], flag: u8, size: u64, gnu: bool) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    octal(&mut b[100..108], 0o644);
    octal(&mut b[108..116], 0);
    octal(&mut b[116..124], 0);
    octal(&mut b[124..136], size);
    octal(&mut b[136..148], 1_700_000_000);
    b[156] = flag;
    if gnu {
        b[257..265].copy_from_slice(b"ustar  \0");
    } else {
        b[257..265].copy_from_slice(b"ustar\x0000");
    }
    checksum(&mut b);
    b
}

fn padded(mut v: Vec<u8>) -> Vec<u8> {
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

fn file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut v = header(name.as_bytes(), b'0', data.len() as u64, false).to_vec();
    v.extend(padded(data.to_vec()));
    v
}

/// `"<len> <key>=<value>\n"`, `<len>` counting the whole record.
fn record(k: &str, v: &[u8]) -> Vec<u8> {
    let rest = 1 + k.len() + 1 + v.len() + 1;
    let mut len = rest + 1;
    while len.to_string().len() + rest != len {
        len = len.to_string().len() + rest;
    }
    let mut r = format!("{len} {k}=").into_bytes();
    r.extend_from_slice(v);
    r.push(b'\n');
    r
}

fn pax(flag: u8, records: &[u8]) -> Vec<u8> {
    let mut v = header(b"PaxHeaders/x", flag, records.len() as u64, false).to_vec();
    v.extend(padded(records.to_vec()));
    v
}

const END: [u8; 1024] = [0; 1024];

fn end(mut v: Vec<u8>) -> Vec<u8> {
    v.extend_from_slice(&END);
    v
}

// ---------------------------------------------------------------------------
// Images around raw layers, and running things
// ---------------------------------------------------------------------------

/// An OCI archive whose layers are these blobs (diff IDs of the blobs as
/// they are; compressed blobs get the diff ID of their plain tar).
fn image(layers: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|(_, t)| synth::sha256_hex(t)).collect();
    let config = ImageBuilder::new().config_json_from(&[], &diff_ids);
    let config_desc = Descriptor::of("application/vnd.oci.image.config.v1+json", &config);
    let descs: Vec<Descriptor> = layers
        .iter()
        .map(|(b, t)| {
            let c = if b == t {
                Compression::None
            } else {
                Compression::Gzip
            };
            Descriptor::of(c.layer_media_type(), b)
        })
        .collect();
    let manifest = synth::oci_manifest_json(&config_desc, &descs);
    let mdesc = Descriptor::of("application/vnd.oci.image.manifest.v1+json", &manifest);
    let mut t = OuterTar::new(Vec::new());
    t.add_bytes("oci-layout", synth::OCI_LAYOUT).expect("add");
    t.add_bytes(
        "index.json",
        &synth::oci_index_json(std::slice::from_ref(&mdesc)),
    )
    .expect("add");
    t.add_bytes(&mdesc.blob_path(), &manifest).expect("add");
    t.add_bytes(&config_desc.blob_path(), &config).expect("add");
    let mut done = Vec::new();
    for ((b, _), d) in layers.iter().zip(&descs) {
        if !done.contains(&d.blob_path()) {
            t.add_bytes(&d.blob_path(), b).expect("add");
            done.push(d.blob_path());
        }
    }
    t.finish().expect("tar")
}

fn plain(tar: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    (tar.clone(), tar)
}

fn gzipped(tar: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    (synth::compress(&tar, Compression::Gzip), tar)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Run the binary under a virtual-memory limit (`ulimit -v`), killing it
/// after `secs` (a bound that only catches hangs).
fn run_bounded(args: &[OsString], vmem_mib: u64, secs: u64) -> Run {
    let exe = assert_cmd::cargo::cargo_bin("layerscope");
    let start = Instant::now();
    let mut child = Process::new("sh")
        .arg("-c")
        .arg("ulimit -v \"$1\"; shift; exec \"$@\"")
        .arg("sh")
        .arg((vmem_mib * 1024).to_string())
        .arg(exe)
        .args(args)
        .env_remove("CI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            child.wait().ok();
            panic!("{args:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: t_out.join().expect("stdout"),
        stderr: t_err.join().expect("stderr"),
        took: start.elapsed(),
    }
}

fn args(list: &[&str], path: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = list.iter().map(OsString::from).collect();
    v.insert(1, path.as_os_str().to_owned());
    v
}

/// `report IMAGE` under 512 MiB of address space and 60 s: exit 2 with
/// exactly this one line (the path shown as IMAGE).
fn refused(bytes: &[u8], extra: &[&str], want: &str) {
    let a = write_archive(bytes, "image.tar");
    let mut list = vec!["report"];
    list.extend_from_slice(extra);
    let r = run_bounded(&args(&list, &a.path), 512, 60);
    let line = r.stderr.replace(&a.path.display().to_string(), "IMAGE");
    assert_eq!(r.code, Some(2), "{line}");
    assert!(r.stdout.is_empty());
    assert_eq!(line, format!("layerscope: {want}\n"));
}

/// GNU tar, if installed.
fn gnu_tar() -> Option<&'static str> {
    let ok = Process::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU tar"));
    if !ok {
        eprintln!("skipping the GNU tar comparison: GNU tar is not installed");
    }
    ok.then_some("tar")
}

/// GNU tar's `-tv` listing of regular files: (path, size).
fn gnu_listing(tar: &str, archive: &Path) -> Vec<(String, u64)> {
    let out = Process::new(tar)
        .arg("-tvf")
        .arg(archive)
        .output()
        .expect("tar");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[5..].join(" "), f[2].parse().expect("size"))
        })
        .collect()
}

/// layerscope's regular files of layer `i`: (path without `/`, size).
fn our_listing(bytes: &[u8], i: usize) -> Vec<(String, u64)> {
    let (l, _) = load_bytes(bytes);
    let mut v: Vec<(String, u64)> = l
        .tree
        .layer_changes(i)
        .iter()
        .filter_map(|&id| {
            let a = l.tree.attrs_at(id, i)?;
            (a.kind == layerscope::layer::Kind::File)
                .then(|| (l.tree.path(id).trim_start_matches('/').to_string(), a.size))
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// Reader disagreement
// ---------------------------------------------------------------------------

/// A PAX `size` record hidden behind a record whose value holds a newline:
/// tar-rs (splitting on newlines) dropped it and showed a 0-byte
/// /etc/shadow plus a decoy file made of its body; GNU tar reads records by
/// length and sees a 1,024-byte /etc/shadow.
fn shadow_layer() -> Vec<u8> {
    let mut body = header(b"decoy", b'0', 0, false).to_vec();
    body.extend_from_slice(&[0u8; 512]);
    body[512..520].copy_from_slice(b"root:x:0");
    let mut recs = record("comment", b"x\n");
    recs.extend(record("size", b"1024"));
    let mut t = pax(b'x', &recs);
    t.extend_from_slice(&header(b"etc/shadow", b'0', 0, false));
    t.extend(body);
    t.extend(file("etc/motd", b"hi\n"));
    end(t)
}

#[test]
fn a_pax_record_holding_a_newline_is_read_by_length_as_gnu_tar_reads_it() {
    let layer = shadow_layer();
    let bytes = image(&[plain(layer.clone())]);
    let ours = our_listing(&bytes, 0);
    assert_eq!(
        ours,
        [
            ("etc/motd".to_string(), 3),
            ("etc/shadow".to_string(), 1024)
        ]
    );
    if let Some(tar) = gnu_tar() {
        let a = write_archive(&layer, "layer.tar");
        let mut gnu = gnu_listing(tar, &a.path);
        gnu.sort();
        assert_eq!(gnu, ours);
    }
}

/// The outer archive: a member whose header says it holds the bytes of a
/// second manifest.json, while its PAX `size` (hidden from tar-rs behind a
/// newline) says 0, so GNU tar reads that manifest.json as a member of its
/// own. Two different manifest.json members: refused.
#[test]
fn an_outer_archive_where_gnu_tar_sees_a_second_manifest_is_refused() {
    let good = ImageBuilder::new()
        .tag("benign:1")
        .layer(synth::LayerBuilder::new("base").file("etc/motd", b"hi\n"))
        .docker_legacy();
    let evil_manifest = br#"[{"Config":"x.json","RepoTags":["evil:1"],"Layers":[]}]"#;
    let hidden = file("manifest.json", evil_manifest);
    let mut recs = record("comment", b"x\n");
    recs.extend(record("size", b"0"));
    let mut tail = pax(b'x', &recs);
    tail.extend_from_slice(&header(b"pad", b'0', hidden.len() as u64, false));
    tail.extend(hidden);
    // Splice it before the good archive's end marker.
    let mut bytes = good[..good.len() - 1024].to_vec();
    bytes.extend(end(tail));
    refused(
        &bytes,
        &[],
        "IMAGE: member \"manifest.json\" appears twice with different contents (ambiguous archive)",
    );
    if let Some(tar) = gnu_tar() {
        let a = write_archive(&bytes, "image.tar");
        let names: Vec<String> = gnu_listing(tar, &a.path)
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n == "manifest.json")
            .collect();
        assert_eq!(names.len(), 2, "GNU tar sees both manifests");
    }
}

/// Members whose size is only in a PAX `size` record (the header's field
/// is 0), as writers do for members of 8 GiB and more: legal, and read the
/// same from a file and from stdin (where the spooling walks the headers).
#[test]
fn members_sized_only_by_pax_records_read_from_a_file_and_from_stdin() {
    let good = ImageBuilder::new()
        .tag("paxsized:1")
        .layer(synth::LayerBuilder::new("base").file("etc/motd", &synth::pseudo_bytes(4, 300_000)))
        .docker_legacy();
    let mut out = Vec::new();
    let mut a = tar::Archive::new(&good[..]);
    for e in a.entries().expect("tar") {
        let mut e = e.expect("entry");
        if !e.header().entry_type().is_file() {
            continue;
        }
        let name = e.path_bytes().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("read");
        out.extend(pax(
            b'x',
            &record("size", data.len().to_string().as_bytes()),
        ));
        out.extend_from_slice(&header(&name, b'0', 0, false));
        out.extend(padded(data));
    }
    let bytes = end(out);
    let (l, _) = load_bytes(&bytes);
    assert_eq!(l.image.name.as_deref(), Some("paxsized:1"));
    let out = bin()
        .args(["report", "-", "--format", "json"])
        .write_stdin(bytes)
        .output()
        .expect("run");
    common::assert_success(&out);
}

#[test]
fn anything_tar_readers_could_read_differently_is_an_error() {
    let layer_err = |tar: Vec<u8>, want: &str| {
        let bytes = image(&[plain(tar.clone())]);
        let hex = synth::sha256_hex(&tar);
        refused(
            &bytes,
            &[],
            &format!("IMAGE: layer 0 (sha256:{hex}): {want}"),
        );
    };
    // A record whose length runs past the header.
    let mut t = pax(b'x', b"99 path=x\n");
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: malformed PAX record at byte 0 of the header: length 99 runs past the header",
    );
    // Garbage after the last record.
    let mut recs = record("path", b"a");
    recs.extend_from_slice(b"\0\0");
    let mut t = pax(b'x', &recs);
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: malformed PAX record at byte 9 of the header: no length",
    );
    // A size that is not a number.
    let mut t = pax(b'x', &record("size", b"12\n"));
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: PAX record size=\"12\\n\" is not a number",
    );
    // A GNU long name and a PAX path for one entry.
    let mut t = header(b"././@LongLink", b'L', 2, true).to_vec();
    t.extend(padded(b"b\0".to_vec()));
    t.extend(pax(b'x', &record("path", b"c")));
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: both a GNU long name and a PAX path (tar readers disagree on which applies)",
    );
    // A global header that renames entries (GNU tar applies it, Go does not).
    let mut t = pax(b'g', &record("path", b"etc/shadow"));
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: a global PAX header sets \"path\" (tar readers disagree on whether it applies)",
    );
    // A header after the end-of-archive marker (`tar -i` reads it).
    let mut t = end(file("a", b"1"));
    t.extend(file("etc/shadow", b"hidden"));
    layer_err(
        end(t),
        "a tar header at byte 2048, after the end-of-archive marker (some tar readers read on)",
    );
    // One zero block, then more entries: GNU tar stops, Go fails.
    let mut t = file("a", b"1");
    t.extend_from_slice(&[0u8; 512]);
    t.extend(file("etc/shadow", b"hidden"));
    layer_err(
        end(t),
        "a single zero block at byte 1024 is followed by more data (tar readers disagree on whether the archive ends there)",
    );
    // A directory with data after it (Go skips none, tar-rs skips it).
    let mut t = header(b"d/", b'5', 512, false).to_vec();
    t.extend(file("a", b"1"));
    layer_err(
        end(t),
        "entry #1: a Dir entry with 512 bytes of data (tar readers disagree on whether data follows it)",
    );
    // Non-zero bytes that form no header stay a warning.
    let mut t = end(file("a", b"1"));
    t.extend_from_slice(&[7u8; 100]);
    let a = write_archive(&image(&[plain(t)]), "image.tar");
    let r = run_bounded(&args(&["report"], &a.path), 512, 60);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "layer 0: 100 non-zero bytes after the tar end-of-archive marker (ignored, as tar readers do)"
        ),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// Long names and PAX headers, refused by their declared size
// ---------------------------------------------------------------------------

#[test]
fn a_gigabyte_long_name_or_pax_path_is_refused_before_it_is_read() {
    // 1 GiB of GNU long name: a few KiB of the archive, since the reader
    // refuses it from the header alone (the rest may as well be missing).
    let mut t = header(b"././@LongLink", b'L', 1 << 30, true).to_vec();
    t.extend_from_slice(&[b'a'; 32 * 1024]);
    let (blob, tar) = gzipped(t);
    let hex = synth::sha256_hex(&blob);
    refused(
        &image(&[(blob, tar)]),
        &[],
        &format!("IMAGE: layer 0 (sha256:{hex}): entry #1: GNU long name of 1073741824 bytes, over the 65536-byte limit (--max-path-bytes) (gzip stream)"),
    );
    // A 4 GiB PAX header.
    let mut t = header(b"PaxHeaders/x", b'x', 4 << 30, false).to_vec();
    t.extend_from_slice(&[b'a'; 32 * 1024]);
    let hex = synth::sha256_hex(&t);
    refused(
        &image(&[plain(t)]),
        &[],
        &format!("IMAGE: layer 0 (sha256:{hex}): entry #1: PAX header of 4294967296 bytes, over the 1179648-byte limit (twice --max-path-bytes plus 1 MiB)"),
    );
    // A PAX path within the header limit but over the path limit.
    let mut t = pax(b'x', &record("path", &[b'p'; 70_000]));
    t.extend(file("a", b"1"));
    let t = end(t);
    let hex = synth::sha256_hex(&t);
    refused(
        &image(&[plain(t.clone())]),
        &[],
        &format!("IMAGE: layer 0 (sha256:{hex}): entry #1 has a 70000-byte path, over the 65536-byte limit (--max-path-bytes)"),
    );
    // The limit is the flag's.
    let a = write_archive(&image(&[plain(t)]), "image.tar");
    let r = run_bounded(
        &args(&["report", "--max-path-bytes", "70000"], &a.path),
        512,
        60,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Sparse files
// ---------------------------------------------------------------------------

/// A sparse file's chunks: (offset, data).
type Chunks = Vec<(u64, Vec<u8>)>;

fn chunk_data(chunks: &Chunks) -> Vec<u8> {
    chunks.iter().flat_map(|(_, d)| d.clone()).collect()
}

/// GNU `S` entry (old GNU format), with extension blocks past 4 chunks.
fn gnu_sparse(name: &str, real: u64, chunks: &Chunks) -> Vec<u8> {
    let data = chunk_data(chunks);
    let mut h = header(name.as_bytes(), b'S', data.len() as u64, true);
    let entry = |b: &mut [u8], off: u64, len: u64| {
        octal(&mut b[..12], off);
        octal(&mut b[12..24], len);
    };
    for (i, (off, d)) in chunks.iter().take(4).enumerate() {
        entry(&mut h[386 + 24 * i..410 + 24 * i], *off, d.len() as u64);
    }
    octal(&mut h[483..495], real);
    let rest: Vec<&(u64, Vec<u8>)> = chunks.iter().skip(4).collect();
    h[482] = u8::from(!rest.is_empty());
    checksum(&mut h);
    let mut v = h.to_vec();
    let groups: Vec<&[&(u64, Vec<u8>)]> = rest.chunks(21).collect();
    for (g, group) in groups.iter().enumerate() {
        let mut ext = [0u8; 512];
        for (i, (off, d)) in group.iter().enumerate() {
            entry(&mut ext[24 * i..24 * i + 24], *off, d.len() as u64);
        }
        ext[504] = u8::from(g + 1 < groups.len());
        v.extend_from_slice(&ext);
    }
    v.extend(padded(data));
    v
}

/// PAX sparse formats 0.0, 0.1 and 1.0, as GNU tar writes them.
fn pax_sparse(version: &str, name: &str, real: u64, chunks: &Chunks) -> Vec<u8> {
    let data = chunk_data(chunks);
    let mut recs = Vec::new();
    let mut stored = data.clone();
    let mut header_name = name.to_string();
    match version {
        "0.0" => {
            recs.extend(record("GNU.sparse.size", real.to_string().as_bytes()));
            recs.extend(record(
                "GNU.sparse.numblocks",
                chunks.len().to_string().as_bytes(),
            ));
            for (off, d) in chunks {
                recs.extend(record("GNU.sparse.offset", off.to_string().as_bytes()));
                recs.extend(record(
                    "GNU.sparse.numbytes",
                    d.len().to_string().as_bytes(),
                ));
            }
        }
        "0.1" => {
            recs.extend(record("GNU.sparse.size", real.to_string().as_bytes()));
            recs.extend(record(
                "GNU.sparse.numblocks",
                chunks.len().to_string().as_bytes(),
            ));
            let map: Vec<String> = chunks
                .iter()
                .flat_map(|(o, d)| [o.to_string(), d.len().to_string()])
                .collect();
            recs.extend(record("GNU.sparse.map", map.join(",").as_bytes()));
        }
        _ => {
            recs.extend(record("GNU.sparse.major", b"1"));
            recs.extend(record("GNU.sparse.minor", b"0"));
            recs.extend(record("GNU.sparse.name", name.as_bytes()));
            recs.extend(record("GNU.sparse.realsize", real.to_string().as_bytes()));
            header_name = format!("GNUSparseFile.0/{name}");
            let mut map = format!("{}\n", chunks.len());
            for (o, d) in chunks {
                map.push_str(&format!("{o}\n{}\n", d.len()));
            }
            stored = padded(map.into_bytes());
            stored.extend(data);
        }
    }
    let mut v = pax(b'x', &recs);
    v.extend_from_slice(&header(
        header_name.as_bytes(),
        b'0',
        stored.len() as u64,
        false,
    ));
    v.extend(padded(stored));
    v
}

/// Two data chunks and a trailing hole, closed by an empty chunk at the
/// end as GNU tar writes it (without it, GNU tar's extraction stops at the
/// last data while its listing and Go's reader give the real size).
fn two_mib_chunks() -> Chunks {
    vec![
        (0, synth::pseudo_bytes(1, 4096)),
        (1 << 20, synth::pseudo_bytes(2, 4096)),
        (2 << 20, Vec::new()),
    ]
}

fn logical(real: u64, chunks: &Chunks) -> Vec<u8> {
    let mut v = vec![0u8; real as usize];
    for (o, d) in chunks {
        v[*o as usize..*o as usize + d.len()].copy_from_slice(d);
    }
    v
}

#[test]
fn sparse_files_in_every_format_show_their_real_size_and_extract_like_gnu_tar() {
    let chunks = two_mib_chunks();
    let want = logical(2 << 20, &chunks);
    let gnu = gnu_tar();
    for (format, entry) in [
        ("GNU S", gnu_sparse("data/sparse", 2 << 20, &chunks)),
        (
            "PAX 0.0",
            pax_sparse("0.0", "data/sparse", 2 << 20, &chunks),
        ),
        (
            "PAX 0.1",
            pax_sparse("0.1", "data/sparse", 2 << 20, &chunks),
        ),
        (
            "PAX 1.0",
            pax_sparse("1.0", "data/sparse", 2 << 20, &chunks),
        ),
    ] {
        let mut t = entry;
        t.extend(file("data/after", b"next entry\n"));
        let layer = end(t);
        let bytes = image(&[plain(layer.clone())]);
        assert_eq!(
            our_listing(&bytes, 0),
            [
                ("data/after".to_string(), 11),
                ("data/sparse".to_string(), 2 << 20)
            ],
            "{format}"
        );
        let (l, kept) = load_bytes_kept(&bytes);
        let id = l.tree.lookup(b"data/sparse").expect("sparse file");
        let a = l.tree.attrs_at(id, 0).expect("attrs");
        // Small holes are hashed as zeros: the digest is the content's.
        assert_eq!(
            a.sha256.map(hex::encode),
            Some(synth::sha256_hex(&want)),
            "{format}"
        );
        let w = layerscope::content::read_window(&l, id, 0, (1 << 20) - 2, 6).expect("window");
        assert_eq!(w.bytes, &want[(1 << 20) - 2..(1 << 20) + 4], "{format}");
        assert_eq!(w.total_size, 2 << 20);
        for extra in [&[][..], &["--no-hash"][..]] {
            let dir = tempfile::tempdir().expect("tempdir");
            let out = bin()
                .arg("extract")
                .arg(&kept.path)
                .arg("/data/sparse")
                .arg("--to")
                .arg(dir.path())
                .args(extra)
                .output()
                .expect("run");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{format} {extra:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = std::fs::read(dir.path().join("sparse")).expect("extracted");
            assert!(got == want, "{format} {extra:?}: {} bytes", got.len());
        }
        if let Some(tar) = gnu {
            let dir = tempfile::tempdir().expect("tempdir");
            let a = write_archive(&layer, "layer.tar");
            let st = Process::new(tar)
                .arg("-xf")
                .arg(&a.path)
                .arg("-C")
                .arg(dir.path())
                .status()
                .expect("tar");
            assert!(st.success(), "{format}");
            let theirs = std::fs::read(dir.path().join("data/sparse")).expect("gnu");
            if theirs != want {
                std::fs::write("/tmp/ls-sparse-layer.tar", &layer).ok();
            }
            assert!(
                theirs == want,
                "GNU tar agrees on {format}: {} bytes",
                theirs.len()
            );
        }
    }
}

#[test]
fn a_terabyte_sparse_file_costs_what_its_archive_holds() {
    // 20 KiB of archive declaring a 1 TB file: shown at its real size, not
    // hashed (its holes exceed the layer's budget), in bounded time and
    // memory.
    let real = 1_000_000_000_000u64;
    let chunks: Chunks = (0..8)
        .map(|i| (i * (real / 8), synth::pseudo_bytes(i, 2048)))
        .collect();
    let layer = end(gnu_sparse("huge", real, &chunks));
    let bytes = image(&[plain(layer)]);
    assert!(bytes.len() < 40 * 1024);
    let a = write_archive(&bytes, "image.tar");
    let r = run_bounded(&args(&["report", "--format", "json"], &a.path), 512, 120);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(30), "took {:?}", r.took);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let change = &v["layers"][0]["changes"][0];
    assert_eq!(change["path"], "/huge");
    assert_eq!(change["size_bytes"], real);
    assert_eq!(change["sha256"], serde_json::Value::Null);
    assert!(
        r.stderr.contains("layer 0: 1 sparse files not hashed: their holes exceed 1024 bytes per stored byte of the layer"),
        "{}",
        r.stderr
    );
    // 300 files of 1 GiB in one small layer.
    let mut t = Vec::new();
    for i in 0..300 {
        t.extend(gnu_sparse(
            &format!("f{i}"),
            1 << 30,
            &vec![(0, vec![b'x'; 16])],
        ));
    }
    let (blob, tar) = gzipped(end(t));
    assert!(blob.len() < 20 * 1024, "{}", blob.len());
    let a = write_archive(&image(&[(blob, tar)]), "image.tar");
    let r = run_bounded(&args(&["report"], &a.path), 512, 120);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(30), "took {:?}", r.took);
    assert!(
        r.stderr.contains("layer 0: 300 sparse files not hashed"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// Repeated layers and the total-entries limit
// ---------------------------------------------------------------------------

#[test]
fn a_layer_listed_four_times_is_read_once_and_counts_four_times() {
    let mut t = Vec::new();
    for i in 0..2000 {
        t.extend(file(&format!("d/f{i}"), b""));
    }
    let layer = end(t);
    let blob_len = layer.len() as u64;
    let l = plain(layer);
    let bytes = image(&[l.clone(), l.clone(), l.clone(), l]);
    let a = write_archive(&bytes, "image.tar");
    let progress = Progress::default();
    let loaded = layerscope::load::load(&a.path, &LoadOptions::default(), &progress).expect("load");
    assert_eq!(loaded.image.layers.len(), 4);
    assert!(loaded.image.layers.iter().all(|l| l.entries == 2000));
    // The blob's bytes went through the reader once.
    assert_eq!(
        progress
            .bytes_done
            .load(std::sync::atomic::Ordering::Relaxed),
        blob_len
    );
    refused(
        &bytes,
        &["--max-total-entries", "7999"],
        "IMAGE: more than 7999 entries in all layers together at layer 3 (raise the limit with --max-total-entries)",
    );
    let r = run_bounded(
        &args(&["report", "--max-total-entries", "8000"], &a.path),
        512,
        60,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Compressions we do not read
// ---------------------------------------------------------------------------

#[test]
fn xz_and_bzip2_layers_and_stdin_are_named() {
    let tar = end(file("a", b"1"));
    for (what, magic) in [("xz", &b"\xfd7zXZ\0"[..]), ("bzip2", &b"BZh91AY&SY"[..])] {
        let mut blob = magic.to_vec();
        blob.extend_from_slice(&synth::pseudo_bytes(3, 200));
        let bytes = image(&[(blob.clone(), tar.clone())]);
        refused(
            &bytes,
            &[],
            &format!(
                "IMAGE: layer 0 is compressed with {what}, which layerscope does not read (blobs/sha256/{}); decompress it first (gzip and zstd are read directly)",
                synth::sha256_hex(&blob)
            ),
        );
        let out = bin()
            .args(["report", "-"])
            .write_stdin(blob)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("layerscope: <stdin>: the archive is compressed with {what}, which layerscope does not read; decompress it first (gzip and zstd are read directly)\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Errors keep their kind (issue 11): what went wrong in a layer is a
// `LayerFault` to match on, not only a message
// ---------------------------------------------------------------------------

fn load_fault(bytes: &[u8], opts: &LoadOptions) -> layerscope::Error {
    let a = write_archive(bytes, "image.tar");
    layerscope::load::load(&a.path, opts, &Progress::default()).expect_err("refused")
}

#[test]
fn layer_errors_keep_their_kind() {
    use layerscope::error::LayerFault;
    use layerscope::Error;
    let tar = end(file("a", b"1"));

    // A truncated gzip stream: malformed data, with the stream named.
    let (gz, plain_tar) = gzipped(tar.clone());
    let cut = gz[..gz.len() - 12].to_vec();
    let e = load_fault(&image(&[(cut, plain_tar)]), &LoadOptions::default());
    match &e {
        Error::Layer {
            index: 0,
            fault: LayerFault::Malformed(m),
            ..
        } => assert_eq!(m, "unexpected end of data (truncated?) (gzip stream)"),
        other => panic!("{other:?}"),
    }

    // Over --max-entries and over --max-path-bytes (the tar reader's own
    // limit): limits, not malformed data.
    let limit = |tar: Vec<u8>, set: fn(&mut LoadOptions)| {
        let mut opts = LoadOptions::default();
        set(&mut opts);
        match load_fault(&image(&[plain(tar)]), &opts) {
            Error::Layer {
                fault: LayerFault::Limit(m),
                ..
            } => m,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        limit(end([file("a", b"1"), file("b", b"2")].concat()), |o| {
            o.scan.max_entries = 1
        }),
        "more than 1 entries (raise the limit with --max-entries)"
    );
    assert_eq!(
        limit(end(file("a-name-of-twenty-bytes", b"1")), |o| {
            o.scan.max_path_bytes = 10
        }),
        "entry #1 has a 22-byte path, over the 10-byte limit (--max-path-bytes)"
    );

    // A diff ID the content does not have: a mismatch with both digests.
    let wrong = end(file("b", b"2"));
    let e = load_fault(
        &image(&[(tar.clone(), wrong.clone())]),
        &LoadOptions::default(),
    );
    match &e {
        Error::Layer {
            fault:
                LayerFault::Mismatch {
                    what,
                    expected,
                    actual,
                },
            ..
        } => {
            assert_eq!(*what, "diff ID");
            assert_eq!(expected, &format!("sha256:{}", synth::sha256_hex(&wrong)));
            assert_eq!(actual, &format!("sha256:{}", synth::sha256_hex(&tar)));
        }
        other => panic!("{other:?}"),
    }

    // xz: its own variant, named from the magic bytes the scan reads anyway.
    let mut xz = b"\xfd7zXZ\0".to_vec();
    xz.extend_from_slice(&synth::pseudo_bytes(3, 200));
    match load_fault(&image(&[(xz, tar)]), &LoadOptions::default()) {
        Error::Unsupported {
            index: 0,
            compression: "xz",
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

/// The source of a layer failing mid-stream (a connection cut, a disk
/// error) stays an I/O fault with its kind, even after the gzip decoder and
/// the tar reader passed the error on.
#[test]
fn a_failing_blob_reader_is_an_io_fault_not_malformed_data() {
    use layerscope::error::LayerFault;
    use std::io::{Cursor, Seek, SeekFrom};

    struct Cut(Cursor<Vec<u8>>, u64);
    impl Read for Cut {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.position() >= self.1 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "the connection closed at byte 600",
                ));
            }
            let room = (self.1 - self.0.position()) as usize;
            let n = buf.len().min(room);
            self.0.read(&mut buf[..n])
        }
    }
    impl Seek for Cut {
        fn seek(&mut self, p: SeekFrom) -> std::io::Result<u64> {
            self.0.seek(p)
        }
    }

    let tar = end(file("big", &synth::pseudo_bytes(7, 64 << 10)));
    let gz = synth::compress(&tar, Compression::Gzip);
    for (blob, suffix) in [(tar.clone(), ""), (gz, " (gzip stream)")] {
        let r = Cut(Cursor::new(blob), 600);
        let fault = layerscope::layer::scan(r, None, Default::default(), |_| {}).expect_err("cut");
        match fault {
            LayerFault::Read { msg, source } => {
                assert_eq!(source.kind(), std::io::ErrorKind::ConnectionReset);
                assert_eq!(
                    msg,
                    format!("entry \"big\": the connection closed at byte 600{suffix}")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
