//! Stable-toolchain fuzz harness for the archive reader (issue #7).
//!
//! Builds a few valid synthetic archives, then mutates them for a chosen time:
//! raw byte edits (truncate, flip, splice, duplicate a chunk) and structural
//! edits (drop/duplicate/reorder outer members, edit manifest JSON, flip or
//! truncate bytes inside a decompressed layer and recompress it, put a crafted
//! tar entry into a layer or the outer archive: GNU and PAX sparse files, PAX
//! records whose values hold newlines, long names declared small, exact or
//! huge; see `crafted_entry`). Each input is
//! loaded (with and without verification), analysed, rendered, read back and
//! extracted; a panic, a multi-line error or a hang is a finding, and the input
//! is saved under `--out`. Stack overflows and aborts kill the process: the
//! input being run is always at `OUT/current.tar`, and `scripts/fuzz.sh` saves
//! it when the process dies.
//!
//! `cargo run --example fuzz -- --seconds 60 [--seed N] [--out DIR]`,
//! `cargo run --example fuzz -- --replay FILE`.

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use layerscope::load::{load, LoadOptions, Progress};
use layerscope_synth::{self as synth, Compression, ImageBuilder, LayerBuilder, XorShift64};

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn seeds() -> Vec<(String, Vec<u8>)> {
    let small = ImageBuilder::new()
        .tag("fuzz:1")
        .layer(
            LayerBuilder::new("base")
                .dir("etc")
                .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
                .file_with("bin/su", b"\x7fELF", 0o4755, 0, 0)
                .symlink("bin/sh", "busybox")
                .file("bin/busybox", &[7u8; 300])
                .hardlink("bin/ls", "bin/busybox")
                .fifo("run/fifo")
                .char_device("dev/null", 1, 3),
        )
        .layer(
            LayerBuilder::new("RUN change")
                .file("etc/passwd", b"root:x:0:0::/root:/bin/bash\n")
                .whiteout("bin/su")
                .symlink("loop/a", "b")
                .symlink("loop/b", "a")
                .raw_name(b"odd/\xff\xfe", b"x"),
        )
        .layer(
            LayerBuilder::new("RUN opaque")
                .opaque("etc")
                .file("etc/hosts", b"127.0.0.1 localhost\n")
                .hardlink("etc/hl", "bin/ls"),
        );
    let tiny = ImageBuilder::new()
        .tag("tiny:1")
        .layer(LayerBuilder::new("one").file("a", b"hello"));
    let mut out = vec![
        ("legacy".to_string(), small.docker_legacy()),
        (
            "docker-oci-gzip".to_string(),
            small.docker_oci(Compression::Gzip),
        ),
        ("oci-zstd".to_string(), small.oci_archive(Compression::Zstd)),
        (
            "oci-plain".to_string(),
            small.oci_archive(Compression::None),
        ),
        ("tiny-legacy".to_string(), tiny.docker_legacy()),
        (
            "tiny-oci-gzip".to_string(),
            tiny.oci_archive(Compression::Gzip),
        ),
    ];
    out.push((
        "outer-gzip".to_string(),
        synth::compress(&tiny.oci_archive(Compression::None), Compression::Gzip),
    ));
    out
}

// ---------------------------------------------------------------------------
// Outer members
// ---------------------------------------------------------------------------

struct MemberData {
    name: Vec<u8>,
    kind: tar::EntryType,
    link: Option<Vec<u8>>,
    data: Vec<u8>,
}

fn unpack(bytes: &[u8]) -> Option<Vec<MemberData>> {
    let mut a = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in a.entries().ok()? {
        let mut e = e.ok()?;
        let mut data = Vec::new();
        e.read_to_end(&mut data).ok()?;
        out.push(MemberData {
            name: e.path_bytes().into_owned(),
            kind: e.header().entry_type(),
            link: e.link_name_bytes().map(|l| l.into_owned()),
            data,
        });
    }
    Some(out)
}

fn pack(members: &[MemberData]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(m.kind);
        h.set_size(m.data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = &m.link {
            let _ = h.set_link_name(Path::new(&String::from_utf8_lossy(l).into_owned()));
        }
        let name = String::from_utf8_lossy(&m.name).into_owned();
        let _ = b.append_data(&mut h, &name, &m.data[..]);
    }
    b.into_inner().unwrap_or_default()
}

fn decompress(data: &[u8]) -> Option<(Compression, Vec<u8>)> {
    let mut out = Vec::new();
    if data.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .ok()?;
        Some((Compression::Gzip, out))
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::read::Decoder::new(data)
            .ok()?
            .read_to_end(&mut out)
            .ok()?;
        Some((Compression::Zstd, out))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

fn flip(rng: &mut XorShift64, v: &mut [u8]) {
    if v.is_empty() {
        return;
    }
    for _ in 0..=rng.below(8) {
        let i = rng.below(v.len() as u64) as usize;
        match rng.below(4) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = 0,
            2 => v[i] = 0xff,
            _ => v[i] = *rng.pick(b"0123456789/.\0 7x"),
        }
    }
}

fn raw_mutation(rng: &mut XorShift64, v: &mut Vec<u8>, other: &[u8]) {
    match rng.below(5) {
        0 => {
            let n = rng.below(v.len() as u64 + 1) as usize;
            v.truncate(n);
        }
        1 => flip(rng, v),
        2 if !other.is_empty() && !v.is_empty() => {
            // splice a chunk of another input over ours
            let len = 1 + rng.below(2048.min(other.len() as u64)) as usize;
            let src = rng.below((other.len() - len + 1) as u64) as usize;
            let dst = rng.below(v.len() as u64) as usize;
            let end = (dst + len).min(v.len());
            v[dst..end].copy_from_slice(&other[src..src + (end - dst)]);
        }
        3 if !v.is_empty() => {
            // duplicate a chunk in place (often a 512-byte header block)
            let aligned = rng.chance(0.5);
            let len = if aligned {
                512 * (1 + rng.below(4) as usize)
            } else {
                1 + rng.below(1024) as usize
            };
            let mut at = rng.below(v.len() as u64) as usize;
            if aligned {
                at -= at % 512;
            }
            let end = (at + len).min(v.len());
            let chunk = v[at..end].to_vec();
            let ins = if aligned { end } else { at };
            v.splice(ins..ins, chunk);
        }
        _ => {
            let at = rng.below(v.len() as u64 + 1) as usize;
            let n = rng.below(64) as usize;
            let junk: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            v.splice(at..at, junk);
        }
    }
}

fn nasty_value(rng: &mut XorShift64) -> serde_json::Value {
    use serde_json::json;
    match rng.below(12) {
        0 => json!(""),
        1 => json!("../../etc/passwd"),
        2 => json!("/etc/passwd"),
        3 => json!(-1),
        4 => json!(u64::MAX),
        5 => json!(1e300),
        6 => serde_json::Value::Null,
        7 => json!([]),
        8 => json!({}),
        9 => json!("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        10 => json!("blobs/sha256/../../x"),
        _ => json!("sha256:"),
    }
}

fn mutate_json(rng: &mut XorShift64, v: &mut serde_json::Value, depth: u32) {
    use serde_json::Value;
    let stop = depth > 6 || rng.chance(0.3);
    match v {
        Value::Array(a) if !a.is_empty() => {
            let i = rng.below(a.len() as u64) as usize;
            if stop {
                match rng.below(4) {
                    0 => {
                        let dup = a[i].clone();
                        a.insert(i, dup);
                    }
                    1 => {
                        a.remove(i);
                    }
                    2 => a.reverse(),
                    _ => a[i] = nasty_value(rng),
                }
            } else {
                mutate_json(rng, &mut a[i], depth + 1);
            }
        }
        Value::Object(o) if !o.is_empty() => {
            let keys: Vec<String> = o.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            if stop {
                if rng.chance(0.3) {
                    o.remove(&k);
                } else {
                    o.insert(k, nasty_value(rng));
                }
            } else if let Some(child) = o.get_mut(&k) {
                mutate_json(rng, child, depth + 1);
            }
        }
        _ => *v = nasty_value(rng),
    }
}

fn structural_mutation(rng: &mut XorShift64, input: &[u8]) -> Option<Vec<u8>> {
    let mut ms = unpack(input)?;
    if ms.is_empty() {
        return None;
    }
    let i = rng.below(ms.len() as u64) as usize;
    match rng.below(13) {
        8 => nest_index(rng, &mut ms)?,
        9 | 10 => odd_layer(rng, &mut ms)?,
        0 => {
            ms.remove(i);
        }
        1 => {
            let d = MemberData {
                name: ms[i].name.clone(),
                kind: ms[i].kind,
                link: ms[i].link.clone(),
                data: ms[i].data.clone(),
            };
            let at = rng.below(ms.len() as u64 + 1) as usize;
            ms.insert(at, d);
        }
        2 => {
            let j = rng.below(ms.len() as u64) as usize;
            ms.swap(i, j);
        }
        3 | 4 => {
            // edit a JSON member
            let js: Vec<usize> = (0..ms.len())
                .filter(|&k| ms[k].data.first().is_some_and(|b| *b == b'{' || *b == b'['))
                .collect();
            if js.is_empty() {
                return None;
            }
            let k = *rng.pick(&js);
            let mut v: serde_json::Value = serde_json::from_slice(&ms[k].data).ok()?;
            mutate_json(rng, &mut v, 0);
            ms[k].data = serde_json::to_vec(&v).ok()?;
        }
        5 | 6 => {
            // edit inside a (compressed) layer and recompress
            let big: Vec<usize> = (0..ms.len()).filter(|&k| ms[k].data.len() >= 512).collect();
            if big.is_empty() {
                return None;
            }
            let k = *rng.pick(&big);
            let (c, mut inner) = match decompress(&ms[k].data) {
                Some(x) => x,
                None => (Compression::None, ms[k].data.clone()),
            };
            let other = inner.clone();
            raw_mutation(rng, &mut inner, &other);
            ms[k].data = if c == Compression::None {
                inner
            } else {
                synth::compress(&inner, c)
            };
        }
        11 | 12 => {
            // put a crafted entry (sparse, PAX with newlines, long names)
            // into a layer, or into the outer archive itself
            let big: Vec<usize> = (0..ms.len()).filter(|&k| ms[k].data.len() >= 512).collect();
            if big.is_empty() || rng.chance(0.2) {
                let mut outer = pack(&ms);
                let at = rng.below(outer.len() as u64 / 512 + 1) as usize * 512;
                let at = at.min(outer.len());
                let e = crafted_entry(rng);
                outer.splice(at..at, e);
                return Some(outer);
            }
            let k = *rng.pick(&big);
            let (c, mut inner) = match decompress(&ms[k].data) {
                Some(x) => x,
                None => (Compression::None, ms[k].data.clone()),
            };
            let at = rng.below(inner.len() as u64 / 512 + 1) as usize * 512;
            let at = at.min(inner.len());
            let e = crafted_entry(rng);
            inner.splice(at..at, e);
            ms[k].data = if c == Compression::None {
                inner
            } else {
                synth::compress(&inner, c)
            };
        }
        _ => {
            // rename a member onto another name
            let j = rng.below(ms.len() as u64) as usize;
            ms[i].name = ms[j].name.clone();
        }
    }
    Some(pack(&ms))
}

// ---------------------------------------------------------------------------
// Crafted tar entries (issue #12): sparse files, PAX records with newlines,
// long names, each with sizes that are right, wrong, or huge
// ---------------------------------------------------------------------------

/// An octal field, or base-256 when the value does not fit.
fn num_field(f: &mut [u8], v: u64) {
    let s = format!("{:0w$o}\0", v, w = f.len() - 1);
    if s.len() == f.len() {
        f.copy_from_slice(s.as_bytes());
    } else {
        f.fill(0);
        let n = f.len();
        f[n - 8..].copy_from_slice(&v.to_be_bytes());
        f[0] = 0x80;
    }
}

fn raw_header(name: &[u8], flag: u8, size: u64, gnu: bool) -> [u8; 512] {
    let mut b = [0u8; 512];
    let n = name.len().min(100);
    b[..n].copy_from_slice(&name[..n]);
    num_field(&mut b[100..108], 0o644);
    num_field(&mut b[108..116], 0);
    num_field(&mut b[116..124], 0);
    num_field(&mut b[124..136], size);
    num_field(&mut b[136..148], 1_700_000_000);
    b[156] = flag;
    b[257..265].copy_from_slice(if gnu { b"ustar  \0" } else { b"ustar\x0000" });
    seal(&mut b);
    b
}

fn seal(b: &mut [u8; 512]) {
    b[148..156].copy_from_slice(b"        ");
    let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn pad512(v: &mut Vec<u8>) {
    v.resize(v.len().div_ceil(512) * 512, 0);
}

/// A PAX record; sometimes with a wrong length.
fn pax_record(rng: &mut XorShift64, k: &str, v: &[u8]) -> Vec<u8> {
    let rest = 1 + k.len() + 1 + v.len() + 1;
    let mut len = rest + 1;
    while len.to_string().len() + rest != len {
        len = len.to_string().len() + rest;
    }
    if rng.chance(0.1) {
        len = (len as u64).saturating_add(rng.below(5)).saturating_sub(2) as usize;
    }
    let mut r = format!("{len} {k}=").into_bytes();
    r.extend_from_slice(v);
    r.push(b'\n');
    r
}

fn some_size(rng: &mut XorShift64) -> u64 {
    match rng.below(5) {
        0 => rng.below(4096),
        1 => 1 << 30,
        2 => 1_000_000_000_000,
        3 => u64::MAX >> rng.below(4),
        _ => rng.below(1 << 22),
    }
}

fn crafted_entry(rng: &mut XorShift64) -> Vec<u8> {
    let name = format!("fz/{}", rng.below(1000));
    let data = synth::pseudo_bytes(rng.next_u64(), rng.below(3000) as usize);
    let mut out = Vec::new();
    match rng.below(4) {
        0 => {
            // GNU sparse (type S), maybe with extension blocks
            let n = rng.below(30) as usize;
            let real = if rng.chance(0.5) {
                some_size(rng)
            } else {
                1 << 21
            };
            let mut chunks = Vec::new();
            let mut off = 0u64;
            for _ in 0..n {
                off = off.saturating_add(rng.below(1 << 20));
                chunks.push((off, rng.below(600)));
                off = off.saturating_add(chunks.last().map_or(0, |c| c.1));
            }
            let stored: u64 = chunks.iter().map(|c| c.1).sum();
            let stored = if rng.chance(0.8) {
                stored
            } else {
                rng.below(5000)
            };
            let mut h = raw_header(name.as_bytes(), b'S', stored, true);
            for (i, (o, l)) in chunks.iter().take(4).enumerate() {
                num_field(&mut h[386 + 24 * i..398 + 24 * i], *o);
                num_field(&mut h[398 + 24 * i..410 + 24 * i], *l);
            }
            num_field(&mut h[483..495], real);
            h[482] = u8::from(chunks.len() > 4);
            seal(&mut h);
            out.extend_from_slice(&h);
            let rest: Vec<_> = chunks.iter().skip(4).collect();
            let groups: Vec<_> = rest.chunks(21).collect();
            for (g, grp) in groups.iter().enumerate() {
                let mut ext = [0u8; 512];
                for (i, (o, l)) in grp.iter().enumerate() {
                    num_field(&mut ext[24 * i..24 * i + 12], *o);
                    num_field(&mut ext[24 * i + 12..24 * i + 24], *l);
                }
                ext[504] = u8::from(g + 1 < groups.len());
                out.extend_from_slice(&ext);
            }
            let mut body = synth::pseudo_bytes(rng.next_u64(), stored.min(1 << 16) as usize);
            pad512(&mut body);
            out.extend(body);
        }
        1 => {
            // PAX sparse 0.0 / 0.1 / 1.0
            let n = rng.below(6);
            let real = if rng.chance(0.5) {
                some_size(rng)
            } else {
                1 << 21
            };
            let chunks: Vec<(u64, u64)> = (0..n).map(|i| (i << 19, rng.below(700))).collect();
            let stored: u64 = chunks.iter().map(|c| c.1).sum();
            let mut recs = Vec::new();
            let mut body = synth::pseudo_bytes(rng.next_u64(), stored as usize);
            let version = rng.below(3);
            match version {
                0 => {
                    recs.extend(pax_record(
                        rng,
                        "GNU.sparse.size",
                        real.to_string().as_bytes(),
                    ));
                    for (o, l) in &chunks {
                        recs.extend(pax_record(
                            rng,
                            "GNU.sparse.offset",
                            o.to_string().as_bytes(),
                        ));
                        recs.extend(pax_record(
                            rng,
                            "GNU.sparse.numbytes",
                            l.to_string().as_bytes(),
                        ));
                    }
                }
                1 => {
                    recs.extend(pax_record(
                        rng,
                        "GNU.sparse.size",
                        real.to_string().as_bytes(),
                    ));
                    let map: Vec<String> = chunks
                        .iter()
                        .flat_map(|(o, l)| [o.to_string(), l.to_string()])
                        .collect();
                    recs.extend(pax_record(rng, "GNU.sparse.map", map.join(",").as_bytes()));
                }
                _ => {
                    recs.extend(pax_record(rng, "GNU.sparse.major", b"1"));
                    recs.extend(pax_record(rng, "GNU.sparse.minor", b"0"));
                    recs.extend(pax_record(rng, "GNU.sparse.name", name.as_bytes()));
                    recs.extend(pax_record(
                        rng,
                        "GNU.sparse.realsize",
                        real.to_string().as_bytes(),
                    ));
                    let mut map = format!("{}\n", chunks.len()).into_bytes();
                    for (o, l) in &chunks {
                        map.extend(format!("{o}\n{l}\n").into_bytes());
                    }
                    pad512(&mut map);
                    map.extend(body);
                    body = map;
                }
            }
            let mut p = raw_header(b"PaxHeaders/x", b'x', recs.len() as u64, false).to_vec();
            pad512(&mut recs);
            p.extend(recs);
            out.extend(p);
            out.extend_from_slice(&raw_header(name.as_bytes(), b'0', body.len() as u64, false));
            pad512(&mut body);
            out.extend(body);
        }
        2 => {
            // PAX records whose values hold newlines, hiding a size or path
            let mut recs = pax_record(rng, "comment", b"x\n20 size=0\n");
            let keys = ["size", "path", "linkpath", "mtime", "uid"];
            let k = *rng.pick(&keys);
            let v = match k {
                "size" => some_size(rng).to_string().into_bytes(),
                "path" | "linkpath" => b"etc/shadow\nsecond line".to_vec(),
                _ => b"12\n".to_vec(),
            };
            recs.extend(pax_record(rng, k, &v));
            let flag = if rng.chance(0.2) { b'g' } else { b'x' };
            out.extend_from_slice(&raw_header(b"PaxHeaders/x", flag, recs.len() as u64, false));
            pad512(&mut recs);
            out.extend(recs);
            out.extend_from_slice(&raw_header(name.as_bytes(), b'0', data.len() as u64, false));
            let mut d = data;
            pad512(&mut d);
            out.extend(d);
        }
        _ => {
            // GNU long name / link, declared small, exact or huge
            let value = vec![b'n'; rng.below(70_000) as usize + 1];
            let declared = match rng.below(3) {
                0 => value.len() as u64 + 1,
                1 => some_size(rng),
                _ => rng.below(200),
            };
            let flag = if rng.chance(0.5) { b'L' } else { b'K' };
            out.extend_from_slice(&raw_header(b"././@LongLink", flag, declared, true));
            let mut v = value;
            v.push(0);
            pad512(&mut v);
            out.extend(v);
            out.extend_from_slice(&raw_header(name.as_bytes(), b'0', data.len() as u64, true));
            let mut d = data;
            pad512(&mut d);
            out.extend(d);
        }
    }
    out
}

/// Wrap index.json in new indexes, each listing the one below 1 to 40
/// times (issue #12: nested indexes fanning out).
fn nest_index(rng: &mut XorShift64, ms: &mut Vec<MemberData>) -> Option<()> {
    let k = ms.iter().position(|m| m.name == b"index.json")?;
    for _ in 0..1 + rng.below(4) {
        let inner = ms[k].data.clone();
        let hex = synth::sha256_hex(&inner);
        let times = 1 + rng.below(40) as usize;
        let desc = synth::Descriptor::new(
            "application/vnd.oci.image.index.v1+json",
            &hex,
            inner.len() as u64,
        );
        ms[k].data = synth::oci_index_json(&vec![desc; times]);
        ms.push(MemberData {
            name: format!("blobs/sha256/{hex}").into_bytes(),
            kind: tar::EntryType::Regular,
            link: None,
            data: inner,
        });
    }
    Some(())
}

/// Replace a layer's tar with one holding the entries tar readers disagree
/// on: PAX records whose values hold newlines (and a `size` record), long
/// GNU names and PAX paths, then the original entries (issue #12).
fn odd_layer(rng: &mut XorShift64, ms: &mut [MemberData]) -> Option<()> {
    let layers: Vec<usize> = (0..ms.len())
        .filter(|&k| ms[k].data.len() >= 1024 && !ms[k].name.ends_with(b".json"))
        .collect();
    if layers.is_empty() {
        return None;
    }
    let k = *rng.pick(&layers);
    let (c, inner) = decompress(&ms[k].data).unwrap_or((Compression::None, ms[k].data.clone()));
    let mut b = tar::Builder::new(Vec::new());
    for _ in 0..1 + rng.below(3) {
        let body = vec![b'x'; rng.below(2000) as usize];
        match rng.below(4) {
            0 => {
                let key = *rng.pick(&["path", "linkpath", "size", "comment", "uname"]);
                let value: Vec<u8> = match rng.below(3) {
                    0 => b"etc/shadow\nsize=1024".to_vec(),
                    1 => format!("{}", rng.below(5000)).into_bytes(),
                    _ => b"a\n20 path=decoy\n".to_vec(),
                };
                b.append_pax_extensions([(key, &value[..])]).ok()?;
                let mut h = tar::Header::new_ustar();
                h.set_size(body.len() as u64);
                h.set_mode(0o644);
                h.set_path("etc/shadow").ok()?;
                h.set_cksum();
                b.append(&h, &body[..]).ok()?;
            }
            1 | 2 => {
                let most = if rng.chance(0.2) { 200_000 } else { 5_000 };
                let len = 100 + rng.below(most) as usize;
                // Components of 200 bytes: long, not deep (a 1,300-deep
                // tree extracts in seconds, but minutes on a loaded machine).
                let name: String = (0..len)
                    .map(|i| if i % 200 == 199 { '/' } else { 'n' })
                    .collect();
                let mut h = tar::Header::new_gnu();
                h.set_size(body.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name.trim_end_matches('/'), &body[..])
                    .ok()?;
            }
            _ => {
                // Deep but not 30,000 deep: extraction by path is quadratic in depth
                // (the openat rewrite on branch extract removes that).
                let path = "p/".repeat(1 + rng.below(500) as usize);
                b.append_pax_extensions([("path", path.as_bytes())]).ok()?;
                let mut h = tar::Header::new_ustar();
                h.set_size(body.len() as u64);
                h.set_mode(0o644);
                h.set_path("short").ok()?;
                h.set_cksum();
                b.append(&h, &body[..]).ok()?;
            }
        }
    }
    let mut out = b.into_inner().ok()?;
    out.extend_from_slice(&inner);
    ms[k].data = if c == Compression::None {
        out
    } else {
        synth::compress(&out, c)
    };
    Some(())
}

fn mutate(rng: &mut XorShift64, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut v = rng.pick(seeds).1.clone();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if rng.chance(0.5) {
            if let Some(m) = structural_mutation(rng, &v) {
                v = m;
                continue;
            }
        }
        let other = rng.pick(seeds).1.clone();
        raw_mutation(rng, &mut v, &other);
    }
    v
}

// ---------------------------------------------------------------------------
// The target
// ---------------------------------------------------------------------------

#[derive(Default, Debug)]
struct Stats {
    runs: u64,
    ok: u64,
    errors: std::collections::BTreeMap<String, u64>,
}

/// Run everything a user could do with one input. Returns a finding, if any.
fn target(path: &Path, verify: bool, scratch: &Path, stats: &mut Stats) -> Option<String> {
    let opts = LoadOptions {
        verify,
        ..LoadOptions::default()
    };
    match load(path, &opts, &Progress::default()) {
        Err(e) => {
            let msg = e.to_string();
            let kind = msg
                .split(": ")
                .last()
                .unwrap_or("")
                .chars()
                .take(40)
                .collect::<String>();
            *stats.errors.entry(kind).or_default() += 1;
            if msg.contains('\n') {
                return Some(format!("multi-line error: {msg:?}"));
            }
            None
        }
        Ok(loaded) => {
            stats.ok += 1;
            let analysis = layerscope::analysis::analyse(&loaded);
            let subject = layerscope::report::Subject {
                loaded: &loaded,
                analysis: &analysis,
            };
            let _ = layerscope::report::text::render(&subject, layerscope::report::Units::Human);
            let _ = layerscope::report::json::render(&subject);
            let last = loaded.tree.final_layer();
            for id in loaded.tree.ids().take(64) {
                let _ = layerscope::content::read_window(&loaded, id, last, 0, 64);
            }
            extract_check(&loaded, scratch)
        }
    }
}

#[allow(unused_variables)]
fn extract_check(loaded: &layerscope::load::Loaded, scratch: &Path) -> Option<String> {
    let _ = std::fs::remove_dir_all(scratch);
    if std::fs::create_dir_all(scratch.join("dest")).is_err() {
        return None;
    }
    let opts = layerscope::extract::Options::default();
    let _ = layerscope::extract::extract(
        loaded,
        layerscope::tree::ROOT,
        loaded.tree.final_layer(),
        &scratch.join("dest"),
        &opts,
    );
    // Nothing may appear beside dest.
    let stray: Vec<_> = std::fs::read_dir(scratch)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "dest")
        .map(|e| e.file_name())
        .collect();
    let _ = std::fs::remove_dir_all(scratch);
    (!stray.is_empty()).then(|| format!("extraction wrote outside its destination: {stray:?}"))
}

fn run_one(path: PathBuf, verify: bool, scratch: PathBuf) -> (Option<String>, Stats) {
    let mut stats = Stats::default();
    *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let r = catch_unwind(AssertUnwindSafe(|| {
        target(&path, verify, &scratch, &mut stats)
    }));
    let finding = match r {
        Ok(f) => f,
        Err(_) => Some(format!(
            "panic: {}",
            LAST_PANIC
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default()
        )),
    };
    (finding, stats)
}

fn main() {
    let mut seconds = 60u64;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut out = PathBuf::from("target/fuzz");
    let mut replay: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().expect("missing value");
        match a.as_str() {
            "--seconds" => seconds = val().parse().expect("seconds"),
            "--seed" => seed = val().parse().expect("seed"),
            "--out" => out = PathBuf::from(val()),
            "--replay" => replay = Some(PathBuf::from(val())),
            other => panic!("unknown argument {other}"),
        }
    }
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
    }));
    std::fs::create_dir_all(out.join("crashes")).expect("out dir");
    let scratch = out.join("scratch");
    if let Some(p) = replay {
        for verify in [true, false] {
            let (f, stats) = run_one(p.clone(), verify, scratch.clone());
            println!("verify={verify}: {f:?} {stats:?}");
        }
        return;
    }
    let seeds = seeds();
    let current = out.join("current.tar");
    let mut rng = XorShift64::new(seed);
    let start = Instant::now();
    let mut last_report = Instant::now();
    let mut total = Stats::default();
    let mut findings = 0u64;
    println!("fuzz: seed {seed}, {seconds}s, {} seeds", seeds.len());
    while start.elapsed() < Duration::from_secs(seconds) {
        let input = mutate(&mut rng, &seeds);
        std::fs::write(&current, &input).expect("write current input");
        let verify = rng.chance(0.5);
        // A watchdog thread: a hang is a finding too.
        let (tx, rx) = mpsc::channel();
        let (p, s) = (current.clone(), scratch.clone());
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let _ = tx.send(run_one(p, verify, s));
            })
            .expect("spawn");
        let (finding, stats) = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(r) => r,
            Err(_) => {
                let dst = out
                    .join("crashes")
                    .join(format!("hang-{seed}-{}.tar", total.runs));
                let _ = std::fs::copy(&current, &dst);
                println!("HANG saved {}", dst.display());
                std::process::exit(3);
            }
        };
        total.runs += 1;
        total.ok += stats.ok;
        for (k, v) in stats.errors {
            *total.errors.entry(k).or_default() += v;
        }
        if let Some(f) = finding {
            findings += 1;
            let dst = out
                .join("crashes")
                .join(format!("crash-{seed}-{}.tar", total.runs));
            let _ = std::fs::write(&dst, &input);
            let _ = std::fs::write(dst.with_extension("txt"), format!("verify={verify}\n{f}\n"));
            println!("FINDING {}: {f}", dst.display());
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            println!(
                "{:>6}s runs {} ok {} findings {}",
                start.elapsed().as_secs(),
                total.runs,
                total.ok,
                findings
            );
        }
    }
    println!(
        "done: runs {} ok {} findings {findings}",
        total.runs, total.ok
    );
    let mut kinds: Vec<_> = total.errors.into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    for (k, v) in kinds.iter().take(40) {
        println!("{v:>8}  {k}");
    }
    let _ = std::io::stdout().flush();
    std::process::exit(if findings > 0 { 1 } else { 0 });
}
