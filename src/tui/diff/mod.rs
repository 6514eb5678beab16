//! The TUI's diff mode (`layerscope diff OLD NEW` on a terminal): the two
//! layer lists side by side with shared layers marked, one tree of both
//! merged trees with the diff statuses, the explorer's filters, search and
//! sort, old/new details side by side and a line diff of text files. Same
//! Elm shape as the explorer: [`state::DiffState`], [`super::host::update`],
//! pure [`view`]; both images load on worker threads with progress, and the
//! explorer's terminal guard and event loop serve here too.

pub mod entries;
pub mod pair;
pub mod state;
pub mod update;
pub mod view;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

use crate::load::{LoadOptions, Progress};
use crate::tui::config::Config;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::archive::Source;
use crate::tui::picker;
use crate::tui::{run_app, EventApp};
use pair::ImagePair;
use state::{DiffEffect, DiffState};
use update::{DiffMsg, DiffReply};

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    pub old: PathBuf,
    pub old_opts: LoadOptions,
    /// None: compare two layers of `old` (loaded once).
    pub new: Option<(PathBuf, LoadOptions)>,
    /// Layer of each side (None: the last).
    pub old_layer: Option<usize>,
    pub new_layer: Option<usize>,
    /// `--path` globs and `--status` list to start with.
    pub paths: Vec<String>,
    pub statuses: Vec<String>,
}

/// Run the diff mode until the user quits.
pub fn run(req: DiffRequest, config: Option<&Path>) -> crate::Result<()> {
    let config = Config::load(config)?;
    let progress = [Arc::new(Progress::default()), Arc::new(Progress::default())];
    let new_path = req.new.as_ref().map_or(&req.old, |(p, _)| p).clone();
    let mut state = DiffState::new(
        req.old.display().to_string(),
        new_path.display().to_string(),
        progress.clone(),
        config,
    );
    state.set_cli_filter(&req.paths, &req.statuses)?;
    let (tx, rx) = mpsc::channel::<DiffMsg>();
    let old = req.old.clone();
    spawn_loader(req, progress, tx.clone());
    run_app(state, rx, tx, &old)
}

/// Load both sides in parallel, then compare; a side holding several
/// images first sends a picker and waits for the choice (used by [`run`],
/// and by tests through the real channel).
pub fn spawn_loader(req: DiffRequest, progress: [Arc<Progress>; 2], tx: Sender<DiffMsg>) {
    std::thread::spawn(move || {
        let [po, pn] = progress;
        let new = req.new.as_ref().map(|(p, o)| (p.as_path(), o, &*pn));
        let ask = |what: &'static str| {
            let tx = tx.clone();
            move |source: &Source, pool: &[usize]| {
                picker::ask(what, source, pool, |p| {
                    tx.send(DiffMsg::Reply(DiffReply::Pick(p))).is_ok()
                })
            }
        };
        let choosers = [ask("The old image"), ask("The new image")];
        let res = crate::load::load_pair_choosing(
            (&req.old, &req.old_opts, &po),
            new,
            [&choosers[0], &choosers[1]],
        )
        .and_then(|(old, new)| {
            if new.is_none() {
                // One image: the "new" bar mirrors the old one.
                pn.set_phase(crate::load::Phase::Done);
            }
            ImagePair::build(old, new, req.old_layer, req.new_layer)
        });
        let _ = tx.send(DiffMsg::Loaded(res.map(Arc::new)));
    });
}

/// Perform an effect; results come back on `tx`.
pub fn run_effect(s: &DiffState, e: DiffEffect, tx: &Sender<DiffMsg>) {
    match e {
        DiffEffect::ReadDiff { idx } => {
            let Some(data) = s.data.clone() else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(read_diff(&data, idx));
            });
        }
        DiffEffect::Clipboard(text) => {
            let mut out = io::stdout();
            let _ = out.write_all(crate::tui::effects::osc52(&text).as_bytes());
            let _ = out.flush();
        }
    }
}

/// Compare one entry's two versions synchronously (also used by tests).
pub fn read_diff(data: &Arc<ImagePair>, idx: u32) -> DiffMsg {
    DiffMsg::Reply(DiffReply::Content {
        idx,
        result: pair::content_diff(data, idx),
    })
}

impl EventApp for DiffState {
    fn draw(&self, area: Rect, buf: &mut Buffer) {
        view::draw(self, area, buf);
    }
    fn run_effects(&mut self, tx: &Sender<DiffMsg>) {
        for e in std::mem::take(&mut self.effects) {
            run_effect(self, e, tx);
        }
    }
}
