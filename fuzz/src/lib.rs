//! What the fuzz targets share: a stream over the fuzz input and the oracles they check against.
//! Kept here so each target stays a few lines long and nothing is copied between them.

use std::io::{self, Read, Write};

use lowbit_websockets::{CloseCode, Conn, Decoded, Error, Header, OpCode, Role};

/// A `Read + Write` stream that reads the fuzz input and records what is written.
/// When `schedule` is not empty, each read takes its next byte: 0 is a `WouldBlock`, `n` caps
/// the read at `n` bytes (so short reads and stalls land wherever the fuzzer chooses).
pub struct Replay<'a> {
    input: &'a [u8],
    schedule: &'a [u8],
    step: usize,
    stalled: bool,
    /// Everything the connection wrote.
    pub written: Vec<u8>,
}

impl<'a> Replay<'a> {
    /// A stream over `input`, reading whole slices (no stalls).
    pub fn new(input: &'a [u8]) -> Self {
        Self::with_schedule(input, &[])
    }

    /// A stream over `input` whose reads follow `schedule`.
    pub fn with_schedule(input: &'a [u8], schedule: &'a [u8]) -> Self {
        Self {
            input,
            schedule,
            step: 0,
            stalled: false,
            written: Vec::new(),
        }
    }
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = buf.len().min(self.input.len());
        if !self.schedule.is_empty() {
            let cap = self.schedule[self.step % self.schedule.len()];
            self.step += 1;
            // Never two stalls in a row, so a reader that retries always makes progress.
            if cap == 0 && !self.stalled {
                self.stalled = true;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.stalled = false;
            n = n.min(usize::from(cap.max(1)));
        }
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connection configuration from one fuzz byte: the role (bit 0), a read limit and a chunk size
/// small enough that the limit and the direct-read path are reached.
pub fn config(byte: u8) -> (Role, usize, usize) {
    let role = if byte & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let limit = 1 + usize::from(byte >> 1 & 0x0F) * 97;
    let chunk = 1 + usize::from(byte >> 5) * 300;
    (role, limit, chunk)
}

/// Checks what a connection in `role` wrote: whole frames, masked as the role requires, control
/// frames only (a reader writes pongs and closes), nothing after a close frame.
pub fn check_written(role: Role, mut bytes: &[u8]) {
    let mut closed = false;
    while !bytes.is_empty() {
        assert!(!closed, "bytes after a close frame");
        let Ok(Decoded::Complete { header, len }) = Header::decode(bytes) else {
            panic!("a partial or bad frame was written: {bytes:?}");
        };
        assert_eq!(header.mask.is_some(), role.masks_outgoing());
        assert!(matches!(header.opcode, OpCode::Pong | OpCode::Close));
        closed = header.opcode == OpCode::Close;
        bytes = &bytes[len + header.payload_len as usize..];
    }
}

/// Splits `data` into up to three pieces at two points chosen by `a` and `b`.
pub fn split3(data: &[u8], a: u8, b: u8) -> [&[u8]; 3] {
    let (x, y) = (
        usize::from(a) % (data.len() + 1),
        usize::from(b) % (data.len() + 1),
    );
    let (lo, hi) = (x.min(y), x.max(y));
    [&data[..lo], &data[lo..hi], &data[hi..]]
}

/// The piece at which an incremental validator must fail (`pieces.len()` for "at the end"),
/// or `None` when the whole is valid UTF-8: the first piece after which the bytes seen so far
/// cannot start valid UTF-8.
pub fn utf8_failure_piece(pieces: &[&[u8]]) -> Option<usize> {
    let whole: Vec<u8> = pieces.concat();
    let mut seen = 0;
    for (i, p) in pieces.iter().enumerate() {
        seen += p.len();
        if let Err(e) = std::str::from_utf8(&whole[..seen]) {
            if e.error_len().is_some() {
                return Some(i);
            }
        }
    }
    std::str::from_utf8(&whole).is_err().then_some(pieces.len())
}

/// Masks byte by byte, the RFC 6455 §5.3 definition.
pub fn mask_scalar(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(offset + i) % 4];
    }
}

/// Asserts that every proper prefix of a `len`-byte header decodes as incomplete, asking for
/// more bytes than it has and no more than the header takes.
pub fn assert_prefixes_incomplete(data: &[u8], len: usize) {
    for cut in 0..len {
        match Header::decode(&data[..cut]) {
            Ok(Decoded::Incomplete { needed }) => assert!(cut < needed && needed <= len),
            other => panic!("prefix of {cut} bytes of a {len}-byte header: {other:?}"),
        }
    }
}

/// What a reader saw: every message, then how reading ended (the close code the error sent,
/// or `None` for a plain end of input), then the frames written back, unmasked.
pub type Transcript = (
    Vec<(OpCode, Vec<u8>)>,
    Option<CloseCode>,
    Vec<(OpCode, Vec<u8>)>,
);

/// Reads messages until an error other than `WouldBlock`, retrying the same call after each
/// `WouldBlock` with the same buffer, as the resumption contract asks.
pub fn read_all(mut conn: Conn<Replay<'_>>) -> Transcript {
    let (mut messages, mut buf) = (Vec::new(), Vec::new());
    let end = loop {
        match conn.read_message(&mut buf) {
            Ok((op, payload)) => messages.push((op, payload.to_vec())),
            Err(e) if e.is_would_block() => {}
            Err(Error::Closed) => break None,
            Err(e) => break e.close_code(),
        }
    };
    (messages, end, frames(&conn.get_ref().written))
}

/// The frames in `bytes` as (opcode, unmasked payload); a partial frame at the end is left out.
pub fn frames(mut bytes: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut out = Vec::new();
    while let Ok(Decoded::Complete { header, len }) = Header::decode(bytes) {
        let Some(frame) = bytes.get(len..len + header.payload_len as usize) else {
            break;
        };
        let mut payload = frame.to_vec();
        if let Some(key) = header.mask {
            mask_scalar(&mut payload, key, 0);
        }
        out.push((header.opcode, payload));
        bytes = &bytes[len + frame.len()..];
    }
    out
}
