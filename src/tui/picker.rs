//! The image picker: when an archive (or layout, or stream) holds several
//! images and nothing on the command line picks one, both explorers list
//! them (name, platform, digest) instead of stopping with an error. The
//! loader thread's [`crate::load::Chooser`] waits for the user's choice,
//! then loads that image in the background as it would have; the arrows move,
//! Enter picks, `q` and Esc quit. The diff's two sides may each ask: the
//! pickers wait in [`super::host::Ui::pickers`], one shown at a time.

use std::sync::mpsc::Sender;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::layout::Rect;

use super::config::{Action, Key, KeyMap};
use super::layout;
use super::list::ListCursor;
use crate::archive::{Candidate, Source};

/// One image of the archive, as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Its index in the archive (what `--image N` takes).
    pub index: usize,
    /// Its first name (tag), or empty.
    pub name: String,
    /// `os/arch[/variant]`, or empty.
    pub platform: String,
    /// The manifest's (else the config's) short digest.
    pub digest: String,
}

impl Choice {
    pub fn of(index: usize, c: &Candidate) -> Choice {
        Choice {
            index,
            name: c.names.first().cloned().unwrap_or_default(),
            platform: c.platform.clone().unwrap_or_default(),
            digest: c.short_digest().unwrap_or_default().to_string(),
        }
    }
}

/// Hand a picker of the images of `source` at `pool` to the UI through
/// `send`, and wait for the choice (None: the UI is gone or quit).
pub fn ask(
    what: &'static str,
    source: &Source,
    pool: &[usize],
    send: impl FnOnce(Picker) -> bool,
) -> Option<usize> {
    let (choose, chosen) = std::sync::mpsc::channel();
    if !send(Picker::new(what, choices(source, pool), choose)) {
        return None;
    }
    chosen.recv().ok()
}

/// The images of `source` at the `pool`'s indices, as the picker lists them.
pub fn choices(source: &Source, pool: &[usize]) -> Vec<Choice> {
    pool.iter()
        .filter_map(|&i| Some(Choice::of(i, source.candidates.get(i)?)))
        .collect()
}

/// The picker's state: the images, the cursor, and where the choice goes
/// (the loader thread waiting in [`load`]).
#[derive(Debug)]
pub struct Picker {
    /// Which image it picks for (the diff has two sides): `It`, `The old image`.
    pub what: String,
    pub choices: Vec<Choice>,
    pub cursor: ListCursor,
    reply: Sender<usize>,
}

/// What a key did to the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    /// Still picking (moved, or a key it ignores).
    Open,
    /// An image was chosen; the loader goes on with it.
    Chosen,
    /// The user quits.
    Quit,
}

impl Picker {
    pub fn new(what: &str, choices: Vec<Choice>, reply: Sender<usize>) -> Picker {
        Picker {
            what: what.to_string(),
            choices,
            cursor: ListCursor::default(),
            reply,
        }
    }

    /// A key, on a screen of `screen`: movement through the key map,
    /// Enter picks, the quit keys and Esc quit.
    pub fn key(&mut self, k: &KeyEvent, keys: &KeyMap, screen: Rect) -> Picked {
        if k.kind == KeyEventKind::Release {
            return Picked::Open;
        }
        let act = keys.action(&Key::from_event(k));
        if k.code == KeyCode::Esc || act == Some(Action::Quit) {
            return Picked::Quit;
        }
        if k.code == KeyCode::Enter {
            let Some(c) = self.choices.get(self.cursor.selected) else {
                return Picked::Open;
            };
            // The loader is gone only when the program is quitting.
            return match self.reply.send(c.index) {
                Ok(()) => Picked::Chosen,
                Err(_) => Picked::Quit,
            };
        }
        self.cursor.height = rows(screen, self.choices.len());
        if let Some(t) = act.and_then(|a| self.cursor.target(a, self.choices.len())) {
            self.cursor.selected = t;
            self.cursor.ensure_visible(self.choices.len());
        }
        Picked::Open
    }
}

/// Where the picker's box for `n` images goes on a screen of `screen`:
/// as tall as the list, at most 60% of the screen.
pub fn area(screen: Rect, n: usize) -> Rect {
    let most = layout::centred(screen, 80, 60);
    let h = (n.saturating_add(3).min(most.height as usize) as u16).min(screen.height);
    Rect::new(most.x, screen.y + (screen.height - h) / 2, most.width, h)
}

/// Rows of images the box shows (border and header excluded).
pub fn rows(screen: Rect, n: usize) -> usize {
    (area(screen, n).height as usize).saturating_sub(3)
}
