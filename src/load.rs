//! Loading an image end to end: open the source, select the image, stream
//! every layer in parallel (decompress, hash, verify), and replay them in
//! order into the merged tree as they arrive. Progress is published through
//! atomics so a UI can draw it while this runs on a worker thread.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use crate::archive::{self, Source};
use crate::error::{Error, LayerFault, Result};
use crate::image::{layer_history, Image, LayerInfo};
use crate::layer::{self, Compression};
use crate::origin::{Origin, SourceKind};
pub use crate::progress::{Phase, Progress};
pub use crate::source::options::LoadOptions;
use crate::source::{Opened, Scans};
use crate::tree::{DiveTally, FileTree, Replay};

/// A loaded image: metadata, merged tree, and dive's raw tallies.
#[derive(Debug)]
pub struct Loaded {
    /// The opened source, kept so file contents can be read later.
    pub source: Arc<Source>,
    pub image: Image,
    pub tree: FileTree,
    pub dive: DiveTally,
    /// The path limit the layers were read with, for reading them again.
    pub max_path_bytes: usize,
}

/// Load an image from what the user typed: a path (`-` for stdin), an image
/// reference, or a prefixed form (`docker://nginx`), resolved by
/// [`crate::source::open`].
pub fn load(input: &Path, opts: &LoadOptions, progress: &Progress) -> Result<Loaded> {
    load_sharing(input, opts, progress, None, None)
}

/// Picks among the images a selection leaves (their indices in the
/// source's candidates, two or more): the one to load, or None to give up
/// with the error [`Source::select`] gives. The explorer asks the user.
pub type Chooser<'a> = dyn Fn(&Source, &[usize]) -> Option<usize> + Sync + 'a;

/// [`load`], with `choose` picking when the source holds several images
/// and the options pick none of them.
pub fn load_choosing(
    input: &Path,
    opts: &LoadOptions,
    progress: &Progress,
    choose: &Chooser,
) -> Result<Loaded> {
    load_sharing(input, opts, progress, None, Some(choose))
}

fn load_sharing(
    input: &Path,
    opts: &LoadOptions,
    progress: &Progress,
    shared: Option<&SharedScans>,
    choose: Option<&Chooser>,
) -> Result<Loaded> {
    // Dropped on every way out, so the other side never waits for layers
    // this one will not announce.
    let side = shared.map(SharedScans::side);
    progress.set_phase(Phase::Opening);
    let opened = crate::source::open(input.as_os_str(), opts, progress)?;
    let Opened {
        source,
        origin,
        scans,
    } = opened;
    let chosen = choose.and_then(|c| chosen(&source, opts, c));
    load_inner(
        Arc::new(source),
        origin,
        scans,
        chosen.as_ref().unwrap_or(opts),
        progress,
        side.as_ref(),
    )
}

/// The options with `choose`'s pick as the selection, when the selection
/// leaves several images (None: it leaves one or none, or no pick).
fn chosen(source: &Source, opts: &LoadOptions, choose: &Chooser) -> Option<LoadOptions> {
    let pool = source.matching(&opts.selector).ok()?;
    if pool.len() < 2 {
        return None;
    }
    let i = choose(source, &pool)?;
    let mut o = opts.clone();
    // The index picks it among what the platform (if any) left.
    o.selector.image = Some(i.to_string());
    Some(o)
}

/// One side of a comparison: where, how, and its progress.
pub type Side<'a> = (&'a Path, &'a LoadOptions, &'a Progress);

/// Load one image, or two in parallel (a diff's sides, a CI baseline).
/// Both sides cannot be stdin: that is refused before anything is read.
/// A layer both images hold (the same blob, by digest) is read and parsed
/// once, by whichever side gets to it first, and replayed by both.
pub fn load_pair(first: Side, second: Option<Side>) -> Result<(Loaded, Option<Loaded>)> {
    load_pair_with(first, second, [None, None])
}

/// [`load_pair`], each side's `choose` picking when it holds several images.
pub fn load_pair_choosing(
    first: Side,
    second: Option<Side>,
    choose: [&Chooser; 2],
) -> Result<(Loaded, Option<Loaded>)> {
    load_pair_with(first, second, choose.map(Some))
}

fn load_pair_with(
    first: Side,
    second: Option<Side>,
    choose: [Option<&Chooser>; 2],
) -> Result<(Loaded, Option<Loaded>)> {
    if let Some((p2, _, _)) = second {
        if first.0 == Path::new("-") && p2 == Path::new("-") {
            return Err(Error::Usage(
                "only one side can be read from stdin (-)".into(),
            ));
        }
    }
    let shared = SharedScans::default();
    let shared = second.is_some().then_some(&shared);
    std::thread::scope(|s| {
        let other =
            second.map(|(p, o, pr)| s.spawn(move || load_sharing(p, o, pr, shared, choose[1])));
        let a = load_sharing(first.0, first.1, first.2, shared, choose[0]);
        let b = match other {
            // A panic on the other thread is a bug: let it surface as one.
            Some(h) => Some(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?),
            None => None,
        };
        Ok((a?, b))
    })
}

/// Do both sides name the same image (the same path, not stdin, the same
/// selection)? Then a comparison loads it once.
pub fn same_image(a: (&Path, &LoadOptions), b: (&Path, &LoadOptions)) -> bool {
    a.0 == b.0
        && a.0 != Path::new("-")
        && a.1.selector.image == b.1.selector.image
        && a.1.selector.platform == b.1.selector.platform
}

/// Load the selected image of an opened archive or layout directory.
pub fn load_from(source: Arc<Source>, opts: &LoadOptions, progress: &Progress) -> Result<Loaded> {
    let origin = Origin::path(
        if source.store.is_dir() {
            SourceKind::OciDir
        } else {
            SourceKind::Archive
        },
        &source.store.display.display().to_string(),
    );
    load_inner(source, origin, Scans::new(), opts, progress, None)
}

/// Load the selected image of a resolved source, using the layers it
/// scanned while they streamed.
pub fn load_opened(opened: Opened, opts: &LoadOptions, progress: &Progress) -> Result<Loaded> {
    let Opened {
        source,
        origin,
        scans,
    } = opened;
    load_inner(Arc::new(source), origin, scans, opts, progress, None)
}

fn load_inner(
    source: Arc<Source>,
    origin: Origin,
    scans: Scans,
    opts: &LoadOptions,
    progress: &Progress,
    shared: Option<&Sharer>,
) -> Result<Loaded> {
    let scans = Mutex::new(scans);
    let store = &source.store;
    let display = store.display.clone();
    let cand = source.select(&opts.selector)?;
    let (config, history, diff_ids, config_digest) =
        archive::read_config(&source, cand, opts.verify)?;
    let mut warnings = Vec::new();
    if diff_ids.len() != cand.layers.len() {
        let msg = format!(
            "the manifest lists {} layers but the config has {} diff IDs",
            cand.layers.len(),
            diff_ids.len()
        );
        if opts.verify {
            return Err(Error::Member {
                path: display,
                member: cand.config_member.clone(),
                msg,
            });
        }
        warnings.push(msg);
    }
    let made = history.iter().filter(|h| !h.empty_layer).count();
    if !history.is_empty() && made != cand.layers.len() {
        warnings.push(format!(
            "the history names {made} layers but the image has {}; layer commands may be misaligned",
            cand.layers.len()
        ));
    }
    // A blob listed twice is read once and replayed at each position.
    let mut first_of: Vec<usize> = Vec::with_capacity(cand.layers.len());
    let mut last_of = std::collections::HashMap::new();
    {
        let mut firsts = std::collections::HashMap::new();
        for (i, l) in cand.layers.iter().enumerate() {
            let first = *firsts.entry(&l.member).or_insert(i);
            if first != i {
                warnings.push(format!("layer {} is listed more than once", l.member));
            }
            first_of.push(first);
            last_of.insert(first, i);
        }
    }
    // Each layer's size once: the per-layer bars, the sharing keys, and the
    // total of the blobs to read (a repeated blob is read once). A
    // compression we do not read is named by the scan, from the magic bytes
    // it reads anyway, so no layer is opened twice.
    let mut total = 0u64;
    let mut sizes = Vec::with_capacity(cand.layers.len());
    for (i, l) in cand.layers.iter().enumerate() {
        if !store.contains(&l.member) {
            return Err(Error::Member {
                path: display,
                member: l.member.clone(),
                msg: "layer named by the manifest is missing from the archive".into(),
            });
        }
        let size = store.size(&l.member)?;
        if first_of[i] == i {
            total += size;
        }
        sizes.push(size);
    }
    *progress
        .layer_bytes
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = sizes.iter().map(|&n| (0, n)).collect();
    progress.bytes_total.store(total, Ordering::Relaxed);
    progress
        .layers_total
        .store(cand.layers.len(), Ordering::Relaxed);
    progress.set_phase(Phase::ReadingLayers);

    let name_of = |i: usize| -> String {
        cand.layers[i]
            .digest
            .clone()
            .or_else(|| diff_ids.get(i).cloned())
            .unwrap_or_else(|| cand.layers[i].member.clone())
    };
    let layer_err = |index: usize, fault: LayerFault| match fault {
        LayerFault::Unsupported(compression) => Error::Unsupported {
            path: display.clone(),
            index,
            member: cand.layers[index].member.clone(),
            compression,
        },
        fault => Error::Layer {
            path: display.clone(),
            index,
            digest: name_of(index),
            fault,
        },
    };

    // --hash files still shows every layer digest; --no-hash hashes nothing.
    let scan_opts_of = |l: &archive::LayerRef| layer::ScanOptions {
        blob_digest_unknown: l.digest.is_none() && opts.scan.hash_files,
        ..opts.scan
    };
    // What makes a layer's scan usable by the other side of a pair: the
    // same blob (by its digest, else by the diff ID the config gives it),
    // the same size and media type, read with the same options.
    let keys: Vec<Option<String>> = cand
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if shared.is_none() || first_of[i] != i {
                return None;
            }
            let id = match (&l.digest, diff_ids.get(i)) {
                (Some(d), _) => d.clone(),
                (None, Some(d)) => format!("diff ID {d}"),
                (None, None) => return None,
            };
            let size = sizes[i];
            Some(format!(
                "{id} {size} {:?} {:?}",
                l.media_type,
                scan_opts_of(l)
            ))
        })
        .collect();
    if let Some(sh) = shared {
        sh.announce(keys.iter().flatten());
    }

    let mut replay = Replay::new();
    let mut infos: Vec<LayerInfo> = Vec::with_capacity(cand.layers.len());
    let hist = layer_history(&history, cand.layers.len());
    // `Ok(None)`: a repeat of an earlier layer's blob, not read again.
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<Option<Arc<layer::Scan>>>)>(2);
    let mut kept: std::collections::HashMap<usize, Arc<layer::Scan>> =
        std::collections::HashMap::new();
    let mut total_entries = 0u64;
    let mut first_err: Option<Error> = None;

    // Layers are handed out in order to a few workers, and a worker waits
    // before starting a layer `workers` or more ahead of the replay: the
    // base layer is often the biggest, and without the wait every later
    // layer's entries would pile up in memory behind it.
    // A remote source is bound by the network, not the cores: it says how
    // many downloads to keep going.
    let workers = store
        .parallelism()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 8)
        .min(cand.layers.len().max(1));
    let next_layer = AtomicUsize::new(0);
    let replayed = (Mutex::new(0usize), Condvar::new());
    std::thread::scope(|s| {
        let layers = &cand.layers;
        let (first_of, keys, diff_ids, scan_opts_of) = (&first_of, &keys, &diff_ids, &scan_opts_of);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next_layer, replayed, scans) = (&next_layer, &replayed, &scans);
            let layer_err = &layer_err;
            s.spawn(move || loop {
                let i = next_layer.fetch_add(1, Ordering::Relaxed);
                let Some(l) = layers.get(i) else { break };
                if first_of[i] != i {
                    if tx.send((i, Ok(None))).is_err() {
                        break;
                    }
                    continue;
                }
                {
                    let (lock, cv) = replayed;
                    let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *done + workers && !progress.cancel.load(Ordering::Relaxed) {
                        done = cv.wait(done).unwrap_or_else(|e| e.into_inner());
                    }
                }
                if progress.cancel.load(Ordering::Relaxed) {
                    let _ = tx.send((i, Err(layer_err(i, LayerFault::Cancelled))));
                    continue;
                }
                let streamed = scans
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&l.member);
                let key = keys[i].as_ref().zip(shared);
                if let Some(scan) = streamed {
                    let scan =
                        Arc::new(layer::with_media_type_check(scan, l.media_type.as_deref()));
                    if let Some((k, sh)) = key {
                        if keyed_right(l, diff_ids.get(i), &scan) {
                            sh.offer(k, &scan);
                        }
                    }
                    progress
                        .bytes_done
                        .fetch_add(scan.blob_bytes, Ordering::Relaxed);
                    if tx.send((i, Ok(Some(scan)))).is_err() {
                        break;
                    }
                    continue;
                }
                let mut turn = None;
                if let Some((k, sh)) = key {
                    match sh.take_turn(k, &progress.cancel) {
                        Turn::Have(scan) if local_copy_matches(store, &l.member, &scan, opts) => {
                            progress.layers_shared.fetch_add(1, Ordering::Relaxed);
                            progress.add_layer_bytes(i, scan.blob_bytes);
                            if tx.send((i, Ok(Some(scan)))).is_err() {
                                break;
                            }
                            continue;
                        }
                        // This side's copy differs: read it, and let the
                        // checks below say what is wrong with it.
                        Turn::Have(_) => {}
                        Turn::Mine(guard) => turn = guard,
                    }
                }
                let res = store
                    .open(&l.member)
                    .map_err(|e| LayerFault::Open(Box::new(e)))
                    .and_then(|r| {
                        layer::scan(r, l.media_type.as_deref(), scan_opts_of(l), |n| {
                            progress.add_layer_bytes(i, n);
                        })
                    })
                    .map(|scan| Some(Arc::new(scan)))
                    .map_err(|fault| layer_err(i, fault));
                if let (Some(guard), Ok(Some(scan))) = (turn, &res) {
                    // Only what the key promises is handed on (a blob that
                    // failed its digest check is this side's error alone).
                    if keyed_right(l, diff_ids.get(i), scan) {
                        guard.fill(scan);
                    }
                }
                if tx.send((i, res)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let advance = |n: usize| {
            let (lock, cv) = &replayed;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = n;
            cv.notify_all();
        };
        let mut pending = BTreeMap::new();
        let mut next = 0usize;
        for (i, res) in rx.iter() {
            if first_err.is_some() {
                continue;
            }
            pending.insert(i, res);
            while let Some(res) = pending.remove(&next) {
                let i = next;
                next += 1;
                let scan = match res {
                    Ok(Some(s)) => s,
                    Ok(None) => match kept.get(&first_of[i]) {
                        Some(s) => Arc::clone(s),
                        None => {
                            first_err = Some(layer_err(
                                i,
                                LayerFault::Internal("a repeated layer was not kept"),
                            ));
                            progress.cancel.store(true, Ordering::Relaxed);
                            advance(usize::MAX / 2);
                            break;
                        }
                    },
                    Err(e) => {
                        first_err = Some(e);
                        progress.cancel.store(true, Ordering::Relaxed);
                        advance(usize::MAX / 2);
                        break;
                    }
                };
                let lref = &cand.layers[i];
                let mut check = |what: &'static str, want: &str, got: &str| -> Option<Error> {
                    if want == got {
                        return None;
                    }
                    let fault = LayerFault::Mismatch {
                        what,
                        expected: want.to_string(),
                        actual: got.to_string(),
                    };
                    if opts.verify {
                        Some(layer_err(i, fault))
                    } else {
                        warnings.push(format!("layer {i}: {fault}"));
                        None
                    }
                };
                let mut bad = None;
                // Digests are empty when hashing is switched off (--no-hash).
                if let (Some(want), false) = (&lref.digest, scan.blob_digest.is_empty()) {
                    bad = bad.or_else(|| check("blob digest", want, &scan.blob_digest));
                }
                if let (Some(want), false) = (diff_ids.get(i), scan.diff_id.is_empty()) {
                    bad = bad.or_else(|| check("diff ID", want, &scan.diff_id));
                }
                if let Some(want) = lref.declared_size {
                    if want != scan.blob_bytes {
                        bad = bad.or_else(|| {
                            check("blob size", &want.to_string(), &scan.blob_bytes.to_string())
                        });
                    }
                }
                if let Some(e) = bad {
                    first_err = Some(e);
                    progress.cancel.store(true, Ordering::Relaxed);
                    advance(usize::MAX / 2);
                    break;
                }
                total_entries += scan.entries.len() as u64;
                if total_entries > opts.scan.max_total_entries {
                    first_err = Some(Error::Limit {
                        path: display.clone(),
                        msg: format!(
                            "more than {} entries in all layers together at layer {i} (raise the limit with --max-total-entries)",
                            opts.scan.max_total_entries
                        ),
                    });
                    progress.cancel.store(true, Ordering::Relaxed);
                    advance(usize::MAX / 2);
                    break;
                }
                if first_of[i] == i {
                    for w in &scan.warnings {
                        warnings.push(format!("layer {i}: {w}"));
                    }
                }
                replay.apply(&scan.entries);
                // Keep a repeated blob's entries until its last position.
                let first = first_of[i];
                if last_of.get(&first).is_some_and(|&last| last > i) {
                    kept.insert(first, Arc::clone(&scan));
                } else {
                    kept.remove(&first);
                }
                let h = hist[i];
                infos.push(LayerInfo {
                    index: i,
                    member: lref.member.clone(),
                    // Unhashed (--hash files/none) and not in a docker
                    // manifest: an uncompressed blob's digest is its diff ID.
                    digest: match (&lref.digest, scan.blob_digest.is_empty()) {
                        (Some(d), _) => d.clone(),
                        (None, false) => scan.blob_digest.clone(),
                        (None, true) if scan.compression == Compression::None => {
                            diff_ids.get(i).cloned().unwrap_or_default()
                        }
                        (None, true) => String::new(),
                    },
                    diff_id: if scan.diff_id.is_empty() {
                        diff_ids.get(i).cloned().unwrap_or_default()
                    } else {
                        scan.diff_id.clone()
                    },
                    media_type: lref.media_type.clone().unwrap_or_else(|| {
                        match (source_layout_is_docker(cand.layout), scan.compression) {
                            (true, Compression::None) => {
                                "application/vnd.docker.image.rootfs.diff.tar".to_string()
                            }
                            (true, Compression::Gzip) => {
                                "application/vnd.docker.image.rootfs.diff.tar.gzip".to_string()
                            }
                            _ => scan.compression.oci_media_type().to_string(),
                        }
                    }),
                    compression: scan.compression,
                    compressed_size_bytes: scan.blob_bytes,
                    tar_size_bytes: scan.tar_bytes,
                    size_bytes: scan
                        .entries
                        .iter()
                        .fold(0u64, |a, e| a.saturating_add(e.size)),
                    entries: scan.entries.len() as u64,
                    command: h.map(|h| h.created_by.clone()).unwrap_or_default(),
                    created: h.and_then(|h| h.created.clone()),
                    comment: h.and_then(|h| h.comment.clone()),
                });
                progress.layers_done.fetch_add(1, Ordering::Relaxed);
                advance(next);
            }
        }
    });
    if let Some(e) = first_err {
        return Err(e);
    }
    progress.set_phase(Phase::Analysing);
    let stray: u64 = replay.stray_whiteouts.iter().sum();
    if stray > 0 {
        warnings.push(format!(
            "{stray} whiteouts name paths that do not exist below them"
        ));
    }
    let broken: u64 = replay.broken_hardlinks.iter().sum();
    if broken > 0 {
        warnings.push(format!("{broken} hardlinks point to missing targets"));
    }
    match (opts.scan.hash_layers, opts.scan.hash_files) {
        (false, false) => {
            warnings.push("layer digests and diff IDs were not verified (--no-hash)".into())
        }
        (false, true) => {
            warnings.push("layer digests and diff IDs were not verified (--hash files)".into())
        }
        _ => {}
    }
    // Warnings quote names from the archive: keep each one a single clean line.
    let warnings = warnings
        .iter()
        .map(|w| crate::error::clean(w).into_owned())
        .collect();
    let (tree, dive) = replay.finish();
    let image = Image {
        source: store.display.display().to_string(),
        origin,
        name: cand.names.first().cloned(),
        names: cand.names.clone(),
        layout: cand.layout,
        manifest_digest: cand.manifest_digest.clone(),
        config_digest,
        config,
        history,
        layers: infos,
        warnings,
    };
    progress.set_phase(Phase::Done);
    Ok(Loaded {
        source: source.clone(),
        image,
        tree,
        dive,
        max_path_bytes: opts.scan.max_path_bytes,
    })
}

fn source_layout_is_docker(l: archive::Layout) -> bool {
    l == archive::Layout::DockerLegacy
}

/// Layer scans shared by the two loads of a pair (a diff's sides, a CI
/// baseline): a layer both images hold is read and parsed by one side and
/// replayed by both. A scan is kept only until the other side takes it, or
/// until it is known that the other side does not hold that layer, so a
/// pair holds no more layers in memory than two separate loads would.
#[derive(Debug, Default)]
struct SharedScans {
    state: Mutex<SharedState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct SharedState {
    /// By key: `None` while a side reads the layer, then its scan.
    slots: std::collections::HashMap<String, Option<Arc<layer::Scan>>>,
    /// By key: how many sides hold the layer.
    wanted: std::collections::HashMap<String, usize>,
    /// Sides that have said which layers they hold (or ended without).
    settled: usize,
}

impl SharedState {
    fn keep(&self, key: &str) -> bool {
        self.settled < 2 || self.wanted.get(key).is_some_and(|&n| n >= 2)
    }
    fn settle(&mut self) {
        self.settled += 1;
        if self.settled >= 2 {
            let wanted = std::mem::take(&mut self.wanted);
            self.slots
                .retain(|k, v| v.is_none() || wanted.get(k).is_some_and(|&n| n >= 2));
            self.wanted = wanted;
        }
    }
}

/// One side's handle on [`SharedScans`].
#[derive(Debug)]
struct Sharer<'a> {
    shared: &'a SharedScans,
    announced: std::sync::atomic::AtomicBool,
}

/// Whose turn it is to read a layer.
enum Turn<'a> {
    /// The other side has read it.
    Have(Arc<layer::Scan>),
    /// This side reads it; `None` when cancelled while waiting.
    Mine(Option<Slot<'a>>),
}

/// The claim on a layer being read; freed (for the other side to read it
/// itself) unless filled.
struct Slot<'a> {
    shared: &'a SharedScans,
    key: String,
}

impl SharedScans {
    fn lock(&self) -> std::sync::MutexGuard<'_, SharedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn side(&self) -> Sharer<'_> {
        Sharer {
            shared: self,
            announced: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl<'a> Sharer<'a> {
    /// Say which layers this side holds (once; its first-seen keys).
    fn announce<'k>(&self, keys: impl Iterator<Item = &'k String>) {
        if self.announced.swap(true, Ordering::Relaxed) {
            return;
        }
        let mut st = self.shared.lock();
        let unique: std::collections::HashSet<&String> = keys.collect();
        for k in unique {
            *st.wanted.entry(k.clone()).or_insert(0) += 1;
        }
        st.settle();
        self.shared.cv.notify_all();
    }

    /// A scan this side got without reading the layer (streamed from a
    /// daemon): the other side may use it.
    fn offer(&self, key: &str, scan: &Arc<layer::Scan>) {
        let mut st = self.shared.lock();
        if st.keep(key) && !st.slots.contains_key(key) {
            st.slots.insert(key.to_string(), Some(Arc::clone(scan)));
            self.shared.cv.notify_all();
        }
    }

    /// Take the other side's scan of a layer, wait while it reads it, or
    /// claim the reading.
    fn take_turn(&self, key: &str, cancel: &std::sync::atomic::AtomicBool) -> Turn<'a> {
        let mut st = self.shared.lock();
        loop {
            match st.slots.get(key) {
                Some(Some(scan)) => {
                    let scan = Arc::clone(scan);
                    // Two sides: once taken, nobody else wants it.
                    st.slots.remove(key);
                    return Turn::Have(scan);
                }
                Some(None) if cancel.load(Ordering::Relaxed) => return Turn::Mine(None),
                Some(None) => {
                    st = self
                        .shared
                        .cv
                        .wait_timeout(st, std::time::Duration::from_millis(100))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => {
                    st.slots.insert(key.to_string(), None);
                    return Turn::Mine(Some(Slot {
                        shared: self.shared,
                        key: key.to_string(),
                    }));
                }
            }
        }
    }
}

impl Drop for Sharer<'_> {
    fn drop(&mut self) {
        self.announce(std::iter::empty());
    }
}

impl Slot<'_> {
    /// Hand the scan on (when the other side holds the layer too).
    fn fill(self, scan: &Arc<layer::Scan>) {
        let mut st = self.shared.lock();
        if st.keep(&self.key) {
            st.slots.insert(self.key.clone(), Some(Arc::clone(scan)));
        } else {
            st.slots.remove(&self.key);
        }
        self.shared.cv.notify_all();
        drop(st);
        std::mem::forget(self);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if matches!(st.slots.get(&self.key), Some(None)) {
            st.slots.remove(&self.key);
        }
        self.shared.cv.notify_all();
    }
}

/// Is a scan what its sharing key promises: the blob the manifest names
/// (or, without a digest, the diff ID the config gives)? Unhashed scans
/// (`--no-hash`) trust the names, as the load itself does.
fn keyed_right(l: &archive::LayerRef, diff_id: Option<&String>, scan: &layer::Scan) -> bool {
    match (&l.digest, diff_id) {
        (Some(d), _) => scan.blob_digest.is_empty() || scan.blob_digest == *d,
        (None, Some(d)) => scan.diff_id.is_empty() || scan.diff_id == *d,
        (None, None) => false,
    }
}

/// May this side use the other side's scan of a layer? A local copy (an
/// archive, a spool) is still hashed when layers are verified, so a copy
/// that differs from its name is caught as it would be without sharing;
/// that costs one read of the stored bytes, no decompression or parsing.
/// A registry's blob is the one its digest names: nothing is downloaded.
fn local_copy_matches(
    store: &archive::Store,
    member: &str,
    scan: &layer::Scan,
    opts: &LoadOptions,
) -> bool {
    if store.parallelism().is_some() || !opts.scan.hash_layers || scan.blob_digest.is_empty() {
        return true;
    }
    use sha2::Digest;
    let Ok(mut r) = store.open(member) else {
        return false;
    };
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        match std::io::Read::read(&mut r, &mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    format!("sha256:{}", hex::encode(hasher.finalize())) == scan.blob_digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn scan(digest: &str) -> Arc<layer::Scan> {
        Arc::new(layer::Scan {
            entries: Vec::new(),
            compression: Compression::None,
            blob_digest: digest.into(),
            blob_bytes: 1,
            diff_id: digest.into(),
            tar_bytes: 1,
            warnings: Vec::new(),
        })
    }

    fn held(shared: &SharedScans) -> Vec<String> {
        let mut v: Vec<String> = shared.lock().slots.keys().cloned().collect();
        v.sort();
        v
    }

    #[test]
    fn a_shared_scan_is_held_only_while_the_other_side_may_want_it() {
        let cancel = AtomicBool::new(false);
        let shared = SharedScans::default();
        let (a, b) = (shared.side(), shared.side());
        a.announce(["base".to_string(), "a-only".to_string()].iter());
        for k in ["base", "a-only"] {
            match a.take_turn(k, &cancel) {
                Turn::Mine(Some(slot)) => slot.fill(&scan(k)),
                _ => panic!("{k}: the first side reads it"),
            }
        }
        // B has not said what it holds: both are kept for it.
        assert_eq!(held(&shared), ["a-only", "base"]);
        b.announce(["base".to_string(), "b-only".to_string()].iter());
        // Now A's own layer is let go; the shared one waits for B.
        assert_eq!(held(&shared), ["base"]);
        match b.take_turn("base", &cancel) {
            Turn::Have(s) => assert_eq!(s.blob_digest, "base"),
            _ => panic!("B replays A's scan"),
        }
        assert!(held(&shared).is_empty());
        // B's own layer: B reads it; a failed read frees the claim.
        match b.take_turn("b-only", &cancel) {
            Turn::Mine(Some(slot)) => drop(slot),
            _ => panic!("B reads its own layer"),
        }
        assert!(held(&shared).is_empty());
    }

    #[test]
    fn a_side_that_ends_early_lets_the_other_keep_nothing() {
        let cancel = AtomicBool::new(false);
        let shared = SharedScans::default();
        let a = shared.side();
        a.announce(["base".to_string()].iter());
        // The other side fails before it knows its layers.
        drop(shared.side());
        match a.take_turn("base", &cancel) {
            Turn::Mine(Some(slot)) => slot.fill(&scan("base")),
            _ => panic!("A reads it"),
        }
        assert!(held(&shared).is_empty());
    }
}
