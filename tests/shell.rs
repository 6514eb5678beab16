//! The shell around the binary (issue #15, "The shell around it"):
//! completion scripts and man pages generated from the clap definitions,
//! `--version` with the git commit, and progress bars on a terminal only.
// See: issue #15.

mod common;

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use common::tmux::{have_tmux, shell_quote, Tmux};

fn bin() -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env_remove("CI");
    c
}

fn stdout_of(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn completions_for_every_shell_name_the_commands_and_options() {
    let expect = [
        ("bash", "_layerscope() {"),
        ("zsh", "#compdef layerscope"),
        ("fish", "complete -c layerscope"),
        ("elvish", "edit:completion:arg-completer[layerscope]"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'layerscope'",
        ),
    ];
    for (shell, head) in expect {
        let s = stdout_of(&["completions", shell]);
        assert!(s.contains(head), "{shell}: {head} missing");
        for word in ["report", "extract", "max-path-bytes", "quiet"] {
            assert!(s.contains(word), "{shell}: {word} missing");
        }
    }
    // bash accepts the script as it is.
    let script = stdout_of(&["completions", "bash"]);
    if let Ok(out) = StdCommand::new("bash").args(["-n", "-c", &script]).output() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = bin().args(["completions", "tcsh"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_pages_for_the_program_and_each_command() {
    let version = stdout_of(&["--version"]);
    let version = version.trim().trim_start_matches("layerscope ");
    let top = stdout_of(&["man"]);
    assert!(
        top.contains(&format!(".TH layerscope 1  \"layerscope {version}\"")),
        "{}",
        &top[..top.len().min(300)]
    );
    for cmd in ["report", "ci", "diff", "extract", "completions"] {
        assert!(
            top.contains(&format!("layerscope\\-{cmd}(1)")),
            "{cmd} not listed"
        );
    }
    let report = stdout_of(&["man", "report"]);
    assert!(report.contains(&format!(
        ".TH layerscope-report 1  \"layerscope-report {version}\""
    )));
    assert!(report.contains("\\fB\\-\\-format\\fR"));
    // man(1) renders it, where man is installed.
    if let Ok(out) = StdCommand::new("man").arg("--version").output() {
        if out.status.success() {
            let dir = tempfile::tempdir().expect("tmp");
            let page = dir.path().join("layerscope.1");
            std::fs::write(&page, &top).expect("write");
            let out = StdCommand::new("man")
                .arg("-l")
                .arg(&page)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100")
                .output()
                .expect("man");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("layerscope - Look inside container images"),
                "{text}"
            );
        }
    }
    let out = bin().args(["man", "nope"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "layerscope: man: no command \"nope\" (commands: report, ci, diff, extract, completions, man, cache)\n"
    );
}

#[test]
fn version_names_the_git_commit_in_a_checkout() {
    let version = stdout_of(&["--version"]);
    let dir = env!("CARGO_MANIFEST_DIR");
    let head = StdCommand::new("git")
        .args(["-C", dir, "rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) => assert_eq!(
            version,
            format!("layerscope {} (git {h})\n", env!("CARGO_PKG_VERSION"))
        ),
        // Built from a tarball: the package version alone.
        None => assert_eq!(
            version,
            format!("layerscope {}\n", env!("CARGO_PKG_VERSION"))
        ),
    }
}

fn image() -> common::TempArchive {
    common::write_archive(
        &layerscope_synth::sample_image().docker_legacy(),
        "sample.tar",
    )
}

/// A shell command that feeds `image` to `layerscope ARGS -` slowly: the
/// archive, then 3 s before the end of input, so the load lasts.
fn slow_stdin(image: &Path, args: &str) -> String {
    format!(
        "{{ cat {}; sleep 3; }} | env -u CI {} {args} -",
        shell_quote(image),
        shell_quote(Path::new(env!("CARGO_BIN_EXE_layerscope"))),
    )
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let a = image();
    let out = StdCommand::new("sh")
        .arg("-c")
        .arg(slow_stdin(&a.path, "report"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("layerscope/sample"));
}

#[test]
fn a_long_load_shows_a_bar_on_a_terminal_and_quiet_hides_it() {
    if !have_tmux() {
        eprintln!("tmux is not installed: skipping the progress bar test");
        return;
    }
    let a = image();
    let pid = std::process::id();
    let t = Tmux::start(
        format!("layerscope-bar-{pid}"),
        120,
        30,
        &format!("{}; echo END; sleep 30", slow_stdin(&a.path, "report")),
    );
    let shown = t.wait_for("opening");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("- opening") && l.contains("[")),
        "{shown}"
    );
    // Cleared when the load ends: the report follows on a clean screen.
    let end = t.wait_for("END");
    assert!(!end.contains("opening"), "{end}");
    drop(t);

    let t = Tmux::start(
        format!("layerscope-quiet-{pid}"),
        120,
        30,
        &format!(
            "{}; echo END; sleep 30",
            slow_stdin(&a.path, "report --quiet")
        ),
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let during = t.screen();
    assert!(!during.contains("opening"), "{during}");
    t.wait_for("END");
}
