//! The interactive terminal UI (feature `tui`), in The Elm Architecture:
//! [`state::AppState`] is changed only by [`host::update`] from messages
//! (keys, mouse, resize, loader, workers); [`view`] renders it purely.
//! This module owns the terminal (raw mode, alternate screen, mouse; restored
//! on every exit path, panics included) and the event loop, which waits on
//! input with a tick timeout and drains the loader and worker channels.

pub mod config;
pub mod diff;
pub mod effects;
pub mod host;
pub mod image_data;
pub mod layer_view;
pub mod layout;
pub mod list;
pub mod picker;
pub mod prompt;
pub mod state;
pub mod table;
pub mod untrusted;
pub mod update;
pub mod view;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::archive::Source;
use crate::load::{LoadOptions, Progress};
use config::Config;
use host::Host;
use image_data::ImageData;
use state::AppState;
use update::Msg;

/// Run the explorer on an image, with the default config file.
pub fn run(image: PathBuf, opts: LoadOptions) -> crate::Result<()> {
    run_with_config(image, opts, None)
}

/// Run the explorer with an explicit config file (`--config`).
pub fn run_with_config(
    image: PathBuf,
    opts: LoadOptions,
    config: Option<&Path>,
) -> crate::Result<()> {
    let config = Config::load(config)?;
    // Without a terminal the explorer cannot draw; say what to run instead
    // rather than failing on the terminal device.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err(crate::Error::Usage(format!(
            "{}: the explorer needs a terminal; use `layerscope report` (or CI=true) for non-interactive output",
            image.display()
        )));
    }
    let progress = Arc::new(Progress::default());
    let (tx, rx) = mpsc::channel::<Msg>();
    spawn_loader(image.clone(), opts, progress.clone(), tx.clone());
    let state = AppState::new(image.display().to_string(), progress, config);
    run_app(state, rx, tx, &image)
}

/// Run a mode's event loop inside the terminal guard; terminal errors are
/// reported against `path`.
pub(crate) fn run_app<A: EventApp>(
    state: A,
    rx: Receiver<AppMsg<A>>,
    tx: Sender<AppMsg<A>>,
    path: &Path,
) -> crate::Result<()> {
    let guard = TerminalGuard::enter().map_err(|e| io_err(path, e))?;
    let out = event_loop(state, rx, tx);
    drop(guard);
    out.map_err(|e| io_err(path, e))?
}

fn io_err(path: &Path, e: io::Error) -> crate::Error {
    crate::Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Load on a worker thread, sending [`Msg::Loaded`] on `tx`; an archive of
/// several images first sends the picker and waits for the choice (used by
/// [`run`], and by tests through the real channel).
pub fn spawn_loader(image: PathBuf, opts: LoadOptions, progress: Arc<Progress>, tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let ask = |source: &Source, pool: &[usize]| {
            picker::ask("It", source, pool, |p| {
                tx.send(Msg::Reply(update::Reply::Pick(p))).is_ok()
            })
        };
        let res = crate::load::load_choosing(&image, &opts, &progress, &ask)
            .map(|l| Arc::new(ImageData::new(l)));
        let _ = tx.send(Msg::Loaded(res));
    });
}

/// Puts the terminal into raw/alternate-screen mode and restores it on drop,
/// and from a panic hook (a panic unwinds past us only after the hook ran).
pub(crate) struct TerminalGuard;

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

impl TerminalGuard {
    pub(crate) fn enter() -> io::Result<TerminalGuard> {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            prev(info);
        }));
        terminal::enable_raw_mode()?;
        let g = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        Ok(g)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        let _ = std::panic::take_hook();
    }
}

/// What the shared event loop needs of a mode's state (explorer or diff)
/// beyond the [`Host`]: drawing it and running its effects.
pub(crate) trait EventApp: Host {
    fn draw(&self, area: Rect, buf: &mut Buffer);
    /// Run the queued effects; results come back on `tx`.
    fn run_effects(&mut self, tx: &Sender<AppMsg<Self>>);
}

/// A mode's messages.
pub(crate) type AppMsg<A> = host::Msg<<A as Host>::Data, <A as Host>::Reply>;

/// The terminal events both modes handle.
pub enum Input {
    Key(crossterm::event::KeyEvent),
    Mouse(crossterm::event::MouseEvent),
    Resize(u16, u16),
}

impl Input {
    fn of(ev: Event) -> Option<Input> {
        match ev {
            Event::Key(k) => Some(Input::Key(k)),
            Event::Mouse(m) => Some(Input::Mouse(m)),
            Event::Resize(w, h) => Some(Input::Resize(w, h)),
            _ => None,
        }
    }
}

impl<D, R> From<Input> for host::Msg<D, R> {
    fn from(i: Input) -> Self {
        match i {
            Input::Key(k) => host::Msg::Key(k),
            Input::Mouse(m) => host::Msg::Mouse(m),
            Input::Resize(w, h) => host::Msg::Resize(w, h),
        }
    }
}

impl EventApp for AppState {
    fn draw(&self, area: Rect, buf: &mut Buffer) {
        view::draw(self, area, buf);
    }
    fn run_effects(&mut self, tx: &Sender<Msg>) {
        for e in std::mem::take(&mut self.effects) {
            effects::run(self, e, tx);
        }
    }
}

/// Draw, wait on input with a tick timeout, drain the worker channel and
/// run effects until the state says quit.
fn event_loop<A: EventApp>(
    mut s: A,
    rx: Receiver<AppMsg<A>>,
    tx: Sender<AppMsg<A>>,
) -> io::Result<crate::Result<()>> {
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    term.clear()?;
    let size = term.size()?;
    host::apply(&mut s, Input::Resize(size.width, size.height).into());
    let mut dirty = true;
    let tick = Duration::from_millis(80);
    let quit = |s: &mut A| s.parts().ui.quit;
    loop {
        // Still loading: redraw every tick for the progress bars.
        if dirty || s.parts().src.is_none() {
            term.draw(|f| {
                s.draw(f.area(), f.buffer_mut());
                // The last line of defence before the bytes go out: a cell
                // still holding a control is a view that forgot to sanitise
                // archive text (issue 12); loud in debug builds.
                let leaked = untrusted::scrub(f.buffer_mut());
                debug_assert_eq!(leaked, 0, "{leaked} cells held terminal controls");
            })?;
            dirty = false;
        }
        if event::poll(tick)? {
            // Drain what is queued so a burst of keys costs one frame.
            loop {
                if let Some(i) = Input::of(event::read()?) {
                    host::apply(&mut s, i.into());
                    dirty = true;
                }
                if quit(&mut s) || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        while let Ok(m) = rx.try_recv() {
            host::apply(&mut s, m);
            dirty = true;
        }
        s.run_effects(&tx);
        if quit(&mut s) {
            break;
        }
    }
    Ok(match s.parts().ui.load_error.take() {
        Some(e) => Err(e),
        None => Ok(()),
    })
}
