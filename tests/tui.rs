//! The explorer without a terminal: state transitions driven by messages,
//! and whole screens rendered into ratatui's TestBackend and compared with
//! insta snapshots (no colour: the no-colour theme; colour is asserted on
//! selected cells separately).

mod common;

use common::app::{app_from, keys, press, App};

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use layerscope::tree::Status;
use layerscope::tui::config::{Config, Theme, ThemeName};
use layerscope::tui::effects;
use layerscope::tui::image_data::ImageData;
use layerscope::tui::layer_view::{SortKey, ViewMode};
use layerscope::tui::state::{AppState, Effect, Focus, Popup};
use layerscope::tui::update::{apply, Msg, Reply};
use layerscope::tui::view;
use layerscope_synth::{self as synth, ImageBuilder, LayerBuilder};

fn sample() -> App {
    app_from(&synth::sample_image().docker_legacy(), ThemeName::None)
}

fn screen(s: &AppState, w: u16, h: u16) -> String {
    common::screen::render(w, h, |area, buf| view::draw(s, area, buf))
}

fn selected_path(s: &AppState) -> String {
    let d = s.data.as_ref().expect("data");
    d.path(s.selected_node().expect("selection")).to_string()
}

fn row_paths(s: &AppState) -> Vec<String> {
    let d = s.data.as_ref().expect("data");
    (0..s.tree.rows.len())
        .map(|r| d.path(s.tree.entry(r).expect("row").key).to_string())
        .collect()
}

fn status_of(s: &AppState, path: &str) -> Option<Status> {
    let d = s.data.as_ref().expect("data");
    let id = d.loaded.tree.lookup(path.as_bytes()).expect("path");
    s.info.status[id as usize]
}

// ---- state transitions ----

#[test]
fn opens_on_the_last_layer_with_the_layers_pane_focused() {
    let a = sample();
    assert_eq!(a.s.layer(), 5);
    assert_eq!(a.s.ui.focus, Focus::Layers);
    assert_eq!(a.s.mode, ViewMode::Aggregated);
    assert_eq!(row_paths(&a.s)[0], "/app");
}

#[test]
fn layer_navigation_updates_the_tree() {
    let mut a = sample();
    keys(&mut a.s, "kkk");
    assert_eq!(a.s.layer(), 2);
    press(&mut a.s, KeyCode::Char('v'));
    assert_eq!(a.s.mode, ViewMode::Layer);
    // The cleanup layer deletes the apt lists and term.log.
    assert_eq!(status_of(&a.s, "/var/lib/apt/lists"), Some(Status::Deleted));
    assert_eq!(
        status_of(&a.s, "/var/log/apt/term.log"),
        Some(Status::Deleted)
    );
    assert!(row_paths(&a.s).contains(&"/var/log/apt/term.log".to_string()));
    assert!(!row_paths(&a.s).contains(&"/bin/bash".to_string()));
    keys(&mut a.s, "g");
    assert_eq!(a.s.layer(), 0);
    keys(&mut a.s, "G");
    assert_eq!(a.s.layer(), 5);
    press(&mut a.s, KeyCode::PageUp);
    assert_eq!(a.s.layer(), 0);
}

#[test]
fn tree_navigation_moves_the_cursor_without_rebuilding() {
    let mut a = sample();
    press(&mut a.s, KeyCode::Tab);
    assert_eq!(a.s.ui.focus, Focus::Tree);
    let rows = a.s.tree.rows.clone();
    keys(&mut a.s, "jj");
    // Deleted by the last layer's opaque directory, still shown (marked).
    assert_eq!(selected_path(&a.s), "/app/cache/a.bin");
    keys(&mut a.s, "k");
    assert_eq!(selected_path(&a.s), "/app/cache");
    keys(&mut a.s, "G");
    assert_eq!(a.s.tree.selected, rows.len() - 1);
    press(&mut a.s, KeyCode::Home);
    assert_eq!(a.s.tree.selected, 0);
    press(&mut a.s, KeyCode::PageDown);
    assert_eq!(a.s.tree.selected, a.s.tree.height);
    assert!(a.s.tree.scroll > 0);
    assert_eq!(a.s.tree.rows, rows);
}

#[test]
fn collapse_expand_all_and_to_depth() {
    let mut a = sample();
    press(&mut a.s, KeyCode::Tab);
    let all = a.s.tree.rows.len();
    keys(&mut a.s, "h");
    assert_eq!(selected_path(&a.s), "/app");
    assert!(a.s.tree.rows.len() < all);
    keys(&mut a.s, "l");
    assert_eq!(a.s.tree.rows.len(), all);
    keys(&mut a.s, "j");
    keys(&mut a.s, "h");
    keys(&mut a.s, "h");
    assert_eq!(
        selected_path(&a.s),
        "/app",
        "h on a collapsed dir goes to its parent"
    );
    keys(&mut a.s, "-");
    let top: Vec<String> = row_paths(&a.s);
    assert_eq!(
        top,
        ["/app", "/bin", "/etc", "/home", "/root", "/tmp", "/usr", "/var"]
    );
    keys(&mut a.s, "*");
    assert!(row_paths(&a.s).contains(&"/usr/bin".to_string()));
    assert!(!row_paths(&a.s).contains(&"/usr/bin/perl".to_string()));
    keys(&mut a.s, "=");
    assert_eq!(a.s.tree.rows.len(), all);
    // Space toggles, and the cursor stays on the directory.
    keys(&mut a.s, "g ");
    assert_eq!(selected_path(&a.s), "/app");
    assert!(a.s.tree.rows.len() < all);
}

#[test]
fn regex_filter_keeps_ancestors_of_matches() {
    let mut a = sample();
    keys(&mut a.s, "f");
    keys(&mut a.s, "ssl");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        row_paths(&a.s),
        [
            "/etc",
            "/etc/ssl",
            "/etc/ssl/certs",
            "/etc/ssl/certs/ca-certificates.crt"
        ]
    );
    // Smart case: an upper-case letter makes it case-sensitive.
    keys(&mut a.s, "f");
    press(&mut a.s, KeyCode::Char('u'));
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "README");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        row_paths(&a.s).last().map(String::as_str),
        Some("/usr/share/doc/README")
    );
    keys(&mut a.s, "F");
    assert!(!a.s.tree.filter.is_active());
}

#[test]
fn status_size_and_waste_filters() {
    let mut a = sample();
    // Layer 2 per-layer view: hide deleted → only the re-carried dirs remain.
    keys(&mut a.s, "kkkv3");
    assert!(row_paths(&a.s)
        .iter()
        .all(|p| status_of(&a.s, p) != Some(Status::Deleted)));
    keys(&mut a.s, "3");
    keys(&mut a.s, "GvF");
    keys(&mut a.s, "z>100k");
    press(&mut a.s, KeyCode::Enter);
    let rows = row_paths(&a.s);
    assert!(rows.contains(&"/bin/bash".to_string()));
    assert!(rows.contains(&"/usr/lib/x86_64-linux-gnu/libc.so.6".to_string()));
    assert!(!rows.contains(&"/bin/ls".to_string()));
    keys(&mut a.s, "F");
    keys(&mut a.s, "w");
    let rows = row_paths(&a.s);
    assert!(rows.contains(&"/etc/passwd".to_string()), "{rows:?}");
    assert!(!rows.contains(&"/bin/bash".to_string()));
}

#[test]
fn search_counts_and_jumps_between_matches() {
    let mut a = sample();
    keys(&mut a.s, "/logo");
    assert_eq!(a.s.tree.search.matches.len(), 2);
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(a.s.ui.focus, Focus::Tree);
    assert_eq!(selected_path(&a.s), "/app/public/logo.png");
    keys(&mut a.s, "n");
    assert_eq!(selected_path(&a.s), "/app/static/logo.png");
    keys(&mut a.s, "n");
    assert_eq!(selected_path(&a.s), "/app/public/logo.png");
    keys(&mut a.s, "N");
    assert_eq!(selected_path(&a.s), "/app/static/logo.png");
    // A match inside a collapsed directory is revealed.
    keys(&mut a.s, "-");
    keys(&mut a.s, "/certificates");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(selected_path(&a.s), "/etc/ssl/certs/ca-certificates.crt");
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("/certificates 1/1"), "{sc}");
}

#[test]
fn jump_to_path() {
    let mut a = sample();
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/usr/bin/env");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(selected_path(&a.s), "/usr/bin/env");
    keys(&mut a.s, ":/nope");
    press(&mut a.s, KeyCode::Enter);
    assert!(a
        .s
        .ui
        .message
        .as_deref()
        .unwrap_or("")
        .contains("no such path"));
}

#[test]
fn range_compare_shows_the_net_change() {
    let mut a = sample();
    keys(&mut a.s, "kkkk");
    assert_eq!(a.s.layer(), 1);
    keys(&mut a.s, "m");
    assert_eq!(a.s.mode, ViewMode::Range { from: 1 });
    keys(&mut a.s, "jjj");
    assert_eq!(a.s.layer(), 4);
    // Added in 1, deleted in 2: net deleted from 1 to 4.
    assert_eq!(status_of(&a.s, "/var/lib/apt/lists"), Some(Status::Deleted));
    assert_eq!(status_of(&a.s, "/app/main.py"), Some(Status::Added));
    assert_eq!(status_of(&a.s, "/etc/passwd"), Some(Status::Modified));
    assert_eq!(status_of(&a.s, "/app/run.sh"), Some(Status::Added));
    // Untouched between 1 and 4: not shown.
    assert_eq!(status_of(&a.s, "/bin/bash"), None);
    assert!(!row_paths(&a.s).contains(&"/bin/bash".to_string()));
    // Reversed range: the opposite change.
    keys(&mut a.s, "m");
    assert_eq!(a.s.mode, ViewMode::Aggregated);
    keys(&mut a.s, "mkkk");
    assert_eq!(a.s.mode, ViewMode::Range { from: 4 });
    assert_eq!(status_of(&a.s, "/app/main.py"), Some(Status::Deleted));
}

#[test]
fn sort_by_size_descending_per_directory() {
    let mut a = sample();
    keys(&mut a.s, "s");
    assert_eq!(a.s.tree.sort.key, SortKey::Size);
    assert!(a.s.tree.sort.descending);
    let d = a.s.data.clone().expect("data");
    let tops: Vec<_> =
        a.s.tree
            .order
            .iter()
            .filter(|e| e.depth == 0)
            .map(|e| a.s.info.size[e.key as usize])
            .collect();
    assert!(tops.windows(2).all(|w| w[0] >= w[1]), "{tops:?}");
    assert_eq!(d.path(a.s.tree.order[0].key), "/usr");
    keys(&mut a.s, "S");
    assert!(!a.s.tree.sort.descending);
    assert_eq!(d.path(a.s.tree.order[0].key), "/root");
}

#[test]
fn content_viewer_reads_a_bounded_window() {
    let mut a = sample();
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/etc/hostname");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "o");
    let eff = std::mem::take(&mut a.s.effects);
    assert_eq!(eff.len(), 1);
    let Effect::ReadContent { id, layer, offset } = eff[0] else {
        panic!("{eff:?}")
    };
    let data = a.s.data.clone().expect("data");
    apply(&mut a.s, effects::read_content(&data, id, layer, offset));
    let Some(Popup::Content(cv)) = &a.s.popup else {
        panic!("no viewer")
    };
    assert!(!cv.hex);
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("     1 localhost"), "{sc}");
    press(&mut a.s, KeyCode::Esc);
    assert!(a.s.popup.is_none());
}

#[test]
fn top_wasted_path_jumps_into_the_tree() {
    let mut a = sample();
    keys(&mut a.s, "i");
    press(&mut a.s, KeyCode::Enter);
    assert!(a.s.popup.is_none());
    assert_eq!(selected_path(&a.s), "/var/log/apt/term.log");
    assert_eq!(a.s.layer(), 1);
    assert_eq!(a.s.ui.focus, Focus::Tree);
}

#[test]
fn copy_path_and_extract_go_through_effects() {
    let mut a = sample();
    press(&mut a.s, KeyCode::Tab);
    keys(&mut a.s, "y");
    assert_eq!(a.s.effects, vec![Effect::Clipboard("/app".into())]);
    a.s.effects.clear();
    keys(&mut a.s, "x");
    // Prefilled with a directory named after the image, never a bare `.`.
    assert_eq!(
        a.s.ui.prompt.as_ref().map(|p| p.text.as_str()),
        Some("./sample-latest-extract")
    );
    press(&mut a.s, KeyCode::Enter);
    assert!(matches!(
        a.s.effects[..],
        [Effect::Extract { ref dest, force: false, .. }] if dest == Path::new("./sample-latest-extract")
    ));
}

/// Type `text` into the extract prompt (replacing the prefill) and submit.
fn extract_to(s: &mut AppState, text: &str) {
    keys(s, "x");
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(s, text);
    press(s, KeyCode::Enter);
}

// See: issue #15 ("Extract from the TUI").
#[test]
fn issue_15_extract_expands_tilde_and_asks_before_replacing() {
    let mut a = sample();
    press(&mut a.s, KeyCode::Tab);
    assert_eq!(selected_path(&a.s), "/app");
    let home = tempfile::tempdir().expect("home");
    a.s.home = Some(home.path().to_path_buf());

    // `~` is the home directory; a missing destination is simply made.
    extract_to(&mut a.s, "~/out");
    assert!(a.s.popup.is_none());
    assert!(matches!(
        a.s.effects[..],
        [Effect::Extract { ref dest, force: false, .. }] if *dest == home.path().join("out")
    ));
    a.s.effects.clear();

    // Something already there: a confirmation listing it, nothing queued yet.
    let out = home.path().join("out");
    std::fs::create_dir_all(out.join("app")).expect("mkdir");
    std::fs::write(out.join("app/main.py"), b"mine").expect("write");
    extract_to(&mut a.s, "~/out");
    assert!(a.s.effects.is_empty());
    let Some(Popup::ConfirmExtract(c)) = &a.s.popup else {
        panic!("no confirmation: {:?}", a.s.popup);
    };
    assert_eq!(
        view::popups::confirm_text("/app", c.layer, &c.preview),
        [
            format!("/app (as after layer {}) to {}", c.layer, out.display()),
            "6 files, 4 directories, 0 links".to_string(),
            "replaces 1 existing paths:".to_string(),
            format!("  {} (a file)", out.join("app/main.py").display()),
        ]
    );
    assert!(screen(&a.s, 100, 30).contains("Extract and replace? (y: yes, n/esc: no)"));
    // `n` cancels, `y` extracts with overwriting allowed.
    keys(&mut a.s, "n");
    assert!(a.s.popup.is_none() && a.s.effects.is_empty());
    extract_to(&mut a.s, "~/out");
    keys(&mut a.s, "y");
    assert!(a.s.popup.is_none());
    assert!(matches!(
        a.s.effects[..],
        [Effect::Extract { ref dest, force: true, .. }] if *dest == out
    ));
    a.s.effects.clear();

    // Missing parents are named before they are made.
    extract_to(&mut a.s, "~/a/b/out");
    let Some(Popup::ConfirmExtract(c)) = &a.s.popup else {
        panic!("no confirmation: {:?}", a.s.popup);
    };
    let h = home.path().display();
    assert_eq!(
        view::popups::confirm_text("/app", c.layer, &c.preview)[2],
        format!("creates missing directories: {h}/a, {h}/a/b, {h}/a/b/out")
    );
    press(&mut a.s, KeyCode::Esc);

    // A destination that is a file, or nothing typed: a message, no write.
    std::fs::write(home.path().join("file"), b"x").expect("file");
    extract_to(&mut a.s, "~/file");
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some(format!("{h}/file: is not a directory").as_str())
    );
    extract_to(&mut a.s, "");
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("no destination directory given")
    );
    assert!(a.s.effects.is_empty() && a.s.popup.is_none());
}

/// The warnings the CLI prints after an extraction (symlinks pointing
/// outside, skipped paths) are shown in a popup.
// See: issue #15 ("warnings the CLI prints … are not shown").
#[test]
fn issue_15_extraction_warnings_are_shown() {
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .symlink("etc/passwd-link", "/etc/passwd")
                .fifo("etc/fifo")
                .file("etc/hosts", b"h"),
        )
        .docker_legacy();
    let mut a = app_from(&bytes, ThemeName::None);
    let data = a.s.data.clone().expect("data");
    let id = data.loaded.tree.lookup(b"/etc").expect("etc");
    let dest = tempfile::tempdir().expect("dest");
    let r = layerscope::tui::effects::extract(&data, id, 0, dest.path(), false);
    let (summary, notes) = r.as_ref().expect("extract").clone();
    assert_eq!(
        notes,
        [
            "warning: 1 symlinks point outside the extracted tree (created as they are, never followed)",
            "skipped: /etc/fifo: FIFOs are not created",
        ]
    );
    apply(&mut a.s, Msg::Reply(Reply::Extracted(r)));
    assert_eq!(a.s.ui.message.as_deref(), Some(summary.as_str()));
    let Some(Popup::Notice { text, .. }) = &a.s.popup else {
        panic!("no notice: {:?}", a.s.popup);
    };
    assert_eq!(*text, format!("{summary}\n\n{}", notes.join("\n")));
    press(&mut a.s, KeyCode::Esc);
    assert!(a.s.popup.is_none());
}

#[test]
fn quit_sets_cancel() {
    let mut a = sample();
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(a.s.ui.quit);
    assert!(a
        .s
        .progress
        .cancel
        .load(std::sync::atomic::Ordering::Relaxed));
}

#[test]
fn config_rebinds_keys_and_rejects_unknown_actions() {
    let mut cfg = Config::default();
    let file = Config::parse("theme: light\nkeys:\n  quit: [\"ctrl-q\"]\nview:\n  mode: layer\n")
        .expect("parse");
    cfg.apply(file).expect("apply");
    assert_eq!(cfg.theme.name, ThemeName::Light);
    assert_eq!(
        cfg.keys.keys_label(layerscope::tui::config::Action::Quit),
        "ctrl-q"
    );
    let bad = Config::parse("keys:\n  fly: [\"x\"]\n").expect("parse");
    let e = Config::default().apply(bad).unwrap_err();
    assert!(
        e.starts_with("keys: unknown action `fly` (valid: quit, help, focus_next,"),
        "{e}"
    );
    assert!(Config::parse("colour: 3\n").is_err());
}

// ---- screens ----

#[test]
fn snapshot_main_screen() {
    let a = sample();
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_80x24() {
    let mut a = sample();
    apply(&mut a.s, Msg::Resize(80, 24));
    insta::assert_snapshot!(screen(&a.s, 80, 24));
}

#[test]
fn snapshot_too_small() {
    let a = sample();
    insta::assert_snapshot!(screen(&a.s, 40, 10));
}

#[test]
fn snapshot_per_layer_view_with_deletions() {
    let mut a = sample();
    keys(&mut a.s, "kkkv");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_range_compare() {
    let mut a = sample();
    keys(&mut a.s, "kkkkmjj");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_filtered_and_searched() {
    let mut a = sample();
    keys(&mut a.s, "fapt");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "kkkk/log");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_help() {
    let mut a = sample();
    keys(&mut a.s, "?");
    let sc = screen(&a.s, 100, 30).replace(
        &layerscope::tui::config::default_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        "CONFIG",
    );
    insta::assert_snapshot!(sc);
}

#[test]
fn snapshot_file_details_with_timeline() {
    let mut a = sample();
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/etc/ssl/certs/ca-certificates.crt");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "d");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_image_details() {
    let mut a = sample();
    keys(&mut a.s, "ij");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_hex_viewer() {
    let mut a = sample();
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/bin/ls");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "o");
    let Some(Effect::ReadContent { id, layer, offset }) = a.s.effects.pop() else {
        panic!("no read")
    };
    let data = a.s.data.clone().expect("data");
    apply(&mut a.s, effects::read_content(&data, id, layer, offset));
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_loading_and_error() {
    let progress = std::sync::Arc::new(layerscope::load::Progress::default());
    progress.set_phase(layerscope::load::Phase::ReadingLayers);
    progress
        .bytes_total
        .store(4 << 20, std::sync::atomic::Ordering::Relaxed);
    progress
        .bytes_done
        .store(1 << 20, std::sync::atomic::Ordering::Relaxed);
    progress
        .layers_total
        .store(4, std::sync::atomic::Ordering::Relaxed);
    progress
        .layers_done
        .store(1, std::sync::atomic::Ordering::Relaxed);
    let cfg = Config {
        theme: Theme::new(ThemeName::None),
        ..Config::default()
    };
    let mut s = AppState::new("images/big.tar".into(), progress, cfg);
    apply(&mut s, Msg::Resize(80, 24));
    insta::assert_snapshot!("loading", screen(&s, 80, 24));
    apply(
        &mut s,
        Msg::Loaded(Err(layerscope::Error::Layer {
            path: "images/big.tar".into(),
            index: 2,
            digest: "sha256:ab".into(),
            fault: layerscope::error::LayerFault::Malformed("unexpected end of data".into()),
        })),
    );
    insta::assert_snapshot!("load_error", screen(&s, 80, 24));
    // Only quitting works now.
    keys(&mut s, "jq");
    assert!(s.ui.quit);
}

#[test]
fn built_archive_with_hardlinks_symlinks_and_opaque_dirs() {
    let img = ImageBuilder::new()
        .tag("t/links:1")
        .layer(
            LayerBuilder::new("RUN base")
                .dir("d")
                .file("d/a", b"aaaa")
                .hardlink("d/b", "d/a")
                .symlink("d/c", "a")
                .file("d/old", b"old"),
        )
        .layer(
            LayerBuilder::new("RUN wipe")
                .opaque("d")
                .file("d/new", b"n"),
        )
        .docker_legacy();
    let mut a = app_from(&img, ThemeName::None);
    keys(&mut a.s, "v");
    assert_eq!(status_of(&a.s, "/d/a"), Some(Status::Deleted));
    assert_eq!(status_of(&a.s, "/d/new"), Some(Status::Added));
    keys(&mut a.s, "k\t:");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/d/b");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "d");
    insta::assert_snapshot!(screen(&a.s, 80, 24));
}

#[test]
fn colours_mark_statuses_and_selection() {
    let mut a = app_from(&synth::sample_image().docker_legacy(), ThemeName::Dark);
    keys(&mut a.s, "kkkv");
    let mut t = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    t.draw(|f| view::draw(&a.s, f.area(), f.buffer_mut()))
        .expect("draw");
    let buf = t.backend().buffer();
    // Find the row of term.log (deleted) and check its marker's colour.
    let tree = a.s.ui.areas.tree;
    let row = (tree.y..tree.bottom())
        .find(|&y| {
            (tree.x..tree.right())
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .contains("term.log")
        })
        .expect("term.log row");
    let marker = &buf[(tree.x + 1, row)];
    assert_eq!(marker.symbol(), "-");
    assert_eq!(marker.fg, Color::Red);
    // The selected layer is highlighted with the focus colour.
    let sel_y = a.s.ui.areas.layers.y + 1 + (a.s.layer() - a.s.ui.layers.scroll) as u16;
    assert_eq!(buf[(a.s.ui.areas.layers.x + 2, sel_y)].bg, Color::Cyan);
}

#[test]
fn mouse_selects_toggles_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut a = sample();
    let m = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let tree = a.s.ui.areas.tree;
    let all = a.s.tree.rows.len();
    // First tree row is /app: a click selects and collapses it.
    apply(
        &mut a.s,
        Msg::Mouse(m(
            MouseEventKind::Down(MouseButton::Left),
            tree.x + 30,
            tree.y + 2,
        )),
    );
    assert_eq!(a.s.ui.focus, Focus::Tree);
    assert_eq!(selected_path(&a.s), "/app");
    assert!(a.s.tree.rows.len() < all);
    apply(
        &mut a.s,
        Msg::Mouse(m(MouseEventKind::ScrollDown, tree.x + 5, tree.y + 5)),
    );
    assert_eq!(a.s.tree.scroll, 3);
    assert_eq!(a.s.tree.selected, 3, "the cursor stays on screen");
    // A click in the layers pane selects that layer.
    let layers = a.s.ui.areas.layers;
    apply(
        &mut a.s,
        Msg::Mouse(m(
            MouseEventKind::Down(MouseButton::Left),
            layers.x + 3,
            layers.y + 2,
        )),
    );
    assert_eq!(a.s.ui.focus, Focus::Layers);
    assert_eq!(a.s.layer(), 1);
}

#[test]
fn extraction_writes_the_selected_path_under_the_chosen_directory_only() {
    let archive = common::write_archive(
        &layerscope_synth::sample_image().docker_legacy(),
        "image.tar",
    );
    let loaded = common::load_path(&archive.path).expect("load");
    let last = loaded.tree.final_layer();
    let id = loaded.tree.lookup(b"/etc").expect("etc");
    let data = ImageData::new(loaded);
    let dest = tempfile::tempdir().expect("tmp");
    let target = dest.path().join("out");
    let (msg, _) =
        layerscope::tui::effects::extract(&data, id, last, &target, false).expect("extract");
    assert!(msg.starts_with("extracted "), "{msg}");
    assert_eq!(
        std::fs::read_to_string(target.join("etc/hostname")).expect("hostname"),
        String::from_utf8(
            layerscope::content::read_window(
                &data.loaded,
                data.loaded.tree.lookup(b"/etc/hostname").expect("h"),
                last,
                0,
                1024
            )
            .expect("read")
            .bytes
        )
        .expect("utf8")
    );
    // A second run refuses to overwrite.
    let err = layerscope::tui::effects::extract(&data, id, last, &target, false)
        .expect_err("no overwrite");
    assert!(matches!(err, layerscope::Error::Extract { .. }), "{err:?}");
    assert!(err.to_string().contains("exists"), "{err}");
}

#[test]
fn paths_and_lower_case_paths_come_from_one_buffer_each() {
    let bytes = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("usr/Share/README.md", b"r")
                .file("usr/lib/libz.so", b"z")
                .file("opt/ÄPFEL", b"a"),
        )
        .docker_legacy();
    let archive = common::write_archive(&bytes, "image.tar");
    let loaded = common::load_path(&archive.path).expect("load");
    let ids: Vec<u32> = [
        "/usr/Share/README.md",
        "/usr/lib/libz.so",
        "/opt/ÄPFEL",
        "/",
    ]
    .iter()
    .map(|p| loaded.tree.lookup(p.as_bytes()).expect(p))
    .collect();
    let data = ImageData::new(loaded);
    let got: Vec<(&str, &str)> = ids
        .iter()
        .map(|&i| (data.path_raw(i), data.lower(i)))
        .collect();
    assert_eq!(
        got,
        [
            ("/usr/Share/README.md", "/usr/share/readme.md"),
            ("/usr/lib/libz.so", "/usr/lib/libz.so"),
            ("/opt/ÄPFEL", "/opt/äpfel"),
            ("/", "/"),
        ]
    );
    assert_eq!(data.path(u32::MAX), "");
    // Search is case-insensitive through the lower-cased table.
    let mut s = AppState::ready(data, common::screen::config(ThemeName::None));
    press(&mut s, KeyCode::Char('/'));
    keys(&mut s, "readme");
    press(&mut s, KeyCode::Enter);
    assert_eq!(selected_path(&s), "/usr/Share/README.md");
}

/// The status-line hints and the popups' keys come from the key map: a
/// remapped key shows where the default did and works in its popup.
/// See: issue 11.
#[test]
fn remapped_keys_show_in_the_hints_and_drive_the_viewer() {
    let mut a = sample();
    let file = layerscope::tui::config::Config::parse(
        "keys: { quit: [\"Q\"], help: [\"H\"], viewer_hex: [\"X\"] }",
    )
    .expect("config");
    a.s.ui.config.apply(file).expect("apply");
    let sc = screen(&a.s, 140, 30);
    let status = sc.lines().last().expect("status line");
    assert!(status.starts_with("Q quit  H help  tab pane"), "{status}");
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/etc/hostname");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, "o");
    let eff = std::mem::take(&mut a.s.effects);
    let Effect::ReadContent { id, layer, offset } = eff[0] else {
        panic!("{eff:?}")
    };
    let data = a.s.data.clone().expect("data");
    apply(&mut a.s, effects::read_content(&data, id, layer, offset));
    let hex = |s: &AppState| matches!(&s.popup, Some(Popup::Content(cv)) if cv.hex);
    keys(&mut a.s, "x");
    assert!(!hex(&a.s), "x is no longer the viewer's hex key");
    keys(&mut a.s, "X");
    assert!(hex(&a.s));
    let sc = screen(&a.s, 140, 30);
    assert!(sc.contains("· X hex · [ ] window"), "{sc}");
}

/// One jump message for both explorers (the explorer said "not in this
/// view" for a path the filter hid). See: issue 11.
#[test]
fn jumping_to_a_filtered_out_path_says_the_filter_hides_it() {
    let mut a = sample();
    keys(&mut a.s, "fssl");
    press(&mut a.s, KeyCode::Enter);
    keys(&mut a.s, ":");
    apply(
        &mut a.s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(&mut a.s, "/usr/bin/env");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("/usr/bin/env is hidden by the filter")
    );
}

/// Archive text reaches the screen as visible escapes, never as terminal
/// controls: a file name carrying a title-setting OSC and a layer command
/// carrying a clear-screen CSI and a C1 CSI. See: issue 12 ("terminal
/// injection").
#[test]
fn hostile_names_and_commands_render_as_escapes() {
    let img = ImageBuilder::new()
        .layer(LayerBuilder::new("RUN \x1b[2J\u{9b}2J echo").file("evil\x1b]0;pwned\x07.txt", b"x"))
        .docker_legacy();
    let mut a = app_from(&img, ThemeName::None);
    press(&mut a.s, KeyCode::Tab);
    let sc = screen(&a.s, 120, 30);
    for bad in ['\x1b', '\x07', '\u{9b}'] {
        assert!(!sc.contains(bad), "{bad:?} reached the screen:\n{sc}");
    }
    assert!(sc.contains("evil\\u{1b}]0;pwned\\u{7}.txt"), "{sc}");
    assert!(sc.contains("RUN \\u{1b}[2J\\u{9b}2J echo"), "{sc}");
}
