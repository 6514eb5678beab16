//! Images from a container engine's local API: the Docker daemon (Engine
//! API, `DOCKER_HOST` or `/var/run/docker.sock`) and podman (its
//! Docker-compatible socket, `CONTAINER_HOST`,
//! `$XDG_RUNTIME_DIR/podman/podman.sock`, `/run/podman/podman.sock`; where no
//! socket runs, `podman image save` as a child process). The image is first
//! looked up (`GET /images/{name}/json`; never a pull), then exported
//! (`GET /images/{name}/get`, a `docker save` tar) and received by
//! [`super::stream`] while it streams.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::http::{self, Endpoint};
use super::{stream, Lookup, Opened, Origin, Reference, SourceKind};
use crate::error::{DaemonFault, Error, Result};
use crate::progress::Progress;
use crate::source::options::LoadOptions;

/// How long a lookup may take: a daemon that accepts the connection but
/// never answers must not hang the resolution.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The names to ask a daemon for, in order: as typed when it may be an
/// image ID (the daemon resolves ID prefixes), then the normalised name
/// (never a bare repository, which would export every tag).
fn queries(reference: &Reference) -> Vec<String> {
    let input = reference.input();
    let mut q = Vec::new();
    if reference.is_id_like() {
        q.push(input.to_string());
    }
    if !reference.is_id() {
        // As typed first (podman resolves short names against its own
        // storage, e.g. `localhost/app`), with the tag made explicit.
        let last = input.rsplit('/').next().unwrap_or(input);
        if input.contains('@') || last.contains(':') {
            q.push(input.to_string());
        } else {
            q.push(format!("{input}:latest"));
        }
        q.push(reference.normalized());
    }
    q.dedup();
    q
}

/// What a daemon said about a reference.
enum Probe {
    /// It has the image: the query that found it and the image ID.
    Found { query: String, id: String },
    /// It answered and has no such image.
    Missing,
    /// It could not be asked, or answered with an error (why, for the
    /// "not found in" line).
    Down(DaemonFault),
}

fn where_(ep: &Endpoint) -> String {
    match ep {
        Endpoint::Unix(p) => p.display().to_string(),
        Endpoint::Tcp(_) => ep.url(),
    }
}

/// Why a connection to `ep` failed, in the words of the "not found in" line.
fn unreachable(ep: &Endpoint, e: io::Error) -> DaemonFault {
    let msg = match e.kind() {
        io::ErrorKind::NotFound => format!("no socket at {}", where_(ep)),
        io::ErrorKind::ConnectionRefused => {
            format!("not running: {} refuses connections", where_(ep))
        }
        io::ErrorKind::PermissionDenied => format!("permission denied on {}", where_(ep)),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "{} did not answer within {}s",
            where_(ep),
            LOOKUP_TIMEOUT.as_secs()
        ),
        _ => format!("{}: {e}", where_(ep)),
    };
    DaemonFault::Unreachable { msg, source: e }
}

fn probe(ep: &Endpoint, reference: &Reference) -> Probe {
    for q in queries(reference) {
        let path = format!("/images/{}/json", http::encode_name(&q));
        let resp = match http::request(ep, "GET", &path, None, Some(LOOKUP_TIMEOUT)) {
            Ok(r) => r,
            Err(e) => return Probe::Down(unreachable(ep, e)),
        };
        match resp.status {
            200 => {
                let text = resp.text(16 << 20).unwrap_or_default();
                let id = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("Id").and_then(|i| i.as_str()).map(str::to_string))
                    .unwrap_or_default();
                return Probe::Found { query: q, id };
            }
            404 => continue,
            _ => {
                return Probe::Down(DaemonFault::Answer(format!(
                    "{}: {}",
                    where_(ep),
                    resp.error_message()
                )))
            }
        }
    }
    Probe::Missing
}

/// A lookup's failure to ask its engine (an [`Error::Daemon`]) as the
/// place in the "not found in" line: `the Docker daemon (no socket at …)`.
/// Any other error (an export that failed) stays an error.
pub(crate) fn missing(e: Error) -> Result<Lookup> {
    match e {
        Error::Daemon { daemon, fault } => Ok(Lookup::Missing(format!("{daemon} ({fault})"))),
        other => Err(other),
    }
}

/// A container engine reached through its Engine API: which kind of
/// source it is, how messages name it, and the variable naming its host.
#[derive(Debug, Clone, Copy)]
struct Engine {
    kind: SourceKind,
    name: &'static str,
    host_var: &'static str,
}

const DOCKER: Engine = Engine {
    kind: SourceKind::Docker,
    name: "the Docker daemon",
    host_var: "DOCKER_HOST",
};

const PODMAN: Engine = Engine {
    kind: SourceKind::Podman,
    name: "podman",
    host_var: "CONTAINER_HOST",
};

impl Engine {
    fn fault(self, fault: DaemonFault) -> Error {
        Error::Daemon {
            daemon: self.name,
            fault,
        }
    }

    /// The endpoint its host variable names; `None` when unset or empty.
    fn env_endpoint(self) -> Option<Result<Endpoint>> {
        let h = std::env::var(self.host_var)
            .ok()
            .filter(|h| !h.is_empty())?;
        Some(Endpoint::parse(&h).ok_or_else(|| {
            self.fault(DaemonFault::Config(format!(
                "{}={h}: only unix:// and tcp:// are supported",
                self.host_var
            )))
        }))
    }

    /// Ask the endpoints in order; the first that answers decides (found,
    /// or missing there). [`Error::Daemon`] with the last one's fault when
    /// none answers; the export's own failures are other errors.
    fn ask(
        self,
        eps: &[Endpoint],
        reference: &Reference,
        opts: &LoadOptions,
        progress: &Progress,
    ) -> Result<Lookup> {
        progress.set_note(Some(format!(
            "asking {} for {}…",
            self.name,
            reference.input()
        )));
        let mut why = None;
        for ep in eps {
            match probe(ep, reference) {
                Probe::Found { query, id } => {
                    let opened = self.export(ep, &query, id, reference, opts, progress)?;
                    return Ok(Lookup::Found(Box::new(opened)));
                }
                Probe::Missing => {
                    return Ok(Lookup::Missing(format!("{} ({})", self.name, where_(ep))))
                }
                Probe::Down(fault) => why = Some(fault),
            }
        }
        Err(self.fault(why.unwrap_or_else(|| DaemonFault::Config("no endpoint to ask".into()))))
    }

    /// Export `query` from the engine at `ep` and receive it.
    fn export(
        self,
        ep: &Endpoint,
        query: &str,
        id: String,
        reference: &Reference,
        opts: &LoadOptions,
        progress: &Progress,
    ) -> Result<Opened> {
        let input = reference.input();
        let from = self.name;
        let fail = |msg: String| Error::Source {
            input: input.to_string(),
            msg,
        };
        progress.set_note(Some(format!("{from} is exporting {input}…")));
        let path = format!("/images/{}/get", http::encode_name(query));
        let resp = http::request(ep, "GET", &path, None, None)
            .map_err(|e| fail(format!("{from} ({}): {e}", where_(ep))))?;
        if resp.status != 200 {
            progress.set_note(None);
            return Err(fail(format!(
                "{from} refused to export it: {}",
                resp.error_message()
            )));
        }
        let (source, scans) = stream::receive(input, from, resp.body, opts, progress)?;
        let mut origin = Origin::reference(self.kind, reference, &ep.url());
        origin.image_id = (!id.is_empty()).then_some(id);
        Ok(Opened {
            source,
            origin,
            scans,
        })
    }
}

/// Look the reference up in the Docker daemon (`DOCKER_HOST`, else the
/// default socket) and export it from there.
pub(crate) fn docker(
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Lookup> {
    let ep = match DOCKER.env_endpoint() {
        None => Endpoint::Unix(PathBuf::from("/var/run/docker.sock")),
        Some(Ok(ep)) => ep,
        Some(Err(e)) => return missing(e),
    };
    DOCKER
        .ask(&[ep], reference, opts, progress)
        .or_else(missing)
}

/// Look the reference up in podman: through the first socket that answers
/// (`CONTAINER_HOST`, else `$XDG_RUNTIME_DIR/podman/podman.sock`, then
/// `/run/podman/podman.sock`), else with the podman command.
pub(crate) fn podman(
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Lookup> {
    let (eps, from_env) = match PODMAN.env_endpoint() {
        Some(Ok(ep)) => (vec![ep], true),
        Some(Err(e)) => return missing(e),
        None => {
            let mut eps = Vec::new();
            if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
                eps.push(Endpoint::Unix(Path::new(&d).join("podman/podman.sock")));
            }
            eps.push(Endpoint::Unix(PathBuf::from("/run/podman/podman.sock")));
            (eps, false)
        }
    };
    match PODMAN.ask(&eps, reference, opts, progress) {
        Err(Error::Daemon { .. }) if from_env => Ok(Lookup::Missing(format!(
            "{} (CONTAINER_HOST does not answer)",
            PODMAN.name
        ))),
        Err(Error::Daemon { .. }) => podman_command(reference, opts, progress),
        other => other,
    }
}

/// The podman program to run (`LAYERSCOPE_PODMAN` for tests and odd
/// installs).
fn podman_program() -> std::ffi::OsString {
    std::env::var_os("LAYERSCOPE_PODMAN").unwrap_or_else(|| "podman".into())
}

/// No socket: `podman image exists`, then `podman image save` to a pipe.
fn podman_command(
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Lookup> {
    let program = podman_program();
    let mut found = None;
    for q in queries(reference) {
        let status = Command::new(&program)
            .args(["image", "exists", &q])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match status {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Lookup::Missing("podman (no socket)".into()))
            }
            Err(e) => return Ok(Lookup::Missing(format!("podman (no socket; podman: {e})"))),
            Ok(s) if s.success() => {
                found = Some(q);
                break;
            }
            Ok(s) if s.code() == Some(1) => {}
            Ok(s) => {
                return Ok(Lookup::Missing(format!(
                    "podman (no socket; podman image exists failed with {s})"
                )))
            }
        }
    }
    let Some(query) = found else {
        return Ok(Lookup::Missing(
            "podman (no socket; not in its storage)".into(),
        ));
    };
    let from = "podman image save";
    progress.set_note(Some(format!("{from} is exporting {}…", reference.input())));
    let child = Command::new(&program)
        .args(["image", "save", "--format", "docker-archive", &query])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Source {
            input: reference.input().to_string(),
            msg: format!("{from}: {e}"),
        })?;
    let (source, scans) = receive_from_child(child, from, reference, opts, progress)?;
    let origin = Origin::reference(SourceKind::Podman, reference, from);
    Ok(Lookup::Found(Box::new(Opened {
        source,
        origin,
        scans,
    })))
}

/// Receive a child's stdout as an image stream; a child that fails makes
/// the stream fail with its last line of stderr.
pub(crate) fn receive_from_child(
    mut child: Child,
    from: &str,
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<(crate::archive::Source, super::Scans)> {
    let input = reference.input();
    let fail = |msg: String| Error::Source {
        input: input.to_string(),
        msg,
    };
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut e).take(64 << 10).read_to_end(&mut buf);
            let _ = io::copy(&mut e, &mut io::sink());
            String::from_utf8_lossy(&buf)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .trim()
                .to_string()
        })
    });
    let Some(stdout) = child.stdout.take() else {
        return Err(fail(format!("{from}: no output pipe")));
    };
    let got = stream::receive(input, from, stdout, opts, progress);
    if got.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| fail(format!("{from}: {e}")))?;
    let last = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    match got {
        Ok(v) if status.success() => Ok(v),
        Ok(_) => Err(fail(format!("{from} failed ({status}): {last}"))),
        Err(e) if !last.is_empty() => Err(fail(format!("{e} ({from}: {last})"))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_that_cannot_be_asked_is_a_place_in_the_not_found_line() {
        let e = DOCKER.fault(DaemonFault::Config("DOCKER_HOST=x: bad".into()));
        assert_eq!(e.to_string(), "the Docker daemon: DOCKER_HOST=x: bad");
        match missing(e) {
            Ok(Lookup::Missing(m)) => assert_eq!(m, "the Docker daemon (DOCKER_HOST=x: bad)"),
            other => panic!("{other:?}"),
        }
        // Any other error (an export that failed) stays an error.
        let e = Error::Source {
            input: "a".into(),
            msg: "b".into(),
        };
        assert!(matches!(missing(e), Err(Error::Source { .. })));
    }
}
