//! The write path: whole messages, corking, and draining the scratch buffer.

use std::io::{self, IoSlice, Read, Write};

use super::{Conn, Tx};
use crate::error::Error;
use crate::frame::{Header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
use crate::mask;

impl<S: Read + Write> Conn<S> {
    /// Writes one message as a single frame.
    ///
    /// A server writes the header from the scratch buffer and the payload straight from
    /// `payload` in one vectored write (small payloads are copied next to the header). A client
    /// masks the payload into the scratch buffer chunk by chunk, never touching `payload`.
    /// `op` may also be [`OpCode::Ping`] or [`OpCode::Pong`] (at most 125 bytes); closing goes
    /// through [`close`](Self::close). Outgoing text is not validated.
    ///
    /// When corked ([`set_corked`](Self::set_corked)), the frame may stay in the scratch buffer
    /// until it fills or [`flush`](Self::flush) is called.
    ///
    /// `Ok` means the message is accepted: sent, or (when corked, or when the stream would
    /// block after the last payload byte was queued) waiting in the scratch buffer for
    /// [`flush`](Self::flush); [`has_pending_writes`](Self::has_pending_writes) tells which.
    ///
    /// # Errors
    /// `WouldBlock`: the message is not accepted yet; call again with the same `op` and
    /// `payload`. [`Error::Misuse`] for another message while one is half sent, a close or
    /// continuation opcode, or a control payload over 125 bytes; [`Error::Closed`] after a close
    /// frame was sent; [`Error::Failed`] after an earlier failure; other I/O errors.
    pub fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        check_message_op(op)?;
        self.write_frame(op, 0, true, payload)
    }

    /// Writes one message as a single frame like [`write_message`](Self::write_message), masking
    /// `payload` in place when this side masks (a client): no copy into the scratch buffer, and
    /// header and payload go out in one vectored write, as a server's do. For a client sending
    /// large messages it builds fresh each time, this saves a pass over the payload and most of
    /// the write calls (one per chunk otherwise). A server's payload is left untouched.
    ///
    /// ```
    /// # use std::io::Cursor;
    /// # use lowbit_websockets::{Conn, OpCode, Role};
    /// let mut conn = Conn::new(Cursor::new(Vec::new()), Role::Client, 1 << 20, 4096)?;
    /// let mut message = b"built for this one send".to_vec();
    /// conn.write_message_in_place(OpCode::Text, &mut message)?;
    /// // `message` now holds the masked bytes that went on the wire.
    /// assert_eq!(&conn.get_ref().get_ref()[6..], &message[..]);
    /// # Ok::<(), lowbit_websockets::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`write_message`](Self::write_message). After `WouldBlock`, call again with the same
    /// `payload`, as this call left it (masked): the rest goes out as it is.
    pub fn write_message_in_place(&mut self, op: OpCode, payload: &mut [u8]) -> Result<(), Error> {
        check_message_op(op)?;
        if self.enter_frame(op, 0, true, payload.len())? {
            if let Tx::Frame {
                len,
                mask: Some(key),
                ..
            } = self.tx
            {
                mask::apply_mask(payload, key, 0);
                // The header carries the key; the payload is masked already, so it goes out as
                // a server's does.
                self.tx = Tx::Frame {
                    len,
                    done: 0,
                    mask: None,
                };
            }
        }
        self.pump_frame(payload)
    }

    /// Corks or uncorks the connection. Corked, complete frames gather in the scratch buffer and
    /// go out in one write when it fills or on [`flush`](Self::flush); uncorking does not flush.
    pub fn set_corked(&mut self, corked: bool) {
        self.corked = corked;
    }

    /// Writes one frame: the building block of `write_message` and of extensions.
    pub(crate) fn write_frame(
        &mut self,
        op: OpCode,
        rsv: u8,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        self.enter_frame(op, rsv, fin, payload.len())?;
        self.pump_frame(payload)
    }

    /// Starts a frame of `len` payload bytes, or resumes the one in progress (the same call
    /// repeated): returns whether the frame is new.
    fn enter_frame(&mut self, op: OpCode, rsv: u8, fin: bool, len: usize) -> Result<bool, Error> {
        match self.tx {
            Tx::Idle => self.begin_frame(op, rsv, fin, len).map(|()| true),
            Tx::Frame { len: current, .. } if current == len => Ok(false),
            _ => Err(Error::Misuse(
                "another write is in progress; repeat that call",
            )),
        }
    }

    fn begin_frame(&mut self, op: OpCode, rsv: u8, fin: bool, len: usize) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if self.close_sent {
            return Err(Error::Closed);
        }
        if op.is_control() && len > MAX_CONTROL_PAYLOAD {
            return Err(Error::Misuse("control frame payload over 125 bytes"));
        }
        if self.control_pending() || self.wbuf.len() - self.wend() < MAX_HEADER_LEN {
            self.flush_pending()?;
        }
        let mask = self.role.masks_outgoing().then(|| self.keys.next_key());
        let header = Header {
            fin,
            rsv,
            opcode: op,
            mask,
            payload_len: len as u64,
        };
        let mut h = [0; MAX_HEADER_LEN];
        let hlen = header.encode(&mut h);
        let at = self.wend();
        self.wbuf[at..at + hlen].copy_from_slice(&h[..hlen]);
        self.set_wend(at + hlen);
        self.tx = Tx::Frame { len, done: 0, mask };
        Ok(())
    }

    /// Moves the payload of the current frame into the scratch buffer or onto the wire.
    fn pump_frame(&mut self, payload: &[u8]) -> Result<(), Error> {
        let Tx::Frame {
            len,
            mut done,
            mask,
        } = self.tx
        else {
            return Ok(());
        };
        loop {
            if done < len {
                let dst = self.wend();
                let free = self.wbuf.len() - dst;
                match mask {
                    Some(key) => {
                        let n = free.min(len - done);
                        mask::mask_copy(
                            &mut self.wbuf[dst..dst + n],
                            &payload[done..done + n],
                            key,
                            done,
                        );
                        self.set_wend(dst + n);
                        done += n;
                    }
                    None if len - done <= free => {
                        mask::copy(&mut self.wbuf[dst..dst + len - done], &payload[done..]);
                        self.set_wend(dst + len - done);
                        done = len;
                    }
                    None => {}
                }
                self.tx = Tx::Frame { len, done, mask };
            }
            if done == len {
                // The whole frame is on the wire or in the scratch buffer: the message is
                // accepted. A `WouldBlock` now only leaves bytes for `flush`.
                self.tx = Tx::Idle;
                if !(self.corked && self.wend() < self.wbuf.len()) {
                    match self.drain_wbuf() {
                        Err(e) if !e.is_would_block() => return Err(e),
                        _ => {}
                    }
                }
                return Ok(());
            }
            if mask.is_none() {
                // Header (and anything queued before it) plus the payload, without a copy.
                let bufs = [
                    IoSlice::new(&self.wbuf[self.wpos()..self.wend()]),
                    IoSlice::new(&payload[done..]),
                ];
                let n = match self.stream.write_vectored(&bufs) {
                    Ok(0) => return Err(self.io_fail(io::ErrorKind::WriteZero.into())),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io_fail(e)),
                };
                let wpos = self.wpos() + n.min(self.wend() - self.wpos());
                let from_buf = wpos - self.wpos();
                if wpos == self.wend() {
                    self.wpos = 0;
                    self.wend = 0;
                } else {
                    self.set_wpos(wpos);
                }
                done += n - from_buf;
                self.tx = Tx::Frame { len, done, mask };
            } else {
                self.drain_wbuf()?;
            }
        }
    }

    /// Writes `wbuf[wpos..wend]` completely.
    pub(super) fn drain_wbuf(&mut self) -> Result<(), Error> {
        let (mut wpos, wend) = (self.wpos(), self.wend());
        let result = write_out(&mut self.stream, &self.wbuf[..wend], &mut wpos);
        self.set_wpos(wpos);
        if let Err(e) = result {
            return Err(self.io_fail(e));
        }
        self.wpos = 0;
        self.wend = 0;
        Ok(())
    }

    /// Whether a data frame is partly on the wire, so no control frame may go out yet.
    pub(super) fn frame_open(&self) -> bool {
        match self.tx {
            Tx::Idle => false,
            Tx::Frame { len, done, .. } => done < len,
            Tx::Stream(s) => s.sending,
        }
    }

    /// Drains the scratch buffer, then the queued control frames when at a frame boundary.
    pub(super) fn flush_pending(&mut self) -> Result<(), Error> {
        self.drain_wbuf()?;
        if let Tx::Frame { len, done, .. } = self.tx {
            if done == len {
                self.tx = Tx::Idle;
            }
        }
        if self.frame_open() {
            return Ok(());
        }
        loop {
            if let Err(e) = self.ctrl.write_to(&mut self.stream) {
                return Err(self.io_fail(e));
            }
            // A close that waited for room goes in now that the queue is empty.
            match self.deferred_close.take() {
                Some(close) => self.queue_auto_close(close),
                None => return Ok(()),
            }
        }
    }
}

/// `write_message` and `write_message_in_place` send data and ping/pong messages only.
fn check_message_op(op: OpCode) -> Result<(), Error> {
    if matches!(op, OpCode::Close | OpCode::Continuation) {
        return Err(Error::Misuse(
            "write_message sends text, binary, ping or pong",
        ));
    }
    Ok(())
}

/// Writes `buf[*pos..]` to `stream`, advancing `*pos` past every byte written, so that an error
/// (`WouldBlock` included) leaves `*pos` at the first unwritten byte.
pub(super) fn write_out<S: Write>(stream: &mut S, buf: &[u8], pos: &mut usize) -> io::Result<()> {
    while *pos < buf.len() {
        match stream.write(&buf[*pos..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *pos += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
