//! Terminal injection in both explorers: an image whose every text field
//! carries terminal controls (a title-setting OSC, an OSC 52 clipboard
//! write, a clear-screen CSI, a C1 CSI, a bidi override) is opened and
//! every pane, popup, prompt echo and status message is drawn; the screen
//! must show the controls as visible escapes and hold none of them raw.
//! (`common::screen::render` also fails on any cell the terminal-boundary
//! scrub had to replace.) The real binary's byte stream is checked under
//! tmux at the end. See: issue 12, "Terminal injection".

mod common;

use common::app::{app_with, ctrl, keys, press, App};

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use common::tmux::{have_tmux, shell_quote, Tmux};
use layerscope::tui::config::ThemeName;
use layerscope::tui::diff::pair::ImagePair;
use layerscope::tui::diff::state::{DiffEffect, DiffPopup, DiffState};
use layerscope::tui::diff::update::{apply as diff_apply, DiffMsg};
use layerscope::tui::effects;

use layerscope::tui::state::{AppState, Effect, Popup};
use layerscope::tui::update::apply;
use layerscope_synth::{ImageBuilder, LayerBuilder};

/// Every attack at once: window title, clipboard write, clear screen (7-bit
/// and C1), right-to-left override.
const P: &str = "\x1b]0;PWNED\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\u{9b}2J\u{202e}";
/// How [`P`] must look on screen.
const SHOWN: &str = "\\u{1b}]0;PWNED\\u{7}\\u{1b}]52;c;UFdORUQ=\\u{7}\\u{1b}[2J\\u{9b}2J\\u{202e}";

/// A screen wide enough for every escaped field whole.
const W: u16 = 400;
const H: u16 = 80;

fn p(s: &str) -> String {
    s.replace('@', P)
}

/// `s` as the screen must show it: `@` is [`SHOWN`], `#` its start (for
/// panes that cut long text).
fn shown(s: &str) -> String {
    s.replace('@', SHOWN).replace('#', "\\u{1b}]0;PWNED")
}

/// The hostile image: `version` changes the file's content and the env,
/// so the diff has a line diff and config changes to show.
fn image(version: u8) -> ImageBuilder {
    let content = p(&format!(
        "#!/bin/sh\necho v{version} @ end\nprintf '\x1b]0;PWNED\x07'\n"
    ));
    ImageBuilder::new()
        .tag(&p("evil@:1"))
        .platform(&p("linux@"), &p("amd64@"), Some(&p("v8@")))
        .env(&p(&format!("E@=v{version}@")))
        .cmd(&[&p("cmd@")])
        .entrypoint(&[&p("entry@")])
        .label(&p("k@"), &p(&format!("v{version}@")))
        .user(&p("user@"))
        .workdir(&p("/work@"))
        .expose(&p("80@/tcp"))
        .layer(
            LayerBuilder::new(&p("RUN base@"))
                .comment(&p("comment@"))
                .file(&p("d@/f@.sh"), content.as_bytes())
                .file(&p("d@/g@.txt"), b"plain\n")
                .symlink(&p("d@/l@"), &p("f@.sh"))
                .hardlink(&p("d@/h@"), &p("d@/f@.sh"))
                .file("waste/big", &[7u8; 2048]),
        )
        .empty_layer(&p("ENV nop@"))
        .layer(
            LayerBuilder::new(&p("RUN more@"))
                .file(&p("top@"), b"x")
                .file("waste/big", &[8u8; 2048]),
        )
}

/// No control and no bidi character anywhere on the screen.
fn assert_clean(sc: &str, what: &str) {
    let bad: Vec<char> = sc
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} reached the screen:\n{sc}");
}

fn assert_shows(sc: &str, what: &str, want: &[&str]) {
    assert_clean(sc, what);
    for w in want {
        let w = shown(w);
        assert!(sc.contains(&w), "{what}: no {w:?} on screen:\n{sc}");
    }
}

// ---- the explorer ----

fn explorer() -> App {
    app_with(
        &image(2).docker_legacy(),
        ThemeName::None,
        (W, H),
        |loaded| {
            // A load warning quoting a hostile path (as the tar reader's do).
            loaded
                .image
                .warnings
                .push(p("layer 0: entry d@/x: warned about"));
        },
    )
}

/// `:` PATH Enter (the path typed as it is, controls and all).
fn goto(s: &mut AppState, path: &str) {
    keys(s, ":");
    ctrl(s, 'u');
    keys(s, path);
    press(s, KeyCode::Enter);
}

fn screen(s: &AppState) -> String {
    common::screen::render(W, H, |area, buf| layerscope::tui::view::draw(s, area, buf))
}

#[test]
fn explorer_panes_show_archive_text_as_escapes() {
    let mut a = explorer();
    let sc = screen(&a.s);
    // Title (tag), layers (commands), layer details (command, comment),
    // image pane (name, platform).
    assert_shows(
        &sc,
        "main screen",
        &["evil@:1", "RUN more#", "linux#", "⚠ 1 load warning"],
    );
    keys(&mut a.s, "k");
    let sc = screen(&a.s);
    assert_shows(&sc, "layer 0", &["Command: RUN", "base#"]);
    // The pane alone, tall enough for the comment under the figures.
    let pane = common::screen::render(60, 40, |area, buf| {
        layerscope::tui::view::details::layer(&a.s, area, buf)
    });
    assert_shows(&pane, "layer details", &["Comment: ", "comment#"]);
    // The tree, every directory open: names, a symlink's target, a hardlink.
    press(&mut a.s, KeyCode::Tab);
    keys(&mut a.s, "=");
    let sc = screen(&a.s);
    assert_shows(
        &sc,
        "tree",
        &["d@/", "f@.sh", "l@ -> f@.sh", "h@ => /d@/f@.sh"],
    );
}

#[test]
fn explorer_popups_show_archive_text_as_escapes() {
    let mut a = explorer();
    goto(&mut a.s, &p("/d@/f@.sh"));
    // File details: path, hardlink group, timeline commands.
    keys(&mut a.s, "d");
    let sc = screen(&a.s);
    assert_shows(&sc, "details", &["/d@/f@.sh", "/d@/h@", "RUN base#"]);
    press(&mut a.s, KeyCode::Esc);
    goto(&mut a.s, &p("/d@/l@"));
    keys(&mut a.s, "d");
    assert_shows(&screen(&a.s), "symlink details", &["Link:      f@.sh"]);
    press(&mut a.s, KeyCode::Esc);

    // The content viewer, through the symlink: the chain in the title,
    // each line of the file sanitised.
    keys(&mut a.s, "o");
    let eff = std::mem::take(&mut a.s.effects);
    let [Effect::ReadContent { id, layer, offset }] = eff[..] else {
        panic!("{eff:?}")
    };
    let data = a.s.data.clone().expect("data");
    apply(&mut a.s, effects::read_content(&data, id, layer, offset));
    let Some(Popup::Content(cv)) = &a.s.popup else {
        panic!("no viewer")
    };
    assert!(!cv.hex, "text mode");
    let sc = screen(&a.s);
    assert_shows(
        &sc,
        "viewer",
        &[
            "/d@/l@ → /d@/f@.sh",
            "echo v2 @ end",
            "printf '\\u{1b}]0;PWNED\\u{7}'",
        ],
    );
    keys(&mut a.s, "x"); // hex: safe by construction
    assert_clean(&screen(&a.s), "hex viewer");
    press(&mut a.s, KeyCode::Esc);

    // Image details: every config field, history, duplicates, warnings.
    keys(&mut a.s, "i");
    let sc = screen(&a.s);
    assert_shows(
        &sc,
        "image details",
        &[
            "Name: evil@:1",
            "Platform: linux@/amd64@/v8@",
            "Entrypoint: entry@",
            "Cmd:        cmd@",
            "User:       user@",
            "Workdir:    /work@",
            "Ports:      80@/tcp",
            "Env:        E@=v2@",
            "Label:      k@=v2@",
            "RUN base@",
            "ENV nop@",
            "layer 0: entry d@/x: warned about",
        ],
    );
    press(&mut a.s, KeyCode::Esc);
    keys(&mut a.s, "W");
    assert_shows(
        &screen(&a.s),
        "warnings",
        &["⚠ layer 0: entry d@/x: warned about"],
    );
    press(&mut a.s, KeyCode::Esc);
    keys(&mut a.s, "?");
    assert_clean(&screen(&a.s), "help");
    press(&mut a.s, KeyCode::Esc);
}

#[test]
fn explorer_prompts_and_messages_show_archive_text_as_escapes() {
    let mut a = explorer();
    // Tab completion fills the prompt with archive names, and lists them
    // on the status line when there are several.
    keys(&mut a.s, ":");
    ctrl(&mut a.s, 'u');
    keys(&mut a.s, "/d");
    press(&mut a.s, KeyCode::Tab);
    assert_shows(&screen(&a.s), "completed prompt", &["go to path: /d@/"]);
    press(&mut a.s, KeyCode::Tab);
    assert_shows(&screen(&a.s), "candidates", &["f@.sh  g@.txt  h@  l@"]);
    press(&mut a.s, KeyCode::Esc);

    // `y` copies the path as it is and says so sanitised.
    goto(&mut a.s, &p("/d@/g@.txt"));
    keys(&mut a.s, "y");
    assert_eq!(
        a.s.effects,
        vec![Effect::Clipboard(p("/d@/g@.txt"))],
        "the clipboard gets the real path"
    );
    a.s.effects.clear();
    assert_shows(&screen(&a.s), "copied", &["copied /d@/g@.txt"]);

    // A path not in this view: the status line quotes it.
    keys(&mut a.s, "v"); // changes in the last layer only
    goto(&mut a.s, &p("/d@/g@.txt"));
    assert_shows(
        &screen(&a.s),
        "not in this view",
        &["/d@/g@.txt: not in this view; present in layers 0–1"],
    );
    keys(&mut a.s, "v");

    // A search echoes the query (typed with the controls in it).
    keys(&mut a.s, "/");
    keys(&mut a.s, &p("g@"));
    assert_shows(&screen(&a.s), "search prompt", &["/g@█  1 matches"]);
    press(&mut a.s, KeyCode::Enter);
    assert_shows(&screen(&a.s), "search status", &["/g@ 1/1"]);

    // The filter regex echoes in the title; an invalid one's error (which
    // quotes the pattern over several lines) stays one escaped line.
    keys(&mut a.s, "f");
    ctrl(&mut a.s, 'u');
    keys(&mut a.s, &p("g@"));
    assert_shows(&screen(&a.s), "bad regex", &["filter regex: g@█  regex: "]);
    ctrl(&mut a.s, 'u');
    keys(&mut a.s, "g\x1b]0;PWNED\x07");
    press(&mut a.s, KeyCode::Enter);
    assert_shows(
        &screen(&a.s),
        "filter",
        &["filter: regex \"g\\u{1b}]0;PWNED\\u{7}\""],
    );
    keys(&mut a.s, "F");

    // Extraction: the prompt's default, then the plan it asks about.
    goto(&mut a.s, &p("/d@/g@.txt"));
    keys(&mut a.s, "x");
    assert_clean(&screen(&a.s), "extract prompt");
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("a").join("b");
    ctrl(&mut a.s, 'u');
    keys(&mut a.s, &dest.display().to_string());
    press(&mut a.s, KeyCode::Enter);
    assert!(
        matches!(a.s.popup, Some(Popup::ConfirmExtract(_))),
        "{:?}",
        a.s.ui.message
    );
    let sc = screen(&a.s);
    assert_shows(&sc, "extract plan", &["/d@/g@.txt (as after layer 1)"]);
    keys(&mut a.s, "n");
    // An error popup quoting archive text.
    a.s.popup = Some(Popup::Error(std::sync::Arc::new(
        layerscope::Error::Extract {
            path: p("cannot extract /d@/g@.txt").into(),
            msg: p("refused"),
        },
    )));
    assert_shows(&screen(&a.s), "error popup", &["cannot extract /d@/g@.txt"]);
}

// ---- the diff explorer ----

struct Diff {
    s: DiffState,
    _archives: Vec<common::TempArchive>,
}

fn diff_explorer() -> Diff {
    let a = common::write_archive(&image(1).docker_legacy(), "old.tar");
    let b = common::write_archive(&image(2).docker_legacy(), "new.tar");
    let lo = common::load_path(&a.path).expect("load old");
    let mut ln = common::load_path(&b.path).expect("load new");
    ln.image
        .warnings
        .push(p("layer 0: entry d@/x: warned about"));
    let data = ImagePair::build(lo, Some(ln), None, None).expect("diff");
    let mut s = DiffState::ready(data, common::screen::config(ThemeName::None));
    diff_apply(&mut s, DiffMsg::Resize(W, H));
    Diff {
        s,
        _archives: vec![a, b],
    }
}

fn dpress(s: &mut DiffState, code: KeyCode) {
    diff_apply(s, DiffMsg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn dkeys(s: &mut DiffState, text: &str) {
    for c in text.chars() {
        dpress(s, KeyCode::Char(c));
    }
}

fn dgoto(s: &mut DiffState, path: &str) {
    dkeys(s, ":");
    diff_apply(
        s,
        DiffMsg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    dkeys(s, path);
    dpress(s, KeyCode::Enter);
}

fn dscreen(s: &DiffState) -> String {
    common::screen::render(W, H, |area, buf| {
        layerscope::tui::diff::view::draw(s, area, buf)
    })
}

#[test]
fn diff_explorer_shows_archive_text_as_escapes() {
    let mut d = diff_explorer();
    dkeys(&mut d.s, "5="); // unchanged paths too, every directory open
    let sc = dscreen(&d.s);
    assert_shows(
        &sc,
        "diff main screen",
        &["evil@:1", "RUN base#", "f@.sh", "l@ -> f@.sh", "h@"],
    );

    dgoto(&mut d.s, &p("/d@/l@"));
    dkeys(&mut d.s, "d");
    assert_shows(
        &dscreen(&d.s),
        "diff details",
        &["/d@/l@", "f@.sh", "RUN base#"],
    );
    dpress(&mut d.s, KeyCode::Esc);

    // The line diff: the title names the path, every line is sanitised.
    dgoto(&mut d.s, &p("/d@/f@.sh"));
    dkeys(&mut d.s, "o");
    let eff = std::mem::take(&mut d.s.effects);
    let [DiffEffect::ReadDiff { idx }] = eff[..] else {
        panic!("{eff:?}")
    };
    let data = d.s.data.clone().expect("data");
    diff_apply(&mut d.s, layerscope::tui::diff::read_diff(&data, idx));
    assert!(matches!(d.s.popup, Some(DiffPopup::Content(_))));
    assert_shows(
        &dscreen(&d.s),
        "line diff",
        &[
            "/d@/f@.sh: old → new",
            "- echo v1 @ end",
            "+ echo v2 @ end",
            "  printf '\\u{1b}]0;PWNED\\u{7}'",
        ],
    );
    dpress(&mut d.s, KeyCode::Esc);

    // The summary: both images, config changes, warnings.
    dkeys(&mut d.s, "i");
    assert_shows(
        &dscreen(&d.s),
        "diff summary",
        &[
            "evil@:1 · ",
            "linux@/amd64@/v8@",
            "env.E#",
            "labels.k@: v1@ → v2@",
            "entry d@/x: warned about",
        ],
    );
    dpress(&mut d.s, KeyCode::Esc);
    dkeys(&mut d.s, "?");
    assert_clean(&dscreen(&d.s), "diff help");
    dpress(&mut d.s, KeyCode::Esc);

    // Prompt echo, completion candidates and messages.
    dkeys(&mut d.s, ":");
    dkeys(&mut d.s, "/d");
    dpress(&mut d.s, KeyCode::Tab);
    assert_shows(&dscreen(&d.s), "diff prompt", &["go to path: /d@/"]);
    dpress(&mut d.s, KeyCode::Tab);
    assert_shows(
        &dscreen(&d.s),
        "diff candidates",
        &["f@.sh  g@.txt  h@  l@"],
    );
    dpress(&mut d.s, KeyCode::Esc);
    dgoto(&mut d.s, &p("/d@/g@.txt"));
    dkeys(&mut d.s, "y");
    assert_eq!(d.s.effects, vec![DiffEffect::Clipboard(p("/d@/g@.txt"))]);
    assert_shows(&dscreen(&d.s), "diff copied", &["copied /d@/g@.txt"]);
    dgoto(&mut d.s, &p("/d@"));
    dkeys(&mut d.s, "o");
    assert_shows(
        &dscreen(&d.s),
        "diff not a file",
        &["/d@ is not a regular file on either side"],
    );
}

// ---- the real binary ----

/// The raw bytes a program wrote to its tmux pane.
fn raw_stream(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// None of the payloads, nor a C1 CSI (which crossterm never emits), is
/// in what the program wrote.
fn assert_stream_clean(bytes: &[u8], what: &str) {
    assert!(
        contains(bytes, b"PWNED"),
        "{what}: the escaped payload was never drawn ({} bytes)",
        bytes.len()
    );
    for bad in [
        &b"\x1b]0;PWNED"[..],
        b"]0;PWNED\x07",
        b"\x1b]52;c;UFdORUQ=",
        b"UFdORUQ=\x07",
        b"\x1b[2J\xc2\x9b",
        b"\xc2\x9b",
        "\u{202e}".as_bytes(),
    ] {
        assert!(
            !contains(bytes, bad),
            "{what}: the program wrote {:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// Run `cmd` (it waits a second, so the pipe is open before the first
/// frame) under tmux with its output piped to `log`; send each step's keys
/// and wait for its text; quit; the bytes written.
fn tmux_run(cmd: &str, steps: &[(&[&str], &str)], log: &Path) -> Vec<u8> {
    let t = Tmux::start(format!("inject-{}", std::process::id()), 200, 60, cmd);
    t.run(&[
        "pipe-pane",
        "-o",
        "-t",
        "e2e",
        &format!("cat >> {}", shell_quote(log)),
    ]);
    t.wait_for("PWNED");
    for (k, wait) in steps {
        t.keys(k);
        t.wait_for(wait);
    }
    t.keys(&["q"]);
    std::thread::sleep(Duration::from_millis(500));
    raw_stream(log)
}

/// Keys are typed without controls (tmux would send them as keys): paths
/// are reached by Tab completion. Popups close with `q`, since Esc right
/// before another key reads as Alt.
#[test]
fn the_real_binary_never_writes_archive_controls() {
    if !have_tmux() {
        eprintln!("skipped: tmux not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.tar");
    let new = dir.path().join("new.tar");
    std::fs::write(&old, image(1).docker_legacy()).expect("write");
    std::fs::write(&new, image(2).docker_legacy()).expect("write");
    let bin = shell_quote(Path::new(env!("CARGO_BIN_EXE_layerscope")));

    let log = dir.path().join("explorer.log");
    let cmd = format!(
        "sleep 1; XDG_CONFIG_HOME=/nonexistent exec {bin} {}",
        shell_quote(&new)
    );
    let bytes = tmux_run(
        &cmd,
        &[
            (&["Tab", "="], "f\\u{1b}"),
            (&[":", "/", "d", "Tab"], "go to path: /d\\u{1b}"),
            (&["l", "Tab", "Enter", "d"], "File details"),
            (&["q", "o"], "echo v2"),
            (&["q", "i"], "Entrypoint"),
            (&["q", "?"], "config name"),
            (&["q", "/", "g"], "matches"),
            (&["Escape"], "q quit"),
        ],
        &log,
    );
    assert_stream_clean(&bytes, "layerscope IMAGE");

    let log = dir.path().join("diff.log");
    let cmd = format!(
        "sleep 1; XDG_CONFIG_HOME=/nonexistent exec {bin} diff {} {}",
        shell_quote(&old),
        shell_quote(&new)
    );
    let bytes = tmux_run(
        &cmd,
        &[
            (&["5", "="], "l\\u{1b}"),
            (&[":", "/", "d", "Tab"], "go to path: /d\\u{1b}"),
            (&["f", "Tab", "Enter", "d"], "Old and new"),
            (&["q", "o"], "echo v2"),
            (&["q", "i"], "Config changes"),
            (&["q", "?"], "diff mode"),
            (&["q"], "q quit"),
        ],
        &log,
    );
    assert_stream_clean(&bytes, "layerscope diff OLD NEW");
}
