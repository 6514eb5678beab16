//! The library's one error type. Every message names the input and where in it
//! the problem sits, so the CLI can print it as a single line:
//! `FILE: layer 3 (sha256:ab12…): entry "etc/x": unexpected end of data`.

use std::path::PathBuf;

/// Errors while reading or analysing an image.
///
/// House style for messages: lower-case, no trailing period, the most specific
/// location first after the file name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Could not open or read the input itself.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input is readable but is not a supported image (or is malformed).
    #[error("{}: {msg}", path.display())]
    Format { path: PathBuf, msg: String },
    /// A problem inside one member (blob, manifest, config) of the archive.
    #[error("{}: {member}: {msg}", path.display())]
    Member {
        path: PathBuf,
        member: String,
        msg: String,
    },
    /// A problem while streaming one layer.
    #[error("{}: layer {index} ({digest}): {msg}", path.display())]
    Layer {
        path: PathBuf,
        index: usize,
        digest: String,
        msg: String,
    },
    /// The user's selection (--image, --platform) matches nothing or is ambiguous.
    #[error("{}: {msg}", path.display())]
    Selection { path: PathBuf, msg: String },
    /// A configured limit (entries, path length, sizes) was exceeded.
    #[error("{}: {msg}", path.display())]
    Limit { path: PathBuf, msg: String },
    /// Invalid usage or configuration outside of the image (CI config, flags).
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turn an io::Error from a reader chain into a readable phrase. Some decoders
/// report truncation as `UnexpectedEof` with an empty or generic message.
pub(crate) fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "unexpected end of data (truncated?)".to_string(),
        _ => {
            let s = e.to_string();
            if s.is_empty() {
                format!("{:?}", e.kind())
            } else {
                s
            }
        }
    }
}
