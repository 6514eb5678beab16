//! The image picker of both explorers (issue 15: "An archive with several
//! images opens a picker in the TUI instead of only an error"): the real
//! loader threads and channels, the real key handling, and the screen.
#![cfg(feature = "tui")]

mod common;

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use layerscope::archive::Selector;
use layerscope::load::{LoadOptions, Progress};
use layerscope::tui::config::ThemeName;
use layerscope::tui::picker::Choice;
use layerscope::tui::state::AppState;
use layerscope::tui::update::{apply, Msg};
use layerscope::tui::{spawn_loader, view};
use layerscope_synth::{self as synth, Compression, ImageBuilder, LayerBuilder};

fn image(tag: &str, file: &str) -> ImageBuilder {
    ImageBuilder::new()
        .tag(tag)
        .layer(LayerBuilder::new(&format!("ADD {file}")).file(file, file.as_bytes()))
}

/// The explorer as `layerscope ARCHIVE` starts it: the loader thread on
/// the archive, the state drawing a 100x30 screen.
struct App {
    s: AppState,
    rx: Receiver<Msg>,
    progress: Arc<Progress>,
    _archive: common::TempArchive,
}

fn start(bytes: &[u8], opts: LoadOptions) -> App {
    let archive = common::write_archive(bytes, "multi.tar");
    let progress = Arc::new(Progress::default());
    let (tx, rx) = mpsc::channel();
    spawn_loader(archive.path.clone(), opts, progress.clone(), tx);
    let mut s = AppState::new(
        "multi.tar".into(),
        progress.clone(),
        common::screen::config(ThemeName::None),
    );
    apply(&mut s, Msg::Resize(100, 30));
    App {
        s,
        rx,
        progress,
        _archive: archive,
    }
}

impl App {
    /// Apply the loader's next message.
    fn next(&mut self) {
        let m = self
            .rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a message from the loader");
        apply(&mut self.s, m);
    }

    fn press(&mut self, code: KeyCode) {
        apply(&mut self.s, Msg::Key(KeyEvent::from(code)));
    }

    fn screen(&self) -> String {
        common::screen::render(100, 30, |area, buf| view::draw(&self.s, area, buf))
    }
}

fn two_images() -> Vec<u8> {
    synth::docker_legacy_multi(&[image("one:latest", "one"), image("two:latest", "two")])
}

fn paths(s: &AppState) -> Vec<String> {
    let d = s.data.as_ref().expect("loaded");
    d.loaded
        .tree
        .ids()
        .skip(1)
        .map(|id| d.path(id).to_string())
        .collect()
}

// See: issue 15 ("An archive with several images opens a picker").
#[test]
fn several_images_open_a_picker_and_the_chosen_one_loads() {
    let mut a = start(&two_images(), LoadOptions::default());
    a.next();
    assert!(a.s.data.is_none(), "nothing loads before a pick");
    let p = a.s.ui.pickers.first().expect("the picker is open");
    assert_eq!(
        p.choices
            .iter()
            .map(|c| (c.index, c.name.as_str()))
            .collect::<Vec<_>>(),
        [(0, "one:latest"), (1, "two:latest")]
    );
    insta::assert_snapshot!(a.screen());
    // Keys other than movement, Enter and quitting do nothing here.
    for c in ['/', 'f', '1'] {
        apply(
            &mut a.s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    assert!(a.s.ui.prompt.is_none() && !a.s.ui.quit);
    a.press(KeyCode::Down);
    assert_eq!(a.s.ui.pickers.first().map(|p| p.cursor.selected), Some(1));
    a.press(KeyCode::Down);
    assert_eq!(
        a.s.ui.pickers.first().map(|p| p.cursor.selected),
        Some(1),
        "the cursor stays on the last image"
    );
    a.press(KeyCode::Enter);
    assert!(a.s.ui.pickers.is_empty(), "Enter closes the picker");
    a.next();
    assert_eq!(paths(&a.s), ["/two"]);
    assert_eq!(
        a.s.data.as_ref().map(|d| d.loaded.image.source.clone()),
        Some(a._archive.path.display().to_string())
    );
    assert!(a.screen().contains("two:latest"), "{}", a.screen());
}

#[test]
fn q_or_esc_in_the_picker_quits_and_stops_the_loader() {
    for key in [KeyCode::Char('q'), KeyCode::Esc] {
        let mut a = start(&two_images(), LoadOptions::default());
        a.next();
        assert!(!a.s.ui.pickers.is_empty());
        a.press(key);
        assert!(a.s.ui.quit, "{key:?} quits");
        assert!(a.s.ui.pickers.is_empty());
        assert!(a.progress.cancel.load(Ordering::Relaxed));
        // The loader gives up (with the ambiguity error, which quitting
        // does not report) and ends without loading anything.
        a.next();
        assert!(a.s.data.is_none() && a.s.ui.load_error.is_none());
        assert!(matches!(
            a.rx.recv_timeout(Duration::from_secs(30)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}

#[test]
fn an_image_picked_on_the_command_line_loads_without_asking() {
    let opts = LoadOptions {
        selector: Selector {
            image: Some("one".into()),
            platform: None,
        },
        ..LoadOptions::default()
    };
    let mut a = start(&two_images(), opts);
    a.next();
    assert!(a.s.ui.pickers.is_empty());
    assert_eq!(paths(&a.s), ["/one"]);
}

#[test]
fn platforms_and_digests_are_listed_and_the_index_picks_among_them() {
    // Neither platform is this machine's, so none is picked for the user.
    let imgs = [
        image("app:1", "s390x").platform("linux", "s390x", None),
        image("app:1", "ppc").platform("linux", "ppc64le", None),
    ];
    let bytes = synth::oci_archive_multi_platform(&imgs, Compression::Gzip);
    let mut a = start(&bytes, LoadOptions::default());
    a.next();
    let p = a.s.ui.pickers.first().expect("the picker is open");
    let plats: Vec<&str> = p.choices.iter().map(|c| c.platform.as_str()).collect();
    assert_eq!(plats, ["linux/s390x", "linux/ppc64le"]);
    assert!(p
        .choices
        .iter()
        .all(|c| c.digest.starts_with("sha256:") && c.digest.len() == "sha256:".len() + 12));
    let sc = a.screen();
    assert!(
        sc.contains("linux/ppc64le") && sc.contains(&p.choices[1].digest),
        "{sc}"
    );
    a.press(KeyCode::End);
    a.press(KeyCode::Enter);
    a.next();
    assert_eq!(paths(&a.s), ["/ppc"]);
}

#[test]
fn a_name_with_terminal_controls_is_shown_escaped() {
    let c = Choice {
        index: 0,
        name: "evil\u{1b}]0;pwned\u{7}:1".into(),
        platform: String::new(),
        digest: String::new(),
    };
    let (tx, _rx) = mpsc::channel();
    let mut s = AppState::new(
        "x.tar".into(),
        Arc::new(Progress::default()),
        common::screen::config(ThemeName::None),
    );
    apply(&mut s, Msg::Resize(100, 30));
    s.ui.pickers
        .push(layerscope::tui::picker::Picker::new("It", vec![c], tx));
    let sc = common::screen::render(100, 30, |area, buf| view::draw(&s, area, buf));
    assert!(!sc.contains('\u{1b}') && !sc.contains('\u{7}'), "{sc:?}");
    assert!(sc.contains("evil\\u{1b}]0;pwned\\u{7}:1"), "{sc}");
}

// ---- the diff explorer's sides ----

mod diff_sides {
    use super::*;
    use layerscope::tui::diff::state::DiffState;
    use layerscope::tui::diff::update::{apply as dapply, DiffMsg};
    use layerscope::tui::diff::{spawn_loader as dspawn, view as dview, DiffRequest};

    #[test]
    fn a_side_of_several_images_asks_which_and_the_diff_follows_the_pick() {
        let old = common::write_archive(&two_images(), "multi.tar");
        let new = common::write_archive(&image("three:latest", "three").docker_legacy(), "one.tar");
        let progress = [Arc::new(Progress::default()), Arc::new(Progress::default())];
        let (tx, rx) = mpsc::channel();
        let req = DiffRequest {
            old: old.path.clone(),
            old_opts: LoadOptions::default(),
            new: Some((new.path.clone(), LoadOptions::default())),
            old_layer: None,
            new_layer: None,
            paths: Vec::new(),
            statuses: Vec::new(),
        };
        dspawn(req, progress.clone(), tx);
        let mut s = DiffState::new(
            "multi.tar".into(),
            "one.tar".into(),
            progress,
            common::screen::config(ThemeName::None),
        );
        dapply(&mut s, DiffMsg::Resize(100, 30));
        let next = |s: &mut DiffState| {
            let m = rx.recv_timeout(Duration::from_secs(30)).expect("a message");
            dapply(s, m);
        };
        next(&mut s);
        assert!(s.data.is_none());
        assert_eq!(s.ui.pickers.len(), 1, "only the old side asks");
        let sc = common::screen::render(100, 30, |area, buf| dview::draw(&s, area, buf));
        assert!(
            sc.contains("The old image holds 2 images: pick one (↑↓, enter; q or esc quits)"),
            "{sc}"
        );
        assert!(sc.contains("two:latest"), "{sc}");
        dapply(&mut s, DiffMsg::Key(KeyEvent::from(KeyCode::Down)));
        dapply(&mut s, DiffMsg::Key(KeyEvent::from(KeyCode::Enter)));
        assert!(s.ui.pickers.is_empty());
        next(&mut s);
        let d = s.data.as_ref().expect("compared");
        let changed: Vec<(&str, char)> = d
            .diff
            .tree
            .entries
            .iter()
            .skip(1)
            .map(|e| (e.path.as_str(), e.status.marker()))
            .collect();
        assert_eq!(changed, [("/three", '+'), ("/two", '-')]);
    }
}
