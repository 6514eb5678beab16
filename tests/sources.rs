//! Image references and the daemon sources (issue 13). The first tests run
//! everywhere: a missing or dead daemon, and a fake Engine API on a unix
//! socket (a whole export, a stream cut in the middle, a multi-image
//! export). The last three run the real engines (podman, dockerd,
//! containerd) through `scripts/services.sh`, each in a private temp
//! directory, and skip with one line when the program is not installed.
// See: issue 13.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use layerscope_synth::{docker_legacy_multi, Compression, ImageBuilder, LayerBuilder};

fn image(tag: &str) -> ImageBuilder {
    ImageBuilder::new()
        .tag(tag)
        .layer(
            LayerBuilder::new("ADD rootfs /")
                .dir("etc")
                .file("etc/os-release", b"ID=synth\n")
                .file("bin/tool", &[7u8; 3000])
                .symlink("bin/sh", "tool"),
        )
        .layer(
            LayerBuilder::new("RUN update")
                .file("etc/os-release", b"ID=synth\nVERSION=2\n")
                .file("var/cache/big", &[1u8; 20000]),
        )
        .layer(LayerBuilder::new("RUN clean").whiteout("var/cache/big"))
}

/// The binary with no engine of the machine in reach: every socket the
/// sources look at points into `dir`.
fn bin(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("layerscope").expect("binary");
    c.env(
        "DOCKER_HOST",
        format!("unix://{}/none-docker.sock", dir.display()),
    )
    .env(
        "CONTAINER_HOST",
        format!("unix://{}/none-podman.sock", dir.display()),
    )
    .env("XDG_RUNTIME_DIR", dir)
    .env("CONTAINERD_ADDRESS", dir.join("none-containerd.sock"))
    .env("LAYERSCOPE_PODMAN", dir.join("no-podman"))
    .env_remove("CI");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The JSON report without `image.source`, which names where it came from.
fn report_json(c: &mut Command) -> (serde_json::Value, serde_json::Value) {
    let (code, out, err) = run(c.args(["--format", "json"]));
    assert_eq!(code, 0, "stderr: {err}");
    let mut v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let source = v["image"]["source"].take();
    (v, source)
}

#[test]
fn missing_daemons_are_one_line_naming_what_was_tried() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let (code, out, err) =
        run(bin(dir.path()).args(["report", "--source", "docker", "nginx:latest"]));
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!("layerscope: nginx:latest: not found in the Docker daemon (no socket at {d}/none-docker.sock)\n")
    );
    // A socket file nobody listens on: the daemon is not running.
    let dead = dir.path().join("dead.sock");
    drop(UnixListener::bind(&dead).unwrap());
    let (code, _, err) = run(bin(dir.path())
        .env("DOCKER_HOST", format!("unix://{}", dead.display()))
        .args(["report", "docker://nginx"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("layerscope: nginx: not found in the Docker daemon (not running: {d}/dead.sock refuses connections)\n")
    );
    // The default order: docker, podman, then the registry.
    let (code, _, err) = run(bin(dir.path()).args(["report", "nginx:latest"]));
    assert_eq!(code, 2);
    let want = format!(
        "layerscope: nginx:latest: not found in the Docker daemon (no socket at {d}/none-docker.sock), podman (CONTAINER_HOST does not answer), or docker.io ("
    );
    assert!(err.starts_with(&want), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // No socket and no podman program.
    let (_, _, err) = run(bin(dir.path())
        .env_remove("CONTAINER_HOST")
        .args(["report", "podman://nginx"]));
    assert_eq!(err, "layerscope: nginx: not found in podman (no socket)\n");
    let (_, _, err) = run(bin(dir.path()).args(["report", "containerd://nginx"]));
    assert_eq!(
        err,
        format!(
            "layerscope: nginx: not found in containerd (no socket at {d}/none-containerd.sock)\n"
        )
    );
    // A missing file that looks like one, and a path that is no reference.
    let (_, _, err) = run(bin(dir.path()).args(["report", "--source", "docker", "app.tar"]));
    assert_eq!(
        err,
        format!("layerscope: app.tar: no such file or directory, and not found in the Docker daemon (no socket at {d}/none-docker.sock)\n")
    );
    let (_, _, err) = run(bin(dir.path()).args(["report", "./app.tar"]));
    assert_eq!(
        err,
        "layerscope: ./app.tar: No such file or directory (os error 2)\n"
    );
    let (_, _, err) = run(bin(dir.path()).args(["report", "docker://Nginx"]));
    assert_eq!(
        err,
        "layerscope: Nginx: not an image reference (invalid reference format)\n"
    );
}

/// A malformed host variable, a `ctr` that is not installed and a `ctr`
/// that fails each keep their words in the one "not found in" line (the
/// library carries them as `Error::Daemon` with a `DaemonFault` of their
/// kind until then).
// See: issue 11.
#[test]
fn daemon_faults_keep_their_words_in_the_not_found_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin(dir.path())
        .env("DOCKER_HOST", "ftp://example")
        .args(["report", "docker://nginx"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "layerscope: nginx: not found in the Docker daemon (DOCKER_HOST=ftp://example: only unix:// and tcp:// are supported)\n"
    );
    let (_, _, err) = run(bin(dir.path())
        .env("CONTAINER_HOST", "ftp://example")
        .args(["report", "podman://nginx"]));
    assert_eq!(
        err,
        "layerscope: nginx: not found in podman (CONTAINER_HOST=ftp://example: only unix:// and tcp:// are supported)\n"
    );
    // A socket path that exists, so `ctr` is asked.
    let sock = dir.path().join("containerd.sock");
    std::fs::write(&sock, b"").unwrap();
    let (code, _, err) = run(bin(dir.path())
        .env("CONTAINERD_ADDRESS", &sock)
        .env("LAYERSCOPE_CTR", dir.path().join("no-ctr"))
        .args(["report", "containerd://nginx"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "layerscope: nginx: not found in containerd (ctr is not installed)\n"
    );
    let fake = dir.path().join("ctr");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'ctr: something went wrong' >&2\necho 'ctr: connection error: desc = refused' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, err) = run(bin(dir.path())
        .env("CONTAINERD_ADDRESS", &sock)
        .env("LAYERSCOPE_CTR", &fake)
        .args(["report", "containerd://nginx"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "layerscope: nginx: not found in containerd (ctr failed: ctr: connection error: desc = refused)\n"
    );
}

/// A fake Engine API: answers `/images/NAME/json` for `name` and streams
/// `body` for `/images/NAME/get`, cut after `cut` bytes when given.
fn fake_daemon(
    sock: PathBuf,
    name: &'static str,
    body: Vec<u8>,
    cut: Option<usize>,
) -> std::thread::JoinHandle<()> {
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        // A few lookups at most, then the export (or nothing more).
        for conn in listener.incoming().take(4) {
            let Ok(mut conn) = conn else { return };
            let mut line = String::new();
            let mut r = BufReader::new(conn.try_clone().unwrap());
            r.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let wanted = |suffix: &str| path == format!("/images/{name}/{suffix}");
            if wanted("json") {
                let j = br#"{"Id":"sha256:feedface"}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    j.len()
                );
                let _ = conn.write_all(j);
            } else if wanted("get") {
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                );
                let send = &body[..cut.unwrap_or(body.len())];
                for c in send.chunks(10_000) {
                    let _ = write!(conn, "{:x}\r\n", c.len());
                    let _ = conn.write_all(c);
                    let _ = conn.write_all(b"\r\n");
                }
                if cut.is_none() {
                    let _ = conn.write_all(b"0\r\n\r\n");
                }
                return;
            } else {
                let j = br#"{"message":"No such image"}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n",
                    j.len()
                );
                let _ = conn.write_all(j);
            }
        }
    })
}

#[test]
fn a_daemon_stream_reports_like_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let img = image("app:1");
    for archive in [img.docker_legacy(), img.docker_oci(Compression::Gzip)] {
        let file = dir.path().join("app.tar");
        std::fs::write(&file, &archive).unwrap();
        let sock = dir.path().join("fake.sock");
        let _ = std::fs::remove_file(&sock);
        let server = fake_daemon(sock.clone(), "app:1", archive, None);
        let (want, _) = report_json(bin(dir.path()).args(["report"]).arg(&file));
        let (got, source) = report_json(
            bin(dir.path())
                .env("DOCKER_HOST", format!("unix://{}", sock.display()))
                .args(["report", "app:1"]),
        );
        server.join().unwrap();
        assert_eq!(got, want);
        assert_eq!(
            source,
            serde_json::json!({
                "kind": "docker", "input": "app:1",
                "reference": "docker.io/library/app:1",
                "endpoint": format!("unix://{}", sock.display()),
                "image_id": "sha256:feedface"
            })
        );
    }
}

/// Run layerscope with `args` against a fake Docker daemon serving app:1:
/// the exit code, stderr and the daemon's endpoint.
fn with_fake_daemon(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("fake.sock");
    let server = fake_daemon(sock.clone(), "app:1", image("app:1").docker_legacy(), None);
    let ep = format!("unix://{}", sock.display());
    let (code, _, err) = run(bin(dir.path()).env("DOCKER_HOST", &ep).args(args));
    server.join().unwrap();
    (code, err, ep)
}

/// `-v`: each source asked, each daemon request with its status.
#[test]
fn verbose_says_each_source_and_request() {
    let (code, err, ep) = with_fake_daemon(&["-v", "report", "app:1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            "layerscope: app:1: asking docker".to_string(),
            format!("layerscope: GET {ep}/images/app:1/json: 200 OK"),
            format!("layerscope: GET {ep}/images/app:1/get: 200 OK"),
            "layerscope: app:1: found in docker".to_string(),
        ]
    );
}

#[test]
fn the_spool_is_bounded_by_max_input_bytes() {
    let (code, err, _) =
        with_fake_daemon(&["report", "docker://app:1", "--max-input-bytes", "20000"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "layerscope: app:1: the image from the Docker daemon is larger than 19.53 KiB (20000 bytes), the limit for a stream (raise it with --max-input-bytes)\n"
    );
}

#[test]
fn a_stream_cut_in_the_middle_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let archive = image("app:1").docker_legacy();
    let sock = dir.path().join("fake.sock");
    let half = archive.len() / 2;
    let server = fake_daemon(sock.clone(), "app:1", archive, Some(half));
    let (code, out, err) = run(bin(dir.path())
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .args(["report", "docker://app:1"]));
    server.join().unwrap();
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        format!("layerscope: app:1: the image stream from the Docker daemon broke off after {half} bytes: the connection closed in the middle of the response\n")
    );
}

#[test]
fn an_export_holding_several_images_asks_which() {
    let dir = tempfile::tempdir().unwrap();
    let archive = docker_legacy_multi(&[image("app:1"), image("app:2")]);
    let sock = dir.path().join("fake.sock");
    // `app` is asked for as `app:latest` (never as a bare repository,
    // which dockerd exports with every tag); this daemon answers with two.
    let server = fake_daemon(sock.clone(), "app:latest", archive, None);
    let (code, _, err) = run(bin(dir.path())
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .args(["report", "--source", "docker", "app"]));
    server.join().unwrap();
    assert_eq!(code, 2);
    assert!(
        err.starts_with("layerscope: app: holds 2 images; choose one with --image NAME|DIGEST|N or --platform OS/ARCH: [0] app:1"),
        "{err}"
    );
}

/// Before the first byte the explorer says what it waits for, then counts
/// what streams in.
#[cfg(feature = "tui")]
#[test]
fn the_explorer_says_the_daemon_is_exporting() {
    use layerscope::load::Progress;
    use layerscope::tui::config::{Config, Theme, ThemeName};
    use layerscope::tui::state::AppState;
    use layerscope::tui::update::{apply, Msg};
    let progress = std::sync::Arc::new(Progress::default());
    progress.set_note(Some("the Docker daemon is exporting app:1…".into()));
    let cfg = Config {
        theme: Theme::new(ThemeName::None),
        ..Config::default()
    };
    let mut s = AppState::new("app:1".into(), progress.clone(), cfg);
    apply(&mut s, Msg::Resize(80, 24));
    let screen = |s: &AppState| {
        common::screen::render(80, 24, |area, buf| {
            layerscope::tui::view::draw(s, area, buf)
        })
    };
    let text = screen(&s);
    assert!(
        text.contains("the Docker daemon is exporting app:1…"),
        "{text}"
    );
    progress.set_note(None);
    progress
        .bytes_done
        .store(3 << 20, std::sync::atomic::Ordering::Relaxed);
    let text = screen(&s);
    assert!(text.contains("Receiving image   3"), "{text}");
}

// ---- the real engines --------------------------------------------------

/// Is `program` installed? Prints the skip line when not.
fn have(program: &str, test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()));
    if !found {
        eprintln!("skipped {test}: {program} is not installed (.ci/run installs it)");
    }
    found
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services.sh")
}

/// A private engine, stopped (by its pid) when dropped.
struct Service {
    kind: &'static str,
    dir: tempfile::TempDir,
    sock: PathBuf,
}

impl Service {
    fn start(kind: &'static str, test: &str) -> Option<Service> {
        Service::start_with(kind, test, &[])
    }

    /// Started with `env` (`DOCKER_TCP=127.0.0.1:PORT`) for the script.
    fn start_with(kind: &'static str, test: &str, env: &[(&str, &str)]) -> Option<Service> {
        // Short paths: a unix socket path has at most 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("ls-")
            .tempdir_in("/tmp")
            .unwrap();
        let out = Command::new(script())
            .envs(env.iter().copied())
            .args(["start", kind])
            .arg(dir.path())
            .output()
            .expect("services.sh");
        if !out.status.success() {
            eprintln!(
                "skipped {test}: {kind} did not start here: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return None;
        }
        let sock = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Some(Service { kind, dir, sock })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", self.kind])
            .arg(self.dir.path())
            .status();
    }
}

fn check(c: &mut Command) -> String {
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "{:?}: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same image by name, short ID and full ID; a missing one.
fn by_name_and_id(
    mk: &dyn Fn() -> Command,
    kind: &str,
    name: &str,
    id: &str,
    want: &serde_json::Value,
) {
    for r in [name.to_string(), id[7..19].to_string(), id.to_string()] {
        let (mut got, source) = report_json(mk().args(["report", &format!("{kind}://{r}")]));
        let mut want = want.clone();
        if r != name {
            // Exported by ID, the archive names no tag (as `docker save ID`).
            assert_eq!(got["image"]["names"], serde_json::json!([]), "{kind}://{r}");
            for v in [&mut got, &mut want] {
                v["image"]["name"].take();
                v["image"]["names"].take();
            }
        }
        assert_eq!(got, want, "{kind}://{r}");
        assert_eq!(source["kind"], kind);
        assert_eq!(source["input"], r.as_str());
    }
}

#[test]
fn podman_socket_and_command() {
    let t = "podman_socket_and_command";
    if !have("podman", t) {
        return;
    }
    let Some(svc) = Service::start("podman", t) else {
        return;
    };
    let d = svc.dir.path();
    let podman = |args: &[&str]| {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(d.join("podman-root"))
            .arg("--runroot")
            .arg(d.join("podman-run"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        c
    };
    let file = d.join("app.tar");
    std::fs::write(&file, image("docker.io/library/app:1").docker_legacy()).unwrap();
    check(podman(&["load", "-i"]).arg(&file));
    let id = format!(
        "sha256:{}",
        check(&mut podman(&[
            "image", "inspect", "--format", "{{.Id}}", "app:1"
        ]))
        .trim()
    );
    // What `podman save` (docker-archive) gives is the reference.
    let saved = d.join("saved.tar");
    check(
        podman(&["save", "--format", "docker-archive", "-o"])
            .arg(&saved)
            .arg("app:1"),
    );
    let (want, _) = report_json(bin(d).args(["report"]).arg(&saved));
    let sock = svc.sock.clone();
    let via_socket = || {
        let mut c = bin(d);
        c.env("CONTAINER_HOST", format!("unix://{}", sock.display()));
        c
    };
    by_name_and_id(&via_socket, "podman", "app:1", &id, &want);
    let (_, _, err) = run(via_socket().args(["report", "podman://missing:1"]));
    assert_eq!(
        err,
        format!(
            "layerscope: missing:1: not found in podman ({})\n",
            sock.display()
        )
    );
    // No socket: `podman image save`, with the same storage.
    let conf = d.join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            d.join("podman-root").display(),
            d.join("podman-run").display()
        ),
    )
    .unwrap();
    let via_command = || {
        let mut c = bin(d);
        c.env_remove("CONTAINER_HOST")
            .env_remove("LAYERSCOPE_PODMAN")
            .env("CONTAINERS_STORAGE_CONF", &conf);
        c
    };
    let (got, source) = report_json(via_command().args(["report", "podman://app:1"]));
    assert_eq!(got, want);
    assert_eq!(source["endpoint"], "podman image save");
    let (_, _, err) = run(via_command().args(["report", "podman://missing:1"]));
    assert_eq!(
        err,
        "layerscope: missing:1: not found in podman (no socket; not in its storage)\n"
    );
}

#[test]
fn docker_daemon() {
    let t = "docker_daemon";
    if !have("dockerd", t) || !have("curl", t) {
        return;
    }
    // Also on loopback TCP, for DOCKER_HOST=tcp://… (plain HTTP).
    let tcp_addr = format!("127.0.0.1:{}", free_port());
    let Some(svc) = Service::start_with("docker", t, &[("DOCKER_TCP", &tcp_addr)]) else {
        return;
    };
    let d = svc.dir.path();
    let archive = image("app:1").docker_legacy();
    let file = d.join("app.tar");
    std::fs::write(&file, &archive).unwrap();
    let api = |args: &[&str]| {
        let mut c = Command::new("curl");
        c.args(["-sf", "--unix-socket"]).arg(&svc.sock).args(args);
        c
    };
    let data = format!("@{}", file.display());
    check(&mut api(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/x-tar",
        "--data-binary",
        &data,
        "http://localhost/images/load",
    ]));
    let inspect: serde_json::Value =
        serde_json::from_str(&check(&mut api(&["http://localhost/images/app:1/json"]))).unwrap();
    let id = inspect["Id"].as_str().unwrap().to_string();
    // dockerd 20.10 saves the legacy layout: the same archive, byte for
    // byte in every figure.
    let (want, _) = report_json(bin(d).args(["report"]).arg(&file));
    let sock = svc.sock.clone();
    let mk = || {
        let mut c = bin(d);
        c.env("DOCKER_HOST", format!("unix://{}", sock.display()));
        c
    };
    by_name_and_id(&mk, "docker", "app:1", &id, &want);
    // A bare reference: found in the Docker daemon first.
    let (got, source) = report_json(mk().args(["report", "app:1"]));
    assert_eq!(got, want);
    assert_eq!(source["kind"], "docker");
    let (code, _, err) = run(mk().args(["report", "--source", "docker", "missing:1"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "layerscope: missing:1: not found in the Docker daemon ({})\n",
            sock.display()
        )
    );

    // The same daemon through DOCKER_HOST=tcp://127.0.0.1:PORT.
    // See: issue #13 "DOCKER_HOST unix:// and tcp:// plain".
    let tcp = || {
        let mut c = bin(d);
        c.env("DOCKER_HOST", format!("tcp://{tcp_addr}"));
        c
    };
    by_name_and_id(&tcp, "docker", "app:1", &id, &want);
    let (_, source) = report_json(tcp().args(["report", "app:1"]));
    assert_eq!(source["kind"], "docker");
    assert_eq!(source["endpoint"], format!("tcp://{tcp_addr}"));
    let (code, _, err) = run(tcp().args(["report", "--source", "docker", "missing:1"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("layerscope: missing:1: not found in the Docker daemon (tcp://{tcp_addr})\n")
    );
    // Nothing listening on that port: said in the one line.
    let dead = format!("127.0.0.1:{}", free_port());
    let (code, _, err) = run(bin(d)
        .env("DOCKER_HOST", format!("tcp://{dead}"))
        .args(["report", "--source", "docker", "app:1"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("layerscope: app:1: not found in the Docker daemon (not running: tcp://{dead} refuses connections)\n")
    );
}

/// A loopback port nothing listens on (at the time of asking).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn containerd_ctr_export() {
    let t = "containerd_ctr_export";
    if !have("containerd", t) || !have("ctr", t) {
        return;
    }
    let Some(svc) = Service::start("containerd", t) else {
        return;
    };
    let d = svc.dir.path();
    let file = d.join("app.tar");
    std::fs::write(&file, image("app:1").docker_legacy()).unwrap();
    let ctr = |ns: &str, args: &[&str]| {
        let mut c = Command::new("ctr");
        c.arg("--address")
            .arg(&svc.sock)
            .args(["-n", ns])
            .args(args);
        c
    };
    check(ctr("k8s.io", &["images", "import"]).arg(&file));
    let saved = d.join("saved.tar");
    check(
        ctr("k8s.io", &["images", "export"])
            .arg(&saved)
            .arg("docker.io/library/app:1"),
    );
    let (want, _) = report_json(bin(d).args(["report"]).arg(&saved));
    let digest = check(&mut ctr("k8s.io", &["images", "ls", "-q"]));
    assert_eq!(digest.trim(), "docker.io/library/app:1");
    let list = check(&mut ctr("k8s.io", &["images", "ls"]));
    let manifest = list
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_string();
    let mk = || {
        let mut c = bin(d);
        c.env("CONTAINERD_ADDRESS", &svc.sock);
        c
    };
    for r in ["app:1", "k8s.io/app:1", &manifest, &manifest[7..19]] {
        let (got, source) = report_json(mk().args(["report", &format!("containerd://{r}")]));
        assert_eq!(got, want, "containerd://{r}");
        assert_eq!(source["namespace"], "k8s.io");
        assert_eq!(source["kind"], "containerd");
    }
    let (_, _, err) = run(mk().args(["report", "containerd://missing:1"]));
    assert_eq!(
        err,
        format!(
            "layerscope: missing:1: not found in containerd ({}, namespaces k8s.io)\n",
            svc.sock.display()
        )
    );
    let mut f = std::fs::File::open(&saved).unwrap();
    let mut head = [0u8; 1];
    f.read_exact(&mut head).unwrap();
}
