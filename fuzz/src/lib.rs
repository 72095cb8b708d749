//! What the fuzz targets share: a stream over the fuzz input and the oracles they check against.
//! Kept here so each target stays a few lines long and nothing is copied between them.

use std::borrow::Borrow;
use std::io::{self, Read, Write};

use lowbit_websockets::{
    Agreed, CloseCode, Compressor, Conn, ContextTakeover, DEFLATE_TAIL, Decoded, Decompressor,
    Deflate, DeflateParams, Direction, Header, MIN_FLUSH_OUTPUT, OpCode, Role, WindowBits,
};

/// A `Read + Write` stream that reads the fuzz input and records what is written.
/// When `schedule` is not empty, each read and write takes its next byte: 0 is a `WouldBlock`,
/// `n` caps the call at `n` bytes (so short counts and stalls land wherever the fuzzer chooses).
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

impl Replay<'_> {
    /// How many of `len` bytes the next read or write may move, or `None` for a stall.
    fn next_cap(&mut self, len: usize) -> Option<usize> {
        if self.schedule.is_empty() {
            return Some(len);
        }
        let cap = self.schedule[self.step % self.schedule.len()];
        self.step += 1;
        // Never two stalls in a row, so a caller that retries always makes progress.
        if cap == 0 && !self.stalled {
            self.stalled = true;
            return None;
        }
        self.stalled = false;
        Some(len.min(usize::from(cap.max(1))))
    }
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.next_cap(buf.len().min(self.input.len()));
        let n = n.ok_or(io::ErrorKind::WouldBlock)?;
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.next_cap(buf.len()).ok_or(io::ErrorKind::WouldBlock)?;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
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
        if std::str::from_utf8(&whole[..seen]).is_err_and(|e| e.error_len().is_some()) {
            return Some(i);
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

/// What a reader saw: every message, then the error that ended reading and the close code it
/// sent, then the frames written back, unmasked.
pub type Transcript = (
    Vec<(OpCode, Vec<u8>)>,
    (String, Option<CloseCode>),
    Vec<(OpCode, Vec<u8>)>,
);

/// Checks that a run with stalls saw what a clean run saw: the same messages, the same ending,
/// the same close frames written; its pongs may skip some (RFC 6455 §5.5.3 lets a pong that
/// could not be sent yet be replaced by the answer to a newer ping), but the last is the same.
pub fn assert_same_transcript(clean: &Transcript, stalled: &Transcript) {
    assert_eq!((&clean.0, &clean.1), (&stalled.0, &stalled.1));
    let only = |t: &Transcript, op| {
        t.2.iter()
            .filter(|f| f.0 == op)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(only(clean, OpCode::Close), only(stalled, OpCode::Close));
    let (clean_pongs, stalled_pongs) = (only(clean, OpCode::Pong), only(stalled, OpCode::Pong));
    assert_eq!(clean_pongs.last(), stalled_pongs.last());
    let mut rest = clean_pongs.iter();
    assert!(
        stalled_pongs.iter().all(|p| rest.any(|c| c == p)),
        "pongs out of order"
    );
}

/// Reads messages until an error other than `WouldBlock`, retrying the same call after each
/// `WouldBlock` with the same buffer, as the resumption contract asks.
pub fn read_all<'a, S: Read + Write + Borrow<Replay<'a>>>(mut conn: Conn<S>) -> Transcript {
    let (mut messages, mut buf) = (Vec::new(), Vec::new());
    let end = loop {
        match conn.read_message(&mut buf) {
            Ok((op, payload)) => messages.push((op, payload.to_vec())),
            Err(e) if e.is_would_block() => {}
            Err(e) => break (e.to_string(), e.close_code()),
        }
    };
    // A reply left pending by a stalled write goes out with the next flush.
    while conn.flush().is_err_and(|e| e.is_would_block()) {}
    (messages, end, frames(&conn.get_ref().borrow().written))
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

/// An extension hook for the server handshake that accepts the first offer whose name is
/// `permessage-deflate`, exercising the offer lists the way a real hook would.
pub fn hook(offers: &[&str]) -> Option<String> {
    let first = offers.iter().flat_map(|v| v.split(',')).next()?;
    (first.split(';').next()?.trim() == "permessage-deflate").then(|| first.trim().to_string())
}

/// Checks that what a failed handshake wrote is one whole HTTP error response with an empty
/// body, or the start of a response cut by a stalled write (the handshake uses blocking
/// semantics: a `WouldBlock` fails it, even in the middle of its `101`).
pub fn assert_http_response(written: &[u8]) {
    let text = String::from_utf8_lossy(written);
    let n = written.len().min(9);
    assert_eq!(&written[..n], &b"HTTP/1.1 "[..n], "{text:?}");
    if let Some(end) = written.windows(4).position(|w| w == b"\r\n\r\n") {
        assert!(
            text.starts_with("HTTP/1.1 4") || text.starts_with("HTTP/1.1 5"),
            "{text:?}"
        );
        assert!(
            written[..end + 4].ends_with(b"Content-Length: 0\r\n\r\n"),
            "{text:?}"
        );
        assert_eq!(end + 4, written.len(), "bytes after the response");
    }
}

/// The data messages a reader saw, whether it saw the peer's close, and the frames written back.
pub type Seen = (Vec<(OpCode, Vec<u8>)>, bool, Vec<(OpCode, Vec<u8>)>);

/// What [`read_all`] saw, as [`Seen`].
pub fn seen(t: Transcript) -> Seen {
    let (mut messages, _, written) = t;
    let closed = messages.last().is_some_and(|m| m.0 == OpCode::Close);
    messages.retain(|m| m.0 != OpCode::Close);
    (messages, closed, written)
}

/// Reads messages through [`Conn::message_reader`] until an error, as [`read_all`] does through
/// `read_message` (without stalls). A close in the middle of a message ends that message's reader
/// with an error instead of a close message, so only the data messages and whether the close
/// arrived are compared.
pub fn read_all_with_reader(mut conn: Conn<Replay<'_>>) -> Seen {
    let mut messages = Vec::new();
    while let Ok(mut reader) = conn.message_reader() {
        let op = reader.opcode();
        let mut payload = Vec::new();
        if reader.read_to_end(&mut payload).is_err() {
            break;
        }
        if op != OpCode::Close {
            messages.push((op, payload));
        }
    }
    (
        messages,
        conn.is_close_received(),
        frames(&conn.get_ref().written),
    )
}

/// A stream for driving the write path: reads come from `inbound`, which the driver appends
/// frames to, and return `WouldBlock` once it is consumed; reads and writes follow `schedule` as
/// in [`Replay`].
pub struct Peer<'a> {
    inbound: Vec<u8>,
    at: usize,
    out: Replay<'a>,
}

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.inbound[self.at..];
        if rest.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self
            .out
            .next_cap(buf.len().min(rest.len()))
            .ok_or(io::ErrorKind::WouldBlock)?;
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A frame as the peer of `role` sends it (masked when `role` is a server).
fn peer_frame(role: Role, op: OpCode, payload: &[u8]) -> Vec<u8> {
    let mask = role.expects_masked_incoming().then_some([7, 1, 2, 9]);
    let header = Header {
        fin: true,
        rsv: 0,
        opcode: op,
        mask,
        payload_len: payload.len() as u64,
    };
    let mut h = [0; lowbit_websockets::MAX_HEADER_LEN];
    let n = header.encode(&mut h);
    let mut out = h[..n].to_vec();
    let mut body = payload.to_vec();
    if let Some(key) = mask {
        mask_scalar(&mut body, key, 0);
    }
    out.extend(body);
    out
}

/// Repeats `call` while it returns `WouldBlock` (the schedule never stalls twice in a row, so
/// each repetition makes progress; the bound turns a livelock into a failure).
fn retry<T>(mut call: impl FnMut() -> Result<T, lowbit_websockets::Error>) -> T {
    for _ in 0..1_000_000 {
        match call() {
            Err(e) if e.is_would_block() => {}
            other => return other.expect("no error but WouldBlock on a clean stream"),
        }
    }
    panic!("no progress after a million WouldBlocks");
}

/// A payload for message number `i`, `len` bytes long (ASCII, so valid text too).
fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| b'a' + ((i * 7 + j) % 26) as u8).collect()
}

/// Drives the write path of a connection in `role` with operations decoded from `ops` (whole
/// messages, streamed messages with stalling readers, corking, flushes, and pings from the peer
/// that are read in between), stalls and short counts from `schedule`, then closes. Checks the
/// wire: every message intact and in order, fragments within the chunk size and never empty
/// except for an empty message, the newest ping answered, masking per role, the close last.
pub fn drive_writes(role: Role, chunk: usize, schedule: &[u8], ops: &[u8]) {
    let stream = Peer {
        inbound: Vec::new(),
        at: 0,
        out: Replay::with_schedule(&[], schedule),
    };
    let mut conn = Conn::new(stream, role, 1 << 16, chunk).unwrap();
    let (mut sent, mut pings, mut buf) = (Vec::new(), 0u64, Vec::new());
    let mut ops = ops.iter().copied();
    while let (Some(op), Some(arg)) = (ops.next(), ops.next()) {
        let (i, len) = (sent.len(), usize::from(arg) * 5);
        match op % 6 {
            0 | 1 => {
                let op = if op % 6 == 0 {
                    OpCode::Binary
                } else {
                    OpCode::Text
                };
                let p = payload(i, len);
                if op == OpCode::Binary && arg & 1 == 1 {
                    // Masked in place in a working copy, resumed with it as left.
                    let mut work = p.clone();
                    retry(|| conn.write_message_in_place(op, &mut work));
                } else {
                    retry(|| conn.write_message(op, &p));
                }
                sent.push((op, p));
            }
            2 => {
                let p = payload(i, len);
                let mut reader = Replay::with_schedule(&p, schedule);
                let step = 1 + usize::from(op / 6) % chunk;
                retry(|| conn.stream_message(OpCode::Binary, 0, step, &mut reader));
                sent.push((OpCode::Binary, p));
            }
            3 => {
                pings += 1;
                let ping = peer_frame(role, OpCode::Ping, &pings.to_be_bytes());
                conn.get_mut().inbound.extend(ping);
                while conn.get_ref().at < conn.get_ref().inbound.len() {
                    let e = conn
                        .read_message(&mut buf)
                        .expect_err("only pings were sent");
                    assert!(e.is_would_block(), "{e}");
                }
            }
            4 => conn.set_corked(arg & 1 == 1),
            _ => retry(|| conn.flush()),
        }
    }
    let close = peer_frame(role, OpCode::Close, &1000u16.to_be_bytes());
    retry(|| conn.flush());
    conn.get_mut().inbound.extend(close);
    retry(|| conn.close(lowbit_websockets::CloseCode::NORMAL, ""));
    check_wire(role, chunk, &conn.get_ref().out.written, &sent, pings);
}

/// The checks of [`drive_writes`] on what was written.
fn check_wire(role: Role, chunk: usize, mut wire: &[u8], sent: &[(OpCode, Vec<u8>)], pings: u64) {
    let (mut messages, mut partial, mut last_pong, mut closed) = (Vec::new(), None, 0, false);
    while !wire.is_empty() {
        assert!(!closed, "bytes after the close frame");
        let Ok(Decoded::Complete { header, len }) = Header::decode(wire) else {
            panic!("a partial or bad frame on the wire");
        };
        assert_eq!(header.mask.is_some(), role.masks_outgoing());
        let end = len + header.payload_len as usize;
        let mut body = wire[len..end].to_vec();
        wire = &wire[end..];
        if let Some(key) = header.mask {
            mask_scalar(&mut body, key, 0);
        }
        match header.opcode {
            OpCode::Pong => {
                let n = u64::from_be_bytes(body.try_into().expect("an 8-byte pong"));
                assert!(n > last_pong && n <= pings, "pong {n} after {last_pong}");
                last_pong = n;
            }
            OpCode::Close => closed = true,
            op => {
                let (first, mut p) = match (op, partial.take()) {
                    (OpCode::Continuation, Some(m)) => m,
                    (OpCode::Continuation, None) => panic!("continuation outside a message"),
                    (_, Some(_)) => panic!("a new message inside a fragmented one"),
                    (op, None) => (op, Vec::new()),
                };
                assert!(
                    header.fin || (!body.is_empty() && body.len() <= chunk),
                    "bad fragment"
                );
                p.extend(body);
                if header.fin {
                    messages.push((first, p));
                } else {
                    partial = Some((first, p));
                }
            }
        }
    }
    assert!(closed && partial.is_none());
    assert_eq!(messages, sent);
    assert_eq!(last_pong, pings, "the newest ping is answered");
}

/// Deflate settings from one fuzz byte: window bits for each direction (8 to 15) and context
/// takeover, as both the agreement and the local parameters.
pub fn deflate_config(byte: u8) -> (Agreed, DeflateParams) {
    let direction = |bits: u8, reset: bool| Direction {
        window_bits: WindowBits::new(8 + bits % 8).unwrap(),
        context_takeover: if reset {
            ContextTakeover::Reset
        } else {
            ContextTakeover::Keep
        },
    };
    let agreed = Agreed {
        outgoing: direction(byte >> 4, byte & 0x80 != 0),
        incoming: direction(byte, byte & 0x08 != 0),
    };
    (agreed, DeflateParams::default())
}

/// Local deflate parameters from one fuzz byte, for negotiation.
pub fn deflate_params(byte: u8) -> DeflateParams {
    let (agreed, params) = deflate_config(byte);
    params
        .outgoing_max_window_bits(agreed.outgoing.window_bits)
        .incoming_max_window_bits(agreed.incoming.window_bits)
        .outgoing_context_takeover(agreed.outgoing.context_takeover)
        .incoming_context_takeover(agreed.incoming.context_takeover)
}

/// Reads messages from a deflate connection until an error other than `WouldBlock`, checking
/// each against the read limit (on inflated bytes) and text against UTF-8.
pub fn read_all_deflate(mut peer: Deflate<Replay<'_>>, limit: usize) -> Seen {
    let (mut messages, mut buf, mut closed) = (Vec::new(), Vec::new(), false);
    while let Ok((op, payload)) = peer.read_message(&mut buf) {
        let len = payload.len();
        assert!(
            op == OpCode::Close || len <= limit,
            "{len} bytes past a limit of {limit}"
        );
        assert!(op != OpCode::Text || std::str::from_utf8(payload).is_ok());
        closed = op == OpCode::Close;
        if !closed {
            messages.push((op, payload.to_vec()));
        }
    }
    // At most the limit (plus the one byte that detects going past it) is ever reserved; a close
    // payload (125 bytes) may round a tiny buffer up.
    let cap = buf.capacity();
    assert!(
        cap <= (limit + 1).max(250),
        "{cap} bytes reserved for a limit of {limit}"
    );
    (messages, closed, frames(&peer.get_ref().get_ref().written))
}

/// The same through [`Deflate::message_reader`].
pub fn read_all_deflate_reader(mut peer: Deflate<Replay<'_>>) -> Seen {
    let mut messages = Vec::new();
    while let Ok(mut reader) = peer.message_reader() {
        let op = reader.opcode();
        let mut payload = Vec::new();
        if reader.read_to_end(&mut payload).is_err() {
            break;
        }
        if op != OpCode::Close {
            messages.push((op, payload));
        }
    }
    let conn = peer.get_ref();
    (
        messages,
        conn.is_close_received(),
        frames(&conn.get_ref().written),
    )
}

/// A deflate connection over `input`, configured by [`config`] and [`deflate_config`].
pub fn deflate_peer(input: &[u8], cfg: u8, bits: u8) -> Deflate<Replay<'_>> {
    let ((role, limit, chunk), (agreed, params)) = (config(cfg), deflate_config(bits));
    let conn = Conn::new(Replay::new(input), role, limit, chunk).unwrap();
    Deflate::new(conn, &agreed, &params).unwrap()
}

/// Checks that two reads of the same input saw the same thing. The close code may differ in one
/// way only: a message that inflates to invalid UTF-8 and then turns out corrupt is failed with
/// 1007 by the path that inflates in small pieces and 1002 by the one that inflates in large
/// ones (the decompressor reports no output for a call that ends in an error).
pub fn assert_same_seen(a: &Seen, b: &Seen) {
    assert_eq!((&a.0, a.1), (&b.0, b.1));
    let code = |f: &(OpCode, Vec<u8>)| {
        (f.0 == OpCode::Close && f.1.len() >= 2).then(|| u16::from_be_bytes([f.1[0], f.1[1]]))
    };
    let loose = |s: &Seen| {
        s.2.iter()
            .map(|f| code(f).map(|c| if c == 1007 { 1002 } else { c }))
            .collect::<Vec<_>>()
    };
    if a.2 != b.2 {
        assert_eq!(loose(a), loose(b), "{a:?} {b:?}");
    }
}

/// Feeds `input` to `inflater` in pieces of `piece` bytes, then the RFC 7692 tail, through an
/// output of `out_len` bytes, as `Deflate` does; stops at an error, at `limit` inflated bytes, or
/// when a call makes no progress on input that remains (the decorator fails the message then).
/// Checks that no call claims more input or output than it was given. Returns the bytes inflated.
pub fn inflate_in_pieces(
    inflater: &mut impl Decompressor,
    input: &[u8],
    piece: usize,
    out_len: usize,
    limit: usize,
) -> usize {
    let (mut out, mut total) = (vec![0; out_len], 0);
    for chunk in input.chunks(piece).chain([&DEFLATE_TAIL[..]]) {
        let mut at = 0;
        loop {
            let Ok(p) = inflater.decompress(&chunk[at..], &mut out) else {
                return total;
            };
            assert!(p.consumed <= chunk.len() - at && p.written <= out.len());
            (at, total) = (at + p.consumed, total + p.written);
            if total > limit || (p.consumed == 0 && p.written == 0 && at < chunk.len()) {
                return total;
            }
            if at == chunk.len() && p.written < out.len() {
                break;
            }
        }
    }
    total
}

/// What [`inflate_collect`] saw: the bytes inflated, and whether the input was accepted.
#[derive(Debug, PartialEq, Eq)]
pub struct Inflated {
    pub out: Vec<u8>,
    pub ok: bool,
}

/// Like [`inflate_in_pieces`], keeping the output: `input` in pieces of `piece` bytes, then
/// [`DEFLATE_TAIL`], into an output buffer of `out_len` bytes, stopping past `limit`.
pub fn inflate_collect(
    inflater: &mut impl Decompressor,
    input: &[u8],
    piece: usize,
    out_len: usize,
    limit: usize,
) -> Inflated {
    let (mut buf, mut out) = (vec![0; out_len], Vec::new());
    for chunk in input.chunks(piece).chain([&DEFLATE_TAIL[..]]) {
        let mut at = 0;
        loop {
            let Ok(p) = inflater.decompress(&chunk[at..], &mut buf) else {
                return Inflated { out, ok: false };
            };
            assert!(p.consumed <= chunk.len() - at && p.written <= buf.len());
            at += p.consumed;
            out.extend_from_slice(&buf[..p.written]);
            if out.len() > limit || (p.consumed == 0 && p.written == 0 && at < chunk.len()) {
                return Inflated { out, ok: false };
            }
            if at == chunk.len() && p.written < buf.len() {
                break;
            }
        }
    }
    Inflated { out, ok: true }
}

/// Compresses `input` as one message, fed in pieces of `piece` bytes into an output buffer of
/// `out_len` bytes (at least [`MIN_FLUSH_OUTPUT`]), and returns the payload with its
/// [`DEFLATE_TAIL`] removed, as it would go on the wire.
pub fn compress_in_pieces(
    compressor: &mut impl Compressor,
    input: &[u8],
    piece: usize,
    out_len: usize,
) -> Vec<u8> {
    let (mut buf, mut out) = (vec![0; out_len.max(MIN_FLUSH_OUTPUT)], Vec::new());
    let pieces: Vec<&[u8]> = input.chunks(piece).collect();
    let (last, rest): (&[u8], &[&[u8]]) = match pieces.split_last() {
        Some((last, rest)) => (last, rest),
        None => (&[], &[]),
    };
    for chunk in rest {
        let mut at = 0;
        while at < chunk.len() {
            let p = compressor.compress(&chunk[at..], &mut buf, false).unwrap();
            // Progress every call: input taken or output made.
            assert!(p.consumed > 0 || p.written > 0, "compress made no progress");
            at += p.consumed;
            out.extend_from_slice(&buf[..p.written]);
        }
    }
    flush_message(compressor, last, &mut buf, &mut out);
    assert!(
        out.ends_with(&DEFLATE_TAIL),
        "a finished message ends with the tail"
    );
    out.truncate(out.len() - DEFLATE_TAIL.len());
    out
}

fn flush_message(c: &mut impl Compressor, mut rest: &[u8], buf: &mut [u8], out: &mut Vec<u8>) {
    for _ in 0..1_000_000 {
        let p = c.compress(rest, buf, true).unwrap();
        rest = &rest[p.consumed..];
        out.extend_from_slice(&buf[..p.written]);
        if p.done {
            assert!(rest.is_empty());
            return;
        }
    }
    panic!("a flushing compressor never finished");
}
