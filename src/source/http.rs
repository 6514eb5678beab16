//! A minimal HTTP/1.1 client for the container engines' local APIs (the
//! Docker Engine API and podman's Docker-compatible API) over a unix socket
//! or plain TCP. One request per connection (`Connection: close`); the head
//! is parsed with httparse, a chunked body decoded with chunked_transfer.
//! A body that ends before its declared end is an error, never a quiet EOF:
//! a cut stream must not pass for a whole image.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Where an engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A unix socket path.
    Unix(PathBuf),
    /// `host:port`, plain HTTP.
    Tcp(String),
}

impl Endpoint {
    /// Parse `unix:///path`, `tcp://host:port` (`http://` too) or a bare
    /// socket path, as `DOCKER_HOST` and `CONTAINER_HOST` spell them.
    pub fn parse(s: &str) -> Option<Endpoint> {
        if let Some(p) = s.strip_prefix("unix://") {
            return (!p.is_empty()).then(|| Endpoint::Unix(PathBuf::from(p)));
        }
        if let Some(h) = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let h = h.trim_end_matches('/');
            return (!h.is_empty()).then(|| Endpoint::Tcp(h.to_string()));
        }
        s.starts_with('/').then(|| Endpoint::Unix(PathBuf::from(s)))
    }

    /// `unix:///var/run/docker.sock`, `tcp://host:2375`.
    pub fn url(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp(h) => format!("tcp://{h}"),
        }
    }

    fn connect(&self, timeout: Option<Duration>) -> io::Result<Box<dyn Conn>> {
        match self {
            #[cfg(unix)]
            Endpoint::Unix(p) => {
                let s = UnixStream::connect(p)?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(Some(Duration::from_secs(30)))?;
                Ok(Box::new(s))
            }
            #[cfg(not(unix))]
            Endpoint::Unix(_) => Err(io::ErrorKind::Unsupported.into()),
            Endpoint::Tcp(h) => {
                let s = TcpStream::connect(h.as_str())?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(Some(Duration::from_secs(30)))?;
                Ok(Box::new(s))
            }
        }
    }
}

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// A response: status, reason and the body as a reader.
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub body: Box<dyn Read + Send>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// Read a small body whole (JSON, an error message), at most `limit` bytes.
    pub fn text(mut self, limit: u64) -> io::Result<String> {
        let mut buf = Vec::new();
        (&mut self.body).take(limit).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// The engine's error message: `{"message": "…"}`, else the body.
    pub fn error_message(self) -> String {
        let status = self.status;
        let text = self.text(64 << 10).unwrap_or_default();
        let msg = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| text.trim().to_string());
        format!("{status}: {msg}")
    }
}

/// Percent-encode a path segment that may hold `/`, `:` and `@` (image
/// names), keeping those: the engines route `/images/{name:.*}/get`.
pub fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Send one request and read the response head. `timeout` bounds each read
/// (None: wait as long as it takes, for an export that spools first).
pub fn request(
    ep: &Endpoint,
    method: &str,
    path: &str,
    body: Option<(&str, &mut dyn Read)>,
    timeout: Option<Duration>,
) -> io::Result<Response> {
    let mut conn = ep.connect(timeout)?;
    let host = match ep {
        Endpoint::Unix(_) => "localhost",
        Endpoint::Tcp(h) => h.as_str(),
    };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: layerscope/{}\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    );
    match body {
        Some((content_type, reader)) => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            ));
            conn.write_all(head.as_bytes())?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                write!(conn, "{n:x}\r\n")?;
                conn.write_all(&buf[..n])?;
                conn.write_all(b"\r\n")?;
            }
            conn.write_all(b"0\r\n\r\n")?;
        }
        None => {
            head.push_str("\r\n");
            conn.write_all(head.as_bytes())?;
        }
    }
    conn.flush()?;
    let resp = read_response(BufReader::with_capacity(1 << 18, conn));
    match &resp {
        Ok(r) => log::info!("{method} {}{path}: {} {}", ep.url(), r.status, r.reason),
        Err(e) => log::info!("{method} {}{path}: {e}", ep.url()),
    }
    resp
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn read_response<R: BufRead + Send + 'static>(mut r: R) -> io::Result<Response> {
    // The head: up to the blank line, at most 64 KiB.
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a response",
            ));
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > 64 << 10 {
            return Err(bad("response head larger than 64 KiB"));
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(bad("incomplete response head")),
        Err(e) => return Err(bad(format!("not an HTTP response ({e})"))),
    }
    let status = parsed.code.unwrap_or(0);
    let reason = parsed.reason.unwrap_or("").to_string();
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Fuse::new(chunked_transfer::Decoder::new(NoEof(r))))
    } else if let Some(len) = length {
        Box::new(Exact {
            inner: r,
            left: len,
        })
    } else {
        Box::new(r)
    };
    Ok(Response {
        status,
        reason,
        body,
    })
}

const CUT: &str = "the connection closed in the middle of the response";

/// Under a chunked decoder the connection must not end before the last
/// chunk: its EOF is an error.
struct NoEof<R>(R);

impl<R: Read> Read for NoEof<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, CUT));
        }
        Ok(n)
    }
}

/// A chunked decoder reads past its end if asked again after it returned 0.
/// Its own errors say only "Error while decoding chunks"; a cut connection
/// keeps the message above.
struct Fuse<R> {
    inner: R,
    done: bool,
}

impl<R> Fuse<R> {
    fn new(inner: R) -> Self {
        Fuse { inner, done: false }
    }
}

impl<R: Read> Read for Fuse<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidInput {
                bad("malformed chunked body")
            } else {
                e
            }
        })?;
        if n == 0 {
            self.done = true;
        }
        Ok(n)
    }
}

/// A body of a declared length: ending early is an error.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, CUT));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(raw: &[u8]) -> io::Result<(u16, String)> {
        let r = read_response(BufReader::new(Cursor::new(raw.to_vec())))?;
        let status = r.status;
        let mut body = Vec::new();
        let mut b = r.body;
        b.read_to_end(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    #[test]
    fn bodies_by_length_chunks_and_close() {
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").unwrap(),
            (200, "hello".into())
        );
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n")
                .unwrap(),
            (200, "hello".into())
        );
        assert_eq!(
            parse(b"HTTP/1.1 404 Not Found\r\n\r\n{\"message\":\"no\"}").unwrap(),
            (404, "{\"message\":\"no\"}".into())
        );
    }

    #[test]
    fn a_cut_body_is_an_error() {
        let e = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello").unwrap_err();
        assert_eq!(e.to_string(), CUT);
        let e =
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").unwrap_err();
        assert_eq!(e.to_string(), CUT);
        let e = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            .unwrap_err();
        assert_eq!(e.to_string(), CUT);
        assert!(parse(b"garbage\r\n\r\n").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock"),
            Some(Endpoint::Unix("/var/run/docker.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375"),
            Some(Endpoint::Tcp("127.0.0.1:2375".into()))
        );
        assert_eq!(Endpoint::parse("ssh://host"), None);
        assert_eq!(encode_name("a/b:c@sha256:1 x"), "a/b:c@sha256:1%20x");
    }
}
