//! permessage-deflate (RFC 7692): the [`Deflate`] decorator, codec traits, backends and
//! parameter negotiation.
//!
//! - [`codec`]: the [`Compressor`] / [`Decompressor`] traits the decorator is generic over, the
//!   compression level type and the `00 00 ff ff` tail handling.
//! - [`params`]: RFC 7692 offers and responses, on byte slices.
//! - [`pool`]: codecs shared per thread and lent per message (no context takeover).
//! - [`zlib_rs`]: the default backend.
//! - `zlib` (feature `deflate-zlib`): C zlib, for small per-connection memory.

pub(crate) mod codec;
pub(crate) mod params;
pub(crate) mod pool;
mod reader;
mod source;
#[cfg(feature = "deflate-zlib")]
pub(crate) mod zlib;
pub(crate) mod zlib_rs;

pub use codec::{
    CodecError, Compression, Compressor, DEFLATE_TAIL, Decompressor, MIN_FLUSH_OUTPUT, Progress,
    TailHoldback,
};
pub use params::{
    Agreed, ContextTakeover, DeflateParams, Direction, ExtensionError, MemLevel,
    PERMESSAGE_DEFLATE, WindowBits, negotiate, offer, verify_response,
};
pub use pool::{CodecPool, Pooled};
pub use reader::DeflateReader;
#[cfg(feature = "deflate-zlib")]
pub use zlib::{ZlibCompressor, ZlibDecompressor};
pub use zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};

use std::io::{Read, Write};

use crate::close::CloseCode;
use crate::conn::read::{Step, resize_exact};
use crate::conn::{Conn, Peer};
use crate::error::{Error, ProtocolError};
use crate::frame::{OpCode, RSV1};
use crate::utf8::Utf8Validator;
use source::{Compressing, Plain, TxState};

/// Grow the caller's buffer by at least this much when inflating into it.
const GROW_MIN: usize = 4096;

/// A connection with permessage-deflate (RFC 7692): messages are compressed on the way out and
/// inflated on the way in; control frames pass through untouched.
///
/// `Deflate` wraps a [`Conn`] after the handshake agreed on the extension ([`negotiate`] on a
/// server, [`verify_response`] on a client; `Handshake::deflate` and `Opened::session` do both
/// and the wrapping, with the `handshake` feature) and offers the same methods ([`Peer`]):
/// - [`read_message`](Self::read_message) inflates a message whose first frame has RSV1 set
///   into the caller's buffer, checking the connection's read limit against the *inflated* size
///   while inflating (close 1009 past it); a message with RSV1 clear is read as it is;
/// - [`write_message`](Self::write_message) compresses a data message chunk by chunk through the
///   connection's streaming engine (RSV1 on the first frame only), or sends it uncompressed when
///   it is shorter than the [threshold](Self::set_threshold), decided before any byte enters
///   the compressor;
/// - [`stream_message`](Self::stream_message) compresses from a reader;
/// - [`close`](Self::close) and [`flush`](Self::flush) are the connection's.
///
/// The LZ77 windows are kept or reset after each message exactly as [`Agreed`] says. The
/// resumption contract of [`Conn`] holds unchanged: after `WouldBlock`, make the same call again.
///
/// # Memory
/// Two buffers of the connection's chunk size (compressed output and plain input for
/// `stream_message`) plus the codecs: see `MEMORY.md` (about 418 KiB for the default zlib-rs
/// pair at 15 bits, 20 KiB for C zlib at [`DeflateParams::low_memory`], a few hundred bytes with
/// a [`CodecPool`]). Steady state allocates nothing per message.
pub struct Deflate<S, C = ZlibRsCompressor, D = ZlibRsDecompressor> {
    conn: Conn<S>,
    compressor: C,
    decompressor: D,
    agreed: Agreed,
    /// The read limit on inflated bytes (the connection's own limit is relaxed for the
    /// compressed bytes).
    read_limit: usize,
    threshold: usize,
    out: Box<[u8]>,
    input: Box<[u8]>,
    tx: TxState,
    rx: RxState,
}

/// The message being read.
#[derive(Debug, Default)]
struct RxState {
    active: bool,
    compressed: bool,
    /// Bytes of the message in the caller's buffer (inflated, or plain).
    len: usize,
    utf8: Option<Utf8Validator>,
}

impl<S: Read + Write> Deflate<S> {
    /// Wraps `conn` with the default zlib-rs codecs, sized as `agreed` and `params` say
    /// (window bits per direction from `agreed`; memory and compression level from `params`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if a codec cannot be built.
    pub fn new(conn: Conn<S>, agreed: &Agreed, params: &DeflateParams) -> Result<Self, Error> {
        let compressor = ZlibRsCompressor::new(
            params.compression,
            agreed.outgoing.window_bits.get(),
            params.mem_level.get(),
        )
        .map_err(|_| Error::InvalidConfig("compressor parameters"))?;
        let decompressor = ZlibRsDecompressor::new(agreed.incoming.window_bits.get())
            .map_err(|_| Error::InvalidConfig("decompressor parameters"))?;
        Self::with_codec(conn, agreed, compressor, decompressor)
    }
}

impl<S: Read + Write, C: Compressor, D: Decompressor> Deflate<S, C, D> {
    /// Wraps `conn` with the given codecs (any backend, or [`Pooled`] handles).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the compressor's window exceeds the agreed outgoing window
    /// (the peer could not follow it) or the decompressor's is smaller than the peer's.
    pub fn with_codec(
        mut conn: Conn<S>,
        agreed: &Agreed,
        compressor: C,
        decompressor: D,
    ) -> Result<Self, Error> {
        if compressor.window_bits() > agreed.outgoing.window_bits.get() {
            return Err(Error::InvalidConfig(
                "compressor window larger than the agreed one",
            ));
        }
        if decompressor.window_bits() < agreed.incoming.window_bits.get() {
            return Err(Error::InvalidConfig(
                "decompressor window smaller than the peer's",
            ));
        }
        let read_limit = conn.read_limit();
        // The connection checks compressed sizes; deflate can expand incompressible data by a
        // few bytes per 16 KiB, so give it room. The real limit applies to inflated bytes.
        conn.set_read_limit(
            read_limit
                .saturating_add(read_limit / 64)
                .saturating_add(1024),
        );
        conn.set_extension_rsv(RSV1);
        let chunk = conn.chunk_size();
        Ok(Self {
            conn,
            compressor,
            decompressor,
            agreed: *agreed,
            read_limit,
            threshold: 0,
            out: vec![0; chunk.max(64) + DEFLATE_TAIL.len()].into_boxed_slice(),
            input: vec![0; chunk.max(64)].into_boxed_slice(),
            tx: TxState::default(),
            rx: RxState::default(),
        })
    }

    /// Messages shorter than `bytes` are sent uncompressed (RSV1 clear). Default 0: every data
    /// message is compressed.
    pub fn set_threshold(&mut self, bytes: usize) {
        self.threshold = bytes;
    }

    /// The parameters in force.
    #[must_use]
    pub fn agreed(&self) -> &Agreed {
        &self.agreed
    }

    /// The wrapped connection.
    #[must_use]
    pub fn get_ref(&self) -> &Conn<S> {
        &self.conn
    }

    /// The wrapped connection, mutably (e.g. to cork it). Sending data through it directly
    /// bypasses compression, which the peer accepts (RSV1 clear).
    #[must_use]
    pub fn get_mut(&mut self) -> &mut Conn<S> {
        &mut self.conn
    }

    /// The wrapped connection and the codecs.
    #[must_use]
    pub fn into_parts(self) -> (Conn<S>, C, D) {
        (self.conn, self.compressor, self.decompressor)
    }

    /// Reads the next message, inflating it if its first frame has RSV1 set; see
    /// [`Conn::read_message`].
    ///
    /// # Errors
    /// As [`Conn::read_message`], plus [`Error::MessageTooBig`] (1009) once the inflated size
    /// passes the read limit (checked while inflating, so at most the limit is ever buffered)
    /// and [`Error::Protocol`] with [`ProtocolError::InvalidCompressedData`] (1002) for
    /// data that does not inflate.
    pub fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error> {
        self.conn.begin_read()?;
        loop {
            match self.conn.step()? {
                Step::Close => {
                    self.rx = RxState::default();
                    buf.clear();
                    buf.extend_from_slice(self.conn.close_payload());
                    return Ok((OpCode::Close, &buf[..]));
                }
                Step::Payload(remaining) => {
                    if !self.rx.active {
                        self.start_rx();
                    }
                    if self.rx.compressed {
                        let want = self
                            .input
                            .len()
                            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                        let n = self.conn.read_data(&mut self.input[..want])?;
                        self.inflate_into(buf, n)?;
                    } else {
                        self.read_plain(buf, remaining)?;
                    }
                }
                Step::End(op, _) => {
                    // A message with no payload bytes at all is empty, whatever its RSV1.
                    if self.rx.active && self.rx.compressed {
                        self.input[..DEFLATE_TAIL.len()].copy_from_slice(&DEFLATE_TAIL);
                        self.inflate_into(buf, DEFLATE_TAIL.len())?;
                        if let Some(v) = self.rx.utf8.as_mut() {
                            if let Err(e) = v.finish() {
                                return Err(self.conn.fail(e));
                            }
                        }
                        if self.agreed.incoming.context_takeover == ContextTakeover::Reset {
                            self.decompressor.reset();
                        }
                    }
                    let len = if self.rx.active { self.rx.len } else { 0 };
                    self.rx = RxState::default();
                    buf.truncate(len);
                    return Ok((op, &buf[..]));
                }
            }
        }
    }

    fn start_rx(&mut self) {
        let compressed = self.conn.message_compressed();
        let text = self.conn.message_opcode() == Some(OpCode::Text);
        self.rx = RxState {
            active: true,
            compressed,
            len: 0,
            // The connection validates uncompressed text itself.
            utf8: (compressed && text).then(Utf8Validator::new),
        };
    }

    /// Reads a frame of an uncompressed message into `buf`, under the exact read limit.
    fn read_plain(&mut self, buf: &mut Vec<u8>, remaining: u64) -> Result<(), Error> {
        let at = self.rx.len;
        let size = (at as u64).saturating_add(remaining);
        if size > self.read_limit as u64 {
            let limit = self.read_limit;
            return Err(self.conn.fail(Error::MessageTooBig { size, limit }));
        }
        let end = at + remaining as usize;
        if buf.len() < end {
            let grown = buf.len().saturating_mul(2).max(at + GROW_MIN).min(end);
            resize_exact(buf, grown);
        }
        let stop = buf.len().min(end);
        self.rx.len += self.conn.read_data(&mut buf[at..stop])?;
        Ok(())
    }

    /// Inflates `self.input[..n]` into `buf` after the bytes already there, growing `buf` up to
    /// one byte past the read limit. No I/O happens here, so it never stops half way.
    fn inflate_into(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<(), Error> {
        let mut pos = 0;
        loop {
            let at = self.rx.len;
            let cap = self.read_limit.saturating_add(1);
            if buf.len() <= at {
                // Double for amortised growth, but never far beyond what the input left can
                // plausibly inflate to: the 4-byte tail at the end of a message must not
                // zero-fill a second message's worth of buffer.
                let likely = at + GROW_MIN.max((n - pos).saturating_mul(4));
                let grown = buf
                    .len()
                    .saturating_mul(2)
                    .min(likely)
                    .max(at + GROW_MIN)
                    .min(cap);
                resize_exact(buf, grown.max(at));
            }
            let room = buf.len().min(cap) - at;
            let p = match self
                .decompressor
                .decompress(&self.input[pos..n], &mut buf[at..at + room])
            {
                Ok(p) => p,
                Err(_) => {
                    let e = Error::Protocol(ProtocolError::InvalidCompressedData);
                    return Err(self.conn.fail(e));
                }
            };
            if p.consumed == 0 && p.written == 0 && pos < n {
                // No progress on input that remains: never spin, never drop bytes silently.
                let e = Error::Protocol(ProtocolError::InvalidCompressedData);
                return Err(self.conn.fail(e));
            }
            pos += p.consumed;
            if let Some(v) = self.rx.utf8.as_mut() {
                if let Err(e) = v.feed(&buf[at..at + p.written]) {
                    return Err(self.conn.fail(e));
                }
            }
            self.rx.len += p.written;
            if self.rx.len > self.read_limit {
                let (size, limit) = (self.rx.len as u64, self.read_limit);
                return Err(self.conn.fail(Error::MessageTooBig { size, limit }));
            }
            if pos == n && p.written < room {
                return Ok(());
            }
        }
    }

    /// Writes one message, compressed unless it is shorter than the threshold; control frames
    /// go out as they are. See [`Conn::write_message`].
    ///
    /// # Errors
    /// As [`Conn::write_message`]. `WouldBlock`: call again with the same `op` and `payload`.
    pub fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        if !op.is_data_start() || (!self.tx.active && payload.len() < self.threshold) {
            return self.conn.write_message(op, payload);
        }
        let chunk = self.conn.chunk_size();
        self.send_compressed(op, chunk, Plain::<&[u8]>::Slice(payload))
    }

    /// Streams one message from `reader`, compressing it chunk by chunk; frames carry at most
    /// `chunk_size` compressed bytes. `rsv` must be 0: the decorator owns RSV1. See
    /// [`Conn::stream_message`].
    ///
    /// # Errors
    /// As [`Conn::stream_message`]; [`Error::Misuse`] for a non-zero `rsv`.
    pub fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        reader: R,
    ) -> Result<(), Error> {
        if rsv != 0 {
            return Err(Error::Misuse("the deflate decorator sets rsv bits itself"));
        }
        self.send_compressed(op, chunk_size, Plain::Reader(reader))
    }

    fn send_compressed<R: Read>(
        &mut self,
        op: OpCode,
        chunk_size: usize,
        plain: Plain<'_, R>,
    ) -> Result<(), Error> {
        if !self.tx.active {
            self.tx.start();
        }
        let source = Compressing {
            compressor: &mut self.compressor,
            tx: &mut self.tx,
            out: &mut self.out[..],
            input: &mut self.input[..],
            plain,
        };
        let result = self.conn.stream_message(op, RSV1, chunk_size, source);
        match result {
            Err(e) if e.is_would_block() => Err(e),
            Ok(()) => {
                self.tx.clear();
                if self.agreed.outgoing.context_takeover == ContextTakeover::Reset {
                    self.compressor.reset();
                }
                Ok(())
            }
            Err(e) => {
                // Nothing of this message reaches the peer's window, or the connection failed:
                // either way our window must not keep it.
                self.tx.clear();
                self.compressor.reset();
                Err(e)
            }
        }
    }

    /// Runs the closing handshake; see [`Conn::close`].
    ///
    /// # Errors
    /// As [`Conn::close`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)
    }

    /// Writes queued bytes; see [`Conn::flush`].
    ///
    /// # Errors
    /// As [`Conn::flush`].
    pub fn flush(&mut self) -> Result<(), Error> {
        self.conn.flush()
    }
}

impl<S: Read + Write, C: Compressor, D: Decompressor> Peer for Deflate<S, C, D> {
    fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error> {
        Deflate::read_message(self, buf)
    }

    fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        Deflate::write_message(self, op, payload)
    }

    fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        reader: R,
    ) -> Result<(), Error> {
        Deflate::stream_message(self, op, rsv, chunk_size, reader)
    }

    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        Deflate::close(self, code, reason)
    }

    fn flush(&mut self) -> Result<(), Error> {
        Deflate::flush(self)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::frame::Role;

    /// Found by the hostile-peer suite: a bomb inflating past a 64 KiB limit left the caller's
    /// buffer with 128 KiB reserved (`Vec::resize` rounds the capacity up by doubling), twice
    /// what the read limit promises.
    #[test]
    fn inflating_past_the_limit_reserves_no_more_than_the_limit() {
        const LIMIT: usize = 64 * 1024;
        let params = DeflateParams::default();
        let (agreed, _) = negotiate([offer(&params)], &params).unwrap();
        let mirrored = Agreed {
            outgoing: agreed.incoming,
            incoming: agreed.outgoing,
        };
        for size in [LIMIT - 1000, LIMIT, LIMIT + 1, 4 << 20] {
            let sink = Conn::new(Cursor::new(Vec::new()), Role::Client, size, 1 << 16).unwrap();
            let mut bomber = Deflate::new(sink, &mirrored, &params).unwrap();
            bomber
                .write_message(OpCode::Binary, &vec![0; size])
                .unwrap();
            let wire = bomber.get_ref().get_ref().get_ref().clone();
            let conn = Conn::new(Cursor::new(wire), Role::Server, LIMIT, 4096).unwrap();
            let mut server = Deflate::new(conn, &agreed, &params).unwrap();
            let mut buf = Vec::new();
            let result = server.read_message(&mut buf).map(|(_, p)| p.len());
            assert_eq!(result.ok(), (size <= LIMIT).then_some(size));
            assert!(
                buf.capacity() <= LIMIT + 1,
                "{size}: {} reserved",
                buf.capacity()
            );
        }
    }

    /// Codecs move with their connection to another thread.
    #[test]
    fn codecs_are_send() {
        fn send<T: Send>() {}
        send::<super::ZlibRsCompressor>();
        send::<super::ZlibRsDecompressor>();
        #[cfg(feature = "deflate-zlib")]
        send::<super::ZlibCompressor>();
        #[cfg(feature = "deflate-zlib")]
        send::<super::ZlibDecompressor>();
    }
}
