//! End to end: the real binary in a tmux pseudo-terminal. Opens the sample
//! image, switches layers and modes, filters, searches, opens details,
//! quits, and checks the shell screen is back (alternate screen left).
//! Skipped, with a note, when tmux is not installed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::tmux::{have_tmux, shell_quote, Tmux};

/// The explorer on `image` in a `width` x `height` tmux session; the shell
/// prints `EXITED=<code>` when it quits.
fn explorer(socket: String, image: &Path, width: u16, height: u16) -> Tmux {
    explorer_with(socket, "", image, width, height)
}

/// [`explorer`] with `flags` before the image.
fn explorer_with(socket: String, flags: &str, image: &Path, width: u16, height: u16) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_layerscope");
    let cmd = format!(
        "env -u CI NO_COLOR=1 XDG_CONFIG_HOME=/nonexistent {} {flags} {}; echo EXITED=$?; sleep 30",
        shell_quote(Path::new(bin)),
        shell_quote(image)
    );
    Tmux::start(socket, width, height, &cmd)
}

/// The sample image as a `docker save` archive.
fn sample_archive() -> common::TempArchive {
    common::write_archive(
        &layerscope_synth::sample_image().docker_legacy(),
        "sample.tar",
    )
}

#[test]
fn explore_the_sample_image_in_a_terminal() {
    if !have_tmux() {
        eprintln!("tmux is not installed: skipping the end-to-end TUI test");
        return;
    }
    let archive = sample_archive();
    let t = explorer(
        format!("layerscope-e2e-{}", std::process::id()),
        &archive.path,
        110,
        32,
    );
    t.wait_until("the loaded image", |s| {
        s.contains("Layer 5 of 0–5") && s.contains("aggregated to layer 5")
    });
    // Switch layers: up three, per-layer view of the cleanup layer.
    t.keys(&["k", "k", "k", "v"]);
    t.wait_until("the deleted term.log in layer 2", |s| {
        s.contains("changes in layer 2")
            && s.lines().any(|l| {
                l.contains("│- -rw-r--r--") && l.contains("585.94 KiB") && l.contains("term.log")
            })
    });
    // Back to aggregated, filter by regex.
    t.keys(&["v", "G", "f", "ssl", "Enter"]);
    t.wait_until("the ssl filter", |s| {
        s.contains("filter: regex \"ssl\"")
            && s.contains("ca-certificates.crt")
            && !s.contains("bash")
    });
    t.keys(&["F"]);
    // Search with a match count, then details of the match.
    t.keys(&["/", "logo", "Enter"]);
    // Search runs forward from the cursor: either match may come first.
    t.wait_until("two logo matches", |s| {
        (s.contains("/logo 1/2") || s.contains("/logo 2/2")) && s.contains("logo.png")
    });
    t.keys(&["n", "d"]);
    t.wait_until("file details with a timeline", |s| {
        s.contains("File details") && s.contains("/logo.png") && s.contains("Timeline")
    });
    // Esc alone (Esc + key in one burst reads as Alt+key).
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["?"]);
    t.wait_for("Help (q or esc closes");
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["q"]);
    let s = t.wait_for("EXITED=0");
    // The alternate screen is gone: no pane borders left behind.
    assert!(!s.contains("Layer 5 of 0–5"), "{s}");
    assert!(!s.contains('┃'), "{s}");
}

#[test]
fn load_error_is_shown_then_quit_exits_2() {
    if !have_tmux() {
        eprintln!("tmux is not installed: skipping the end-to-end TUI test");
        return;
    }
    let archive = common::write_archive(b"this is not a tar archive at all", "bad.tar");
    let t = explorer(
        format!("layerscope-e2e-err-{}", std::process::id()),
        &archive.path,
        90,
        24,
    );
    t.wait_for("Could not load the image");
    t.keys(&["q"]);
    let s = t.wait_for("EXITED=2");
    // The loader's own error, kind and words as `report` gives them (once
    // wrapped as a usage error; see issue 11).
    let want = format!(
        "layerscope: {}: bad tar entry #1: unexpected end of data (truncated?)",
        archive.path.display()
    );
    // The screen wraps the line at 90 columns: compare without white space.
    let squash = |t: &str| t.split_whitespace().collect::<String>();
    assert!(squash(&s).contains(&squash(&want)), "{s}");
}

/// `-v` in the explorer: the lines are held while the TUI owns the screen
/// and printed once it has left it.
#[test]
fn verbose_lines_wait_until_the_explorer_quits() {
    if !have_tmux() {
        eprintln!("tmux is not installed: skipping the end-to-end TUI test");
        return;
    }
    let archive = sample_archive();
    let t = explorer_with(
        format!("layerscope-e2e-v-{}", std::process::id()),
        "-v",
        &archive.path,
        110,
        32,
    );
    let line = format!(
        "layerscope: {}: reading it as archive",
        archive.path.display()
    );
    let s = t.wait_for("Layer 5 of 0–5");
    assert!(!s.contains("reading it as"), "{s}");
    t.keys(&["q"]);
    let s = t.wait_for("EXITED=0");
    let squash = |t: &str| t.split_whitespace().collect::<String>();
    assert!(squash(&s).contains(&squash(&line)), "{s}");
}

#[test]
fn bad_config_file_is_an_error_before_the_terminal_is_touched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "keys:\n  fly: [\"x\"]\n").expect("write");
    let bin = env!("CARGO_BIN_EXE_layerscope");
    let out = Command::new(bin)
        .env_remove("CI")
        .arg("--config")
        .arg(&cfg)
        .arg("missing.tar")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "layerscope: {}: keys: unknown action `fly` (valid: {})\n",
            cfg.display(),
            layerscope::tui::config::action_names().join(", ")
        )
    );
    assert!(out.stdout.is_empty(), "no terminal setup was written");
}
