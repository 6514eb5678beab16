//! A tmux pseudo-terminal driver for the end-to-end TUI tests: start a
//! command in a detached session of a given size, send keys, and poll the
//! screen until it shows what a test waits for.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux server (its own socket), killed on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// Start `cmd` in session `e2e` of `width` x `height` on a new server.
    pub fn start(socket: String, width: u16, height: u16, cmd: &str) -> Tmux {
        let t = Tmux { socket };
        let (w, h) = (width.to_string(), height.to_string());
        t.run(&["new-session", "-d", "-s", "e2e", "-x", &w, "-y", &h, cmd]);
        t
    }

    /// The server inherits this process's environment; `CI` is removed so
    /// that a CI runner's `CI=true` does not turn `layerscope IMAGE` into
    /// dive's CI mode inside the pane.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .env_remove("CI")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Wait until the screen contains `text`; the screen on timeout.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    /// Wait until `ok` holds for the screen (a frame may be caught half
    /// drawn, so every check polls).
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

pub fn have_tmux() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

/// `p` quoted for the shell tmux runs the command in.
pub fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}
