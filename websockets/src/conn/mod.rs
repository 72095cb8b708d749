//! `Conn<S>`: the only code that calls `read` and `write`. It owns the read buffer, the scratch
//! buffer and the message state, so any method can stop at `WouldBlock` and the next call resumes
//! at the same byte.

mod control;
pub(crate) mod read;
mod reader;
mod stream;
mod write;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};

use crate::close::{CloseCode, CloseFrame};
use crate::error::Error;
use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, Role};
use crate::utf8::Utf8Validator;
use control::ControlQueue;

pub use reader::MessageReader;

/// The smallest read and scratch buffer, whatever the chunk size: room for a whole control frame.
const MIN_BUFFER: usize = 256;
/// The largest chunk size: a chunk is memory every connection holds twice, and the streaming
/// state keeps its sizes in `u32`.
const MAX_CHUNK_SIZE: usize = 1 << 30;
/// Where a streamed chunk's payload starts in the scratch buffer: its header goes right before.
const PAYLOAD_AT: usize = MAX_HEADER_LEN;

/// A WebSocket connection over a byte stream `S`, in one [`Role`].
///
/// Its methods fall into four groups:
/// - read path: [`read_message`](Self::read_message), [`message_reader`](Self::message_reader);
/// - write path: [`write_message`](Self::write_message), [`stream_message`](Self::stream_message),
///   [`set_corked`](Self::set_corked), [`flush`](Self::flush);
/// - close: [`close`](Self::close);
/// - accessors: [`get_ref`](Self::get_ref), [`get_mut`](Self::get_mut),
///   [`into_inner`](Self::into_inner), [`role`](Self::role), [`has_pending_writes`](Self::has_pending_writes).
///
/// # Memory
/// The constructor allocates a read buffer of `chunk_size` bytes and a scratch buffer of
/// `chunk_size + 15` bytes (each at least 256), and nothing after: with
/// [`CHUNK_SIZE_LOW_MEMORY`](crate::CHUNK_SIZE_LOW_MEMORY) an idle connection holds 8207 heap bytes.
/// Messages land in the caller's buffer.
///
/// # Non-blocking streams
/// Any `read` or `write` of the stream may return [`io::ErrorKind::WouldBlock`] or a short count.
/// The method then returns the error ([`Error::is_would_block`]) and keeps every byte: a partial
/// header, a partial payload, a pending pong or close reply, corked frames. To resume, make the
/// **same call again with the same arguments**: the same `buf` (untouched) for `read_message`,
/// the same opcode and payload for `write_message`, the same reader for `stream_message`.
/// Once a write method returns `Ok`, its message is accepted; bytes still in the scratch buffer
/// then go out with the next write or [`flush`](Self::flush).
/// A pong or close reply that could not be written is sent by the next call of any method;
/// [`has_pending_writes`](Self::has_pending_writes) tells an event loop to wait for writability.
pub struct Conn<S> {
    stream: S,
    role: Role,
    read_limit: usize,
    /// At most `MAX_CHUNK_SIZE`, so a `u32`.
    chunk_size: u32,
    /// RSV bits an extension negotiated for the first frame of a data message.
    extension_rsv: u8,
    keys: MaskKeys,
    corked: bool,
    close_sent: bool,
    close_received: bool,
    failed: bool,

    // Read side: `rbuf[rpos..rend]` holds bytes read but not yet consumed.
    rbuf: Box<[u8]>,
    rpos: usize,
    rend: usize,
    frame_in: Option<FrameIn>,
    msg_in: Option<MessageIn>,

    // Write side: `wbuf[wpos..wend]` holds bytes to write (`u32`: the scratch buffer is at
    // most `MAX_CHUNK_SIZE` and a header; see `wpos()` and `set_wpos()`).
    wbuf: Box<[u8]>,
    wpos: u32,
    wend: u32,
    tx: Tx,
    /// Control frames (pong, close) waiting for a frame boundary.
    ctrl: ControlQueue,
    /// A close frame of our own that did not fit in `ctrl` yet.
    deferred_close: Option<AutoClose>,
}

/// The data frame being received.
#[derive(Debug, Clone, Copy)]
struct FrameIn {
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes of this frame already delivered, modulo 4: the mask phase.
    phase: u8,
}

/// The data message being received.
#[derive(Debug, Clone)]
struct MessageIn {
    opcode: OpCode,
    /// RSV1 was set on its first frame: an extension (permessage-deflate) owns its payload.
    #[allow(dead_code)] // until the deflate decorator lands
    compressed: bool,
    /// Sum of the lengths of its frames announced so far (checked against the read limit).
    /// The bytes delivered so far are this less the current frame's remaining bytes.
    announced: u64,
    utf8: Option<Utf8Validator>,
}

/// What the write side is in the middle of.
#[derive(Debug, Clone, Copy)]
enum Tx {
    Idle,
    /// One frame whose header is queued; `done` payload bytes are written or in `wbuf`.
    Frame {
        len: usize,
        done: usize,
        mask: Option<[u8; 4]>,
    },
    /// A message streamed from a reader.
    Stream(stream::StreamOut),
}

/// The checks of [`Conn::new`] on its configuration.
pub(crate) fn check_config(read_limit: usize, chunk_size: usize) -> Result<(), Error> {
    if read_limit == 0 {
        return Err(Error::InvalidConfig("read limit must be at least 1 byte"));
    }
    if chunk_size == 0 {
        return Err(Error::InvalidConfig("chunk size must be at least 1 byte"));
    }
    if chunk_size > MAX_CHUNK_SIZE {
        return Err(Error::InvalidConfig("chunk size over 1 GiB"));
    }
    Ok(())
}

/// A close frame the connection sends on its own. It may have to wait for room in the control
/// queue (see [`ControlQueue`]), so it is kept as this one byte and encoded when it goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AutoClose {
    /// The echo of the peer's close code (RFC 6455 §5.5.1), read from its payload, which stays
    /// in the read buffer.
    Echo,
    /// 1002, failing on a protocol error.
    ProtocolError,
    /// 1007, failing on invalid UTF-8.
    InvalidPayload,
    /// 1009, failing on a message over the read limit.
    MessageTooBig,
    /// 1011, a streamed message whose reader failed half way.
    InternalError,
}

impl AutoClose {
    /// The close for a failure with `code`, if it is one the connection sends on its own.
    fn failing(code: CloseCode) -> Option<Self> {
        match code {
            CloseCode::PROTOCOL_ERROR => Some(Self::ProtocolError),
            CloseCode::INVALID_PAYLOAD => Some(Self::InvalidPayload),
            CloseCode::MESSAGE_TOO_BIG => Some(Self::MessageTooBig),
            CloseCode::INTERNAL_ERROR => Some(Self::InternalError),
            _ => None,
        }
    }

    /// Writes the close payload into `out` and returns its length; `peer` is the peer's close
    /// payload, for an echo.
    fn encode(self, peer: &[u8], out: &mut [u8; MAX_CONTROL_PAYLOAD]) -> usize {
        let (code, reason) = match self {
            Self::Echo => match CloseFrame::decode(peer) {
                Ok(Some(frame)) => (frame.code, ""),
                // A close without a code is echoed without one.
                _ => return 0,
            },
            Self::ProtocolError => (CloseCode::PROTOCOL_ERROR, "protocol error"),
            Self::InvalidPayload => (CloseCode::INVALID_PAYLOAD, "invalid utf-8"),
            Self::MessageTooBig => (CloseCode::MESSAGE_TOO_BIG, "message too big"),
            Self::InternalError => (CloseCode::INTERNAL_ERROR, ""),
        };
        // Codes valid on the wire and short reasons: encoding cannot fail.
        CloseFrame { code, reason }.encode(out).unwrap_or(0)
    }
}

/// Mask keys (RFC 6455 §5.3): SplitMix64 seeded once per connection from std's randomly keyed
/// `RandomState` (OS entropy). The RFC asks for keys a script cannot predict, to stop it from
/// steering the bytes an intermediary sees; a per-connection random seed gives that without a
/// system call per frame, and the keys need no cryptographic strength beyond it.
struct MaskKeys(u64);

impl MaskKeys {
    fn new() -> Self {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(&h as *const _ as usize);
        Self(h.finish())
    }

    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) as u32).to_ne_bytes()
    }
}

impl<S> Conn<S> {
    /// The role this connection plays.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The read limit in bytes.
    #[must_use]
    pub fn read_limit(&self) -> usize {
        self.read_limit
    }

    /// The largest chunk `stream_message` sends per frame.
    #[must_use]
    pub fn chunk_size(&self) -> usize {
        self.chunk_size as usize
    }

    /// The stream.
    #[must_use]
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably. Reading or writing it directly corrupts the WebSocket stream.
    #[must_use]
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream, dropping buffered bytes.
    #[must_use]
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Whether bytes are waiting to be written (a non-blocking caller should wait until the
    /// stream is writable and call [`flush`](Self::flush) or its pending write again).
    #[must_use]
    pub fn has_pending_writes(&self) -> bool {
        self.wpos < self.wend || self.control_pending() || !matches!(self.tx, Tx::Idle)
    }

    /// Whether a control frame is queued or waiting for room in the queue.
    pub(super) fn control_pending(&self) -> bool {
        !self.ctrl.is_empty() || self.deferred_close.is_some()
    }

    /// Whether the peer's close frame has been received.
    #[must_use]
    pub fn is_close_received(&self) -> bool {
        self.close_received
    }

    /// Whether a close frame has been queued or sent by this side.
    #[must_use]
    pub fn is_close_sent(&self) -> bool {
        self.close_sent
    }

    /// Bytes on the heap this connection holds (its read and scratch buffers).
    #[must_use]
    pub fn heap_size(&self) -> usize {
        self.rbuf.len() + self.wbuf.len()
    }

    /// Lets an extension use RSV bits on the first frame of data messages (RFC 6455 §5.2).
    #[allow(dead_code)] // until the deflate decorator lands
    pub(crate) fn set_extension_rsv(&mut self, rsv: u8) {
        self.extension_rsv = rsv & 0b111;
    }

    #[allow(dead_code)] // until the deflate decorator lands
    pub(crate) fn extension_rsv(&self) -> u8 {
        self.extension_rsv
    }

    /// Changes the read limit (an extension bounds the decoded size itself).
    #[allow(dead_code)] // until the deflate decorator lands
    pub(crate) fn set_read_limit(&mut self, limit: usize) {
        self.read_limit = limit;
    }
}

impl<S: Read + Write> Conn<S> {
    /// A connection in `role` over `stream`, with a read limit (the largest message accepted, in
    /// bytes) and a chunk size (the scratch buffer and the largest streamed fragment).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `read_limit` or `chunk_size` is 0, or `chunk_size` is over
    /// 1 GiB (a chunk is memory held by every connection).
    pub fn new(stream: S, role: Role, read_limit: usize, chunk_size: usize) -> Result<Self, Error> {
        check_config(read_limit, chunk_size)?;
        let buffer = chunk_size.max(MIN_BUFFER);
        Ok(Self {
            stream,
            role,
            read_limit,
            // Checked above: at most `MAX_CHUNK_SIZE`.
            chunk_size: chunk_size as u32,
            extension_rsv: 0,
            keys: MaskKeys::new(),
            corked: false,
            close_sent: false,
            close_received: false,
            failed: false,
            rbuf: vec![0; buffer].into_boxed_slice(),
            rpos: 0,
            rend: 0,
            frame_in: None,
            msg_in: None,
            deferred_close: None,
            wbuf: vec![0; PAYLOAD_AT + buffer + 1].into_boxed_slice(),
            wpos: 0,
            wend: 0,
            tx: Tx::Idle,
            ctrl: ControlQueue::new(),
        })
    }

    /// A server connection: unmasked writes, masked reads. See [`Conn::new`].
    ///
    /// # Errors
    /// As [`Conn::new`].
    pub fn server(stream: S, read_limit: usize, chunk_size: usize) -> Result<Self, Error> {
        Self::new(stream, Role::Server, read_limit, chunk_size)
    }

    /// A client connection: masked writes with a fresh key per frame, unmasked reads.
    /// See [`Conn::new`].
    ///
    /// # Errors
    /// As [`Conn::new`].
    pub fn client(stream: S, read_limit: usize, chunk_size: usize) -> Result<Self, Error> {
        Self::new(stream, Role::Client, read_limit, chunk_size)
    }

    /// Serves `early` (bytes already read from the stream, e.g. right after the HTTP head)
    /// before anything read from the stream. Grows the read buffer once if they do not fit.
    #[must_use]
    pub fn with_early_bytes(mut self, early: &[u8]) -> Self {
        let unread = self.rend - self.rpos;
        if unread + early.len() > self.rbuf.len() {
            let mut bigger = vec![0; unread + early.len()].into_boxed_slice();
            bigger[..unread].copy_from_slice(&self.rbuf[self.rpos..self.rend]);
            self.rbuf = bigger;
        } else {
            self.rbuf.copy_within(self.rpos..self.rend, 0);
        }
        self.rbuf[unread..unread + early.len()].copy_from_slice(early);
        self.rpos = 0;
        self.rend = unread + early.len();
        self
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason` (unless one
    /// was sent already), then reads until the peer's close frame arrives, discarding data.
    /// A server should drop the stream afterwards (RFC 6455 §7.1.1: the server closes TCP first);
    /// a client may wait for the server to close it.
    ///
    /// # Errors
    /// [`Error::Misuse`] for a code not valid on the wire, a reason over 123 bytes or a message
    /// half sent; I/O errors, including `WouldBlock` (call `close` again); the protocol errors of
    /// [`read_message`](Self::read_message) while waiting.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if !self.close_sent && !self.failed {
            if self.frame_open() {
                return Err(Error::Misuse("close while a message is half sent"));
            }
            let mut payload = [0; MAX_CONTROL_PAYLOAD];
            let n = CloseFrame { code, reason }.encode(&mut payload)?;
            // Pongs still queued go first (RFC 6455 §5.5.2: every ping is answered until the
            // peer's close), so the queue is empty when the close joins it.
            if self.control_pending() {
                self.flush_pending()?;
            }
            let mask = self.role.masks_outgoing().then(|| self.keys.next_key());
            let queued = self.ctrl.push(OpCode::Close, &payload[..n], mask);
            debug_assert!(queued, "the control queue is empty");
            self.close_sent = true;
        }
        self.flush()?;
        if self.failed {
            return Ok(());
        }
        while !self.close_received {
            self.discard_until_close()?;
        }
        Ok(())
    }

    /// Writes every queued byte (corked frames, pending control frames) and flushes the stream.
    ///
    /// # Errors
    /// I/O errors, including `WouldBlock` (call `flush` again).
    pub fn flush(&mut self) -> Result<(), Error> {
        self.flush_pending()?;
        self.stream.flush().map_err(|e| self.io_fail(e))
    }

    fn wpos(&self) -> usize {
        self.wpos as usize
    }

    fn wend(&self) -> usize {
        self.wend as usize
    }

    /// `at` is an index into the scratch buffer, whose length fits in `u32`.
    fn set_wpos(&mut self, at: usize) {
        debug_assert!(at <= self.wbuf.len());
        self.wpos = at as u32;
    }

    /// As [`set_wpos`](Self::set_wpos).
    fn set_wend(&mut self, at: usize) {
        debug_assert!(at <= self.wbuf.len());
        self.wend = at as u32;
    }

    /// Queues a pong for the next frame boundary.
    fn queue_pong(&mut self, payload: &[u8]) {
        let mask = self.role.masks_outgoing().then(|| self.keys.next_key());
        let queued = self.ctrl.push(OpCode::Pong, payload, mask);
        debug_assert!(queued, "a pong always fits");
    }

    /// Sends `close` from now on: queued for the next frame boundary, or, when the control
    /// queue has no room for it, queued as soon as the queue has drained.
    pub(super) fn queue_auto_close(&mut self, close: AutoClose) {
        self.close_sent = true;
        let mut payload = [0; MAX_CONTROL_PAYLOAD];
        let n = close.encode(self.close_payload(), &mut payload);
        let mask = self.role.masks_outgoing().then(|| self.keys.next_key());
        self.deferred_close =
            (!self.ctrl.push(OpCode::Close, &payload[..n], mask)).then_some(close);
    }

    /// Fails the connection: queues and tries to send the close frame the error calls for.
    /// `WouldBlock` is passed through without failing anything.
    pub(crate) fn fail(&mut self, err: Error) -> Error {
        if err.is_would_block() {
            return err;
        }
        if let Some(close) = err.close_code().and_then(AutoClose::failing) {
            if !self.close_sent {
                self.queue_auto_close(close);
                let _ = self.flush_pending();
            }
        }
        self.failed = true;
        err
    }

    /// Maps an I/O error: `WouldBlock` and `Interrupted` leave the connection usable.
    fn io_fail(&mut self, e: io::Error) -> Error {
        if !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ) {
            self.failed = true;
        }
        Error::Io(e)
    }
}

/// The seed's `WebSocketPeer`: what [`Conn`] and the deflate decorator both offer, so an echo
/// loop is written once.
///
/// ```
/// use lowbit_websockets::{Error, OpCode, Peer};
///
/// fn echo<P: Peer>(peer: &mut P) -> Result<(), Error> {
///     let mut buf = Vec::new();
///     loop {
///         match peer.read_message(&mut buf)? {
///             (OpCode::Close, _) => return Ok(()),
///             (op, payload) => {
///                 let payload = payload.to_vec(); // or keep two buffers
///                 peer.write_message(op, &payload)?;
///             }
///         }
///     }
/// }
///
/// // A server over a masked "hi" followed by a close frame (1000).
/// let wire = vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i', 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];
/// let mut conn = lowbit_websockets::Conn::server(std::io::Cursor::new(wire), 1024, 1024)?;
/// echo(&mut conn)?;
/// # Ok::<(), Error>(())
/// ```
pub trait Peer {
    /// Reads the next text, binary or close message into `buf`; see [`Conn::read_message`].
    ///
    /// # Errors
    /// As [`Conn::read_message`].
    fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error>;

    /// Writes one message; see [`Conn::write_message`].
    ///
    /// # Errors
    /// As [`Conn::write_message`].
    fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error>;

    /// Streams one message from `reader` in chunks; see [`Conn::stream_message`].
    ///
    /// # Errors
    /// As [`Conn::stream_message`].
    fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        reader: R,
    ) -> Result<(), Error>;

    /// Runs the closing handshake; see [`Conn::close`].
    ///
    /// # Errors
    /// As [`Conn::close`].
    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error>;

    /// Writes queued bytes; see [`Conn::flush`].
    ///
    /// # Errors
    /// As [`Conn::flush`].
    fn flush(&mut self) -> Result<(), Error>;
}

impl<S: Read + Write> Peer for Conn<S> {
    fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error> {
        Conn::read_message(self, buf)
    }

    fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        Conn::write_message(self, op, payload)
    }

    fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        reader: R,
    ) -> Result<(), Error> {
        Conn::stream_message(self, op, rsv, chunk_size, reader)
    }

    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        Conn::close(self, code, reason)
    }

    fn flush(&mut self) -> Result<(), Error> {
        Conn::flush(self)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read, Write};

    use super::*;
    use crate::frame::{Decoded, Header};
    use crate::mask;

    /// A stream over `input` whose every other read and write is a `WouldBlock`, the others
    /// moving one byte: a peer that reads our writes very slowly.
    struct Trickle {
        input: Vec<u8>,
        at: usize,
        written: Vec<u8>,
        stall: bool,
    }

    impl Trickle {
        fn tick(&mut self) -> io::Result<()> {
            self.stall = !self.stall;
            if self.stall {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(())
        }
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.tick()?;
            let n = buf.len().min(self.input.len() - self.at).min(1);
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            buf[0] = self.input[self.at];
            self.at += 1;
            Ok(n)
        }
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.tick()?;
            self.written.extend_from_slice(&buf[..1]);
            Ok(1)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Reads `input` at once; accepts `room` bytes of writes, then blocks.
    pub(super) struct Stalled {
        pub(super) input: io::Cursor<Vec<u8>>,
        pub(super) written: Vec<u8>,
        pub(super) room: usize,
    }
    impl Read for Stalled {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }
    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room);
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.room -= n;
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Found by the `read_resume` fuzz target once the control queue shrank to two frames: a
    /// close arriving while one pong is half written and another waits used to drop the waiting
    /// pong to make room for the close echo. Every ping received before the close is answered
    /// (RFC 6455 §5.5.2); the close waits for room instead.
    #[test]
    fn a_close_behind_two_pongs_under_a_stalled_writer_waits_and_drops_nothing() {
        // A client reads unmasked frames and writes masked ones (131-byte pongs).
        let mut input = vec![0x89, 125];
        input.extend([b'A'; 125]);
        input.extend([0x89, 125]);
        input.extend([b'B'; 125]);
        input.extend([0x88, 2, 0x03, 0xe8]);
        let stream = Stalled {
            input: io::Cursor::new(input),
            written: Vec::new(),
            room: 1,
        };
        let mut conn = Conn::client(stream, 1024, 1024).unwrap();
        let mut buf = Vec::new();
        let (op, payload) = conn.read_message(&mut buf).unwrap();
        assert_eq!((op, payload), (OpCode::Close, &[0x03, 0xe8][..]));
        assert!(conn.has_pending_writes());
        conn.get_mut().room = usize::MAX;
        conn.flush().unwrap();
        assert!(!conn.has_pending_writes());
        let mut wire = &conn.get_ref().written[..];
        let mut seen = Vec::new();
        while !wire.is_empty() {
            let Ok(Decoded::Complete { header, len }) = Header::decode(wire) else {
                panic!("a partial frame was written");
            };
            let end = len + header.payload_len as usize;
            let mut body = wire[len..end].to_vec();
            mask::apply_mask(&mut body, header.mask.unwrap(), 0);
            seen.push((header.opcode, body));
            wire = &wire[end..];
        }
        assert_eq!(
            seen,
            [
                (OpCode::Pong, vec![b'A'; 125]),
                (OpCode::Pong, vec![b'B'; 125]),
                (OpCode::Close, vec![0x03, 0xe8]),
            ]
        );
    }

    /// A message at the read limit reserves no more than the limit (`Vec::resize` used to round
    /// the capacity up to 128 KiB for a 100,000-byte message).
    #[test]
    fn a_message_at_the_limit_reserves_no_more_than_the_limit() {
        const LIMIT: usize = 100_000;
        let header = Header {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: LIMIT as u64,
        };
        let mut wire = [0; MAX_HEADER_LEN];
        let n = header.encode(&mut wire);
        let mut wire = wire[..n].to_vec();
        wire.resize(n + LIMIT, 7);
        let mut conn = Conn::server(io::Cursor::new(wire), LIMIT, 4096).unwrap();
        let mut buf = Vec::new();
        assert_eq!(conn.read_message(&mut buf).unwrap().1.len(), LIMIT);
        assert!(buf.capacity() <= LIMIT, "{} reserved", buf.capacity());
    }

    /// The same for small messages read whole from the read buffer (the fast path): growing
    /// the caller's buffer from 290 to 291 bytes used to reserve 580, past a limit of 292.
    #[test]
    fn small_messages_reserve_no_more_than_the_limit() {
        const LIMIT: usize = 292;
        let mut wire = Vec::new();
        for len in [100, 290, 291] {
            let header = Header {
                fin: true,
                rsv: 0,
                opcode: OpCode::Binary,
                mask: None,
                payload_len: len as u64,
            };
            let mut h = [0; MAX_HEADER_LEN];
            let n = header.encode(&mut h);
            wire.extend_from_slice(&h[..n]);
            wire.resize(wire.len() + len, 1);
        }
        let mut conn = Conn::client(io::Cursor::new(wire), LIMIT, 4096).unwrap();
        let mut buf = Vec::new();
        for len in [100, 290, 291] {
            assert_eq!(conn.read_message(&mut buf).unwrap().1.len(), len);
            assert!(buf.capacity() <= LIMIT, "{} reserved", buf.capacity());
        }
    }

    /// Found by the `write_resume` fuzz target: pings arriving while each pong goes out a byte
    /// at a time used to append every pong behind the one in flight without ever compacting the
    /// control queue, until it ran off its end (a panic any peer could cause).
    #[test]
    fn ping_flood_against_a_trickling_writer_keeps_the_control_queue_bounded() {
        for role in [Role::Client, Role::Server] {
            let mask = role.expects_masked_incoming().then_some([1, 2, 3, 4]);
            let mut input = Vec::new();
            for i in 0..100u64 {
                let header = Header {
                    fin: true,
                    rsv: 0,
                    opcode: OpCode::Ping,
                    mask,
                    payload_len: 8,
                };
                let mut h = [0; MAX_HEADER_LEN];
                let n = header.encode(&mut h);
                input.extend_from_slice(&h[..n]);
                let mut body = i.to_be_bytes();
                if let Some(key) = mask {
                    mask::apply_mask(&mut body, key, 0);
                }
                input.extend_from_slice(&body);
            }
            let total = input.len();
            let stream = Trickle {
                input,
                at: 0,
                written: Vec::new(),
                stall: false,
            };
            let mut conn = Conn::new(stream, role, 1024, 1024).unwrap();
            let mut buf = Vec::new();
            while conn.get_ref().at < total {
                let err = conn.read_message(&mut buf).unwrap_err();
                assert!(err.is_would_block(), "{err}");
            }
            while conn.flush().is_err() {}
            // Whole pongs went out, the last one answering the last ping.
            let mut wire = &conn.get_ref().written[..];
            let mut last = [0; 8];
            while !wire.is_empty() {
                let Ok(Decoded::Complete { header, len }) = Header::decode(wire) else {
                    panic!("a partial frame was written");
                };
                assert_eq!((header.opcode, header.payload_len), (OpCode::Pong, 8));
                last.copy_from_slice(&wire[len..len + 8]);
                if let Some(key) = header.mask {
                    mask::apply_mask(&mut last, key, 0);
                }
                wire = &wire[len + 8..];
            }
            assert_eq!(u64::from_be_bytes(last), 99);
            assert!(conn.ctrl.is_empty());
        }
    }
}
