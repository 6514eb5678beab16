//! TUI test helpers shared by the explorer and diff-mode tests: a config
//! with a given theme, and a view drawn into ratatui's TestBackend read
//! back as text.

use layerscope::tui::config::{Config, Theme, ThemeName};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Terminal;

/// The default config with `theme`.
pub fn config(theme: ThemeName) -> Config {
    Config {
        theme: Theme::new(theme),
        ..Config::default()
    }
}

/// What `draw` paints on a `w` x `h` screen, a line per row with the
/// trailing blanks cut.
pub fn render(w: u16, h: u16, draw: impl FnOnce(Rect, &mut Buffer)) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| {
        draw(f.area(), f.buffer_mut());
        // What the event loop does after each draw; here any cell it has to
        // replace fails the test (a view forgot to sanitise archive text).
        let leaked = layerscope::tui::untrusted::scrub(f.buffer_mut());
        assert_eq!(leaked, 0, "{leaked} cells held terminal controls");
    })
    .expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
