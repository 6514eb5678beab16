//! Side effects requested by updates: reading a content window on a worker
//! thread, writing the clipboard with OSC 52, and extraction (on a worker
//! thread too, through [`extract`]).

use std::io::Write;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use super::image_data::ImageData;
use super::state::{AppState, Effect, WINDOW_BYTES};
use super::update::{Msg, Reply};
use crate::error::clean;
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
        Effect::Extract {
            id,
            layer,
            dest,
            force,
        } => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Msg::Reply(Reply::Extracted(extract(
                    &data, id, layer, &dest, force,
                ))));
            });
        }
    }
}

/// Read one window synchronously (also used by tests).
pub fn read_content(data: &Arc<ImageData>, id: NodeId, layer: usize, offset: u64) -> Msg {
    let result = crate::content::read_window(&data.loaded, id, layer, offset, WINDOW_BYTES);
    Msg::Reply(Reply::Content { id, offset, result })
}

/// Extract a file or directory, as it is after `layer`, under `dest` with
/// the core extractor (never outside `dest`; existing files replaced only
/// with `force`, after the user confirmed). The summary line, and the
/// warnings and skipped paths the CLI would print, escaped for the screen;
/// or the core's error, made text by the view.
pub fn extract(
    data: &ImageData,
    id: NodeId,
    layer: usize,
    dest: &Path,
    force: bool,
) -> crate::Result<(String, Vec<String>)> {
    let opts = crate::extract::Options {
        force,
        ..Default::default()
    };
    let r = crate::extract::extract(&data.loaded, id, layer, dest, &opts)?;
    let summary = format!(
        "extracted {} files, {} dirs, {} links ({} bytes) to {}",
        r.files,
        r.dirs,
        r.symlinks + r.hardlinks,
        r.bytes,
        clean(&dest.display().to_string())
    );
    let notes = r
        .warnings
        .iter()
        .map(|w| format!("warning: {}", clean(w)))
        .chain(r.skipped.iter().map(|w| format!("skipped: {}", clean(w))))
        .collect();
    Ok((summary, notes))
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_carries_the_path_in_base64() {
        assert_eq!(super::osc52("/etc"), "\x1b]52;c;L2V0Yw==\x07");
    }
}
