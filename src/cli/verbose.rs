//! `-v`: what layerscope does on the way to an image (the sources tried, each
//! request and its answer, the auth steps, the cache), one line each on
//! stderr. Only the library's own messages are shown (a dependency's debug
//! output could hold a header), every line passes the sanitiser (realms,
//! URLs and names come from the network and the image), and no message
//! carries a secret: credentials are named by where they came from. While
//! a terminal UI owns the screen, lines are held and printed after it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use layerscope::text::display_safe;

static HOLD: AtomicBool = AtomicBool::new(false);
static HELD: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held lines kept at most (a long session must not grow without bound).
const HELD_MAX: usize = 1 << 20;

/// stderr, or the held lines while a TUI runs.
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if HOLD.load(Ordering::Relaxed) {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            if held.len() + buf.len() <= HELD_MAX {
                held.extend_from_slice(buf);
            }
            Ok(buf.len())
        } else {
            std::io::stderr().write(buf)
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Show the library's messages (`-v`; more `v`s change nothing yet).
pub fn init(count: u8) {
    if count == 0 {
        return;
    }
    let level = log::LevelFilter::Info;
    let _ = env_logger::Builder::new()
        .filter_level(log::LevelFilter::Off)
        .filter_module("layerscope", level)
        .format(|buf, record| {
            let msg = record.args().to_string();
            writeln!(buf, "layerscope: {}", display_safe(&msg))
        })
        .target(env_logger::Target::Pipe(Box::new(Sink)))
        .try_init();
}

/// Run a terminal UI with the messages held, then print them.
pub fn holding<T>(f: impl FnOnce() -> T) -> T {
    HOLD.store(true, Ordering::Relaxed);
    let out = f();
    HOLD.store(false, Ordering::Relaxed);
    let held = std::mem::take(&mut *HELD.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = std::io::stderr().write_all(&held);
    out
}
