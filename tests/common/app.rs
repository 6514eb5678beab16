//! The explorer over an archive written to a temp file, driven by keys as
//! the event loop drives it (no terminal).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use layerscope::load::Loaded;
use layerscope::tui::config::ThemeName;
use layerscope::tui::image_data::ImageData;
use layerscope::tui::state::AppState;
use layerscope::tui::update::{apply, Msg};

use super::TempArchive;

/// The explorer's state and the archive it was loaded from.
pub struct App {
    pub s: AppState,
    pub _archive: TempArchive,
}

/// `bytes` written as an archive, loaded, changed by `edit`, and opened
/// in a `w` x `h` explorer.
pub fn app_with(
    bytes: &[u8],
    theme: ThemeName,
    (w, h): (u16, u16),
    edit: impl FnOnce(&mut Loaded),
) -> App {
    let archive = super::write_archive(bytes, "image.tar");
    let mut loaded = super::load_path(&archive.path).expect("load");
    edit(&mut loaded);
    let mut s = AppState::ready(ImageData::new(loaded), super::screen::config(theme));
    apply(&mut s, Msg::Resize(w, h));
    App {
        s,
        _archive: archive,
    }
}

/// `bytes` in a 100 x 30 explorer.
pub fn app_from(bytes: &[u8], theme: ThemeName) -> App {
    app_with(bytes, theme, (100, 30), |_| {})
}

pub fn press(s: &mut AppState, code: KeyCode) {
    apply(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

pub fn keys(s: &mut AppState, text: &str) {
    for c in text.chars() {
        press(s, KeyCode::Char(c));
    }
}

/// Ctrl + `c`.
pub fn ctrl(s: &mut AppState, c: char) {
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}
