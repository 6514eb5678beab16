//! Side effects requested by updates: reading a content window on a worker
//! thread, writing the clipboard with OSC 52, and extraction. Extraction is
//! behind [`extract`] so the core extractor can be plugged in when the
//! build has one.

use std::io::Write;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use super::data::Data;
use super::state::{AppState, Effect, WINDOW_BYTES};
use super::update::Msg;
use crate::tree::NodeId;

/// Perform `e`; results come back as messages on `tx`.
pub fn run(s: &AppState, e: Effect, tx: &Sender<Msg>) {
    let Some(data) = s.data.clone() else { return };
    match e {
        Effect::ReadContent { id, layer, offset } => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(read_content(&data, id, layer, offset));
            });
        }
        Effect::Clipboard(text) => {
            let mut out = std::io::stdout();
            let _ = out.write_all(osc52(&text).as_bytes());
            let _ = out.flush();
        }
        Effect::Extract { id, layer, dest } => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Msg::Extracted(extract(&data, id, layer, &dest)));
            });
        }
    }
}

/// Read one window synchronously (also used by tests).
pub fn read_content(data: &Arc<Data>, id: NodeId, layer: usize, offset: u64) -> Msg {
    let result = crate::content::read_window(&data.loaded, id, layer, offset, WINDOW_BYTES)
        .map_err(|e| e.to_string());
    Msg::Content { id, offset, result }
}

/// Extract a file or directory under `dest`. The core extractor is not in
/// this build yet, so this reports that plainly rather than writing files
/// with an ad-hoc implementation.
pub fn extract(_data: &Data, _id: NodeId, _layer: usize, _dest: &str) -> Result<String, String> {
    Err("extraction not available in this build".into())
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foob"), "Zm9vYg==");
        assert_eq!(super::osc52("/etc"), "\x1b]52;c;L2V0Yw==\x07");
    }
}
