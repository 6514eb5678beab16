//! One repository on one registry, over HTTP(S): choosing the scheme (TLS
//! with the system roots; plain HTTP for loopback and `--insecure-registry`
//! hosts that do not speak TLS), answering auth challenges (anonymous,
//! bearer tokens, basic), and retrying transient failures (connection
//! errors, 5xx, 429 with `Retry-After`).

use std::sync::Mutex;
use std::time::Duration;

use ureq::http::{Response, StatusCode};
use ureq::Body;

use super::auth::{parse_challenge, Challenge, Credential};
use super::Options;
use crate::error::{Error, Result};

/// Transient failures are retried this many times.
pub(super) const RETRIES: u32 = 4;
/// A `Retry-After` longer than this is cut to it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A connection to one repository.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    /// `https://host:port` or `http://host:port`.
    base: String,
    /// As the user wrote it (shown in messages).
    pub reference: String,
    pub repository: String,
    creds: Option<Credential>,
    /// The `Authorization` value that works, once known.
    authorization: Mutex<Option<String>>,
    /// Idle time after which a download counts as stalled.
    pub stall: Duration,
}

/// Is this host on the local machine? Docker treats those as insecure.
pub fn is_loopback(host: &str) -> bool {
    let h = host
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn api_host(registry: &str) -> &str {
    if registry == "docker.io" || registry == "index.docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    }
}

fn load_roots(opts: &Options) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let mut roots: Vec<ureq::tls::Certificate<'static>> = Vec::new();
    // rustls-native-certs reads the system store and honours SSL_CERT_FILE
    // and SSL_CERT_DIR; an unreadable entry is skipped, as curl does.
    let native = rustls_native_certs::load_native_certs();
    for c in native.certs {
        roots.push(ureq::tls::Certificate::from_der(c.as_ref()).to_owned());
    }
    for dir in &opts.cert_dirs {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "crt" || x == "pem") {
                let pem = std::fs::read(&p).map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?;
                for c in ureq::tls::parse_pem(&pem) {
                    if let Ok(ureq::tls::PemItem::Certificate(c)) = c {
                        roots.push(c.to_owned());
                    }
                }
            }
        }
    }
    Ok(roots)
}

/// What one request ended with, before it is judged.
enum Attempt {
    Done(Response<Body>),
    Retry(Duration, String),
}

impl Client {
    /// Connect to `registry` for `repository`: pick the scheme and find
    /// the credentials (nothing is sent yet but a `GET /v2/`).
    pub fn connect(
        reference: &str,
        registry: &str,
        repository: &str,
        opts: &Options,
    ) -> Result<Client> {
        let insecure = !opts.tls_verify
            || opts
                .insecure_registries
                .iter()
                .any(|h| h == registry || h == api_host(registry));
        let fail = |msg: String| Error::Source {
            input: reference.to_string(),
            msg,
        };
        let roots = load_roots(opts)?;
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(if roots.is_empty() {
                ureq::tls::RootCerts::WebPki
            } else {
                ureq::tls::RootCerts::new_with_certs(&roots)
            })
            .disable_verification(insecure)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(opts.stall_timeout))
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .user_agent(concat!("layerscope/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(16)
            .build()
            .into();
        let creds = match (&opts.creds, &opts.creds_file) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(f)) => {
                let raw = std::fs::read_to_string(f).map_err(|source| Error::Io {
                    path: f.clone(),
                    source,
                })?;
                let first = raw.lines().next().unwrap_or("");
                Some(Credential::parse(first, &f.display().to_string())?)
            }
            (None, None) => opts.credential_sources.lookup(registry)?,
        };
        let host = api_host(registry);
        let mut client = Client {
            agent,
            base: format!("https://{host}"),
            reference: reference.to_string(),
            repository: repository.to_string(),
            creds,
            authorization: Mutex::new(None),
            stall: opts.stall_timeout,
        };
        // Ping: says whether TLS works and which challenge to expect.
        let url = format!("{}/v2/", client.base);
        let ping = client.agent.get(url.as_str()).call();
        log_get(&url, 0, &ping);
        match ping {
            Ok(_) => {}
            Err(e) if insecure || is_loopback(registry) => {
                // Loopback and insecure registries may speak plain HTTP,
                // as docker allows.
                client.base = format!("http://{host}");
                // A TLS server answers plain HTTP with a 400: only a
                // registry's own answers (200, or 401 with a challenge)
                // count.
                let url = format!("{}/v2/", client.base);
                let plain = client.agent.get(url.as_str()).call();
                log_get(&url, 0, &plain);
                let why = match plain {
                    Ok(r) if r.status().is_success() || r.status() == StatusCode::UNAUTHORIZED => {
                        None
                    }
                    Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
                    Err(e2) => Some(describe(&e2)),
                };
                if let Some(why) = why {
                    return Err(fail(format!(
                        "cannot reach the registry: {} (over plain HTTP: {why})",
                        describe(&e)
                    )));
                }
            }
            Err(e) => {
                let hint = if matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_)) {
                    " (a self-signed or private registry: --cert-dir DIR with its CA, or --insecure-registry HOST)"
                } else {
                    ""
                };
                return Err(fail(format!(
                    "cannot reach the registry: {}{hint}",
                    describe(&e)
                )));
            }
        }
        Ok(client)
    }

    fn err(&self, msg: String) -> Error {
        Error::Source {
            input: self.reference.clone(),
            msg,
        }
    }

    /// `GET {base}/v2/{repository}/{path}` with auth and retries. Returns
    /// the final response whatever its status (401 and 404 included); the
    /// caller judges it.
    pub fn get(&self, path: &str, accept: Option<&str>, from: u64) -> Result<Response<Body>> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repository);
        let mut authed = false;
        let mut tries = 0;
        loop {
            match self.attempt(&url, accept, from)? {
                Attempt::Done(resp) if resp.status() == StatusCode::UNAUTHORIZED && !authed => {
                    authed = true;
                    let challenge = resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_challenge);
                    match challenge {
                        Some(c) => self.authenticate(&c)?,
                        None => return Ok(resp),
                    }
                }
                Attempt::Done(resp) => return Ok(resp),
                Attempt::Retry(wait, why) => {
                    tries += 1;
                    if tries > RETRIES {
                        return Err(
                            self.err(format!("{path}: {why} (gave up after {RETRIES} retries)"))
                        );
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn attempt(&self, url: &str, accept: Option<&str>, from: u64) -> Result<Attempt> {
        let mut req = self.agent.get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let auth = self
            .authorization
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let result = req.call();
        log_get(url, from, &result);
        match result {
            Ok(resp) => {
                let s = resp.status();
                if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS {
                    let after = retry_delay(
                        resp.headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()),
                        std::time::SystemTime::now(),
                    );
                    return Ok(Attempt::Retry(after, format!("HTTP {s}")));
                }
                Ok(Attempt::Done(resp))
            }
            Err(e) if transient(&e) => Ok(Attempt::Retry(Duration::from_millis(300), describe(&e))),
            Err(e) => Err(self.err(describe(&e))),
        }
    }

    /// Answer a challenge: basic with the credentials, or fetch a bearer
    /// token (anonymous, with the credentials, or with an identity token).
    fn authenticate(&self, c: &Challenge) -> Result<()> {
        let with = match &self.creds {
            // Where the credentials came from, never what they are.
            Some(cr) => format!("the credentials from {}", cr.origin),
            None => "no credentials (anonymous)".into(),
        };
        match c {
            Challenge::Basic => log::info!("{}: basic auth asked; {with}", self.base),
            Challenge::Bearer { realm, .. } => {
                log::info!(
                    "{}: bearer token asked from {}; {with}",
                    self.base,
                    redact(realm)
                )
            }
        }
        let value = match c {
            Challenge::Basic => match &self.creds {
                Some(cr) => cr.basic(),
                None => {
                    return Err(self
                        .err("401 unauthorized: log in with docker login or pass --creds".into()))
                }
            },
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scope = scope
                    .clone()
                    .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                format!("Bearer {}", self.token(realm, service.as_deref(), &scope)?)
            }
        };
        *self.authorization.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        Ok(())
    }

    fn token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String> {
        let resp = match &self.creds {
            Some(cr) if cr.is_identity_token() => {
                // An identity token is an OAuth2 refresh token.
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", cr.secret.as_str()),
                    ("client_id", "layerscope"),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                self.agent.post(realm).send_form(form)
            }
            _ => {
                let mut req = self.agent.get(realm).query("scope", scope);
                if let Some(s) = service {
                    req = req.query("service", s);
                }
                if let Some(cr) = &self.creds {
                    req = req.header("Authorization", cr.basic());
                }
                req.call()
            }
        }
        .map_err(|e| self.err(format!("token endpoint {realm}: {}", describe(&e))))?;
        let status = resp.status();
        log::info!("token for {scope} from {}: {status}", redact(realm));
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let whose = self
                .creds
                .as_ref()
                .map(|c| format!(" for the credentials from {}", c.origin))
                .unwrap_or_else(|| ": log in with docker login or pass --creds".into());
            return Err(self.err(format!(
                "{} unauthorized by the token endpoint{whose}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(self.err(format!("token endpoint {realm}: HTTP {status}")));
        }
        let body = resp
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| self.err(format!("token endpoint {realm}: {}", describe(&e))))?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| self.err(format!("token endpoint {realm}: the answer is not JSON")))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| self.err(format!("token endpoint {realm}: the answer has no token")))
    }

    /// A message for a response that is not what was asked for.
    pub fn status_error(&self, what: &str, resp: Response<Body>) -> Error {
        let status = resp.status();
        let detail = resp
            .into_body()
            .with_config()
            .limit(64 << 10)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| {
                v.get("errors")?
                    .get(0)?
                    .get("message")?
                    .as_str()
                    .map(str::to_string)
            });
        let hint = match status.as_u16() {
            401 | 403 => match &self.creds {
                Some(c) => format!(": the credentials from {} were refused", c.origin),
                None => ": log in with docker login or pass --creds".into(),
            },
            _ => String::new(),
        };
        let detail = detail.map(|d| format!(" ({d})")).unwrap_or_default();
        self.err(format!(
            "{what}: HTTP {} {}{detail}{hint}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("").to_lowercase()
        ))
    }
}

/// How long to wait before retrying a 429 or 5xx: what `Retry-After` says
/// (seconds, or an HTTP date), at most [`MAX_RETRY_AFTER`]; half a second
/// when it says nothing usable.
fn retry_delay(retry_after: Option<&str>, now: std::time::SystemTime) -> Duration {
    let Some(v) = retry_after.map(str::trim) else {
        return Duration::from_millis(500);
    };
    let after = match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        // A date in the past means now.
        Err(_) => httpdate::parse_http_date(v)
            .ok()
            .map(|at| at.duration_since(now).unwrap_or_default()),
    };
    after
        .unwrap_or(Duration::from_millis(500))
        .min(MAX_RETRY_AFTER)
}

/// Failures worth another try: the connection, not the request.
pub(super) fn transient(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => !matches!(io.kind(), std::io::ErrorKind::TimedOut),
        ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// A short phrase for a transport error.
pub(super) fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A URL for a log line: any `user:password@` in it replaced.
fn redact(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.into();
    };
    let host_end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..host_end].rfind('@') {
        Some(at) => format!("{}***@{}", &url[..start], &url[start + at + 1..]).into(),
        None => url.into(),
    }
}

/// The `-v` line of a GET from byte `from` and its answer.
fn log_get(url: &str, from: u64, result: &std::result::Result<Response<Body>, ureq::Error>) {
    let range = if from > 0 {
        format!(" (from byte {from})")
    } else {
        String::new()
    };
    match result {
        Ok(resp) => log::info!("GET {}{range}: {}", redact(url), resp.status()),
        Err(e) => log::info!("GET {}{range}: {}", redact(url), describe(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_hide_a_urls_user_and_password() {
        assert_eq!(
            redact("https://u:secret@auth.example/token?scope=x"),
            "https://***@auth.example/token?scope=x"
        );
        assert_eq!(
            redact("http://127.0.0.1:5000/v2/a@b/manifests/x"),
            "http://127.0.0.1:5000/v2/a@b/manifests/x"
        );
        assert_eq!(redact("no scheme"), "no scheme");
    }

    #[test]
    fn retry_after_is_obeyed_within_bounds() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let d = |v: Option<&str>| retry_delay(v, now);
        assert_eq!(d(Some("3")), Duration::from_secs(3));
        assert_eq!(d(Some(" 0 ")), Duration::ZERO);
        assert_eq!(d(Some("86400")), MAX_RETRY_AFTER);
        assert_eq!(d(None), Duration::from_millis(500));
        assert_eq!(d(Some("soon")), Duration::from_millis(500));
        let at = |secs: u64| httpdate::fmt_http_date(now + Duration::from_secs(secs));
        assert_eq!(d(Some(&at(7))), Duration::from_secs(7));
        assert_eq!(d(Some(&at(3600))), MAX_RETRY_AFTER);
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(d(Some(&past)), Duration::ZERO);
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "ghcr.io",
            "10.0.0.1:5000",
            "docker.io",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
