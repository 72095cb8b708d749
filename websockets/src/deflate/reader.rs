//! An incoming message as an `io::Read` of inflated bytes, for messages too large to buffer.

use std::io::{self, Read, Write};

use super::codec::{Compressor, DEFLATE_TAIL, Decompressor};
use super::params::ContextTakeover;
use super::{Deflate, RxState};
use crate::conn::read::Step;
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;

/// The next incoming message of a [`Deflate`] connection, inflated as it is read: see
/// [`Deflate::message_reader`].
///
/// As with [`MessageReader`](crate::MessageReader), a close frame between two fragments makes
/// `read` fail with [`io::ErrorKind::ConnectionAborted`](std::io::ErrorKind::ConnectionAborted)
/// (the close is answered). It validates UTF-8 piece by piece as it inflates, like
/// [`Deflate::read_message`]; a message that is both invalid UTF-8 and corrupt may therefore be
/// refused with 1007 by one and 1002 by the other, depending on which fault the pieces reach
/// first. Either way the connection fails with a close frame.
pub struct DeflateReader<'d, S, C, D> {
    deflate: &'d mut Deflate<S, C, D>,
    opcode: OpCode,
    close_pos: usize,
    /// Compressed bytes in `deflate.input[pos..end]` not yet given to the decompressor.
    pos: usize,
    end: usize,
    /// The tail has been queued as input (the message's frames are all read).
    tail_fed: bool,
    /// The last call filled its output, so the decompressor may hold more.
    maybe_more: bool,
    done: bool,
}

impl<S: Read + Write, C: Compressor, D: Decompressor> Deflate<S, C, D> {
    /// Waits for the next message and returns a reader over its inflated payload; the read
    /// limit applies to the inflated bytes. For a close frame (already answered), the reader
    /// has [`OpCode::Close`] and yields the close payload.
    ///
    /// # Errors
    /// As [`read_message`](Self::read_message), and [`Error::Misuse`] when a `read_message`
    /// call was interrupted in the middle of a message.
    pub fn message_reader(&mut self) -> Result<DeflateReader<'_, S, C, D>, Error> {
        self.conn.begin_read()?;
        if self.rx.active {
            return Err(Error::Misuse("a message is half read by read_message"));
        }
        let (opcode, done) = match self.conn.step()? {
            Step::Close => (OpCode::Close, false),
            Step::End(op, _) => (op, true),
            Step::Payload(_) => {
                self.start_rx();
                let op = self.conn.message_opcode().unwrap_or(OpCode::Binary);
                (op, false)
            }
        };
        Ok(DeflateReader {
            deflate: self,
            opcode,
            close_pos: 0,
            pos: 0,
            end: 0,
            tail_fed: false,
            maybe_more: false,
            done,
        })
    }
}

impl<S, C, D> DeflateReader<'_, S, C, D> {
    /// The message's opcode: text, binary or close.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }
}

impl<S: Read + Write, C: Compressor, D: Decompressor> DeflateReader<'_, S, C, D> {
    fn read_inner(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let d = &mut *self.deflate;
        if !d.rx.compressed {
            return match d.conn.step()? {
                Step::Payload(remaining) => {
                    let left = d.read_limit - d.rx.len;
                    if remaining > left as u64 {
                        let size = (d.rx.len as u64).saturating_add(remaining);
                        let limit = d.read_limit;
                        return Err(d.conn.fail(Error::MessageTooBig { size, limit }));
                    }
                    let n = d.conn.read_data(out)?;
                    d.rx.len += n;
                    Ok(n)
                }
                Step::End(..) => {
                    self.done = true;
                    d.rx = RxState::default();
                    Ok(0)
                }
                Step::Close => Err(closed_mid_message()),
            };
        }
        loop {
            if self.pos < self.end || self.maybe_more {
                let cap = out.len().min(d.read_limit.saturating_add(1) - d.rx.len);
                let p = match d
                    .decompressor
                    .decompress(&d.input[self.pos..self.end], &mut out[..cap])
                {
                    Ok(p) => p,
                    Err(_) => {
                        let e = Error::Protocol(ProtocolError::InvalidCompressedData);
                        return Err(d.conn.fail(e));
                    }
                };
                self.pos += p.consumed;
                self.maybe_more = p.written == cap;
                if let Some(v) = d.rx.utf8.as_mut() {
                    if let Err(e) = v.feed(&out[..p.written]) {
                        return Err(d.conn.fail(e));
                    }
                }
                d.rx.len += p.written;
                if d.rx.len > d.read_limit {
                    let (size, limit) = (d.rx.len as u64, d.read_limit);
                    return Err(d.conn.fail(Error::MessageTooBig { size, limit }));
                }
                if p.written > 0 {
                    return Ok(p.written);
                }
                if p.consumed == 0 && self.pos < self.end {
                    let e = Error::Protocol(ProtocolError::InvalidCompressedData);
                    return Err(d.conn.fail(e));
                }
                continue;
            }
            if self.tail_fed {
                if let Some(v) = d.rx.utf8.as_mut() {
                    if let Err(e) = v.finish() {
                        return Err(d.conn.fail(e));
                    }
                }
                if d.agreed.incoming.context_takeover == ContextTakeover::Reset {
                    d.decompressor.reset();
                }
                d.rx = RxState::default();
                self.done = true;
                return Ok(0);
            }
            match d.conn.step()? {
                Step::Payload(remaining) => {
                    let want = d
                        .input
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    let n = d.conn.read_data(&mut d.input[..want])?;
                    (self.pos, self.end) = (0, n);
                }
                Step::End(..) => {
                    d.input[..DEFLATE_TAIL.len()].copy_from_slice(&DEFLATE_TAIL);
                    (self.pos, self.end) = (0, DEFLATE_TAIL.len());
                    self.tail_fed = true;
                }
                Step::Close => return Err(closed_mid_message()),
            }
        }
    }
}

fn closed_mid_message() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the peer closed the connection in the middle of a message",
    ))
}

impl<S: Read + Write, C: Compressor, D: Decompressor> Read for DeflateReader<'_, S, C, D> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.opcode == OpCode::Close {
            let payload = &self.deflate.conn.close_payload()[self.close_pos..];
            let n = payload.len().min(out.len());
            out[..n].copy_from_slice(&payload[..n]);
            self.close_pos += n;
            return Ok(n);
        }
        if self.done || out.is_empty() {
            return Ok(0);
        }
        Ok(self.read_inner(out)?)
    }
}
