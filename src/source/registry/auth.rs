//! Registry credentials and auth challenges: where a username and password
//! come from (`--creds`, `--creds-file`, podman's `auth.json`, docker's
//! `config.json` with its `credsStore` and `credHelpers`), and how a
//! `WWW-Authenticate` challenge is read. Secrets never reach a message or a
//! `Debug` print.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;

use crate::error::{Error, Result};

/// Docker Hub's credentials sit under this key in docker's config.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A username and a secret (a password, or an identity token when the
/// username is `<token>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub secret: String,
    /// Where it came from, for messages (`--creds`, `~/.docker/config.json`).
    pub origin: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Credential {
    /// An identity token (OAuth2 refresh token) rather than a password:
    /// credential helpers say so with the username `<token>`.
    pub fn is_identity_token(&self) -> bool {
        self.username == "<token>"
    }

    /// `Basic …` header value.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Parse `USER:PASS` (the password may hold colons).
    pub fn parse(s: &str, origin: &str) -> Result<Credential> {
        let s = s.trim_end_matches(['\n', '\r']);
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok(Credential {
                username: u.to_string(),
                secret: p.to_string(),
                origin: origin.to_string(),
            }),
            _ => Err(Error::Usage(format!(
                "{origin}: expected USER:PASSWORD (the value is not shown)"
            ))),
        }
    }
}

/// The keys a registry's credentials may be stored under.
fn keys_for(host: &str) -> Vec<String> {
    if host == "docker.io" || host == "registry-1.docker.io" || host == "index.docker.io" {
        vec![
            DOCKER_HUB_KEY.to_string(),
            "docker.io".to_string(),
            "index.docker.io".to_string(),
            "registry-1.docker.io".to_string(),
        ]
    } else {
        vec![
            host.to_string(),
            format!("https://{host}"),
            format!("http://{host}"),
        ]
    }
}

/// Where credentials are looked up, in order (after `--creds`).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// podman/skopeo auth files: `REGISTRY_AUTH_FILE`, then
    /// `$XDG_RUNTIME_DIR/containers/auth.json`.
    pub auth_files: Vec<PathBuf>,
    /// docker's config: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
}

impl Sources {
    /// The usual places, from the environment.
    pub fn from_env() -> Sources {
        let mut auth_files = Vec::new();
        if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
            auth_files.push(PathBuf::from(p));
        }
        if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
            auth_files.push(Path::new(&d).join("containers/auth.json"));
        }
        let docker_config = std::env::var_os("DOCKER_CONFIG")
            .map(|d| Path::new(&d).join("config.json"))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker/config.json"))
            });
        Sources {
            auth_files,
            docker_config,
        }
    }

    /// Credentials for `host`, if any source has them.
    pub fn lookup(&self, host: &str) -> Result<Option<Credential>> {
        let keys = keys_for(host);
        for f in &self.auth_files {
            if let Some(c) = from_config_file(f, &keys, false)? {
                return Ok(Some(c));
            }
        }
        if let Some(f) = &self.docker_config {
            if let Some(c) = from_config_file(f, &keys, true)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// Read `auths` (and, for docker, `credHelpers` / `credsStore`) of one file.
fn from_config_file(path: &Path, keys: &[String], docker: bool) -> Result<Option<Credential>> {
    let raw = match std::fs::read(path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let bad = |msg: String| Error::Format {
        path: path.to_path_buf(),
        msg,
    };
    let v: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let origin = path.display().to_string();
    if docker {
        if let Some(helpers) = v.get("credHelpers").and_then(|h| h.as_object()) {
            for k in keys {
                if let Some(helper) = helpers.get(k).and_then(|h| h.as_str()) {
                    return run_helper(helper, &keys[0]);
                }
            }
        }
    }
    if let Some(auths) = v.get("auths").and_then(|a| a.as_object()) {
        for k in keys {
            let Some(entry) = auths.get(k) else { continue };
            if let Some(tok) = entry.get("identitytoken").and_then(|t| t.as_str()) {
                if !tok.is_empty() {
                    return Ok(Some(Credential {
                        username: "<token>".into(),
                        secret: tok.to_string(),
                        origin,
                    }));
                }
            }
            if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
                if auth.is_empty() {
                    continue;
                }
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .ok_or_else(|| bad(format!("auths.{k}.auth is not base64 of USER:PASSWORD")))?;
                return Credential::parse(&decoded, &origin)
                    .map(Some)
                    .map_err(|_| bad(format!("auths.{k}.auth is not base64 of USER:PASSWORD")));
            }
        }
    }
    if docker {
        if let Some(store) = v.get("credsStore").and_then(|s| s.as_str()) {
            return run_helper(store, &keys[0]);
        }
    }
    Ok(None)
}

/// Ask `docker-credential-NAME get` for the credentials of `server`.
/// "Not found" answers are `None`; a helper that cannot run is an error.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>> {
    let program = format!("docker-credential-{name}");
    let fail = |msg: String| Error::Usage(format!("credential helper {program}: {msg}"));
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit code.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if said.to_ascii_lowercase().contains("not found") {
            return Ok(None);
        }
        // What a helper prints on failure is its own message, not a secret.
        return Err(fail(format!(
            "failed ({}): {}",
            out.status,
            said.trim().lines().next().unwrap_or("")
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| fail(format!("answered invalid JSON: {e}")))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let (username, secret) = (field("Username"), field("Secret"));
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credential {
        username,
        secret,
        origin: program,
    }))
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Read a challenge: `Bearer realm="…",service="…",scope="…"` or `Basic …`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = std::collections::HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((key, after)) = s.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        params.insert(key, value.to_string());
        s = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge::Bearer {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge("Bearer realm=http://127.0.0.1:1/t"),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/t".into(),
                service: None,
                scope: None,
            })
        );
    }

    #[test]
    fn secrets_never_print() {
        let c = Credential::parse("me:s3cr3t:x", "--creds").expect("creds");
        assert_eq!(c.secret, "s3cr3t:x");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let e = Credential::parse("nocolon", "--creds").expect_err("bad");
        assert!(!e.to_string().contains("nocolon"));
    }

    #[test]
    fn docker_config_auths_and_auth_json() {
        let dir = tempfile::tempdir().expect("tmp");
        let docker = dir.path().join("config.json");
        std::fs::write(
            &docker,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnB3"},"reg.example:5000":{"auth":"dTpwOmM="}}}"#,
        )
        .expect("write");
        let podman = dir.path().join("auth.json");
        std::fs::write(
            &podman,
            r#"{"auths":{"reg.example:5000":{"auth":"cG9kOnB3"}}}"#,
        )
        .expect("write");
        let s = Sources {
            auth_files: vec![podman],
            docker_config: Some(docker.clone()),
        };
        let hub = s.lookup("docker.io").expect("ok").expect("hub");
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("hub", "pw"));
        // auth.json comes first.
        let r = s.lookup("reg.example:5000").expect("ok").expect("reg");
        assert_eq!((r.username.as_str(), r.secret.as_str()), ("pod", "pw"));
        let only_docker = Sources {
            auth_files: vec![],
            docker_config: Some(docker),
        };
        let r = only_docker
            .lookup("reg.example:5000")
            .expect("ok")
            .expect("reg");
        assert_eq!((r.username.as_str(), r.secret.as_str()), ("u", "p:c"));
        assert_eq!(only_docker.lookup("other.example").expect("ok"), None);
    }
}
