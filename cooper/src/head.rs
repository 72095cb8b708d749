//! The bounded head reader: reads until the blank line that ends an HTTP head, never past a byte
//! bound, looking only at the bytes each read brought (CVE-2023-43669 was a quadratic re-scan).

use std::io::{self, Read};

use crate::Error;

/// The default bound on an HTTP head, in bytes: 8 KiB, as in common servers' request-line and
/// header limits.
pub const DEFAULT_MAX_HEAD: usize = 8 * 1024;

/// The most header lines cooper parses in one head; more is answered like an oversized head.
pub const MAX_HEADERS: usize = 64;

/// The first allocation for the head; it doubles up to the bound.
const INITIAL_BUF: usize = 1024;

/// A complete head, read into `buf[..len]`, followed by the early bytes `buf[len..]`.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) buf: Vec<u8>,
    pub(crate) len: usize,
}

impl Head {
    /// Splits off the bytes the peer sent after its head.
    pub(crate) fn into_early(mut self) -> Vec<u8> {
        self.buf.split_off(self.len)
    }
}

/// An HTTP head read in steps: the bounded reader behind [`Server::accept`] and
/// [`Client::connect`], resumable after `WouldBlock`, for event loops on non-blocking streams.
///
/// Call [`read_from`](Self::read_from) each time the stream is readable, until it returns
/// `Ok`; then answer the request with [`Server::answer`]. The reader never reads more than its
/// bound in all, looks at each byte a bounded number of times however the head is split across
/// reads, and starts with no buffer (it grows by doubling from 1 KiB up to the bound).
///
/// ```
/// # use std::io::{self, Read};
/// use lowbit_cooper::{Error, HeadReader};
///
/// /// A non-blocking stream that has received `data` so far.
/// struct Arrived<'a>(&'a [u8]);
/// impl Read for Arrived<'_> {
///     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
///         if self.0.is_empty() {
///             return Err(io::ErrorKind::WouldBlock.into());
///         }
///         let n = buf.len().min(self.0.len());
///         buf[..n].copy_from_slice(&self.0[..n]);
///         self.0 = &self.0[n..];
///         Ok(n)
///     }
/// }
///
/// let mut reader = HeadReader::new(8192);
/// let first = reader.read_from(&mut Arrived(b"GET / HTTP/1.1\r\nHost: a\r"));
/// assert!(matches!(first, Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock));
/// reader.read_from(&mut Arrived(b"\n\r\n\x81\x00")).unwrap();
/// assert_eq!(reader.head(), Some(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]));
/// assert_eq!(reader.early(), b"\x81\x00");
/// ```
///
/// [`Server::accept`]: crate::Server::accept
/// [`Server::answer`]: crate::Server::answer
/// [`Client::connect`]: crate::Client::connect
#[derive(Debug)]
pub struct HeadReader {
    buf: Vec<u8>,
    filled: usize,
    limit: usize,
    /// Where the end-of-head scan resumes.
    scan_from: usize,
    /// Bytes the scan has looked at (stays linear in the bytes read; a test checks this).
    examined: usize,
    /// The head's length, once its blank line has arrived.
    len: Option<usize>,
}

impl HeadReader {
    /// A reader for a head of at most `limit` bytes (see [`DEFAULT_MAX_HEAD`]).
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            filled: 0,
            limit,
            scan_from: 0,
            examined: 0,
            len: None,
        }
    }

    /// Reads from `stream` until the head is complete; `Ok` once it is (at once if it already
    /// was). Each read asks for at most what the bound leaves, so the bytes read after the
    /// head are bounded too.
    ///
    /// # Errors
    /// - [`Error::Io`] with `WouldBlock`: nothing is lost; call again when the stream is readable.
    /// - [`Error::Io`] with `UnexpectedEof` when the stream ends first, or the stream's error.
    /// - [`Error::HeadTooLarge`] once the bound is reached without a blank line
    ///   ([`Server::answer`](crate::Server::answer) then writes `431`).
    pub fn read_from<R: Read + ?Sized>(&mut self, stream: &mut R) -> Result<(), Error> {
        while self.len.is_none() {
            if self.filled == self.buf.len() {
                if self.buf.len() >= self.limit {
                    return Err(Error::HeadTooLarge { limit: self.limit });
                }
                let grown = (self.buf.len() * 2).max(INITIAL_BUF).min(self.limit);
                self.buf.resize(grown, 0);
            }
            let n = match stream.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "stream closed before the end of the http head",
                    )));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            };
            self.filled += n;
            self.len = find_end(
                &self.buf[..self.filled],
                &mut self.scan_from,
                &mut self.examined,
            );
        }
        Ok(())
    }

    /// The head, blank line included, once complete.
    #[must_use]
    pub fn head(&self) -> Option<&[u8]> {
        self.len.map(|len| &self.buf[..len])
    }

    /// The bytes read after the head (empty until it is complete): the peer's first bytes in
    /// the new protocol, to be read before anything else from the stream.
    #[must_use]
    pub fn early(&self) -> &[u8] {
        match self.len {
            Some(len) => &self.buf[len..self.filled],
            None => &[],
        }
    }

    /// Whether the bound was reached without the end of the head.
    #[must_use]
    pub fn is_too_large(&self) -> bool {
        self.len.is_none() && self.filled >= self.limit
    }

    /// The complete head, or `None`.
    pub(crate) fn into_head(mut self) -> Option<Head> {
        let len = self.len?;
        self.buf.truncate(self.filled);
        Some(Head { buf: self.buf, len })
    }
}

/// Reads an HTTP head from `stream` into a buffer of at most `limit` bytes (a [`HeadReader`]
/// run to completion); `examined` receives how many bytes its scan looked at.
pub(crate) fn read_head<R: Read + ?Sized>(
    stream: &mut R,
    limit: usize,
    examined: &mut usize,
) -> Result<Head, Error> {
    let mut reader = HeadReader::new(limit);
    let read = reader.read_from(stream);
    *examined = reader.examined;
    read?;
    Ok(reader
        .into_head()
        .expect("read_from returned Ok: the head is complete"))
}

/// Finds the blank line that ends a head (`\n\r\n`, or a bare `\n\n`), looking at `buf[*from..]`
/// only, and returns the head's length including that line.
///
/// On `None`, `*from` is left where the next call must resume: at most two bytes are looked at
/// again, those of a line end that may continue in the next read.
fn find_end(buf: &[u8], from: &mut usize, examined: &mut usize) -> Option<usize> {
    let mut i = *from;
    while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
        let lf = i + off;
        *examined += off + 1;
        match (buf.get(lf + 1), buf.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            (None, _) | (Some(b'\r'), None) => {
                *from = lf;
                return None;
            }
            _ => i = lf + 1,
        }
    }
    *examined += buf.len() - i;
    *from = buf.len();
    None
}

/// The text for an `httparse` error, for [`Error::Malformed`].
pub(crate) fn describe(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid response status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid http version",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// An in-memory stream: reads come from `input`, at most `chunk` bytes each; writes are
    /// collected in `output`.
    #[derive(Debug, Default)]
    pub(crate) struct Mock {
        pub(crate) input: Vec<u8>,
        pub(crate) pos: usize,
        pub(crate) chunk: usize,
        pub(crate) reads: usize,
        pub(crate) output: Vec<u8>,
    }

    impl Mock {
        pub(crate) fn new(input: &[u8], chunk: usize) -> Self {
            Self {
                input: input.to_vec(),
                chunk,
                ..Self::default()
            }
        }
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            let n = buf.len().min(self.chunk).min(self.input.len() - self.pos);
            buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn read(input: &[u8], chunk: usize, limit: usize) -> (Result<Head, Error>, usize, Mock) {
        let mut m = Mock::new(input, chunk);
        let mut examined = 0;
        let r = read_head(&mut m, limit, &mut examined);
        (r, examined, m)
    }

    #[test]
    fn finds_every_kind_of_blank_line() {
        for (input, len) in [
            (&b"GET / HTTP/1.1\r\nA: b\r\n\r\n"[..], 24),
            (b"GET / HTTP/1.1\n\n", 16),
            (b"GET / HTTP/1.1\nA: b\n\r\n", 22),
            (b"\r\n\r\n", 4),
        ] {
            for chunk in [1, 2, 3, 1000] {
                let (head, ..) = read(input, chunk, 100);
                assert_eq!(head.unwrap().len, len, "{input:?} by {chunk}");
            }
        }
    }

    #[test]
    fn a_cr_alone_does_not_end_the_head() {
        let (r, ..) = read(b"GET / HTTP/1.1\r\r\r\r", 1, 100);
        assert!(matches!(r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn early_bytes_follow_the_head_intact() {
        let input = b"GET / HTTP/1.1\r\n\r\n\x81\x05hello\r\n\r\n";
        for chunk in [1, 7, 1000] {
            let (head, ..) = read(input, chunk, 100);
            let head = head.unwrap();
            assert_eq!(head.len, 18);
            // One-byte reads stop right at the end of the head; larger ones may read further.
            let early = head.into_early();
            assert!(input[18..].starts_with(&early), "{early:?}");
            if chunk == 1000 {
                assert_eq!(early, b"\x81\x05hello\r\n\r\n");
            }
        }
    }

    #[test]
    fn never_reads_past_the_bound() {
        let mut input = b"GET / HTTP/1.1\r\nX: ".to_vec();
        input.resize(100_000, b'a');
        for chunk in [1, 5000, 100_000] {
            let (r, examined, m) = read(&input, chunk, 8192);
            assert!(
                matches!(r, Err(Error::HeadTooLarge { limit: 8192 })),
                "{r:?}"
            );
            assert_eq!(m.pos, 8192);
            assert!(examined < 2 * 8192, "{examined}");
        }
    }

    #[test]
    fn head_exactly_at_the_bound_is_accepted() {
        let mut input = b"GET / HTTP/1.1\r\nX: ".to_vec();
        input.resize(96, b'a');
        input.extend_from_slice(b"\r\n\r\n");
        let (head, ..) = read(&input, 1000, 100);
        assert_eq!(head.unwrap().len, 100);
        let (r, ..) = read(&input, 1000, 99);
        assert!(matches!(r, Err(Error::HeadTooLarge { limit: 99 })));
    }

    #[test]
    fn long_line_in_one_byte_reads_is_scanned_linearly() {
        // 100 KB in one header line, delivered one byte per read: a reader that re-scans or
        // re-parses the whole buffer after each read looks at ~5e9 bytes; this one at ~1e5.
        let mut input = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
        input.resize(100_000, b'a');
        input.extend_from_slice(b"\r\nHost: h\r\n\r\n");
        let start = std::time::Instant::now();
        let (head, examined, m) = read(&input, 1, 200_000);
        assert_eq!(head.unwrap().len, input.len());
        assert_eq!(m.reads, input.len());
        assert!(examined <= 2 * input.len(), "examined {examined} bytes");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn eof_and_errors_surface_as_io() {
        let (r, ..) = read(b"GET / HTTP/1.1\r\n", 4, 100);
        assert!(matches!(r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof));

        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                // The first call is interrupted and must be retried; the second fails.
                let kind = if std::mem::replace(&mut self.0, true) {
                    io::ErrorKind::ConnectionReset
                } else {
                    io::ErrorKind::Interrupted
                };
                Err(kind.into())
            }
        }
        let r = read_head(&mut Failing(false), 100, &mut 0);
        assert!(matches!(r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset));
    }
}
