//! The one place a compressed stream gets its decoder: the magic bytes that
//! tell gzip, zstd or plain (and name xz and bzip2, which are refused), and
//! one decoder constructor with one set of limits. Archive spooling, the
//! layer pipeline, the content viewer and extraction all open streams here.

use std::io::{self, BufRead, Read};

use super::Compression;

/// The largest zstd window accepted, as a power of two (2^27 = 128 MiB):
/// a frame may ask for up to 2 GiB of window memory, so a hostile blob
/// could make one small header cost that much.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The magic bytes: every stream's compression is decided here, from its
/// first bytes (never from a name or a media type, which may lie).
impl Compression {
    /// Decide from the first bytes of a stream.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A compression `docker load` accepts that is left to other tools,
    /// named from the magic bytes (as the others are).
    pub fn unsupported(head: &[u8]) -> Option<&'static str> {
        if head.starts_with(&[0xfd, b'7', b'z', b'X']) {
            Some("xz")
        } else if head.starts_with(b"BZh") {
            Some("bzip2")
        } else {
            None
        }
    }
}

/// A decompressing reader over `R`; [`Decoder::into_inner`] gives back the
/// source with whatever follows the compressed stream.
// One decoder per open stream: the gzip state's size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Decoder<R: BufRead> {
    Plain(R),
    Gzip(flate2::bufread::MultiGzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: BufRead> Decoder<R> {
    /// A decoder for `compression` over `r`.
    pub fn new(compression: Compression, r: R) -> io::Result<Decoder<R>> {
        Ok(match compression {
            Compression::None => Decoder::Plain(r),
            Compression::Gzip => Decoder::Gzip(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(r)?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Decoder::Zstd(d)
            }
        })
    }

    /// A decoder for whatever `r` starts with (peeked, not consumed).
    pub fn detect(mut r: R) -> io::Result<(Compression, Decoder<R>)> {
        let compression = Compression::detect(r.fill_buf()?);
        Ok((compression, Decoder::new(compression, r)?))
    }

    /// The source, positioned after the compressed stream.
    pub fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_magic_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, b"hello").expect("write");
        let blob = gz.finish().expect("gzip");
        let (c, mut d) = Decoder::detect(io::BufReader::new(&blob[..])).expect("decoder");
        assert_eq!(c, Compression::Gzip);
        let mut out = String::new();
        d.read_to_string(&mut out).expect("read");
        assert_eq!(out, "hello");
        assert!(d.into_inner().fill_buf().expect("rest").is_empty());

        let z = zstd::encode_all(&b"zzz"[..], 3).expect("zstd");
        let (c, mut d) = Decoder::detect(&z[..]).expect("decoder");
        assert_eq!(c, Compression::Zstd);
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"zzz");

        let (c, mut d) = Decoder::detect(&b"plain"[..]).expect("decoder");
        assert_eq!(c, Compression::None);
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"plain");
    }

    #[test]
    fn a_zstd_window_over_the_cap_is_refused() {
        // A frame whose header asks for a 2^28-byte window: one over the
        // cap (streamed, so the header declares the window, not the size).
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("encoder");
        enc.set_parameter(zstd::zstd_safe::CParameter::WindowLog(28))
            .expect("window");
        io::Write::write_all(&mut enc, &[0u8; 4096]).expect("write");
        let z = enc.finish().expect("zstd");
        let (_, mut d) = Decoder::detect(&z[..]).expect("decoder");
        let err = d.read_to_end(&mut Vec::new()).expect_err("over the cap");
        assert!(
            err.to_string().contains("Frame requires too much memory"),
            "{err}"
        );
    }
}
