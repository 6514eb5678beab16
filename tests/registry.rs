//! Images read straight from a real registry: Debian's `docker-registry`
//! (CNCF distribution) on loopback, images pushed by `skopeo copy` from
//! archives built here. Plain HTTP; TLS (a CA made with openssl) with
//! htpasswd basic auth; a bearer-token flow (a token endpoint in this file,
//! JWTs signed with openssl) with a docker credential helper. A proxy in
//! this file cuts, stalls or counts downloads. Without the tools each test
//! prints one line saying it was skipped and why.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use layerscope_synth::{oci_archive_multi_platform, Compression, ImageBuilder, LayerBuilder};

const TOOLS: [&str; 4] = ["docker-registry", "skopeo", "htpasswd", "openssl"];

/// None when every tool is there, else the reason to skip.
fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| {
            !std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} not installed (apt-get install docker-registry skopeo apache2-utils openssl)",
            missing.join(", ")
        )
    })
}

/// Skip (one line saying why) when the tools are missing; CI sets
/// LAYERSCOPE_REQUIRE_REGISTRY so that they never skip there.
macro_rules! need_tools {
    ($name:expr) => {
        if let Some(why) = missing_tools() {
            assert!(
                std::env::var_os("LAYERSCOPE_REQUIRE_REGISTRY").is_none(),
                "registry test {} cannot run: {why}",
                $name
            );
            eprintln!("skipped: registry test {}: {why}", $name);
            return;
        }
    };
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/registry.sh")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running registry, stopped (by pid, through the script) on drop.
struct Registry {
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`
    addr: String,
}

impl Registry {
    /// Start with `extra` YAML appended to the config (auth, TLS).
    fn start(extra: &str) -> Registry {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog: {{ level: error, accesslog: {{ disabled: true }} }}\n\
             storage: {{ filesystem: {{ rootdirectory: {} }}, delete: {{ enabled: true }} }}\n\
             http:\n  addr: {addr}\n",
            storage.display()
        );
        config.push_str(extra);
        std::fs::write(dir.path().join("config.yml"), config).expect("config");
        let st = Std::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .status()
            .expect("script");
        assert!(st.success(), "registry did not start");
        Registry { dir, addr }
    }

    /// The data file of a blob in the registry's storage.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Std::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Scratch space for one test: HOME, caches and configs of its own, so
/// nothing of the machine's docker or podman logins is used.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let e = Env {
            dir: tempfile::tempdir().expect("tmp"),
        };
        std::fs::create_dir_all(e.path("home")).expect("home");
        e
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn cache_blobs(&self) -> PathBuf {
        self.path("cache/layerscope/blobs/sha256")
    }

    fn layerscope(&self) -> Command {
        let mut c = Command::cargo_bin("layerscope").expect("binary");
        c.env_remove("CI")
            .env_remove("REGISTRY_AUTH_FILE")
            .env("HOME", self.path("home"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("DOCKER_CONFIG", self.path("docker"));
        c
    }

    /// `skopeo copy` an archive into the registry.
    fn push(&self, archive: &Path, dest: &str, extra: &[&str]) {
        let out = Std::new("skopeo")
            .env("HOME", self.path("home"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .args(["--insecure-policy", "copy", "-q", "--preserve-digests"])
            .args(extra)
            .arg(format!("oci-archive:{}", archive.display()))
            .arg(format!("docker://{dest}"))
            .output()
            .expect("skopeo");
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Write `img` as an OCI archive and `skopeo copy` it to `reference`
    /// (plain HTTP or unverified TLS, plus `extra`); returns the archive.
    fn pushed(
        &self,
        reference: &str,
        img: ImageBuilder,
        c: Compression,
        extra: &[&str],
    ) -> PathBuf {
        let name: String = reference
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
            .collect();
        let archive = self.write(&format!("{name}.tar"), &img.oci_archive(c));
        let mut args = vec!["--dest-tls-verify=false"];
        args.extend_from_slice(extra);
        self.push(&archive, reference, &args);
        archive
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }
}

/// An image with content unique to this run (skopeo's shared blob cache
/// must never have seen its layers).
fn image(tag: &str, nonce: &str) -> ImageBuilder {
    ImageBuilder::new()
        .tag(tag)
        .layer(
            LayerBuilder::new("ADD rootfs /")
                .dir("etc")
                .file("etc/os-release", format!("ID=synth {nonce}\n").as_bytes())
                .file("bin/tool", &layerscope_synth::pseudo_bytes(7, 200_000))
                .symlink("bin/sh", "tool"),
        )
        .layer(
            LayerBuilder::new("RUN build app")
                .file("app/main.py", format!("print('{nonce}')\n").as_bytes())
                .file("etc/os-release", b"ID=changed\n"),
        )
        .layer(LayerBuilder::new("RUN rm tool").whiteout("bin/tool"))
}

fn nonce() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// `report --format json` of `image`, with `image.source` taken out.
fn report(env: &Env, image: &str, args: &[&str]) -> serde_json::Value {
    let out = env
        .layerscope()
        .args(["report", image, "--format", "json"])
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "report {image}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let source = v["image"]
        .as_object_mut()
        .and_then(|o| o.remove("source"))
        .expect("source");
    assert!(!source.is_null());
    v
}

/// Run and expect exit 2 with one line on stderr; returns the line.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    err.trim_end().to_string()
}

fn sha256_hex(b: &[u8]) -> String {
    layerscope_synth::sha256_hex(b)
}

/// Layer digests of a report.
fn layer_digests(v: &serde_json::Value) -> Vec<String> {
    v["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_string())
        .collect()
}

#[test]
fn plain_http_gzip_same_report_as_the_oci_archive_then_served_from_the_cache() {
    need_tools!("plain_http_gzip");
    let reg = Registry::start("");
    let env = Env::new();
    let reference = format!("{}/app:1", reg.addr);
    let archive = env.pushed(
        &reference,
        image(&reference, &nonce()),
        Compression::Gzip,
        &[],
    );

    let from_registry = report(&env, &format!("registry://{reference}"), &[]);
    let from_archive = report(&env, archive.to_str().expect("utf8"), &[]);
    assert_eq!(from_registry, from_archive);
    assert_eq!(from_registry["image"]["name"], reference.as_str());
    assert_eq!(from_registry["layers"][0]["compression"], "gzip");

    // Every blob is now cached under its digest ...
    let digests = layer_digests(&from_registry);
    for d in &digests {
        assert!(env.cache_blobs().join(&d[7..]).is_file(), "{d} cached");
    }
    // ... so with the layers gone from the registry a second run still reads
    // them: it never asked the network for a blob.
    for d in &digests {
        std::fs::remove_file(reg.blob_file(d)).expect("remove blob");
    }
    assert_eq!(
        report(&env, &format!("registry://{reference}"), &[]),
        from_archive
    );
    // Without the cache the missing blob is a clear error.
    let err = fails(env.layerscope().args([
        "report",
        &format!("registry://{reference}"),
        "--cache-size",
        "0",
    ]));
    assert!(
        err.starts_with(&format!(
            "layerscope: {reference}: layer 0 ({}): ",
            digests[0]
        )),
        "{err}"
    );
    assert!(err.contains("is not in the registry (404)"), "{err}");

    // cache prune empties it with --cache-size 0.
    let out = env
        .layerscope()
        .args(["cache", "prune", "--cache-size", "0"])
        .output()
        .expect("prune");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("removed 4 blobs ("), "{text}");
    assert_eq!(
        std::fs::read_dir(env.cache_blobs()).expect("dir").count(),
        0
    );
}

#[test]
fn missing_tag_and_missing_repository_are_one_line_404s() {
    need_tools!("missing_tag");
    let reg = Registry::start("");
    let env = Env::new();
    let err = fails(
        env.layerscope()
            .args(["report", &format!("registry://{}/nope:1", reg.addr)]),
    );
    assert_eq!(
        err,
        format!(
            "layerscope: {0}/nope:1: not found in {0} (404: no such repository or tag)",
            reg.addr
        )
    );
}

#[test]
fn zstd_multi_platform_index_picks_the_platform_and_matches_the_archive() {
    need_tools!("zstd_multi_platform");
    let reg = Registry::start("");
    let env = Env::new();
    let reference = format!("{}/multi:2", reg.addr);
    let n = nonce();
    let amd = image(&reference, &format!("amd {n}")).platform("linux", "amd64", None);
    let arm = image(&reference, &format!("arm {n}")).platform("linux", "arm64", Some("v8"));
    let archive = env.write(
        "multi.tar",
        &oci_archive_multi_platform(&[amd, arm], Compression::Zstd),
    );
    env.push(&archive, &reference, &["--all", "--dest-tls-verify=false"]);

    for platform in ["linux/arm64", "linux/amd64"] {
        let r = report(
            &env,
            &format!("registry://{reference}"),
            &["--platform", platform],
        );
        let a = report(
            &env,
            archive.to_str().expect("utf8"),
            &["--platform", platform],
        );
        assert_eq!(r, a, "{platform}");
        assert_eq!(r["layers"][0]["compression"], "zstd");
        assert!(r["image"]["platform"]
            .as_str()
            .expect("platform")
            .starts_with(platform));
    }
    // A platform the index lacks: the choices are listed.
    let err = fails(env.layerscope().args([
        "report",
        &format!("registry://{reference}"),
        "--platform",
        "linux/s390x",
    ]));
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64/v8"),
        "{err}"
    );
}

/// Run openssl in `dir`; a failure fails the test with its stderr.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Std::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1, made with openssl.
fn make_tls(dir: &Path) {
    let run = |args: &[&str]| openssl(dir, args);
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=layerscope test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.crt",
    ]);
}

#[test]
fn tls_with_htpasswd_basic_auth() {
    need_tools!("tls_basic_auth");
    let tls = tempfile::tempdir().expect("tmp");
    make_tls(tls.path());
    let certs = tls.path().join("certs");
    std::fs::create_dir_all(&certs).expect("certs");
    std::fs::copy(tls.path().join("ca.crt"), certs.join("ca.crt")).expect("ca");
    let htpasswd = Std::new("htpasswd")
        .args(["-Bbn", "alice", "wonder land"])
        .output()
        .expect("htpasswd");
    assert!(htpasswd.status.success());
    std::fs::write(tls.path().join("htpasswd"), &htpasswd.stdout).expect("htpasswd");
    let reg = Registry::start(&format!(
        "  tls: {{ certificate: {0}/server.crt, key: {0}/server.key }}\n\
         auth: {{ htpasswd: {{ realm: test, path: {0}/htpasswd }} }}\n",
        tls.path().display()
    ));
    let env = Env::new();
    let reference = format!("{}/private/app:1", reg.addr);
    let archive = env.write(
        "app.tar",
        &image(&reference, &nonce()).oci_archive(Compression::Gzip),
    );
    env.push(
        &archive,
        &reference,
        &[
            "--dest-cert-dir",
            certs.to_str().expect("utf8"),
            "--dest-creds",
            "alice:wonder land",
        ],
    );
    let certs_arg = certs.to_str().expect("utf8").to_string();
    let url = format!("registry://{reference}");

    let good = report(
        &env,
        &url,
        &["--cert-dir", &certs_arg, "--creds", "alice:wonder land"],
    );
    assert_eq!(good, report(&env, archive.to_str().expect("utf8"), &[]));

    // Credentials from docker's config (`docker login` writes them there).
    std::fs::create_dir_all(env.path("docker")).expect("docker dir");
    std::fs::write(
        env.path("docker/config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            reg.addr,
            base64_encode(b"alice:wonder land")
        ),
    )
    .expect("config");
    let cached = report(&env, &url, &["--cert-dir", &certs_arg, "--cache-size", "0"]);
    assert_eq!(cached, good);
    std::fs::remove_file(env.path("docker/config.json")).expect("rm");

    // Wrong password: 401, and the password is never shown.
    let err = fails(env.layerscope().args([
        "report",
        &url,
        "--cert-dir",
        &certs_arg,
        "--creds",
        "alice:not the password",
    ]));
    assert_eq!(
        err,
        format!("layerscope: {reference}: not found in {} (manifest 1: HTTP 401 unauthorized (authentication required): the credentials from --creds were refused)", reg.addr)
    );
    assert!(!err.contains("not the password"));
    // No credentials at all.
    let err = fails(
        env.layerscope()
            .args(["report", &url, "--cert-dir", &certs_arg]),
    );
    assert_eq!(
        err,
        format!(
            "layerscope: {reference}: not found in {} (401 unauthorized: log in with docker login or pass --creds)",
            reg.addr
        )
    );
    // The CA is not trusted without --cert-dir: TLS fails (and plain HTTP
    // is no way around it).
    let err = fails(
        env.layerscope()
            .args(["report", &url, "--creds", "alice:wonder land"]),
    );
    assert_eq!(
        err,
        format!(
            "layerscope: {reference}: not found in {} (cannot reach the registry: invalid peer certificate: UnknownIssuer (over plain HTTP: HTTP 400))",
            reg.addr
        )
    );
    // --tls-verify=false accepts the certificate.
    let insecure = report(
        &env,
        &url,
        &["--tls-verify=false", "--creds", "alice:wonder land"],
    );
    assert_eq!(insecure, good);
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn b64url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A token endpoint (the part of the bearer flow distribution leaves to
/// others), answering JWTs signed with openssl (RS256, the signing
/// certificate in `x5c`) granting the scope asked for: to a GET with basic
/// auth (`token`), and to an OAuth2 POST `grant_type=refresh_token` with
/// the identity token it was given (`access_token`). Every request is
/// logged as `GET basic`, `GET anonymous`, `POST refresh_token` (refused
/// ones end with ` refused`).
struct TokenServer {
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    fn issued(&self) -> usize {
        let log = self.log.lock().expect("log");
        log.iter().filter(|l| !l.ends_with(" refused")).count()
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

/// A percent-encoded query or form value, decoded.
fn form_value(query: &str, key: &str) -> Option<String> {
    let raw = query
        .split('&')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))?;
    let mut out = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn token_server(dir: &Path, user: &str, pass: &str, identity: Option<&str>) -> TokenServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let dir = dir.to_path_buf();
    let want = format!(
        "Basic {}",
        base64_encode(format!("{user}:{pass}").as_bytes())
    );
    let identity = identity.map(str::to_string);
    let der = Std::new("openssl")
        .args(["x509", "-in"])
        .arg(dir.join("token.crt"))
        .args(["-outform", "DER"])
        .output()
        .expect("der")
        .stdout;
    let x5c = base64_encode(&der);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let method = line.split(' ').next().unwrap_or("").to_string();
            let target = line.split(' ').nth(1).unwrap_or("").to_string();
            let (mut auth, mut length) = (String::new(), 0usize);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("authorization") {
                        auth = v.trim().to_string();
                    }
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length.min(1 << 16)];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let body = String::from_utf8_lossy(&body).to_string();
            let query = target.split_once('?').map_or("", |(_, q)| q).to_string();
            let (what, ok, scope, field) = if method == "POST" {
                let grant = form_value(&body, "grant_type").unwrap_or_default();
                let ok = grant == "refresh_token"
                    && identity.is_some()
                    && form_value(&body, "refresh_token") == identity;
                (
                    format!("POST {grant}"),
                    ok,
                    form_value(&body, "scope").unwrap_or_default(),
                    "access_token",
                )
            } else {
                let what = if auth.is_empty() {
                    "GET anonymous"
                } else {
                    "GET basic"
                };
                (
                    what.to_string(),
                    auth == want,
                    form_value(&query, "scope").unwrap_or_default(),
                    "token",
                )
            };
            if !ok {
                seen.lock().expect("log").push(format!("{what} refused"));
                let _ = stream.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let token = sign_token(&dir, &x5c, &scope);
            let body = serde_json::json!({field: token, "expires_in": 600}).to_string();
            seen.lock().expect("log").push(what);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    TokenServer { addr, log }
}

/// A JWT granting `scope` (`repository:NAME:ACTIONS`), signed with
/// `dir/token.key`.
fn sign_token(dir: &Path, x5c: &str, scope: &str) -> String {
    let mut parts = scope.splitn(3, ':');
    let (kind, name, actions) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "layerscope-test", "sub": "bob", "aud": "test-registry",
        "exp": now + 600, "nbf": now - 60, "iat": now - 60, "jti": format!("{now}"),
        "access": [{"type": kind, "name": name,
                    "actions": actions.split(',').collect::<Vec<_>>()}],
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut child = Std::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(dir.join("token.key"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(signing_input.as_bytes())
        .expect("sign input");
    let sig = child.wait_with_output().expect("sign").stdout;
    format!("{signing_input}.{}", b64url(&sig))
}

/// The real registry configured for token auth (distribution's `auth:
/// token:`, trusting a signing certificate made here), with the token
/// endpoint above in front of it for `bob` / `builder pass` (and the
/// identity token, if given).
struct TokenRegistry {
    _keys: tempfile::TempDir,
    tokens: TokenServer,
    reg: Registry,
}

fn token_registry(identity: Option<&str>) -> TokenRegistry {
    let keys = tempfile::tempdir().expect("tmp");
    openssl(
        keys.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=token signer",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
        ],
    );
    let tokens = token_server(keys.path(), "bob", "builder pass", identity);
    let reg = Registry::start(&format!(
        "auth:\n  token: {{ realm: \"http://{}/token\", service: test-registry, issuer: layerscope-test, rootcertbundle: {} }}\n",
        tokens.addr,
        keys.path().join("token.crt").display()
    ));
    TokenRegistry {
        _keys: keys,
        tokens,
        reg,
    }
}

impl Env {
    /// Install `docker-credential-layerscopetest` answering `username` and
    /// `secret` for `host` (nothing for any other), named for that host by
    /// docker's config. Returns the PATH to run with.
    fn credential_helper(&self, host: &str, username: &str, secret: &str) -> String {
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let helper = bin.join("docker-credential-layerscopetest");
        std::fs::write(
            &helper,
            format!(
                "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"{host}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{username}\",\"Secret\":\"{secret}\"}}'\n"
            ),
        )
        .expect("helper");
        Std::new("chmod")
            .arg("+x")
            .arg(&helper)
            .status()
            .expect("chmod");
        std::fs::create_dir_all(self.path("docker")).expect("docker");
        std::fs::write(
            self.path("docker/config.json"),
            format!(r#"{{"credHelpers":{{"{host}":"layerscopetest"}}}}"#),
        )
        .expect("config");
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

/// Run and return (exit code, stdout, stderr), asserting that `secret`
/// appears in neither.
fn run_keeping(cmd: &mut Command, secret: &str) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(
        !o.contains(secret) && !e.contains(secret),
        "a secret was printed: {e}"
    );
    (out.status.code(), o, e)
}

#[test]
fn bearer_token_flow_with_a_credential_helper() {
    need_tools!("bearer_token");
    let TokenRegistry { tokens, reg, .. } = &token_registry(None);
    let env = Env::new();
    let reference = format!("{}/team/app:3", reg.addr);
    let archive = env.pushed(
        &reference,
        image(&reference, &nonce()),
        Compression::Zstd,
        &["--dest-creds", "bob:builder pass"],
    );
    let pushed = tokens.issued();
    assert!(pushed > 0, "skopeo used the token endpoint");

    // A credential helper named by docker's config answers for this host.
    let path = env.credential_helper(&reg.addr, "bob", "builder pass");
    let (code, out, err) = run_keeping(
        env.layerscope().env("PATH", &path).args([
            "report",
            &format!("registry://{reference}"),
            "--format",
            "json",
        ]),
        "builder pass",
    );
    assert_eq!(code, Some(0), "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&out).expect("json");
    v["image"].as_object_mut().expect("image").remove("source");
    assert_eq!(v, report(&env, archive.to_str().expect("utf8"), &[]));
    assert_eq!(v["layers"][0]["compression"], "zstd");
    // One token for the whole run.
    assert_eq!(tokens.issued(), pushed + 1);
    assert_eq!(tokens.log().last().map(String::as_str), Some("GET basic"));

    // -v says each step, and no secret: not the password, not the basic
    // header, not the token (a JWT: `eyJ`…).
    let (code, _, err) = run_keeping(
        env.layerscope().env("PATH", &path).args([
            "-v",
            "report",
            &format!("registry://{reference}"),
        ]),
        "builder pass",
    );
    assert_eq!(code, Some(0), "{err}");
    let base = format!("http://{}", reg.addr);
    let lines: Vec<&str> = err.lines().collect();
    for want in [
        format!("GET {base}/v2/: 401 Unauthorized"),
        format!("GET {base}/v2/team/app/manifests/3: 401 Unauthorized"),
        format!("{base}: bearer token asked from "),
        "; the credentials from docker-credential-layerscopetest".to_string(),
        "token for repository:team/app:pull from ".to_string(),
        format!("GET {base}/v2/team/app/manifests/3: 200 OK"),
        ": from the blob cache (".to_string(),
        ": found in registry".to_string(),
    ] {
        assert!(err.contains(&want), "no {want:?} in:\n{err}");
    }
    assert!(lines.iter().all(|l| l.starts_with("layerscope: ")), "{err}");
    for secret in [
        "eyJ".to_string(),
        base64_encode(b"bob:builder pass"),
        "Basic ".into(),
        "Bearer ".into(),
    ] {
        assert!(!err.contains(&secret), "{secret:?} printed:\n{err}");
    }

    // Without the helper: anonymous, and the token endpoint refuses.
    let err = fails(
        env.layerscope()
            .args([
                "report",
                &format!("registry://{reference}"),
                "--cache-size",
                "0",
            ])
            .env("DOCKER_CONFIG", env.path("nowhere")),
    );
    assert_eq!(
        err,
        format!("layerscope: {reference}: not found in {} (401 unauthorized by the token endpoint: log in with docker login or pass --creds)", reg.addr)
    );
    // A --creds-file with a wrong password.
    let creds = env.write("creds", b"bob:wrong\n");
    let err = fails(env.layerscope().args([
        "report",
        &format!("registry://{reference}"),
        "--creds-file",
        creds.to_str().expect("utf8"),
    ]));
    assert_eq!(
        err,
        format!(
            "layerscope: {reference}: not found in {} (401 unauthorized by the token endpoint for the credentials from {})",
            reg.addr,
            creds.display()
        )
    );
}

#[test]
fn an_identity_token_is_exchanged_for_an_access_token() {
    // See: issue #14 "a credential helper answering username <token> means
    // an identity token (OAuth2 refresh_token POST)".
    need_tools!("identity_token");
    let identity = "idtok-7f3e9a1c-do-not-print";
    let TokenRegistry { tokens, reg, .. } = &token_registry(Some(identity));
    let env = Env::new();
    let reference = format!("{}/team/app:4", reg.addr);
    let archive = env.pushed(
        &reference,
        image(&reference, &nonce()),
        Compression::Gzip,
        &["--dest-creds", "bob:builder pass"],
    );
    let want = report(&env, archive.to_str().expect("utf8"), &[]);
    let before = tokens.log().len();

    // From a credential helper (username `<token>`), then from docker's
    // config (`identitytoken`, as `docker login` writes for such registries).
    let path = env.credential_helper(&reg.addr, "<token>", identity);
    let from_config = format!(
        r#"{{"auths":{{"{}":{{"auth":"","identitytoken":"{identity}"}}}}}}"#,
        reg.addr
    );
    for how in ["helper", "config"] {
        if how == "config" {
            std::fs::write(env.path("docker/config.json"), &from_config).expect("config");
        }
        let (code, out, err) = run_keeping(
            env.layerscope().env("PATH", &path).args([
                "report",
                &format!("registry://{reference}"),
                "--format",
                "json",
                "--cache-size",
                "0",
            ]),
            identity,
        );
        assert_eq!(code, Some(0), "{how}: {err}");
        let mut v: serde_json::Value = serde_json::from_str(&out).expect("json");
        v["image"].as_object_mut().expect("image").remove("source");
        assert_eq!(v, want, "{how}");
        assert_eq!(
            tokens.log()[before..],
            ["POST refresh_token"],
            "{how}: one OAuth2 exchange for the run"
        );
        tokens.log.lock().expect("log").truncate(before);
    }

    // A refused identity token: one line, and the token is not in it.
    let path = env.credential_helper(&reg.addr, "<token>", "idtok-wrong-do-not-print");
    let (code, _, err) = run_keeping(
        env.layerscope()
            .env("PATH", &path)
            .args(["report", &format!("registry://{reference}")]),
        "idtok-wrong-do-not-print",
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        err.trim_end(),
        format!(
            "layerscope: {reference}: not found in {} (401 unauthorized by the token endpoint for the credentials from docker-credential-layerscopetest)",
            reg.addr
        )
    );
    assert_eq!(tokens.log()[before..], ["POST refresh_token refused"]);
}

/// What the proxy does to blob downloads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Pass everything, counting blob GETs.
    Count,
    /// Close the connection after this many bytes of the first response
    /// to each blob GET without a `Range:` header.
    CutFirst(usize),
    /// Close every blob response after this many bytes.
    CutAlways(usize),
    /// Stop sending (but keep the connection) after this many bytes.
    Stall(usize),
    /// Answer the first `times` GETs of each blob itself with `status`
    /// (and `Retry-After: SECONDS` when given) instead of passing them on.
    Refuse {
        status: u16,
        times: usize,
        retry_after: Option<u64>,
    },
}

/// A one-request-per-connection HTTP proxy in front of the registry.
struct Proxy {
    addr: String,
    /// Blob GETs seen, by path (with the Range header if any).
    seen: Arc<Mutex<Vec<String>>>,
}

fn proxy(upstream: &str, mode: Mode) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let (upstream, log) = (upstream.clone(), log.clone());
            std::thread::spawn(move || handle(client, &upstream, mode, &log));
        }
    });
    Proxy { addr, seen }
}

fn handle(mut client: TcpStream, upstream: &str, mode: Mode, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut head = Vec::new();
    let mut line = String::new();
    let mut first = String::new();
    let mut range = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if first.is_empty() {
            first = line.clone();
        }
        if line.to_ascii_lowercase().starts_with("range:") {
            range = true;
        }
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let is_blob = first.starts_with("GET ") && first.contains("/blobs/");
    if is_blob {
        log.lock().expect("log").push(format!(
            "{}{}",
            first.split(' ').nth(1).unwrap_or(""),
            if range { " range" } else { "" }
        ));
    }
    if let (
        true,
        Mode::Refuse {
            status,
            times,
            retry_after,
        },
    ) = (is_blob, mode)
    {
        let path = first.split(' ').nth(1).unwrap_or("");
        let so_far = log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.split(' ').next() == Some(path))
            .count();
        if so_far <= times {
            let after = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            let _ = write!(
                client,
                "HTTP/1.1 {status} Refused\r\n{after}Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return;
        }
    }
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    if up.write_all(&head).is_err() {
        return;
    }
    let limit = match mode {
        Mode::CutFirst(n) if is_blob && !range => Some(n),
        Mode::CutAlways(n) | Mode::Stall(n) if is_blob => Some(n),
        _ => None,
    };
    let mut sent = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        let n = match up.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let n = match limit {
            Some(l) if sent + n >= l => {
                let _ = client.write_all(&buf[..l - sent]);
                if mode == Mode::Stall(l) {
                    std::thread::sleep(std::time::Duration::from_secs(30));
                }
                return;
            }
            _ => n,
        };
        if client.write_all(&buf[..n]).is_err() {
            return;
        }
        sent += n;
    }
}

/// An image with one big layer (a cut lands inside it) pushed plainly.
fn big_image_registry(env: &Env) -> (Registry, String, PathBuf) {
    let reg = Registry::start("");
    let reference = format!("{}/big:1", reg.addr);
    let img = ImageBuilder::new().tag(&reference).layer(
        LayerBuilder::new("ADD big")
            .file("big.bin", &layerscope_synth::pseudo_bytes(11, 3 << 20))
            .file("note", nonce().as_bytes()),
    );
    let archive = env.pushed(&reference, img, Compression::Gzip, &[]);
    (reg, reference, archive)
}

#[test]
fn a_connection_cut_mid_blob_is_resumed_with_range() {
    need_tools!("cut_mid_blob");
    let env = Env::new();
    let (reg, reference, archive) = big_image_registry(&env);
    let p = proxy(&reg.addr, Mode::CutFirst(1 << 20));
    let via = reference.replacen(&reg.addr, &p.addr, 1);
    let mut r = report(&env, &format!("registry://{via}"), &["--cache-size", "0"]);
    let mut a = report(&env, archive.to_str().expect("utf8"), &[]);
    for v in [&mut r, &mut a] {
        let img = v["image"].as_object_mut().expect("image");
        img.remove("name");
        img.remove("names");
    }
    assert_eq!(r, a);
    let seen = p.seen.lock().expect("seen").clone();
    let layer = layer_digests(&r)[0].clone();
    let gets: Vec<_> = seen.iter().filter(|s| s.contains(&layer)).collect();
    assert_eq!(gets.len(), 2, "{seen:?}");
    assert!(gets[1].ends_with(" range"), "{seen:?}");

    // A registry that cuts every time: a clear error after the retries.
    let p = proxy(&reg.addr, Mode::CutAlways(64 << 10));
    let via = reference.replacen(&reg.addr, &p.addr, 1);
    let err =
        fails(
            env.layerscope()
                .args(["report", &format!("registry://{via}"), "--cache-size", "0"]),
        );
    assert!(
        err.starts_with(&format!("layerscope: {via}: layer 0 ({layer}): ")),
        "{err}"
    );
    assert!(
        err.contains("the registry closed the connection at byte"),
        "{err}"
    );
}

#[test]
fn a_429_with_retry_after_and_5xx_answers_are_retried() {
    // See: issue #14 "transient failures (connection reset, 5xx, 429 with
    // Retry-After) are retried".
    need_tools!("retries");
    let env = Env::new();
    let (reg, reference, archive) = big_image_registry(&env);
    let mut want = report(&env, archive.to_str().expect("utf8"), &[]);
    want["image"].as_object_mut().expect("image").remove("name");
    want["image"]
        .as_object_mut()
        .expect("image")
        .remove("names");
    let blobs = 2; // the config and the one layer
    for (status, retry_after, least) in [(429, Some(1), 2.0), (503, None, 0.0), (502, None, 0.0)] {
        let p = proxy(
            &reg.addr,
            Mode::Refuse {
                status,
                times: 1,
                retry_after,
            },
        );
        let via = reference.replacen(&reg.addr, &p.addr, 1);
        let t = std::time::Instant::now();
        let mut r = report(&env, &format!("registry://{via}"), &["--cache-size", "0"]);
        let took = t.elapsed().as_secs_f64();
        r["image"].as_object_mut().expect("image").remove("name");
        r["image"].as_object_mut().expect("image").remove("names");
        assert_eq!(r, want, "{status}");
        // Each blob: refused once, then fetched.
        let seen = p.seen.lock().expect("seen").clone();
        assert_eq!(seen.len(), 2 * blobs, "{status}: {seen:?}");
        // The config and the layer are fetched one after the other, each
        // after waiting the second it was told to.
        assert!(took >= least, "{status}: {took} s");
    }
    // A registry that always answers 503: a clear error after the retries.
    let p = proxy(
        &reg.addr,
        Mode::Refuse {
            status: 503,
            times: usize::MAX,
            retry_after: Some(0),
        },
    );
    let via = reference.replacen(&reg.addr, &p.addr, 1);
    let err =
        fails(
            env.layerscope()
                .args(["report", &format!("registry://{via}"), "--cache-size", "0"]),
        );
    assert!(err.starts_with(&format!("layerscope: {via}: ")), "{err}");
    assert!(
        err.ends_with("HTTP 503 Service Unavailable (gave up after 4 retries)"),
        "{err}"
    );
    assert_eq!(
        p.seen.lock().expect("seen").len(),
        5,
        "one try and 4 retries"
    );
}

#[test]
fn a_stalled_download_fails_after_the_timeout() {
    need_tools!("stall");
    let env = Env::new();
    let (reg, reference, _) = big_image_registry(&env);
    let p = proxy(&reg.addr, Mode::Stall(1 << 20));
    let via = reference.replacen(&reg.addr, &p.addr, 1);
    let t = std::time::Instant::now();
    let err = fails(env.layerscope().args([
        "report",
        &format!("registry://{via}"),
        "--cache-size",
        "0",
        "--registry-timeout",
        "2",
    ]));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    assert!(
        err.contains("download stalled: no data for 2 s at byte"),
        "{err}"
    );
}

#[test]
fn a_blob_whose_bytes_do_not_match_its_digest_is_an_error_naming_it() {
    need_tools!("tampered_blob");
    let reg = Registry::start("");
    let env = Env::new();
    let reference = format!("{}/app:1", reg.addr);
    let archive = env.pushed(
        &reference,
        image(&reference, &nonce()),
        Compression::Gzip,
        &[],
    );
    let good = report(&env, archive.to_str().expect("utf8"), &[]);
    let layer = layer_digests(&good)[1].clone();
    // Change the stored layer's gzip header time: same size, still a valid
    // gzip stream of the same tar, other bytes.
    let file = reg.blob_file(&layer);
    let mut bytes = std::fs::read(&file).expect("blob");
    bytes[4] ^= 0x55;
    std::fs::write(&file, &bytes).expect("tamper");
    let err = fails(
        env.layerscope()
            .args(["report", &format!("registry://{reference}")]),
    );
    assert_eq!(
        err,
        format!(
            "layerscope: {reference}: layer 1 ({layer}): blob digest mismatch: expected {layer}, content is sha256:{}",
            sha256_hex(&bytes)
        )
    );
    // The bad bytes were not kept in the cache.
    assert!(!env.cache_blobs().join(&layer[7..]).exists());
}

#[test]
fn diff_of_two_tags_downloads_each_shared_layer_once() {
    need_tools!("diff_two_tags");
    let reg = Registry::start("");
    let env = Env::new();
    let n = nonce();
    let base = LayerBuilder::new("ADD rootfs /")
        .file("etc/os-release", format!("ID=synth {n}\n").as_bytes())
        .file("bin/tool", &layerscope_synth::pseudo_bytes(3, 300_000));
    let r1 = format!("{}/app:1", reg.addr);
    let r2 = format!("{}/app:2", reg.addr);
    let v1 = ImageBuilder::new()
        .tag(&r1)
        .layer(base.clone())
        .layer(LayerBuilder::new("RUN v1").file("app/main.py", b"v1\n"));
    let v2 = ImageBuilder::new()
        .tag(&r2)
        .layer(base)
        .layer(LayerBuilder::new("RUN v2").file("app/main.py", b"v2 is longer\n"));
    let mut archives = Vec::new();
    for (r, img) in [(&r1, v1), (&r2, v2)] {
        archives.push(env.pushed(r, img, Compression::Gzip, &[]));
    }
    let diff = |old: &str, new: &str, extra: &[&str]| -> serde_json::Value {
        let out = env
            .layerscope()
            .args(["diff", old, new, "--format", "json"])
            .args(extra)
            .output()
            .expect("diff");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        // Where each side came from aside, the diff is the archives' diff.
        for side in ["old", "new"] {
            if let Some(o) = d[side].as_object_mut() {
                for k in ["source", "image", "name", "names"] {
                    o.remove(k);
                }
            }
        }
        d
    };
    let of_archives = diff(
        archives[0].to_str().expect("utf8"),
        archives[1].to_str().expect("utf8"),
        &[],
    );
    assert_eq!(of_archives["layers"]["shared"], 1);
    assert_eq!(of_archives["summary"]["paths"]["modified"], 1);
    // With the blob cache (shared downloads) and without it (shared scans):
    // two configs, one shared base layer, two top layers: five blobs, each
    // fetched once.
    for extra in [&[][..], &["--cache-size", "0"][..]] {
        let p = proxy(&reg.addr, Mode::Count);
        let (o, nw) = (
            r1.replacen(&reg.addr, &p.addr, 1),
            r2.replacen(&reg.addr, &p.addr, 1),
        );
        let d = diff(
            &format!("registry://{o}"),
            &format!("registry://{nw}"),
            extra,
        );
        assert_eq!(d, of_archives, "{extra:?}");
        let seen = p.seen.lock().expect("seen").clone();
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(seen.len(), 5, "{extra:?} {seen:?}");
        assert_eq!(unique.len(), 5, "{extra:?} {seen:?}");
    }
}
