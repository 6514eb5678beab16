//! Where a loaded image came from, as plain data: the kind of source and
//! what was asked of it (`image.source` in the reports). A leaf module, so
//! the image data can name its origin without depending on the sources that
//! resolve it (those live in [`crate::source`]).

use serde::Serialize;

/// The kinds of source, as `image.source.kind` in the JSON report names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A `docker save` or OCI archive file.
    Archive,
    /// An OCI image layout directory.
    OciDir,
    /// Standard input (`-`).
    Stdin,
    /// The Docker daemon (Engine API).
    Docker,
    /// podman (its Docker-compatible socket, or `podman image save`).
    Podman,
    /// containerd (`ctr images export`).
    Containerd,
    /// An OCI distribution registry.
    Registry,
}

impl SourceKind {
    /// Every kind, in the order `--source` lists them.
    pub const ALL: [SourceKind; 7] = [
        SourceKind::Docker,
        SourceKind::Podman,
        SourceKind::Containerd,
        SourceKind::Registry,
        SourceKind::Archive,
        SourceKind::OciDir,
        SourceKind::Stdin,
    ];

    /// The name used by `--source` and in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Archive => "archive",
            SourceKind::OciDir => "oci-dir",
            SourceKind::Stdin => "stdin",
            SourceKind::Docker => "docker",
            SourceKind::Podman => "podman",
            SourceKind::Containerd => "containerd",
            SourceKind::Registry => "registry",
        }
    }

    /// Parse a `--source` value.
    pub fn from_name(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Does this kind read an image reference (rather than a path)?
    pub fn takes_reference(self) -> bool {
        matches!(
            self,
            SourceKind::Docker | SourceKind::Podman | SourceKind::Containerd | SourceKind::Registry
        )
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the loaded image came from: `image.source` in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub kind: SourceKind,
    /// What the user typed (without a `docker://`-style prefix).
    pub input: String,
    /// The file or directory read (archive, oci-dir).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The normalised reference (`docker.io/library/nginx:latest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The socket, host or registry asked (`unix:///var/run/docker.sock`,
    /// `podman image save`, `docker.io`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// containerd's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The image ID the daemon reported (`sha256:…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

impl Origin {
    /// An origin for a file, directory or stdin.
    pub fn path(kind: SourceKind, input: &str) -> Origin {
        Origin {
            kind,
            input: input.to_string(),
            path: (kind != SourceKind::Stdin).then(|| input.to_string()),
            reference: None,
            endpoint: None,
            namespace: None,
            image_id: None,
        }
    }

    /// One phrase for the text report and the TUI header: `app.tar
    /// (archive)`, `nginx:latest (docker, unix:///var/run/docker.sock)`.
    pub fn describe(&self) -> String {
        let mut extra = vec![self.kind.name().to_string()];
        if let Some(ns) = &self.namespace {
            extra.push(format!("namespace {ns}"));
        }
        if let Some(e) = &self.endpoint {
            extra.push(e.clone());
        }
        format!("{} ({})", self.input, extra.join(", "))
    }
}
