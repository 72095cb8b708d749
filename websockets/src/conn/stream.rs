//! Lookahead streaming: a message sent from any `io::Read` in fixed chunks.
//!
//! Each chunk is filled completely (short reads are retried) together with one byte more. That
//! extra byte is the lookahead: when it arrives, the chunk is not the last, and it becomes the
//! first byte of the next chunk; when the reader ends first, the chunk goes out with FIN. So the
//! last fragment carries FIN, no empty trailing frame is sent (except for an empty message), and
//! the memory is one chunk in the scratch buffer rather than two.

use std::io::{self, Read, Write};

use super::{AutoClose, Conn, PAYLOAD_AT, Tx};
use crate::error::Error;
use crate::frame::{Header, MAX_HEADER_LEN, OpCode};
use crate::mask;

/// The state of a streamed message between calls.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamOut {
    op: OpCode,
    rsv: u8,
    /// The fragment size (`u32`: [`Conn::new`] bounds chunk sizes by `MAX_CHUNK_SIZE`).
    chunk: u32,
    /// Bytes in `wbuf[PAYLOAD_AT..]`: the chunk, and possibly the lookahead byte.
    filled: u32,
    eof: bool,
    first: bool,
    /// A frame is built in the scratch buffer and being written.
    pub(super) sending: bool,
    fin: bool,
}

impl<S: Read + Write> Conn<S> {
    /// Streams one message from `reader` in frames of `chunk_size` payload bytes, reading one
    /// byte ahead so that the last frame carries FIN. `rsv` sets RSV bits on the first frame
    /// (only bits an extension negotiated). Memory stays at the connection's scratch buffer.
    ///
    /// ```
    /// # use std::io::Cursor;
    /// # use lowbit_websockets::{Conn, OpCode, Role};
    /// let mut out = Vec::new();
    /// let mut conn = Conn::new(Cursor::new(&mut out), Role::Server, 1 << 20, 4096)?;
    /// conn.stream_message(OpCode::Binary, 0, 4096, &b"a large file"[..])?;
    /// # assert_eq!(out.len(), 2 + 12);
    /// # Ok::<(), lowbit_websockets::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ChunkSizeExceeded`] when `chunk_size` exceeds the connection's chunk size;
    /// [`Error::Misuse`] for a zero chunk size, a non-data opcode, unnegotiated RSV bits or
    /// another message half sent. `WouldBlock` from the stream or the reader: call again with
    /// the same reader. Any other reader error after the first frame went out leaves a half-sent
    /// message: the connection is failed (a close 1011 is queued) and refuses further writes.
    pub fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        mut reader: R,
    ) -> Result<(), Error> {
        match self.tx {
            Tx::Stream(_) => {}
            Tx::Idle => self.begin_stream(op, rsv, chunk_size)?,
            Tx::Frame { .. } => {
                return Err(Error::Misuse(
                    "another write is in progress; repeat that call",
                ));
            }
        }
        loop {
            let Tx::Stream(mut s) = self.tx else {
                return Ok(());
            };
            let chunk = s.chunk as usize;
            if !s.sending {
                let cap = PAYLOAD_AT + chunk + 1;
                let mut filled = s.filled as usize;
                while filled < chunk + 1 && !s.eof {
                    match reader.read(&mut self.wbuf[PAYLOAD_AT + filled..cap]) {
                        Ok(0) => s.eof = true,
                        Ok(n) => {
                            filled += n;
                            // At most `chunk + 1`, a u32 (see `MAX_CHUNK_SIZE`).
                            s.filled = filled as u32;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            self.tx = Tx::Stream(s);
                            return Err(self.reader_failed(s, e));
                        }
                    }
                }
                let n = filled.min(chunk);
                s.fin = filled <= chunk;
                let mask = self.role.masks_outgoing().then(|| self.keys.next_key());
                let header = Header {
                    fin: s.fin,
                    rsv: if s.first { s.rsv } else { 0 },
                    opcode: if s.first { s.op } else { OpCode::Continuation },
                    mask,
                    payload_len: n as u64,
                };
                let mut h = [0; MAX_HEADER_LEN];
                let hlen = header.encode(&mut h);
                self.wbuf[PAYLOAD_AT - hlen..PAYLOAD_AT].copy_from_slice(&h[..hlen]);
                if let Some(key) = mask {
                    mask::apply_mask(&mut self.wbuf[PAYLOAD_AT..PAYLOAD_AT + n], key, 0);
                }
                self.set_wpos(PAYLOAD_AT - hlen);
                self.set_wend(PAYLOAD_AT + n);
                s.sending = true;
                s.first = false;
                self.tx = Tx::Stream(s);
            }
            if s.fin {
                // The last frame is built: the message is accepted, `flush` sends what is left.
                self.tx = Tx::Idle;
                return match self.drain_wbuf() {
                    Err(e) if !e.is_would_block() => Err(e),
                    _ => Ok(()),
                };
            }
            self.drain_wbuf()?;
            // The lookahead byte starts the next chunk.
            self.wbuf[PAYLOAD_AT] = self.wbuf[PAYLOAD_AT + chunk];
            s.filled = 1;
            s.sending = false;
            self.tx = Tx::Stream(s);
            // A pong queued by the read side may go out between fragments.
            if self.control_pending() {
                self.flush_pending()?;
            }
        }
    }

    fn begin_stream(&mut self, op: OpCode, rsv: u8, chunk_size: usize) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if self.close_sent {
            return Err(Error::Closed);
        }
        if !op.is_data_start() {
            return Err(Error::Misuse("stream_message sends text or binary"));
        }
        if chunk_size == 0 {
            return Err(Error::Misuse("chunk size must be at least 1 byte"));
        }
        if chunk_size > self.chunk_size() {
            return Err(Error::ChunkSizeExceeded {
                requested: chunk_size,
                limit: self.chunk_size(),
            });
        }
        if rsv & !self.extension_rsv != 0 {
            return Err(Error::Misuse("rsv bits that no extension negotiated"));
        }
        // Corked frames and queued control frames go first; the scratch buffer is then ours.
        self.flush_pending()?;
        self.tx = Tx::Stream(StreamOut {
            op,
            rsv,
            // `chunk_size` is at most the connection's, itself at most `MAX_CHUNK_SIZE`.
            chunk: chunk_size as u32,
            filled: 0,
            eof: false,
            first: true,
            sending: false,
            fin: false,
        });
        Ok(())
    }

    /// A reader error: harmless before the first frame, fatal after it.
    fn reader_failed(&mut self, s: StreamOut, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::WouldBlock {
            return Error::Io(e);
        }
        self.tx = Tx::Idle;
        if !s.first {
            // Half a message is on the wire: fail the connection, telling the peer why.
            self.queue_auto_close(AutoClose::InternalError);
            let _ = self.flush_pending();
            self.failed = true;
        }
        Error::Io(e)
    }
}
