//! The explorer as a dive user meets it: every point of issue 15 driven
//! through the real key handling (messages into `update`, screens from the
//! TestBackend).
// See: issue #15 "The explorer as a dive user meets it".
#![cfg(feature = "tui")]

mod common;

use common::app::{app_from, keys, press, App};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use layerscope::tui::config::ThemeName;
use layerscope::tui::effects;
use layerscope::tui::image_data::ImageData;
use layerscope::tui::state::{AppState, ContentView, Effect, Popup};
use layerscope::tui::update::{apply, Msg};
use layerscope::tui::view;
use layerscope_synth::{self as synth};

fn sample() -> App {
    app_from(&synth::sample_image().docker_legacy(), ThemeName::None)
}

fn screen(s: &AppState, w: u16, h: u16) -> String {
    common::screen::render(w, h, |area, buf| view::draw(s, area, buf))
}

fn row_paths(s: &AppState) -> Vec<String> {
    let d = s.data.as_ref().expect("data");
    (0..s.tree.rows.len())
        .map(|r| d.path(s.tree.entry(r).expect("row").key).to_string())
        .collect()
}

fn size_filter(s: &mut AppState, text: &str) {
    keys(s, "z");
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(s, text);
    press(s, KeyCode::Enter);
}

// ---- size filter ----

#[test]
fn size_filter_operators_are_exact_and_judge_files_only() {
    let mut a = sample();
    // /bin/ls is 40,000 bytes; /usr/bin/perl 30,000.
    size_filter(&mut a.s, ">40k");
    let rows = row_paths(&a.s);
    assert!(
        !rows.contains(&"/bin/ls".to_string()),
        "> is strict: {rows:?}"
    );
    assert!(rows.contains(&"/bin/bash".to_string()));
    size_filter(&mut a.s, ">=40k");
    assert!(row_paths(&a.s).contains(&"/bin/ls".to_string()));
    size_filter(&mut a.s, "=40000");
    // The file and the directories above it, nothing else: a directory
    // never passes on its subtree total.
    assert_eq!(row_paths(&a.s), ["/bin", "/bin/ls"]);
    size_filter(&mut a.s, "<=30k");
    let rows = row_paths(&a.s);
    assert!(rows.contains(&"/usr/bin/perl".to_string()), "{rows:?}");
    assert!(!rows.contains(&"/bin/ls".to_string()));
    // Every directory shown leads to a file that passes.
    let d = a.s.data.clone().expect("data");
    for p in &rows {
        let id = d.loaded.tree.lookup(p.as_bytes()).expect("path");
        if !d.loaded.tree.children(id).is_empty() {
            assert!(rows.iter().any(|q| q.starts_with(&format!("{p}/"))), "{p}");
        }
    }
}

#[test]
fn size_filter_units_are_the_ci_rules_units() {
    let mut a = sample();
    // /bin/ls, 40,000 bytes: at least 40k and 40kB (40,000), less than
    // 40KiB (40,960).
    size_filter(&mut a.s, ">=40KiB");
    assert!(!row_paths(&a.s).contains(&"/bin/ls".to_string()));
    size_filter(&mut a.s, ">=40k");
    assert!(row_paths(&a.s).contains(&"/bin/ls".to_string()));
    size_filter(&mut a.s, ">=40kB");
    assert!(row_paths(&a.s).contains(&"/bin/ls".to_string()));
    assert_eq!(
        layerscope::ci::parse_size("40kB"),
        Some(40_000),
        "the same rule in CI"
    );
}

#[test]
fn invalid_size_filter_shows_the_grammar_and_keeps_header_and_rows_agreeing() {
    let mut a = sample();
    size_filter(&mut a.s, "=40000");
    let before = row_paths(&a.s);
    for bad in [">>100k", "> 1 M", "10M", ">1x"] {
        size_filter(&mut a.s, bad);
        let msg = a.s.ui.message.clone().unwrap_or_default();
        assert_eq!(
            msg,
            format!(
                "size filter `{bad}`: expected {}",
                layerscope::size::FILTER_GRAMMAR
            )
        );
        assert_eq!(row_paths(&a.s), before, "rows keep the filter in force");
        let sc = screen(&a.s, 120, 30);
        assert!(sc.contains("size =40000"), "header keeps it too:\n{sc}");
    }
}

// ---- smart case ----

fn search(s: &mut AppState, q: &str) -> usize {
    keys(s, "/");
    keys(s, q);
    let n = s.tree.search.matches.len();
    press(s, KeyCode::Enter);
    n
}

fn filter(s: &mut AppState, re: &str) {
    keys(s, "f");
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(s, re);
    press(s, KeyCode::Enter);
}

#[test]
fn search_and_filter_are_both_smart_case() {
    let mut a = sample();
    assert_eq!(search(&mut a.s, "readme"), 1, "lower case matches any case");
    assert_eq!(search(&mut a.s, "README"), 1);
    assert_eq!(search(&mut a.s, "ReadMe"), 0, "a capital matches case");
    filter(&mut a.s, "readm.");
    assert_eq!(
        row_paths(&a.s),
        [
            "/usr",
            "/usr/share",
            "/usr/share/doc",
            "/usr/share/doc/README"
        ]
    );
    filter(&mut a.s, "READM.");
    assert_eq!(row_paths(&a.s).len(), 4);
    filter(&mut a.s, "ReadM.");
    assert!(row_paths(&a.s).is_empty());
    let help = {
        keys(&mut a.s, "?");
        screen(&a.s, 120, 40)
    };
    assert!(help.contains("search (text, smart case)"), "{help}");
    assert!(help.contains("filter (regex, smart case)"), "{help}");
    // The prompts' keys are at the end of the help: a taller screen.
    let tall = screen(&a.s, 120, 90);
    assert!(tall.contains("tab completes a path (in :)"), "{tall}");
}

// ---- layer numbering, cut text, scrolled-out layers ----

fn many_layers(n: usize) -> Vec<u8> {
    let mut b = synth::ImageBuilder::new().tag("many:1");
    for i in 0..n {
        b = b.layer(
            synth::LayerBuilder::new(&format!("RUN echo layer {i} && a-rather-long-command-line"))
                .file(&format!("f{i}"), format!("{i}").as_bytes()),
        );
    }
    b.docker_legacy()
}

#[test]
fn layers_are_numbered_from_zero_and_scrolled_out_layers_are_counted() {
    let mut a = app_from(&many_layers(20), ThemeName::None);
    apply(&mut a.s, Msg::Resize(80, 24));
    let sc = screen(&a.s, 80, 24);
    let lines: Vec<&str> = sc.lines().collect();
    // The last layer is selected and shown; the ones above are counted.
    assert!(lines[1].starts_with("┏ Layer 19 of 0–19 "), "{sc}");
    let hidden_above = 20 - a.s.ui.layers.height;
    assert!(lines[1].contains(&format!(" ↑{hidden_above} ")), "{sc}");
    assert!(!sc.contains('↓'), "{sc}");
    // At the top, the ones below are counted on the bottom border.
    press(&mut a.s, KeyCode::Home);
    let sc = screen(&a.s, 80, 24);
    assert!(sc.contains("┏ Layer 0 of 0–19 "), "{sc}");
    assert!(sc.contains(&format!(" ↓{hidden_above} ")), "{sc}");
    assert!(!sc.contains('↑'), "{sc}");
}

#[test]
fn cut_text_at_80x24_ends_with_an_ellipsis() {
    let a = sample();
    let sc = screen(&a.s, 80, 24);
    let lines: Vec<&str> = sc.lines().collect();
    // Tree title, image pane rows and key hints are cut with `…`.
    assert!(lines[1].contains("sort… ┐"), "{sc}");
    assert!(sc.contains("│Size:     1.42 MiB in 6 lay…│"), "{sc}");
    assert!(sc.contains("│Efficiency: 48.4 %  wasted …│"), "{sc}");
    assert!(lines[23].ends_with("1-5 status  …"), "{sc}");
    // Panes with more lines than rows say how many are hidden.
    assert!(sc.contains("│… 14 more lines"), "{sc}");
    // No hint is cut mid-word.
    assert!(!lines[23].contains("s sor"), "{sc}");
}

// ---- light theme ----

#[test]
fn light_theme_borders_and_dim_text_are_not_ansi_7() {
    use ratatui::style::Color;
    let a = app_from(&synth::sample_image().docker_legacy(), ThemeName::Light);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("t");
    t.draw(|f| view::draw(&a.s, f.area(), f.buffer_mut()))
        .expect("draw");
    let buf = t.backend().buffer().clone();
    // The tree pane is unfocused at start: its top-right corner.
    let x = a.s.ui.areas.tree.right() - 1;
    let y = a.s.ui.areas.tree.y;
    assert_eq!(buf[(x, y)].symbol(), "┐");
    assert_eq!(buf[(x, y)].fg, Color::DarkGray);
    for y in 0..30 {
        for x in 0..100 {
            assert_ne!(buf[(x, y)].fg, Color::Gray, "ANSI 7 text at {x},{y}");
        }
    }
}

// ---- config and help ----

#[test]
fn readme_key_table_is_the_key_map() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = layerscope::tui::config::markdown_key_table();
    assert!(
        readme.contains(&table),
        "README.md's key table is stale; paste this in its place:\n{table}"
    );
}

#[test]
fn help_shows_the_config_names_of_actions() {
    let mut a = sample();
    keys(&mut a.s, "?");
    let sc = screen(&a.s, 100, 40);
    assert!(sc.contains("config name"), "{sc}");
    assert!(sc.contains("q, ctrl-c  quit"), "{sc}");
    assert!(
        sc.contains("/  search           search (text, smart case)"),
        "{sc}"
    );
}

#[test]
fn config_unknown_action_lists_the_valid_ones_and_taken_keys_warn() {
    use layerscope::tui::config::{action_names, Config};
    let bad = Config::parse("keys:\n  fly: [\"x\"]\n").expect("parse");
    let e = Config::default().apply(bad).expect_err("unknown action");
    assert_eq!(
        e,
        format!(
            "keys: unknown action `fly` (valid: {})",
            action_names().join(", ")
        )
    );
    let mut cfg = Config::default();
    let f = Config::parse("keys:\n  search: [\"j\"]\n  down: [\"down\"]\n").expect("parse");
    cfg.apply(f).expect("apply");
    assert!(
        cfg.warnings.is_empty(),
        "down gave j up itself: {:?}",
        cfg.warnings
    );
    let mut cfg = Config::default();
    let f = Config::parse("keys:\n  search: [\"j\", \"/\"]\n").expect("parse");
    cfg.apply(f).expect("apply");
    assert_eq!(cfg.warnings, ["config: `j` was down, now search"]);
    // The warning greets the user on the status line.
    let archive = common::write_archive(&synth::sample_image().docker_legacy(), "i.tar");
    let loaded = common::load_path(&archive.path).expect("load");
    let s = AppState::ready(ImageData::new(loaded), cfg);
    let sc = screen(&s, 100, 30);
    assert!(
        sc.lines()
            .last()
            .unwrap_or("")
            .contains("config: `j` was down, now search"),
        "{sc}"
    );
}

// ---- content viewer ----

fn goto(s: &mut AppState, path: &str) {
    keys(s, ":");
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    keys(s, path);
    press(s, KeyCode::Enter);
}

/// Run the queued content reads as the runtime would.
fn run_reads(s: &mut AppState) -> Vec<u64> {
    let mut offsets = Vec::new();
    for e in std::mem::take(&mut s.effects) {
        if let Effect::ReadContent { id, layer, offset } = e {
            let data = s.data.clone().expect("data");
            offsets.push(offset);
            apply(s, effects::read_content(&data, id, layer, offset));
        }
    }
    offsets
}

fn viewer(s: &AppState) -> &ContentView {
    match &s.popup {
        Some(Popup::Content(cv)) => cv,
        other => panic!("no viewer: {other:?}"),
    }
}

#[test]
fn viewer_follows_symlinks_inside_the_image_and_shows_the_chain() {
    let img = synth::ImageBuilder::new().tag("links:1").layer(
        synth::LayerBuilder::new("ADD rootfs")
            .dir("usr")
            .dir("usr/lib")
            .file("usr/lib/os-release", b"ID=test\n")
            .symlink("lib", "usr/lib")
            .dir("etc")
            .symlink("etc/os-release", "../lib/os-release")
            .symlink("etc/loop-a", "loop-b")
            .symlink("etc/loop-b", "loop-a")
            .symlink("etc/dangling", "/nowhere/file"),
    );
    let mut a = app_from(&img.docker_legacy(), ThemeName::None);
    goto(&mut a.s, "/etc/os-release");
    keys(&mut a.s, "o");
    run_reads(&mut a.s);
    assert_eq!(
        viewer(&a.s).source.chain,
        ["/etc/os-release", "/usr/lib/os-release"]
    );
    let sc = screen(&a.s, 140, 30);
    assert!(
        sc.contains("/etc/os-release → /usr/lib/os-release · from layer 0 · bytes 0–8 of 8"),
        "{sc}"
    );
    assert!(sc.contains("     1 ID=test"), "{sc}");
    press(&mut a.s, KeyCode::Esc);
    goto(&mut a.s, "/etc/loop-a");
    keys(&mut a.s, "o");
    assert!(a.s.popup.is_none());
    assert!(
        a.s.ui
            .message
            .as_deref()
            .unwrap_or("")
            .ends_with("/etc/loop-a: too many symlinks"),
        "{:?}",
        a.s.ui.message
    );
    goto(&mut a.s, "/etc/dangling");
    keys(&mut a.s, "o");
    assert!(
        a.s.ui
            .message
            .as_deref()
            .unwrap_or("")
            .ends_with("/etc/dangling → /nowhere/file: /nowhere does not exist"),
        "{:?}",
        a.s.ui.message
    );
}

#[test]
fn viewer_shows_a_deleted_files_last_content_from_the_layer_that_shipped_it() {
    let mut a = sample();
    // Layer 5 deletes /app/cache/a.bin, shipped by layer 3.
    goto(&mut a.s, "/app/cache/a.bin");
    keys(&mut a.s, "o");
    run_reads(&mut a.s);
    let cv = viewer(&a.s);
    assert_eq!(cv.source.deleted_in, Some(5));
    assert_eq!(cv.source.shipped_in, 3);
    let w = cv.window.clone().expect("read").expect("ok");
    assert_eq!(w.total_size, 10_000);
    let sc = screen(&a.s, 160, 30);
    assert!(
        sc.contains("/app/cache/a.bin · deleted in layer 5; last content from layer 3 · bytes 0–10000 of 10000"),
        "{sc}"
    );
}

#[test]
fn viewer_end_goes_to_the_end_of_the_file_and_colon_jumps_to_an_offset() {
    let mut a = sample();
    // 150,000 bytes of binary: three 64 KiB windows, shown as hex.
    goto(&mut a.s, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    keys(&mut a.s, "o");
    assert_eq!(run_reads(&mut a.s), [0]);
    assert!(viewer(&a.s).hex);
    keys(&mut a.s, "G");
    assert_eq!(run_reads(&mut a.s), [131_072], "the last window");
    let sc = screen(&a.s, 100, 30);
    let body: Vec<&str> = sc.lines().filter(|l| l.contains("  |")).collect();
    assert!(
        body.last().expect("hex rows").contains("000249e0"),
        "the file's last line at the bottom:\n{sc}"
    );
    keys(&mut a.s, "g");
    assert_eq!(run_reads(&mut a.s), [0], "and back to the start");
    // `:` takes a byte offset: decimal, hex or a size.
    keys(&mut a.s, ":0x10010");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(run_reads(&mut a.s), [0x10010]);
    keys(&mut a.s, ":100k");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(run_reads(&mut a.s), [100_000 / 16 * 16]);
    keys(&mut a.s, ":lots");
    press(&mut a.s, KeyCode::Enter);
    assert!(run_reads(&mut a.s).is_empty());
    assert!(a
        .s
        .ui
        .message
        .as_deref()
        .unwrap_or("")
        .starts_with("offset `lots`: expected"));
}

// ---- load warnings ----

#[test]
fn load_warnings_show_as_a_marker_on_the_main_screen_that_opens_them() {
    let img = synth::ImageBuilder::new().tag("warn:1").layer(
        synth::LayerBuilder::new("ADD rootfs")
            .dir("bin")
            .file("bin/a", b"a")
            .hardlink("bin/b", "bin/missing"),
    );
    let mut a = app_from(&img.docker_legacy(), ThemeName::None);
    let warnings =
        a.s.data
            .as_ref()
            .expect("data")
            .loaded
            .image
            .warnings
            .clone();
    assert!(!warnings.is_empty());
    let sc = screen(&a.s, 100, 30);
    let title = sc.lines().next().unwrap_or("");
    let n = warnings.len();
    let what = if n == 1 { "warning" } else { "warnings" };
    assert!(title.contains(&format!("⚠ {n} load {what} (W)")), "{sc}");
    keys(&mut a.s, "W");
    assert!(matches!(a.s.popup, Some(Popup::Warnings { .. })));
    let sc = screen(&a.s, 100, 30);
    assert!(sc.contains("hardlinks point to missing targets"), "{sc}");
    press(&mut a.s, KeyCode::Esc);
    assert!(a.s.popup.is_none());
    // An image without warnings shows no marker, and W says so.
    let mut b = sample();
    assert!(!screen(&b.s, 100, 30).contains('⚠'));
    keys(&mut b.s, "W");
    assert!(b.s.popup.is_none());
    assert_eq!(
        b.s.ui.message.as_deref(),
        Some("the image loaded without warnings")
    );
}

// ---- key routing ----

fn ctrl(s: &mut AppState, c: char) {
    apply(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}

#[test]
fn q_and_esc_close_every_popup_and_only_ctrl_c_quits_from_one() {
    let mut a = sample();
    goto(&mut a.s, "/etc/hostname");
    for open in ["?", "d", "i", "o"] {
        keys(&mut a.s, open);
        assert!(a.s.popup.is_some(), "{open}");
        keys(&mut a.s, "q");
        assert!(a.s.popup.is_none(), "q closes {open}");
        assert!(!a.s.ui.quit, "q in {open} does not quit");
        keys(&mut a.s, open);
        press(&mut a.s, KeyCode::Esc);
        assert!(a.s.popup.is_none() && !a.s.ui.quit, "esc closes {open}");
    }
    a.s.effects.clear();
    keys(&mut a.s, "o");
    run_reads(&mut a.s);
    assert!(screen(&a.s, 120, 30).contains("q/esc closes"));
    ctrl(&mut a.s, 'c');
    assert!(a.s.ui.quit, "ctrl-c quits from a popup");
    let mut b = sample();
    keys(&mut b.s, "q");
    assert!(b.s.ui.quit, "q quits from the main screen");
}

#[test]
fn while_loading_only_q_and_ctrl_c_act_and_other_keys_get_a_hint() {
    use layerscope::load::Progress;
    let mut s = AppState::new(
        "image.tar".into(),
        std::sync::Arc::new(Progress::default()),
        common::screen::config(ThemeName::None),
    );
    apply(&mut s, Msg::Resize(100, 30));
    press(&mut s, KeyCode::Esc);
    assert!(!s.ui.quit, "esc does not quit while loading");
    keys(&mut s, "/");
    assert!(s.ui.prompt.is_none(), "no prompt opens unseen");
    assert_eq!(
        s.ui.message.as_deref(),
        Some("/: not while loading (q or ctrl-c quits)")
    );
    let sc = screen(&s, 100, 30);
    assert!(
        sc.contains("/: not while loading (q or ctrl-c quits)"),
        "{sc}"
    );
    keys(&mut s, "q");
    assert!(s.ui.quit);
}

#[test]
fn keys_do_not_act_unseen_on_the_too_small_screen() {
    let mut a = sample();
    apply(&mut a.s, Msg::Resize(40, 10));
    assert!(screen(&a.s, 40, 10).contains("terminal too small"));
    let (layer, focus) = (a.s.layer(), a.s.ui.focus);
    keys(&mut a.s, "kv/1");
    press(&mut a.s, KeyCode::Tab);
    assert_eq!((a.s.layer(), a.s.ui.focus), (layer, focus));
    assert!(a.s.ui.prompt.is_none() && a.s.tree.filter.statuses[0]);
    keys(&mut a.s, "q");
    assert!(a.s.ui.quit, "q still quits");
}

#[test]
fn dive_ctrl_keys_do_what_they_do_in_dive_and_unbound_keys_say_so() {
    let mut a = sample();
    ctrl(&mut a.s, 'f');
    assert_eq!(
        a.s.ui.prompt.as_ref().map(|p| p.kind),
        Some(layerscope::tui::prompt::PromptKind::Filter)
    );
    press(&mut a.s, KeyCode::Esc);
    for (c, i) in [('a', 0), ('r', 2), ('u', 4)] {
        ctrl(&mut a.s, c);
        assert!(!a.s.tree.filter.statuses[i], "ctrl-{c}");
        ctrl(&mut a.s, c);
    }
    let mode = a.s.mode;
    ctrl(&mut a.s, 'l');
    assert_ne!(a.s.mode, mode, "ctrl-l: layer changes / aggregated");
    ctrl(&mut a.s, 'o');
    assert_eq!(
        a.s.tree.sort.key,
        layerscope::tui::layer_view::SortKey::Size
    );
    let before = a.s.tree.rows.len();
    ctrl(&mut a.s, ' ');
    let rows = row_paths(&a.s);
    assert!(rows.len() < before, "ctrl-space collapses all");
    assert!(rows.iter().all(|p| p.matches('/').count() == 1), "{rows:?}");
    ctrl(&mut a.s, 'b');
    assert!(matches!(a.s.popup, Some(Popup::FileDetails { .. })));
    keys(&mut a.s, "q");
    ctrl(&mut a.s, 'e');
    assert_eq!(
        a.s.ui.prompt.as_ref().map(|p| p.kind),
        Some(layerscope::tui::prompt::PromptKind::ExtractTo)
    );
    press(&mut a.s, KeyCode::Esc);
    ctrl(&mut a.s, 'x');
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("ctrl-x: not bound to anything (? lists the keys)")
    );
}

// ---- finding things: the `:` prompt, search scrolling, other layers ----

fn tab(s: &mut AppState) {
    press(s, KeyCode::Tab);
}

fn prompt_text(s: &AppState) -> String {
    s.ui.prompt
        .as_ref()
        .map(|p| p.text.clone())
        .unwrap_or_default()
}

#[test]
fn jump_prompt_starts_empty_and_tab_completes_path_components() {
    let mut a = sample();
    goto(&mut a.s, "/etc/hostname");
    keys(&mut a.s, ":");
    assert_eq!(prompt_text(&a.s), "", "no prefill to type over");
    keys(&mut a.s, "/us");
    tab(&mut a.s);
    assert_eq!(prompt_text(&a.s), "/usr/");
    keys(&mut a.s, "bin/pe");
    tab(&mut a.s);
    assert_eq!(prompt_text(&a.s), "/usr/bin/perl", "the common prefix");
    assert_eq!(a.s.ui.message.as_deref(), Some("perl  perl5.36.0"));
    keys(&mut a.s, "5");
    tab(&mut a.s);
    assert_eq!(prompt_text(&a.s), "/usr/bin/perl5.36.0");
    press(&mut a.s, KeyCode::Enter);
    let d = a.s.data.clone().expect("data");
    assert_eq!(
        d.path(a.s.selected_node().expect("sel")),
        "/usr/bin/perl5.36.0"
    );
    // An absolute path typed at once is taken as it is.
    keys(&mut a.s, ":/etc/hostname");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(d.path(a.s.selected_node().expect("sel")), "/etc/hostname");
}

#[test]
fn a_search_match_below_the_screen_is_scrolled_into_view_with_context() {
    let mut a = sample();
    keys(&mut a.s, "/dpkg/status");
    press(&mut a.s, KeyCode::Enter);
    let t = &a.s.tree;
    let h = t.height;
    assert!(t.rows.len() > h, "the tree is taller than the pane");
    let row = t.selected - t.scroll;
    assert!(row + 1 < h, "not stuck on the bottom row: row {row} of {h}");
    assert!(
        row == h / 3 || t.scroll == t.rows.len() - h,
        "a third of the way down (row {row} of {h})"
    );
}

#[test]
fn nothing_in_this_view_says_which_layers_have_it_and_enter_goes_there() {
    let d = sample().s.data.clone().expect("data");
    let sel = |s: &AppState| d.path(s.selected_node().expect("sel")).to_string();
    // /var/log/apt/term.log: shipped by layer 1, deleted by layer 2.
    let mut a = sample();
    goto(&mut a.s, "/var/log/apt/term.log");
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("/var/log/apt/term.log: not in this view; present in layers 1 (enter: go to layer 1)")
    );
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(a.s.layer(), 1);
    assert_eq!(sel(&a.s), "/var/log/apt/term.log");
    let mut a = sample();
    keys(&mut a.s, "/term.log");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("`term.log`: not in this view; present in layers 1 (enter: go to layer 1)")
    );
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(
        (a.s.layer(), sel(&a.s)),
        (1, "/var/log/apt/term.log".to_string())
    );
    let mut a = sample();
    filter(&mut a.s, "term\\.log");
    assert!(a.s.tree.rows.is_empty());
    assert_eq!(
        a.s.ui.message.as_deref(),
        Some("filter `term\\.log`: not in this view; present in layers 1 (enter: go to layer 1)")
    );
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(a.s.layer(), 1);
    assert_eq!(
        row_paths(&a.s),
        ["/var", "/var/log", "/var/log/apt", "/var/log/apt/term.log"]
    );
    // Any other key drops the offer.
    let mut a = sample();
    goto(&mut a.s, "/var/log/apt/term.log");
    keys(&mut a.s, "j");
    press(&mut a.s, KeyCode::Enter);
    assert_eq!(a.s.layer(), 5);
}

// ---- diff explorer ----

mod diff_explorer {
    use super::*;
    use layerscope::tui::diff::pair::ImagePair;
    use layerscope::tui::diff::state::DiffState;
    use layerscope::tui::diff::update::{apply as dapply, DiffMsg};
    use layerscope::tui::diff::view as dview;

    fn diff_app(
        old: &[u8],
        new: &[u8],
        names: (&str, &str),
    ) -> (DiffState, Vec<common::TempArchive>) {
        let a = common::write_archive(old, names.0);
        let b = common::write_archive(new, names.1);
        let lo = common::load_path(&a.path).expect("load old");
        let ln = common::load_path(&b.path).expect("load new");
        let data = ImagePair::build(lo, Some(ln), None, None).expect("diff");
        let mut s = DiffState::ready(data, common::screen::config(ThemeName::None));
        dapply(&mut s, DiffMsg::Resize(80, 24));
        (s, vec![a, b])
    }

    fn dscreen(s: &DiffState, w: u16, h: u16) -> String {
        common::screen::render(w, h, |area, buf| dview::draw(s, area, buf))
    }

    fn links(target: &str, tag: &str) -> synth::ImageBuilder {
        synth::ImageBuilder::new().tag(tag).layer(
            synth::LayerBuilder::new("ADD rootfs")
                .dir("opt")
                .file(&format!("opt/{target}"), target.as_bytes())
                .symlink("opt/current", target),
        )
    }

    #[test]
    fn symlink_targets_old_column_at_80_and_bare_oci_tags_get_their_repository() {
        let (s, _a) = diff_app(
            &links("v1", "1").oci_archive(synth::Compression::None),
            &links("v2", "2").oci_archive(synth::Compression::None),
            ("myapp.tar", "myapp-next.tar"),
        );
        let sc = dscreen(&s, 80, 24);
        let header = sc
            .lines()
            .find(|l| l.contains("Name"))
            .expect("tree header");
        assert!(header.contains("Old") && header.contains("New"), "{sc}");
        assert!(
            sc.contains("myapp:1") && sc.contains("myapp-next:2"),
            "{sc}"
        );
        let mut s = s;
        dapply(&mut s, DiffMsg::Resize(120, 30));
        let sc = dscreen(&s, 120, 30);
        assert!(sc.contains("current -> v2 (was v1)"), "{sc}");
    }

    #[test]
    fn an_unchanged_image_size_says_so_with_the_size() {
        let img = links("v1", "app:1").docker_legacy();
        let (s, _a) = diff_app(&img, &img, ("a.tar", "b.tar"));
        let sc = dscreen(&s, 100, 30);
        assert!(sc.contains("Image size: unchanged, "), "{sc}");
        assert!(!sc.contains("Image size: 0 B"), "{sc}");
    }
}

// ---- the `!` marker ----

#[test]
fn the_waste_marker_needs_much_waste_not_a_large_share_of_a_tiny_layer() {
    // Layer 1 deletes an 84-byte file of layer 0: 84 bytes reclaimable,
    // all of an 84-byte layer. Layer 2 ships 40 KB that layer 3 deletes.
    let img = synth::ImageBuilder::new()
        .tag("waste:1")
        .layer(synth::LayerBuilder::new("ADD tiny").file("tiny", &[b'x'; 84]))
        .layer(synth::LayerBuilder::new("RUN rewrite").file("tiny", &[b'y'; 84]))
        .layer(synth::LayerBuilder::new("ADD big").file("big", &synth::pseudo_bytes(1, 40_000)))
        .layer(synth::LayerBuilder::new("RUN rm big").whiteout("big"));
    let a = app_from(&img.docker_legacy(), ThemeName::None);
    let sc = screen(&a.s, 100, 30);
    let marked: Vec<&str> = sc.lines().filter(|l| l.contains(" ! ")).collect();
    assert_eq!(marked.len(), 1, "{sc}");
    assert!(marked[0].contains("ADD big"), "{sc}");
    assert!(
        sc.lines()
            .any(|l| l.contains("ADD tiny") && !l.contains(" ! ")),
        "{sc}"
    );
}

/// A window that cannot be read keeps the core's error (its kind) in the
/// state and becomes one sanitised line only on the screen.
// See: issue 11.
#[test]
fn a_window_that_cannot_be_read_keeps_the_core_error_until_the_view() {
    let mut a = sample();
    // The archive is cut away under the loaded image.
    std::fs::File::create(&a._archive.path).expect("truncate");
    goto(&mut a.s, "/app/cache/a.bin");
    keys(&mut a.s, "o");
    run_reads(&mut a.s);
    let e = match viewer(&a.s).window.clone() {
        Some(Err(e)) => e,
        other => panic!("read: {other:?}"),
    };
    // Layer 3 shipped it: the failure is that layer's, with its kind.
    assert!(
        matches!(*e, layerscope::Error::Layer { index: 3, .. }),
        "{e:?}"
    );
    let sc = screen(&a.s, 160, 30);
    let line = sc
        .lines()
        .find(|l| l.contains("cannot read: "))
        .unwrap_or_else(|| panic!("{sc}"));
    let want = format!(
        "cannot read: {}: layer 3 (sha256:",
        a._archive.path.display()
    );
    assert!(line.contains(&want), "{line}\n{e}");
}
