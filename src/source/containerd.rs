//! Images from containerd (Kubernetes nodes, nerdctl), through its `ctr`
//! command: `containerd://[NAMESPACE/]REF` is looked up with `ctr -n NS
//! images ls` and exported with `ctr -n NS images export - REF` into
//! [`super::stream`]. Without a namespace, `CONTAINERD_NAMESPACE`,
//! `default`, `k8s.io` and `moby` are searched in that order. The socket is
//! `CONTAINERD_ADDRESS`, default `/run/containerd/containerd.sock`.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Lookup, Opened, Origin, Reference, SourceKind};
use crate::error::{DaemonFault, Error, Result};
use crate::progress::Progress;
use crate::source::options::LoadOptions;

const DEFAULT_ADDRESS: &str = "/run/containerd/containerd.sock";
const NAMESPACES: [&str; 3] = ["default", "k8s.io", "moby"];

fn address() -> String {
    std::env::var("CONTAINERD_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| DEFAULT_ADDRESS.to_string())
}

/// The `ctr` program (`LAYERSCOPE_CTR` for tests and odd installs).
fn ctr(address: &str) -> Command {
    let program = std::env::var_os("LAYERSCOPE_CTR").unwrap_or_else(|| "ctr".into());
    let mut c = Command::new(program);
    c.args(["--address", address])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// How containerd is named in errors and in the "not found in" line.
const NAME: &str = "containerd";

/// Run `ctr` and return its stdout; [`Error::Daemon`] when it cannot be
/// run or fails.
fn ctr_output(address: &str, args: &[&str]) -> Result<String> {
    let fault = |fault| Error::Daemon {
        daemon: NAME,
        fault,
    };
    log::info!("running ctr --address {address} {}", args.join(" "));
    let out = ctr(address).args(args).output().map_err(|e| {
        let msg = match e.kind() {
            io::ErrorKind::NotFound => "ctr is not installed".to_string(),
            _ => format!("ctr: {e}"),
        };
        fault(DaemonFault::Unreachable { msg, source: e })
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(fault(DaemonFault::Answer(format!(
            "ctr failed: {}",
            last.trim()
        ))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One row of `ctr images ls`: the reference and its target digest.
fn images(address: &str, ns: &str) -> Result<Vec<(String, String)>> {
    let out = ctr_output(address, &["-n", ns, "images", "ls"])?;
    Ok(out
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let name = cols.next()?.to_string();
            let _media = cols.next()?;
            let digest = cols.next()?.to_string();
            Some((name, digest))
        })
        .collect())
}

/// Split `NAMESPACE/REF` when the first component is a namespace that
/// exists; else search the usual namespaces.
fn namespaces_and_rest<'a>(input: &'a str, existing: &[String]) -> (Vec<String>, &'a str) {
    if let Some((first, rest)) = input.split_once('/') {
        if existing.iter().any(|n| n == first) && !rest.is_empty() {
            return (vec![first.to_string()], rest);
        }
    }
    let mut order = Vec::new();
    if let Ok(ns) = std::env::var("CONTAINERD_NAMESPACE") {
        if !ns.is_empty() {
            order.push(ns);
        }
    }
    for ns in NAMESPACES {
        if !order.iter().any(|o| o == ns) {
            order.push(ns.to_string());
        }
    }
    order.retain(|n| existing.contains(n));
    (order, input)
}

/// Look the reference up in containerd and export it.
pub(crate) fn containerd(
    reference: &Reference,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Lookup> {
    let address = address();
    if !Path::new(&address).exists() {
        return Ok(Lookup::Missing(format!("{NAME} (no socket at {address})")));
    }
    progress.set_note(Some(format!(
        "asking containerd for {}…",
        reference.input()
    )));
    let existing: Vec<String> = match ctr_output(&address, &["namespaces", "ls", "-q"]) {
        Ok(out) => out.lines().map(|l| l.trim().to_string()).collect(),
        Err(e) => return super::daemon::missing(e),
    };
    let (namespaces, rest) = namespaces_and_rest(reference.input(), &existing);
    let inner = Reference::parse(rest)?;
    for ns in &namespaces {
        let list = match images(&address, ns) {
            Ok(l) => l,
            Err(e) => return super::daemon::missing(e),
        };
        let want = inner.normalized();
        let by_digest = |d: &str| {
            let hex = rest.strip_prefix("sha256:").unwrap_or(rest);
            inner.is_id_like()
                && d.strip_prefix("sha256:")
                    .is_some_and(|h| h.starts_with(hex))
        };
        let hits: Vec<&(String, String)> = list
            .iter()
            .filter(|(name, digest)| *name == want || by_digest(digest))
            .collect();
        let name = match hits.as_slice() {
            [] => continue,
            [(name, _)] => name.clone(),
            more => {
                // Several names, one image, is fine; several images is not.
                let first = &more[0].1;
                if more.iter().all(|(_, d)| d == first) {
                    more[0].0.clone()
                } else {
                    return Err(Error::Source {
                        input: reference.input().to_string(),
                        msg: format!(
                            "ambiguous in containerd namespace {ns}: {}",
                            more.iter()
                                .map(|(n, d)| format!("{n} ({d})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        };
        let from = "ctr images export";
        progress.set_note(Some(format!(
            "containerd is exporting {}…",
            reference.input()
        )));
        log::info!("running ctr --address {address} -n {ns} images export - {name}");
        let child = ctr(&address)
            .args(["-n", ns, "images", "export", "-", &name])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Source {
                input: reference.input().to_string(),
                msg: format!("{from}: {e}"),
            })?;
        let (source, scans) =
            super::daemon::receive_from_child(child, from, reference, opts, progress)?;
        let mut origin =
            Origin::reference(SourceKind::Containerd, &inner, &format!("unix://{address}"));
        origin.input = reference.input().to_string();
        origin.namespace = Some(ns.clone());
        return Ok(Lookup::Found(Box::new(Opened {
            source,
            origin,
            scans,
        })));
    }
    Ok(Lookup::Missing(format!(
        "containerd ({address}, namespaces {})",
        if namespaces.is_empty() {
            "none".to_string()
        } else {
            namespaces.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_prefix_only_when_it_exists() {
        let existing = vec!["default".to_string(), "k8s.io".to_string()];
        let (ns, rest) = namespaces_and_rest("k8s.io/nginx:1", &existing);
        assert_eq!((ns, rest), (vec!["k8s.io".to_string()], "nginx:1"));
        let (ns, rest) = namespaces_and_rest("quay.io/a/b", &existing);
        assert_eq!(rest, "quay.io/a/b");
        assert!(ns.contains(&"default".to_string()) && !ns.contains(&"moby".to_string()));
    }
}
