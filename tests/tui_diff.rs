//! The TUI's diff mode: state transitions driven by messages, whole screens
//! rendered into ratatui's TestBackend (insta snapshots, no-colour theme),
//! and the real binary under tmux (skipped when tmux is absent).
// See: issue #5 "Diff", "In the TUI".

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use common::tmux::{have_tmux, shell_quote, Tmux};
use layerscope::tree::Status;
use layerscope::tui::config::{Config, Theme, ThemeName};
use layerscope::tui::diff::entries::SortKey as DiffSortKey;
use layerscope::tui::diff::pair::{ContentDiff, ImagePair};
use layerscope::tui::diff::state::{DiffEffect, DiffPopup, DiffState};
use layerscope::tui::diff::update::{apply, DiffMsg};
use layerscope::tui::diff::{read_diff, view};
use layerscope::tui::host::Focus as DiffFocus;
use layerscope_synth::{self as synth, ImageBuilder, LayerBuilder};

struct App {
    s: DiffState,
    _archives: Vec<common::TempArchive>,
}

fn app_from(old: &[u8], new: &[u8], theme: ThemeName) -> App {
    let a = common::write_archive(old, "old.tar");
    let b = common::write_archive(new, "new.tar");
    let lo = common::load_path(&a.path).expect("load old");
    let ln = common::load_path(&b.path).expect("load new");
    let data = ImagePair::build(lo, Some(ln), None, None).expect("diff");
    let mut s = DiffState::ready(data, common::screen::config(theme));
    apply(&mut s, DiffMsg::Resize(100, 30));
    App {
        s,
        _archives: vec![a, b],
    }
}

fn sample() -> App {
    app_from(
        &synth::sample_image().docker_legacy(),
        &synth::sample_image_v2().docker_legacy(),
        ThemeName::None,
    )
}

fn press(s: &mut DiffState, code: KeyCode) {
    apply(s, DiffMsg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn keys(s: &mut DiffState, text: &str) {
    for c in text.chars() {
        press(s, KeyCode::Char(c));
    }
}

fn ctrl_u(s: &mut DiffState) {
    apply(
        s,
        DiffMsg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
}

fn goto(s: &mut DiffState, path: &str) {
    keys(s, ":");
    ctrl_u(s);
    keys(s, path);
    press(s, KeyCode::Enter);
}

fn screen(s: &DiffState, w: u16, h: u16) -> String {
    let mut out = common::screen::render(w, h, |area, buf| view::draw(s, area, buf));
    // Temp dirs differ per run.
    for a in [&s.old_path, &s.new_path] {
        out = out.replace(a.as_str(), "ARCHIVE");
    }
    out
}

fn data(s: &DiffState) -> Arc<ImagePair> {
    s.data.clone().expect("data")
}

fn selected_path(s: &DiffState) -> String {
    let d = data(s);
    d.entry(s.selected_entry().expect("selection"))
        .expect("entry")
        .path
        .clone()
}

fn row_paths(s: &DiffState) -> Vec<String> {
    let d = data(s);
    (0..s.tree.rows.len())
        .map(|r| {
            let i = s.tree.entry(r).expect("row").key;
            d.entry(i).expect("entry").path.clone()
        })
        .collect()
}

fn status_of(s: &DiffState, path: &str) -> Status {
    let d = data(s);
    let i = d.find(path).expect("path");
    d.entry(i).expect("entry").status
}

/// Open the line diff of `path` and run the read synchronously.
fn open_content(s: &mut DiffState, path: &str) -> ContentDiff {
    goto(s, path);
    keys(s, "o");
    let eff = std::mem::take(&mut s.effects);
    let [DiffEffect::ReadDiff { idx }] = eff[..] else {
        panic!("{eff:?}")
    };
    let d = data(s);
    apply(s, read_diff(&d, idx));
    match &s.popup {
        Some(DiffPopup::Content(cv)) => cv.result.clone().expect("result").expect("ok"),
        _ => panic!("no viewer"),
    }
}

// ---- state transitions ----

#[test]
fn opens_on_the_changes_with_unchanged_paths_hidden() {
    let a = sample();
    assert_eq!(a.s.ui.focus, DiffFocus::Tree);
    // The histories diverge at layer 6: the layer cursor starts there.
    assert_eq!(a.s.ui.layers.selected, 6);
    assert_eq!(
        row_paths(&a.s),
        [
            "/app",
            "/app/config.yaml",
            "/app/main.py",
            "/app/public",
            "/app/public/logo.png",
            "/bin",
            "/bin/ls",
            "/etc",
            "/etc/os-release",
            "/usr",
            "/usr/bin",
            "/usr/bin/curl",
            "/usr/bin/jq",
            "/usr/share",
            "/usr/share/doc",
            "/usr/share/doc/README",
            "/var",
            "/var/lib",
            "/var/lib/dpkg",
            "/var/lib/dpkg/status",
        ]
    );
    assert_eq!(status_of(&a.s, "/app/config.yaml"), Status::Added);
    assert_eq!(status_of(&a.s, "/app/main.py"), Status::Modified);
    assert_eq!(status_of(&a.s, "/app/public/logo.png"), Status::Deleted);
    assert_eq!(status_of(&a.s, "/bin/ls"), Status::Metadata);
    assert_eq!(status_of(&a.s, "/usr/share/doc/README"), Status::Deleted);
    assert_eq!(status_of(&a.s, "/bin/bash"), Status::Unchanged);
}

#[test]
fn status_toggles_filter_the_merged_tree() {
    let mut a = sample();
    // 5 shows unchanged paths too: the whole merged tree.
    keys(&mut a.s, "5");
    let all = row_paths(&a.s);
    assert!(all.contains(&"/bin/bash".to_string()));
    assert!(all.contains(&"/etc/ssl/certs/ca-certificates.crt".to_string()));
    keys(&mut a.s, "5");
    // Only deleted: hide added (1), modified (2), metadata (4).
    keys(&mut a.s, "124");
    assert_eq!(
        row_paths(&a.s),
        [
            "/app",
            "/app/public",
            "/app/public/logo.png",
            "/usr",
            "/usr/share",
            "/usr/share/doc",
            "/usr/share/doc/README"
        ]
    );
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("filter: hide added,modified,meta"), "{sc}");
    // F clears everything: unchanged paths shown as well.
    keys(&mut a.s, "F");
    assert_eq!(row_paths(&a.s), all);
}

#[test]
fn navigation_collapse_and_focus() {
    let mut a = sample();
    keys(&mut a.s, "jj");
    assert_eq!(selected_path(&a.s), "/app/main.py");
    keys(&mut a.s, "h");
    assert_eq!(
        selected_path(&a.s),
        "/app",
        "h on a file goes to its parent"
    );
    keys(&mut a.s, "h");
    assert!(!row_paths(&a.s).contains(&"/app/main.py".to_string()));
    keys(&mut a.s, "l");
    assert!(row_paths(&a.s).contains(&"/app/main.py".to_string()));
    keys(&mut a.s, "-");
    assert_eq!(row_paths(&a.s), ["/app", "/bin", "/etc", "/usr", "/var"]);
    keys(&mut a.s, "=G");
    assert_eq!(selected_path(&a.s), "/var/lib/dpkg/status");
    // Tab: the layer table; j/k move its cursor, clamped.
    press(&mut a.s, KeyCode::Tab);
    assert_eq!(a.s.ui.focus, DiffFocus::Layers);
    keys(&mut a.s, "jjj");
    assert_eq!(a.s.ui.layers.selected, 7);
    keys(&mut a.s, "g");
    assert_eq!(a.s.ui.layers.selected, 0);
    assert_eq!(selected_path(&a.s), "/var/lib/dpkg/status");
    // Explorer-only actions say so.
    keys(&mut a.s, "v");
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("not available in diff mode")
    );
}

#[test]
fn search_regex_filter_and_jump() {
    let mut a = sample();
    keys(&mut a.s, "/o");
    press(&mut a.s, KeyCode::Enter);
    let n = a.s.tree.search.matches.len();
    assert!(n >= 5, "{n}");
    let first = selected_path(&a.s);
    keys(&mut a.s, "n");
    assert_ne!(selected_path(&a.s), first);
    keys(&mut a.s, "N");
    assert_eq!(selected_path(&a.s), first);
    // Regex filter keeps ancestors.
    keys(&mut a.s, "fcurl|jq");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        row_paths(&a.s),
        ["/usr", "/usr/bin", "/usr/bin/curl", "/usr/bin/jq"]
    );
    // F shows everything; 5 hides unchanged paths again.
    keys(&mut a.s, "F5");
    goto(&mut a.s, "/etc/os-release");
    assert_eq!(selected_path(&a.s), "/etc/os-release");
    goto(&mut a.s, "/etc/passwd");
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("/etc/passwd is hidden by the filter")
    );
    goto(&mut a.s, "/nope");
    assert_eq!(a.s.ui.message.as_deref(), Some("no such path: /nope"));
}

#[test]
fn sort_by_size_and_by_change() {
    let mut a = sample();
    keys(&mut a.s, "s");
    assert_eq!(a.s.tree.sort.key, DiffSortKey::Size);
    assert_eq!(row_paths(&a.s)[0], "/usr");
    keys(&mut a.s, "s");
    assert_eq!(a.s.tree.sort.key, DiffSortKey::Delta);
    assert!(a.s.tree.sort.descending);
    // /usr grew most (+30 KiB), /app shrank by ~19 KiB; /bin only changed a mode.
    let top: Vec<String> = row_paths(&a.s)
        .into_iter()
        .filter(|p| p.matches('/').count() == 1)
        .collect();
    assert_eq!(top, ["/usr", "/app", "/var", "/etc", "/bin"]);
    keys(&mut a.s, "S");
    assert!(!a.s.tree.sort.descending);
    keys(&mut a.s, "s");
    assert_eq!(a.s.tree.sort.key, DiffSortKey::Name);
    assert_eq!(row_paths(&a.s)[0], "/app");
}

#[test]
fn line_diff_of_a_text_file() {
    let mut a = sample();
    let cd = open_content(&mut a.s, "/etc/os-release");
    let ContentDiff::Text {
        lines,
        hunks,
        added,
        removed,
        ..
    } = cd
    else {
        panic!("not text")
    };
    assert_eq!((added, removed), (2, 1));
    // Line 4 replaced, line 6 added: two runs of changes.
    assert_eq!(hunks, [3, 6]);
    let changed: Vec<String> = lines
        .iter()
        .filter(|l| l.tag != ' ')
        .map(|l| format!("{}{:?}{:?} {}", l.tag, l.old_no, l.new_no, l.text))
        .collect();
    assert_eq!(
        changed,
        [
            "-Some(4)None VERSION=\"12 (bookworm)\"",
            "+NoneSome(4) VERSION=\"12.5 (bookworm)\"",
            "+NoneSome(6) HOME_URL=\"https://www.debian.org/\""
        ]
    );
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("+2 -1 lines · 2 changes"), "{sc}");
    assert!(
        sc.contains("     4        - VERSION=\"12 (bookworm)\""),
        "{sc}"
    );
    press(&mut a.s, KeyCode::Esc);
    assert!(a.s.popup.is_none());
}

#[test]
fn binary_files_show_sizes_and_hashes_and_one_sided_files_diff_against_nothing() {
    let mut a = sample();
    let ContentDiff::Binary { old, new } = open_content(&mut a.s, "/usr/bin/curl") else {
        panic!("not binary")
    };
    let (old, new) = (old.expect("old"), new.expect("new"));
    assert_eq!((old.size, new.size), (60_000, 64_000));
    assert!(old.sha256.is_some() && old.sha256 != new.sha256);
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("content differs"), "{sc}");
    press(&mut a.s, KeyCode::Esc);
    let ContentDiff::Text { added, removed, .. } = open_content(&mut a.s, "/app/config.yaml")
    else {
        panic!("not text")
    };
    assert_eq!((added, removed), (2, 0));
    press(&mut a.s, KeyCode::Esc);
    // A directory has no content.
    goto(&mut a.s, "/etc");
    keys(&mut a.s, "o");
    assert!(a.s.popup.is_none());
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("/etc is not a regular file on either side")
    );
}

#[test]
fn popups_toggle_and_copy_goes_through_effects() {
    let mut a = sample();
    keys(&mut a.s, "d");
    assert!(matches!(a.s.popup, Some(DiffPopup::Details { .. })));
    keys(&mut a.s, "d");
    assert!(a.s.popup.is_none());
    keys(&mut a.s, "i");
    assert!(matches!(a.s.popup, Some(DiffPopup::Summary { .. })));
    press(&mut a.s, KeyCode::Esc);
    keys(&mut a.s, "?");
    assert!(matches!(a.s.popup, Some(DiffPopup::Help { .. })));
    press(&mut a.s, KeyCode::Esc);
    keys(&mut a.s, "y");
    assert_eq!(a.s.effects, vec![DiffEffect::Clipboard("/app".into())]);
    apply(
        &mut a.s,
        DiffMsg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(a.s.ui.quit);
    assert!(a
        .s
        .progress
        .iter()
        .all(|p| p.cancel.load(std::sync::atomic::Ordering::Relaxed)));
}

#[test]
fn command_line_filters_start_the_view() {
    let mut a = sample();
    a.s.set_cli_filter(&["/usr/**".into()], &["added,deleted".into()])
        .expect("filter");
    assert_eq!(
        row_paths(&a.s),
        [
            "/usr",
            "/usr/bin",
            "/usr/bin/jq",
            "/usr/share",
            "/usr/share/doc",
            "/usr/share/doc/README"
        ]
    );
    assert!(a.s.set_cli_filter(&[], &["grown".into()]).is_err());
}

#[test]
fn identical_images_and_layer_ranges_of_one_image() {
    let bytes = synth::sample_image().docker_legacy();
    let a = app_from(&bytes, &bytes, ThemeName::None);
    assert!(a.s.tree.rows.is_empty());
    let sc = screen(&a.s, 100, 30);
    assert!(
        sc.contains("(no differences; 5 shows unchanged paths)"),
        "{sc}"
    );
    // Layers 1 → 2 of one image: the cleanup layer's deletions.
    let arch = common::write_archive(&bytes, "one.tar");
    let l = common::load_path(&arch.path).expect("load");
    let d = ImagePair::build(l, None, Some(1), Some(2)).expect("diff");
    let mut s = DiffState::ready(d, Config::default());
    apply(&mut s, DiffMsg::Resize(100, 30));
    assert_eq!(status_of(&s, "/var/log/apt/term.log"), Status::Deleted);
    assert_eq!(status_of(&s, "/var/lib/apt/lists"), Status::Deleted);
    assert!(!row_paths(&s).contains(&"/app".to_string()));
}

#[test]
fn layers_shared_at_another_index_and_the_mouse() {
    let base = || LayerBuilder::new("ADD base").file("etc/a", b"a\n");
    let old = ImageBuilder::new()
        .layer(base())
        .layer(LayerBuilder::new("RUN x").file("x", b"x"))
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(LayerBuilder::new("RUN y").file("y", b"y"))
        .layer(base())
        .docker_legacy();
    let mut a = app_from(&old, &new, ThemeName::None);
    let d = data(&a.s);
    let l = &d.diff.layers;
    assert_eq!(
        (l.shared, l.old_only, l.new_only, l.diverge_at),
        (1, 1, 1, Some(0))
    );
    let sc = screen(&a.s, 100, 30);
    // The base layer is in both images, at index 0 in old and 1 in new.
    assert!(sc.contains("│≈  0"), "{sc}");
    assert!(sc.contains("│-  1"), "{sc}");
    assert!(sc.contains("│+  0"), "{sc}");
    assert!(sc.contains("│≈  1"), "{sc}");
    assert_eq!(row_paths(&a.s), ["/x", "/y"]);
    let click = |column, row| {
        DiffMsg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let t = a.s.ui.areas.tree;
    apply(&mut a.s, click(t.x + 5, t.y + 3));
    assert_eq!(selected_path(&a.s), "/y");
    let ly = a.s.ui.areas.new_layers;
    apply(&mut a.s, click(ly.x + 5, ly.y + 2));
    assert_eq!(
        (a.s.ui.focus, a.s.ui.layers.selected),
        (DiffFocus::Layers, 1)
    );
    apply(
        &mut a.s,
        DiffMsg::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollUp,
            column: ly.x + 5,
            row: ly.y + 2,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(a.s.ui.layers.selected, 0);
}

// ---- screens ----

#[test]
fn snapshot_diff_main_screen() {
    let a = sample();
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_diff_80x24() {
    let mut a = sample();
    apply(&mut a.s, DiffMsg::Resize(80, 24));
    insta::assert_snapshot!(screen(&a.s, 80, 24));
}

#[test]
fn snapshot_diff_details_side_by_side() {
    let mut a = sample();
    goto(&mut a.s, "/bin/ls");
    keys(&mut a.s, "d");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_diff_line_diff() {
    let mut a = sample();
    open_content(&mut a.s, "/app/main.py");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_diff_summary() {
    let mut a = sample();
    keys(&mut a.s, "i");
    insta::assert_snapshot!(screen(&a.s, 100, 30));
}

#[test]
fn snapshot_diff_loading() {
    let p = || Arc::new(layerscope::load::Progress::default());
    let progress = [p(), p()];
    progress[0].set_phase(layerscope::load::Phase::Done);
    progress[1].set_phase(layerscope::load::Phase::ReadingLayers);
    progress[1]
        .bytes_total
        .store(4 << 20, std::sync::atomic::Ordering::Relaxed);
    progress[1]
        .bytes_done
        .store(1 << 20, std::sync::atomic::Ordering::Relaxed);
    let cfg = Config {
        theme: Theme::new(ThemeName::None),
        ..Config::default()
    };
    let mut s = DiffState::new("old.tar".into(), "new.tar".into(), progress, cfg);
    apply(&mut s, DiffMsg::Resize(80, 24));
    insta::assert_snapshot!(screen(&s, 80, 24));
    apply(
        &mut s,
        DiffMsg::Loaded(Err(layerscope::Error::Format {
            path: "new.tar".into(),
            msg: "not a tar archive".into(),
        })),
    );
    let sc = screen(&s, 80, 24);
    assert!(sc.contains("Could not compare the images"), "{sc}");
    keys(&mut s, "jq");
    assert!(s.ui.quit);
}

#[test]
fn colours_mark_statuses_and_selection() {
    let old = ImageBuilder::new()
        .layer(LayerBuilder::new("ADD /").file("a", b"1\n").file("b", b"x"))
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(LayerBuilder::new("ADD /").file("b", b"y").file("c", b"z"))
        .docker_legacy();
    let a = app_from(&old, &new, ThemeName::Dark);
    assert_eq!(row_paths(&a.s), ["/a", "/b", "/c"]);
    let mut t = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    t.draw(|f| view::draw(&a.s, f.area(), f.buffer_mut()))
        .expect("draw");
    let buf = t.backend().buffer();
    let tree = a.s.ui.areas.tree;
    let x = tree.x + 1;
    // Header, then /a (selected), /b, /c.
    assert_eq!(buf[(x, tree.y + 2)].bg, Color::Cyan);
    assert_eq!(buf[(x, tree.y + 3)].symbol(), "~");
    assert_eq!(buf[(x, tree.y + 3)].fg, Color::Yellow);
    assert_eq!(buf[(x, tree.y + 4)].symbol(), "+");
    assert_eq!(buf[(x, tree.y + 4)].fg, Color::Green);
}

// ---- end to end ----

#[test]
fn diff_two_images_in_a_terminal() {
    if !have_tmux() {
        eprintln!("tmux is not installed: skipping the end-to-end diff TUI test");
        return;
    }
    let old = common::write_archive(&synth::sample_image().docker_legacy(), "v1.tar");
    let new = common::write_archive(&synth::sample_image_v2().docker_legacy(), "v2.tar");
    let bin = env!("CARGO_BIN_EXE_layerscope");
    let cmd = format!(
        "env NO_COLOR=1 XDG_CONFIG_HOME=/nonexistent {} diff {} {}; echo EXITED=$?; sleep 30",
        shell_quote(Path::new(bin)),
        shell_quote(&old.path),
        shell_quote(&new.path)
    );
    let t = Tmux::start(
        format!("layerscope-diff-e2e-{}", std::process::id()),
        110,
        32,
        &cmd,
    );
    let s = t.wait_for("Files: old → new");
    assert!(s.contains("6 shared, 2 new"), "{s}");
    assert!(s.contains("config.yaml"), "{s}");
    // Filter to deleted paths only, then clear.
    t.keys(&["1", "2", "4"]);
    let s = t.wait_for("hide added,modified,metadata");
    assert!(s.contains("README") && !s.contains("config.yaml"), "{s}");
    t.keys(&["F"]);
    // Line diff of a text file.
    t.keys(&[":", "C-u", "/etc/os-release", "Enter", "o"]);
    let s = t.wait_for("+2 -1 lines");
    assert!(s.contains("VERSION=\"12.5 (bookworm)\""), "{s}");
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["d"]);
    t.wait_for("Old and new (q or esc closes)");
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["q"]);
    let s = t.wait_for("EXITED=0");
    assert!(!s.contains("Files: old → new"), "{s}");
}

#[test]
fn piped_diff_output_stays_text() {
    let old = common::write_archive(&synth::sample_image().docker_legacy(), "v1.tar");
    let new = common::write_archive(&synth::sample_image_v2().docker_legacy(), "v2.tar");
    let out = Command::new(env!("CARGO_BIN_EXE_layerscope"))
        .arg("diff")
        .arg(&old.path)
        .arg(&new.path)
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("--- old: layerscope/sample:latest"),
        "{text}"
    );
}

#[test]
fn search_and_filter_ignore_case_through_the_lower_cased_table() {
    let old = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("etc/Motd.TXT", b"a")
                .file("etc/hosts", b"h"),
        )
        .docker_legacy();
    let new = ImageBuilder::new()
        .layer(
            LayerBuilder::new("base")
                .file("etc/Motd.TXT", b"b")
                .file("etc/hosts", b"h"),
        )
        .docker_legacy();
    let mut a = app_from(&old, &new, ThemeName::None);
    keys(&mut a.s, "/motd.txt");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(selected_path(&a.s), "/etc/Motd.TXT");
    let data = a.s.data.clone().expect("data");
    let i = (0..data.len())
        .find(|&i| {
            data.entry(i as u32)
                .is_some_and(|e| e.path == "/etc/Motd.TXT")
        })
        .expect("entry");
    assert_eq!(data.lower(i), "/etc/motd.txt");
}

/// Drift fixed by the shared tree table: the diff explorer ignored the
/// config's `view.collapse_depth`, which the explorer applies on load.
/// See: issue 11 ("one tree-table component").
#[test]
fn the_diff_explorer_starts_collapsed_to_the_configured_depth_like_the_explorer() {
    let a = common::write_archive(&synth::sample_image().docker_legacy(), "old.tar");
    let b = common::write_archive(&synth::sample_image_v2().docker_legacy(), "new.tar");
    let lo = common::load_path(&a.path).expect("load old");
    let ln = common::load_path(&b.path).expect("load new");
    let data = ImagePair::build(lo, Some(ln), None, None).expect("diff");
    let mut config = common::screen::config(ThemeName::None);
    config.view.collapse_depth = 1;
    let s = DiffState::ready(data, config);
    let rows = row_paths(&s);
    assert!(rows.contains(&"/usr/bin".to_string()), "{rows:?}");
    assert!(
        rows.iter().all(|p| p.matches('/').count() <= 2),
        "only depths 0 and 1 shown: {rows:?}"
    );
}

/// Popup keys come from the key map, and the help says the keys bound.
/// See: issue 11.
#[test]
fn remapped_keys_drive_the_line_diff_and_show_in_its_help() {
    let mut a = sample();
    let file = layerscope::tui::config::Config::parse(
        "keys: { next_change: [\"J\"], prev_change: [\"K\"], help: [\"h\"] }",
    )
    .expect("config");
    a.s.ui.config.apply(file).expect("apply");
    keys(&mut a.s, "h");
    let help = screen(&a.s, 120, 60);
    assert!(
        help.contains("Line diff: ↑↓ scroll, J K next/previous change"),
        "{help}"
    );
    assert!(help.contains(" h  help "), "{help}");
}
