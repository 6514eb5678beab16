//! Where an image comes from: the user's input (a path, `-`, an image
//! reference, or a prefixed form such as `docker://REF`), the kinds of
//! source ([`SourceKind`]), and the resolution order. A path that exists is
//! read as an archive or layout directory; otherwise a reference is tried in
//! the Docker daemon, then podman, then the registry, and the first that has
//! the image wins. No daemon is ever asked to pull. When none has it, the
//! error is one line saying what was tried.
//!
//! Every source hands back an [`Opened`]: an [`archive::Source`] (the image's
//! members, wherever they are kept), the [`Origin`] the reports show, and the
//! layers it already scanned while the bytes streamed past ([`Scans`]).

mod containerd;
mod daemon;
pub mod http;
pub mod options;
pub mod reference;
pub mod registry;
mod stream;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::archive;
use crate::error::{Error, Result};
use crate::layer::Scan;
pub use crate::origin::{Origin, SourceKind};
use crate::progress::Progress;
use crate::source::options::LoadOptions;
pub use crate::source::options::SourceOptions as Options;
pub use reference::Reference;

impl Origin {
    /// An origin for a reference resolved by a daemon or registry.
    pub fn reference(kind: SourceKind, reference: &Reference, endpoint: &str) -> Origin {
        Origin {
            kind,
            input: reference.input().to_string(),
            path: None,
            reference: Some(reference.normalized()),
            endpoint: Some(endpoint.to_string()),
            namespace: None,
            image_id: None,
        }
    }
}

/// Layers already scanned while their bytes streamed past, by member name.
pub type Scans = HashMap<String, Scan>;

/// An image source ready to load.
#[derive(Debug)]
pub struct Opened {
    pub source: archive::Source,
    pub origin: Origin,
    pub scans: Scans,
}

/// The answer of one source for a reference.
#[derive(Debug)]
pub enum Lookup {
    Found(Box<Opened>),
    /// Not there. The phrase names the place and, where it helps, why:
    /// `the Docker daemon (/var/run/docker.sock)`, `podman (no socket)`,
    /// `docker.io (401 unauthorized: log in with docker login or pass --creds)`.
    Missing(String),
}

/// What an input asks for, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A file or directory (`kind` is `Archive` or `OciDir`; directories are
    /// told apart when opened).
    Path { path: PathBuf, kind: SourceKind },
    /// Standard input.
    Stdin,
    /// A reference, from one kind of source or (None) in the default order.
    Reference {
        reference: Reference,
        only: Option<SourceKind>,
    },
}

/// dive's prefixes and ours. `oci-archive://` and `docker-archive://` are
/// files; `oci://` a layout directory.
const PREFIXES: [(&str, SourceKind); 7] = [
    ("docker://", SourceKind::Docker),
    ("podman://", SourceKind::Podman),
    ("containerd://", SourceKind::Containerd),
    ("registry://", SourceKind::Registry),
    ("docker-archive://", SourceKind::Archive),
    ("oci-archive://", SourceKind::Archive),
    ("oci://", SourceKind::OciDir),
];

/// The order a bare reference is tried in.
pub const DEFAULT_ORDER: [SourceKind; 3] =
    [SourceKind::Docker, SourceKind::Podman, SourceKind::Registry];

/// Work out what `input` asks for. A path that exists wins over a reference
/// of the same spelling; `--source` (`forced`) and a prefix must agree.
pub fn parse_request(input: &OsStr, forced: Option<SourceKind>) -> Result<Request> {
    let text = input.to_str();
    let prefixed = text.and_then(|t| {
        PREFIXES
            .iter()
            .find_map(|(p, k)| t.strip_prefix(p).map(|rest| (*k, rest)))
    });
    let (kind, rest): (Option<SourceKind>, &OsStr) = match prefixed {
        Some((k, rest)) => {
            if let Some(f) = forced.filter(|f| *f != k) {
                return Err(Error::Usage(format!(
                    "--source {f} contradicts the prefix of {}",
                    text.unwrap_or_default()
                )));
            }
            (Some(k), OsStr::new(rest))
        }
        None => (forced, input),
    };
    let as_ref = |only| -> Result<Request> {
        let t = rest.to_str().ok_or_else(|| Error::Reference {
            input: rest.to_string_lossy().into_owned(),
            msg: "not an image reference (not UTF-8)".into(),
        })?;
        Ok(Request::Reference {
            reference: Reference::parse(t)?,
            only,
        })
    };
    match kind {
        Some(k) if k.takes_reference() => as_ref(Some(k)),
        Some(SourceKind::Stdin) => Ok(Request::Stdin),
        Some(k) => {
            if rest == "-" {
                return Ok(Request::Stdin);
            }
            Ok(Request::Path {
                path: PathBuf::from(rest),
                kind: k,
            })
        }
        None => {
            if rest == "-" {
                return Ok(Request::Stdin);
            }
            let path = Path::new(rest);
            let missing = match std::fs::symlink_metadata(path) {
                Ok(_) => {
                    return Ok(Request::Path {
                        path: path.to_path_buf(),
                        kind: SourceKind::Archive,
                    })
                }
                Err(e) => e,
            };
            match as_ref(None) {
                Ok(r) => Ok(r),
                // Neither a file nor a reference: the missing file is the
                // likelier mistake (`./app.tar`, `/tmp/x`).
                Err(_) => Err(Error::Io {
                    path: path.to_path_buf(),
                    source: missing,
                }),
            }
        }
    }
}

/// Open what `input` names, resolving a reference through the sources in
/// order (or only the one `opts.source.kind` or a prefix names).
pub fn open(input: &OsStr, opts: &LoadOptions, progress: &Progress) -> Result<Opened> {
    match parse_request(input, opts.source.kind)? {
        Request::Stdin => Ok(Opened {
            source: archive::Source::open_with(Path::new("-"), &opts.open)?,
            origin: Origin::path(SourceKind::Stdin, "-"),
            scans: Scans::new(),
        }),
        Request::Path { path, kind } => {
            let source = archive::Source::open_with(&path, &opts.open)?;
            let is_dir = source.store.is_dir();
            if kind == SourceKind::OciDir && !is_dir {
                return Err(Error::Format {
                    path,
                    msg: "not a directory: oci:// and --source oci-dir name an OCI layout directory (oci-archive:// reads an archive)".into(),
                });
            }
            let kind = if is_dir {
                SourceKind::OciDir
            } else {
                SourceKind::Archive
            };
            log::info!("{}: reading it as {kind}", path.display());
            let origin = Origin::path(kind, &path.display().to_string());
            Ok(Opened {
                source,
                origin,
                scans: Scans::new(),
            })
        }
        Request::Reference { reference, only } => {
            let order: &[SourceKind] = match &only {
                Some(k) => std::slice::from_ref(k),
                None => &DEFAULT_ORDER,
            };
            let mut tried = Vec::new();
            for kind in order {
                if progress.cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(Error::Source {
                        input: reference.input().to_string(),
                        msg: "cancelled".into(),
                    });
                }
                log::info!("{}: asking {kind}", reference.input());
                match lookup(*kind, &reference, opts, progress)? {
                    Lookup::Found(o) => {
                        log::info!("{}: found in {kind}", reference.input());
                        return Ok(*o);
                    }
                    Lookup::Missing(why) => {
                        log::info!("{}: not found in {why}", reference.input());
                        tried.push(why);
                    }
                }
            }
            Err(not_found(&reference, &tried))
        }
    }
}

/// Ask one kind of source for a reference.
fn lookup(
    kind: SourceKind,
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Lookup> {
    match kind {
        SourceKind::Registry => registry::try_open(reference, opts, progress),
        SourceKind::Docker => daemon::docker(reference, opts, progress),
        SourceKind::Podman => daemon::podman(reference, opts, progress),
        SourceKind::Containerd => containerd::containerd(reference, opts, progress),
        SourceKind::Archive | SourceKind::OciDir | SourceKind::Stdin => Err(Error::Usage(format!(
            "--source {kind} reads a path, not a reference"
        ))),
    }
}

/// `nginx:latest: not found in A, B, or C`; a name that looks like a file
/// (`app.tar`) says that no such file exists first.
fn not_found(reference: &Reference, tried: &[String]) -> Error {
    let list = match tried {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    };
    let input = reference.input();
    let looks_like_file = [".tar", ".tgz", ".gz", ".zst", ".oci"]
        .iter()
        .any(|ext| input.contains(ext))
        && std::fs::symlink_metadata(input).is_err();
    let msg = if looks_like_file {
        format!("no such file or directory, and not found in {list}")
    } else {
        format!("not found in {list}")
    };
    Error::Source {
        input: input.to_string(),
        msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str, forced: Option<SourceKind>) -> String {
        match parse_request(OsStr::new(s), forced) {
            Ok(Request::Path { path, kind }) => format!("path {} {kind}", path.display()),
            Ok(Request::Stdin) => "stdin".into(),
            Ok(Request::Reference { reference, only }) => format!(
                "ref {} {}",
                reference.normalized(),
                only.map_or("any", |k| k.name())
            ),
            Err(e) => format!("error {e}"),
        }
    }

    #[test]
    fn inputs_and_prefixes() {
        assert_eq!(req("nginx", None), "ref docker.io/library/nginx:latest any");
        assert_eq!(req("-", None), "stdin");
        assert_eq!(req("Cargo.toml", None), "path Cargo.toml archive");
        assert_eq!(req("src", None), "path src archive");
        assert_eq!(
            req("docker://nginx:1", None),
            "ref docker.io/library/nginx:1 docker"
        );
        assert_eq!(
            req("podman://quay.io/a/b", None),
            "ref quay.io/a/b:latest podman"
        );
        assert_eq!(
            req("registry://ghcr.io/o/app:2", None),
            "ref ghcr.io/o/app:2 registry"
        );
        assert_eq!(
            req("containerd://nginx", None),
            "ref docker.io/library/nginx:latest containerd"
        );
        assert_eq!(req("docker-archive://x.tar", None), "path x.tar archive");
        assert_eq!(req("oci-archive://x.tar", None), "path x.tar archive");
        assert_eq!(req("oci://layout", None), "path layout oci-dir");
        assert_eq!(
            req("nginx", Some(SourceKind::Podman)),
            "ref docker.io/library/nginx:latest podman"
        );
        // --source registry even though a file of that name exists.
        assert_eq!(
            req("src", Some(SourceKind::Registry)),
            "ref docker.io/library/src:latest registry"
        );
        assert_eq!(
            req("docker://nginx", Some(SourceKind::Podman)),
            "error --source podman contradicts the prefix of docker://nginx"
        );
        assert_eq!(
            req("./missing.tar", None),
            "error ./missing.tar: No such file or directory (os error 2)"
        );
        assert_eq!(
            req("docker://Nginx", None),
            "error Nginx: not an image reference (invalid reference format)"
        );
    }

    #[test]
    fn not_found_lists_what_was_tried() {
        let r = Reference::parse("nginx:latest").unwrap();
        let tried = [
            "the Docker daemon (/var/run/docker.sock)".to_string(),
            "podman (no socket)".to_string(),
            "docker.io (401 unauthorized)".to_string(),
        ];
        assert_eq!(
            not_found(&r, &tried).to_string(),
            "nginx:latest: not found in the Docker daemon (/var/run/docker.sock), podman (no socket), or docker.io (401 unauthorized)"
        );
        let r = Reference::parse("app.tar").unwrap();
        assert_eq!(
            not_found(&r, &tried[1..2]).to_string(),
            "app.tar: no such file or directory, and not found in podman (no socket)"
        );
    }
}
