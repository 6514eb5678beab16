//! The library's one error type. Every message names the input and where in it
//! the problem sits, so the CLI can print it as a single line:
//! `FILE: layer 3 (sha256:ab12…): entry "etc/x": unexpected end of data`.
//! Variants keep the kind a caller may act on: I/O on the input, a malformed
//! archive or member, a layer with its [`LayerFault`] (read, malformed,
//! limit, digest mismatch, ...), an unsupported compression, a limit, a
//! selection, a source, a rendering; `Usage` is for flags and configuration
//! only, never a wrapper around another error.

use std::path::PathBuf;

/// Errors while reading or analysing an image.
///
/// House style for messages: lower-case, no trailing period, the most specific
/// location first after the file name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Could not open or read the input itself.
    #[error("{}: {}", clean(&path.display().to_string()), clean(&source.to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input is readable but is not a supported image (or is malformed).
    #[error("{}: {}", clean(&path.display().to_string()), clean(msg))]
    Format { path: PathBuf, msg: String },
    /// A problem inside one member (blob, manifest, config) of the archive.
    #[error("{}: {}: {}", clean(&path.display().to_string()), clean(member), clean(msg))]
    Member {
        path: PathBuf,
        member: String,
        msg: String,
    },
    /// A problem while streaming one layer: which layer of which input, and
    /// what went wrong ([`LayerFault`], a kind to match on).
    #[error("{}: layer {index} ({}): {}", clean(&path.display().to_string()), clean(digest), clean(&fault.within(path)))]
    Layer {
        path: PathBuf,
        index: usize,
        digest: String,
        fault: LayerFault,
    },
    /// A layer compressed with something `docker load` accepts but
    /// layerscope leaves to other tools (xz, bzip2), named from its magic
    /// bytes.
    #[error("{}: layer {index} is compressed with {compression}, which layerscope does not read ({}); decompress it first (gzip and zstd are read directly)", clean(&path.display().to_string()), clean(member))]
    Unsupported {
        path: PathBuf,
        index: usize,
        member: String,
        compression: &'static str,
    },
    /// The user's selection (--image, --platform) matches nothing or is ambiguous.
    #[error("{}: {}", clean(&path.display().to_string()), clean(msg))]
    Selection { path: PathBuf, msg: String },
    /// A configured limit (entries, path length, sizes) was exceeded.
    #[error("{}: {}", clean(&path.display().to_string()), clean(msg))]
    Limit { path: PathBuf, msg: String },
    /// Extraction could not write (or refused to write) a path on disk.
    #[error("{}: {}", clean(&path.display().to_string()), clean(msg))]
    Extract { path: PathBuf, msg: String },
    /// An extraction that stopped after it had written something: what went
    /// wrong, then what it left behind.
    /// (`cause` is not a `source`: the message already holds it, and the
    /// CLI prints a chain of sources after the message.)
    #[error("{cause}; stopped part-way in {}: {}", clean(&dest.display().to_string()), clean(left))]
    Incomplete {
        dest: PathBuf,
        left: String,
        cause: Box<Error>,
    },
    /// An input that is neither an existing path nor a valid image reference.
    #[error("{}: {}", clean(input), clean(msg))]
    Reference { input: String, msg: String },
    /// A reference no source could provide, or a daemon or registry that
    /// failed while providing it: `nginx:latest: not found in …`.
    #[error("{}: {}", clean(input), clean(msg))]
    Source { input: String, msg: String },
    /// A container engine (the Docker daemon, podman, containerd) that
    /// could not be asked for an image, or answered with an error: which
    /// one, and a [`DaemonFault`] to match on. The resolution turns it into
    /// one place in its `not found in …` line ([`Error::Source`]).
    #[error("{}: {}", clean(daemon), clean(&fault.to_string()))]
    Daemon {
        daemon: &'static str,
        fault: DaemonFault,
    },
    /// A report that could not be rendered: its serializer refused the data.
    #[error("rendering the {format} report: {}", clean(&source.to_string()))]
    Render {
        format: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Invalid usage or configuration outside of the image (CI config, flags).
    #[error("{}", clean(.0))]
    Usage(String),
}

/// What went wrong inside one layer, before [`Error::Layer`] adds which
/// input and layer: a kind to match on (as `io::ErrorKind` is) with the
/// words that say the rest. A field of the one error type, not an error of
/// its own.
#[derive(Debug)]
pub enum LayerFault {
    /// Reading the stored bytes failed: the file, the spool or the
    /// connection gave `source`; `msg` says where in the layer.
    Read { msg: String, source: std::io::Error },
    /// The bytes do not decode or parse: a corrupt or truncated compressed
    /// stream, a malformed tar (the message names the entry), an empty blob.
    Malformed(String),
    /// A configured limit was exceeded (--max-entries, --max-path-bytes).
    Limit(String),
    /// A compression layerscope does not read (xz, bzip2), from the magic
    /// bytes; the loader reports it as [`Error::Unsupported`].
    Unsupported(&'static str),
    /// The blob digest, diff ID or size differs from what the manifest or
    /// config declares.
    Mismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    /// The layer could not be opened (the error says why).
    Open(Box<Error>),
    /// The load stopped before this layer was read (another layer failed,
    /// or the user quit).
    Cancelled,
    /// A bug, said plainly rather than panicking: a reading thread died.
    Internal(&'static str),
}

/// Why a container engine could not give an answer, before
/// [`Error::Daemon`] adds which engine: a kind to match on with the words
/// that say the rest. A field of the one error type, not an error of its own.
#[derive(Debug)]
pub enum DaemonFault {
    /// There is nothing to ask, or it cannot be reached: no socket, a socket
    /// nobody listens on, permission denied, no answer in time, the program
    /// not installed. `source` is the I/O error (its kind says which).
    Unreachable { msg: String, source: std::io::Error },
    /// It was reached and answered with an error: an HTTP error status, a
    /// command that failed (its last line of stderr).
    Answer(String),
    /// The variable naming it is malformed (`DOCKER_HOST=ftp://…`).
    Config(String),
}

impl std::fmt::Display for DaemonFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DaemonFault::Unreachable { msg, .. }
            | DaemonFault::Answer(msg)
            | DaemonFault::Config(msg) => f.write_str(msg),
        }
    }
}

impl std::fmt::Display for LayerFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerFault::Read { msg, .. } | LayerFault::Malformed(msg) | LayerFault::Limit(msg) => {
                f.write_str(msg)
            }
            LayerFault::Unsupported(what) => {
                write!(f, "compressed with {what}, which layerscope does not read")
            }
            LayerFault::Mismatch {
                what,
                expected,
                actual,
            } => write!(
                f,
                "{what} mismatch: expected {expected}, content is {actual}"
            ),
            LayerFault::Open(e) => write!(f, "{e}"),
            LayerFault::Cancelled => f.write_str("cancelled"),
            LayerFault::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl LayerFault {
    /// The fault's words inside [`Error::Layer`] for the input `path`: an
    /// open failure that names the same input says what and why without
    /// naming it again (`FILE: layer 0 (…): blobs/sha256/…: why`, not
    /// `FILE: layer 0 (…): FILE: blobs/sha256/…: why`).
    fn within(&self, path: &std::path::Path) -> String {
        match self {
            LayerFault::Open(e) => match &**e {
                Error::Member {
                    path: p,
                    member,
                    msg,
                } if p == path => format!("{member}: {msg}"),
                Error::Io { path: p, source } if p == path => source.to_string(),
                Error::Format { path: p, msg }
                | Error::Limit { path: p, msg }
                | Error::Selection { path: p, msg }
                    if p == path =>
                {
                    msg.clone()
                }
                e => e.to_string(),
            },
            fault => fault.to_string(),
        }
    }

    /// The same fault with its message changed by `f` (context added by a
    /// caller that knows more); kinds without a message are kept as they are.
    pub fn map_msg(self, f: impl FnOnce(String) -> String) -> LayerFault {
        match self {
            LayerFault::Read { msg, source } => LayerFault::Read {
                msg: f(msg),
                source,
            },
            LayerFault::Malformed(msg) => LayerFault::Malformed(f(msg)),
            LayerFault::Limit(msg) => LayerFault::Limit(f(msg)),
            other => other,
        }
    }
}

/// Make text from an archive safe to print as part of one line: control
/// characters (newlines, escape sequences) are escaped, and very long text
/// (a tar library quoting a whole garbage header) is cut.
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    // Long enough for our own longest message (a config error listing all
    // 40 action names), short enough to cut a quoted garbage header.
    const MAX: usize = 1000;
    match s.char_indices().nth(MAX) {
        None => crate::text::display_safe(s),
        Some((cut, _)) => format!("{}…", crate::text::display_safe(&s[..cut])).into(),
    }
}

/// Make multi-line text from an archive safe for a terminal: like [`clean`]
/// but keeps newlines and tabs, and does not cut.
pub fn clean_text(s: &str) -> std::borrow::Cow<'_, str> {
    crate::text::escape_unless(s, |c| c == '\n' || c == '\t')
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turn an io::Error from a reader chain into a readable phrase. Some decoders
/// report truncation as `UnexpectedEof` with an empty or generic message.
pub(crate) fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "unexpected end of data (truncated?)".to_string(),
        _ => {
            let s = e.to_string();
            // tar-rs reports a short stream as an "other" error.
            if s.starts_with("unexpected EOF") || s == "failed to read entire block" {
                return "unexpected end of data (truncated?)".to_string();
            }
            if s.is_empty() {
                format!("{:?}", e.kind())
            } else {
                without_quoted_bytes(s)
            }
        }
    }
}

/// tar-rs quotes the raw bytes of a bad header in its messages
/// (`numeric field was not a number: <field bytes> when getting cksum for
/// <name bytes>`). Those bytes may come from any file (a layout blob
/// hard-linked to /etc/shadow), so only the field's name is kept.
fn without_quoted_bytes(s: String) -> String {
    if !s.starts_with("numeric field was not a number") {
        return s;
    }
    let field = s
        .rsplit_once(" when getting ")
        .and_then(|(_, rest)| rest.split_once(" for "))
        .map(|(f, _)| f)
        .filter(|f| f.len() <= 16 && f.bytes().all(|b| b.is_ascii_lowercase()));
    match field {
        Some(f) => format!("tar header field {f} is not a number"),
        None => "a tar header field is not a number".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_render_failure_names_the_report_and_keeps_its_cause() {
        let cause = serde_json::from_str::<u8>("x").expect_err("not JSON");
        let e = super::Error::Render {
            format: "CI JSON",
            source: Box::new(cause),
        };
        assert_eq!(
            e.to_string(),
            "rendering the CI JSON report: expected value at line 1 column 1"
        );
        let source = std::error::Error::source(&e).expect("source");
        assert!(source.is::<serde_json::Error>());
    }

    /// See: issue 11.
    #[test]
    fn a_layer_that_cannot_be_opened_names_the_input_once() {
        use super::{Error, LayerFault};
        let path = std::path::PathBuf::from("/img/layout");
        let open = |inner: Error| Error::Layer {
            path: path.clone(),
            index: 0,
            digest: "sha256:ab".into(),
            fault: LayerFault::Open(Box::new(inner)),
        };
        let e = open(Error::Member {
            path: path.clone(),
            member: "blobs/sha256/ab".into(),
            msg: "Is a directory (os error 21)".into(),
        });
        assert_eq!(
            e.to_string(),
            "/img/layout: layer 0 (sha256:ab): blobs/sha256/ab: Is a directory (os error 21)"
        );
        // Another input (a registry's blob, say) keeps its own name.
        let e = open(Error::Member {
            path: "registry.example/app".into(),
            member: "blobs/sha256/ab".into(),
            msg: "HTTP 404".into(),
        });
        assert_eq!(
            e.to_string(),
            "/img/layout: layer 0 (sha256:ab): registry.example/app: blobs/sha256/ab: HTTP 404"
        );
    }

    #[test]
    fn tar_messages_lose_the_bytes_they_quote() {
        let e = std::io::Error::other(
            "numeric field was not a number: root:$6$sa when getting cksum for root:$6$salt$hash:19000:0:99999:7:::",
        );
        assert_eq!(
            super::describe_io(&e),
            "tar header field cksum is not a number"
        );
        let e = std::io::Error::other("numeric field was not a number: secret");
        assert_eq!(super::describe_io(&e), "a tar header field is not a number");
    }
}
