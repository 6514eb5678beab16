//! Image references as a user types them (`nginx`, `ghcr.io/o/app:1.2`,
//! `app@sha256:…`, a short image ID), parsed with oci-spec's distribution
//! grammar and normalised the way docker does (`nginx` =
//! `docker.io/library/nginx:latest`).

use std::fmt;

use crate::error::{Error, Result};

/// An image reference or an image ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    input: String,
    /// The parsed name; None for something only an image ID can be
    /// (`sha256:<64 hex>`, or 64 hex digits, which docker refuses as a name).
    name: Option<oci_spec::distribution::Reference>,
    /// Hex that a daemon may take for an image ID prefix (`3f57d9401f8d`).
    id_like: bool,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Reference {
    /// Parse `[registry[:port]/][namespace/]name[:tag][@sha256:digest]`, or
    /// an image ID (`sha256:…`, full or short hex).
    pub fn parse(input: &str) -> Result<Reference> {
        let bad = |msg: String| Error::Reference {
            input: input.to_string(),
            msg,
        };
        if let Some(hex) = input.strip_prefix("sha256:") {
            if is_hex(hex) && hex.len() <= 64 {
                return Ok(Reference {
                    input: input.to_string(),
                    name: None,
                    id_like: true,
                });
            }
            return Err(bad(
                "not an image reference: an image ID is sha256: and up to 64 hex digits".into(),
            ));
        }
        let id_like = is_hex(input) && input.len() <= 64;
        if id_like && input.len() == 64 {
            return Ok(Reference {
                input: input.to_string(),
                name: None,
                id_like,
            });
        }
        let name = input
            .parse::<oci_spec::distribution::Reference>()
            .map_err(|e| bad(format!("not an image reference ({e})")))?;
        Ok(Reference {
            input: input.to_string(),
            name: Some(name),
            id_like,
        })
    }

    /// What the user typed.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// True when this can only be an image ID (no registry could serve it).
    pub fn is_id(&self) -> bool {
        self.name.is_none()
    }

    /// True when a daemon may read this as an image ID (prefix).
    pub fn is_id_like(&self) -> bool {
        self.id_like
    }

    /// `docker.io`, `ghcr.io`, `localhost:5000`; None for an image ID.
    pub fn registry(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.registry())
    }

    /// `library/nginx`; None for an image ID.
    pub fn repository(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.repository())
    }

    /// The tag (`latest` when neither a tag nor a digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.name.as_ref().and_then(|n| n.tag())
    }

    /// `sha256:…` when pinned by digest.
    pub fn digest(&self) -> Option<&str> {
        self.name.as_ref().and_then(|n| n.digest())
    }

    /// The fully qualified form (`docker.io/library/nginx:latest`), or the
    /// ID as typed.
    pub fn normalized(&self) -> String {
        match &self.name {
            Some(n) => n.whole(),
            None => self.input.clone(),
        }
    }

    /// docker's short form (`nginx:latest`, `ghcr.io/o/app:1`), as
    /// `docker images` and `RepoTags` print it.
    pub fn familiar(&self) -> String {
        let Some(n) = &self.name else {
            return self.input.clone();
        };
        let mut s = match (n.registry(), n.repository().strip_prefix("library/")) {
            ("docker.io", Some(short)) => short.to_string(),
            ("docker.io", None) => n.repository().to_string(),
            (reg, _) => format!("{reg}/{}", n.repository()),
        };
        if let Some(t) = n.tag() {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = n.digest() {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s)
            .map(|r| r.normalized())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn names_are_normalised_like_docker() {
        assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(norm("library/nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(
            norm("index.docker.io/nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(norm("ghcr.io/o/app:1.2"), "ghcr.io/o/app:1.2");
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(norm("localhost:5000/a/b/c:dev"), "localhost:5000/a/b/c:dev");
        let d = "sha256:".to_string() + &"ab".repeat(32);
        assert_eq!(
            norm(&format!("nginx@{d}")),
            format!("docker.io/library/nginx@{d}")
        );
        assert_eq!(
            norm(&format!("nginx:1@{d}")),
            format!("docker.io/library/nginx:1@{d}")
        );
    }

    #[test]
    fn familiar_form_matches_repo_tags() {
        let f = |s: &str| {
            Reference::parse(s)
                .map(|r| r.familiar())
                .unwrap_or_default()
        };
        assert_eq!(f("docker.io/library/nginx"), "nginx:latest");
        assert_eq!(f("bitnami/redis:7"), "bitnami/redis:7");
        assert_eq!(f("quay.io/x/y:z"), "quay.io/x/y:z");
    }

    #[test]
    fn image_ids() {
        let full = "0123456789abcdef".repeat(4);
        let r = Reference::parse(&full).unwrap();
        assert!(r.is_id() && r.is_id_like());
        assert_eq!(r.normalized(), full);
        let r = Reference::parse(&format!("sha256:{full}")).unwrap();
        assert!(r.is_id());
        // A short ID is also a valid name: the daemon decides.
        let r = Reference::parse("3f57d9401f8d").unwrap();
        assert!(!r.is_id() && r.is_id_like());
        assert_eq!(r.normalized(), "docker.io/library/3f57d9401f8d:latest");
        assert!(!Reference::parse("nginx").unwrap().is_id_like());
    }

    #[test]
    fn invalid_references_say_why() {
        assert_eq!(
            norm("Nginx"),
            "Nginx: not an image reference (invalid reference format)"
        );
        assert_eq!(
            norm("nginx:"),
            "nginx:: not an image reference (invalid reference format)"
        );
        assert_eq!(
            norm("sha256:xyz"),
            "sha256:xyz: not an image reference: an image ID is sha256: and up to 64 hex digits"
        );
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse("a/../b").is_err());
    }
}
