//! The read path: headers through the read buffer, control frames handled on the spot,
//! payloads into the caller's buffer.

use std::io::{self, Read, Write};

use super::{AutoClose, Conn, FrameIn, MessageIn};
use crate::close::CloseFrame;
use crate::error::{Error, ProtocolError};
use crate::frame::{self, Decoded, Header, MAX_CONTROL_PAYLOAD, OpCode, RSV1};
use crate::mask;
use crate::utf8::{self, Utf8Validator};

/// Grow the caller's buffer by at most this much beyond doubling, so an announced length is
/// never reserved before its bytes arrive.
const GROW_STEP: usize = 64 * 1024;

/// Resizes `buf` to `len` bytes, reserving exactly that much. `Vec::resize` alone may round the
/// capacity up to twice the old one, so a message at the read limit could reserve twice the
/// limit; the callers double the length themselves, which keeps growth amortised.
pub(crate) fn resize_exact(buf: &mut Vec<u8>, len: usize) {
    buf.reserve_exact(len.saturating_sub(buf.len()));
    buf.resize(len, 0);
}

/// The largest single `read` of a masked payload straight into the caller's buffer, unmasked
/// in place right after: 256 KiB stays in a 512 KiB L2 between the two passes, and costs a
/// socket at most four reads per MiB (a socket rarely returns more in one read anyway).
const MASKED_READ_PIECE: usize = 256 * 1024;

/// The shortest frame header.
const MIN_HEADER: usize = 2;

/// What the next step of reading a message met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The current data frame has this many payload bytes left.
    Payload(u64),
    /// The message ended: its opcode and length.
    End(OpCode, usize),
    /// The peer's close frame arrived (already answered); its payload is [`Conn::close_payload`].
    Close,
}

/// A header read by [`Conn::read_header`] after control frames were handled.
enum HeaderIn {
    Data(Header),
    Close,
}

impl<S: Read + Write> Conn<S> {
    /// Reads the next message into `buf` and returns its opcode and payload (borrowed from `buf`,
    /// whose capacity is reused: in steady state no allocation happens).
    ///
    /// Fragments are reassembled; pings are answered with pongs here, in the caller's thread;
    /// pongs are consumed. A close frame is answered (echoing its code) and returned as
    /// [`OpCode::Close`] with its payload (decode it with [`CloseFrame::decode`]); the caller
    /// should then drop the connection (a server closes the stream first). Text is validated as it
    /// arrives, failing at the first bad frame. Small frames come out of the read buffer, so a
    /// batch of them costs one `read`; large payloads are read straight into `buf`.
    ///
    /// # Errors
    /// `WouldBlock`: call again with the same `buf`, untouched. [`Error::Protocol`] (1002),
    /// [`Error::InvalidUtf8`] (1007), [`Error::MessageTooBig`] (1009, checked from the header
    /// before memory is reserved): the close frame is sent and the connection fails.
    /// [`Error::Closed`] after the peer's close; [`Error::Failed`] after an earlier failure;
    /// [`Error::Io`] with `UnexpectedEof` when the stream ends without a close frame.
    pub fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error> {
        self.begin_read()?;
        if let Some(op) = self.read_whole_frame(buf)? {
            return Ok((op, &buf[..]));
        }
        loop {
            match self.step()? {
                Step::Close => {
                    buf.clear();
                    buf.extend_from_slice(self.close_payload());
                    return Ok((OpCode::Close, &buf[..]));
                }
                Step::End(op, len) => {
                    buf.truncate(len);
                    return Ok((op, &buf[..]));
                }
                Step::Payload(remaining) => {
                    // Delivered so far: within the read limit, so it fits in usize.
                    let announced = self.msg_in.as_ref().map_or(0, |m| m.announced);
                    let at = (announced - remaining) as usize;
                    if buf.len() <= at {
                        let want =
                            at.saturating_add(usize::try_from(remaining).unwrap_or(usize::MAX));
                        let grown = buf.len().saturating_mul(2).max(at + GROW_STEP);
                        resize_exact(buf, want.min(grown));
                    }
                    let end = buf
                        .len()
                        .min(at.saturating_add(usize::try_from(remaining).unwrap_or(usize::MAX)));
                    self.read_data(&mut buf[at..end])?;
                }
            }
        }
    }

    /// The fast path of `read_message`: a whole single-frame data message already in the read
    /// buffer is decoded, checked and copied in one go, without the frame state machine.
    /// Anything else (a partial frame, a fragment, a control frame, a compressed message, or
    /// any rule broken) returns `None` and is left to the general path, which reports errors.
    fn read_whole_frame(&mut self, buf: &mut Vec<u8>) -> Result<Option<OpCode>, Error> {
        if self.frame_in.is_some() || self.msg_in.is_some() {
            return Ok(None);
        }
        if self.rpos == self.rend {
            // Nothing buffered: one read (a `WouldBlock` here has consumed nothing).
            self.fill(MIN_HEADER)?;
        }
        let avail = &self.rbuf[self.rpos..self.rend];
        let Ok(Decoded::Complete { header, len }) = Header::decode(avail) else {
            return Ok(None);
        };
        let plen = header.payload_len;
        if !header.fin
            || !header.opcode.is_data_start()
            || header.rsv != 0
            || plen > (avail.len() - len) as u64
            || plen > self.read_limit as u64
            || frame::validate(&header, self.role, self.extension_rsv).is_err()
        {
            return Ok(None);
        }
        let plen = plen as usize;
        let payload = &avail[len..len + plen];
        // Re-use the caller's initialised bytes; zero-fill only growth (as the general path).
        if buf.len() < plen {
            resize_exact(buf, plen);
        }
        buf.truncate(plen);
        match header.mask {
            Some(key) => mask::mask_copy(buf, payload, key, 0),
            None => mask::copy(buf, payload),
        }
        self.rpos += len + plen;
        if header.opcode == OpCode::Text {
            if let Err(e) = utf8::validate(buf) {
                return Err(self.fail(e));
            }
        }
        Ok(Some(header.opcode))
    }

    /// Checks the connection can read and sends a reply left pending by an earlier call.
    pub(crate) fn begin_read(&mut self) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if self.close_received {
            return Err(Error::Closed);
        }
        if self.control_pending() {
            self.send_control_best_effort()?;
        }
        Ok(())
    }

    /// Advances the read state machine to the next payload bytes, message end or close.
    pub(crate) fn step(&mut self) -> Result<Step, Error> {
        if self.close_received {
            // Nothing is read after the peer's close (its payload stays in the read buffer).
            return Ok(Step::Close);
        }
        loop {
            if let Some(f) = self.frame_in {
                if f.remaining > 0 {
                    return Ok(Step::Payload(f.remaining));
                }
                self.frame_in = None;
                if f.fin {
                    let Some(mut msg) = self.msg_in.take() else {
                        continue;
                    };
                    if let Some(v) = msg.utf8.as_mut() {
                        v.finish().map_err(|e| self.fail(e))?;
                    }
                    // Every announced byte is delivered; within the read limit, a usize.
                    return Ok(Step::End(msg.opcode, msg.announced as usize));
                }
                continue;
            }
            match self.read_header()? {
                HeaderIn::Close => return Ok(Step::Close),
                HeaderIn::Data(h) => self.open_frame(h)?,
            }
        }
    }

    /// Applies the message rules of RFC 6455 §5.4 and the read limit to a data frame header.
    fn open_frame(&mut self, h: Header) -> Result<(), Error> {
        let msg = match (h.opcode, self.msg_in.as_mut()) {
            (OpCode::Continuation, Some(msg)) => msg,
            (OpCode::Continuation, None) => {
                return Err(self.fail(ProtocolError::UnexpectedContinuation.into()));
            }
            (_, Some(_)) => return Err(self.fail(ProtocolError::ExpectedContinuation.into())),
            (op, None) => {
                let compressed = h.rsv & RSV1 != 0;
                let validate = op == OpCode::Text && !compressed;
                self.msg_in.insert(MessageIn {
                    opcode: op,
                    compressed,
                    announced: 0,
                    utf8: validate.then(Utf8Validator::new),
                })
            }
        };
        let size = msg.announced.saturating_add(h.payload_len);
        // The limit is checked here, from the header, before any memory is reserved.
        if size > self.read_limit as u64 {
            let limit = self.read_limit;
            return Err(self.fail(Error::MessageTooBig { size, limit }));
        }
        msg.announced = size;
        self.frame_in = Some(FrameIn {
            fin: h.fin,
            mask: h.mask,
            remaining: h.payload_len,
            phase: 0,
        });
        Ok(())
    }

    /// Reads payload bytes of the current frame into `dst` (at most its remaining length),
    /// unmasked and, for text, validated. Returns how many bytes arrived (at least one).
    pub(crate) fn read_data(&mut self, dst: &mut [u8]) -> Result<usize, Error> {
        let n = self.read_payload(dst)?;
        if let Some(v) = self.msg_in.as_mut().and_then(|m| m.utf8.as_mut()) {
            if let Err(e) = v.feed(&dst[..n]) {
                return Err(self.fail(e));
            }
        }
        Ok(n)
    }

    fn read_payload(&mut self, dst: &mut [u8]) -> Result<usize, Error> {
        let Some(mut f) = self.frame_in else {
            return Ok(0);
        };
        let want = dst
            .len()
            .min(usize::try_from(f.remaining).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let dst = &mut dst[..want];
        let n = if self.rpos < self.rend {
            let n = want.min(self.rend - self.rpos);
            let src = &self.rbuf[self.rpos..self.rpos + n];
            match f.mask {
                Some(key) => mask::mask_copy(&mut dst[..n], src, key, f.phase.into()),
                None => mask::copy(&mut dst[..n], src),
            }
            self.rpos += n;
            n
        } else if want >= self.rbuf.len() {
            // A large payload goes straight into the caller's buffer: one copy. A masked one is
            // read in pieces that stay in cache for the unmasking that follows each read.
            let piece = match f.mask {
                Some(_) => MASKED_READ_PIECE,
                None => usize::MAX,
            };
            let n = self.read_stream_into(&mut dst[..want.min(piece)])?;
            if let Some(key) = f.mask {
                mask::apply_mask(&mut dst[..n], key, f.phase.into());
            }
            n
        } else {
            self.fill(1)?;
            return self.read_payload(dst);
        };
        f.remaining -= n as u64;
        f.phase = ((usize::from(f.phase) + n) % 4) as u8;
        self.frame_in = Some(f);
        Ok(n)
    }

    /// One `read` of the stream into `dst`; end of stream is an error here.
    fn read_stream_into(&mut self, dst: &mut [u8]) -> Result<usize, Error> {
        loop {
            match self.stream.read(dst) {
                Ok(0) => {
                    let eof =
                        io::Error::new(io::ErrorKind::UnexpectedEof, "stream ended mid-frame");
                    return Err(self.fail(Error::Io(eof)));
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_fail(e)),
            }
        }
    }

    /// Reads once into the read buffer so that at least `needed` bytes may become available.
    fn fill(&mut self, needed: usize) -> Result<(), Error> {
        if self.rpos == self.rend {
            self.rpos = 0;
            self.rend = 0;
        } else if self.rbuf.len() - self.rpos < needed {
            self.rbuf.copy_within(self.rpos..self.rend, 0);
            self.rend -= self.rpos;
            self.rpos = 0;
        }
        loop {
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => {
                    let eof = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "stream ended without a close frame",
                    );
                    return Err(self.fail(Error::Io(eof)));
                }
                Ok(n) => {
                    self.rend += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_fail(e)),
            }
        }
    }

    /// Reads the next data frame header, answering control frames on the way.
    fn read_header(&mut self) -> Result<HeaderIn, Error> {
        loop {
            let decoded =
                Header::decode(&self.rbuf[self.rpos..self.rend]).map_err(|e| self.fail(e))?;
            let (header, len) = match decoded {
                Decoded::Incomplete { needed } => {
                    self.fill(needed)?;
                    continue;
                }
                Decoded::Complete { header, len } => (header, len),
            };
            if let Err(e) = frame::validate(&header, self.role, self.extension_rsv) {
                return Err(self.fail(e.into()));
            }
            if !header.opcode.is_control() {
                self.rpos += len;
                return Ok(HeaderIn::Data(header));
            }
            // A control frame (at most 139 bytes) is handled whole from the read buffer.
            let plen = header.payload_len as usize;
            if self.rend - self.rpos < len + plen {
                self.fill(len + plen)?;
                continue;
            }
            // Unmasked in place: a close payload stays in the read buffer for the caller.
            let at = self.rpos + len;
            if let Some(key) = header.mask {
                mask::apply_mask(&mut self.rbuf[at..at + plen], key, 0);
            }
            match header.opcode {
                OpCode::Close => {
                    // Nothing is read after a close: `rbuf[rpos..rend]` is its payload from now
                    // on (bytes after it are never read).
                    (self.rpos, self.rend) = (at, at + plen);
                    self.on_close()?;
                    return Ok(HeaderIn::Close);
                }
                OpCode::Ping if !self.close_sent => {
                    self.rpos = at + plen;
                    let mut payload = [0; MAX_CONTROL_PAYLOAD];
                    payload[..plen].copy_from_slice(&self.rbuf[at..at + plen]);
                    self.queue_pong(&payload[..plen]);
                    self.send_control_best_effort()?;
                }
                _ => self.rpos = at + plen,
            }
        }
    }

    /// The peer's close: validate it, echo its code (RFC 6455 §5.5.1), stop reading.
    fn on_close(&mut self) -> Result<(), Error> {
        // `read_header` left the payload as `rbuf[rpos..rend]`.
        if let Err(e) = CloseFrame::decode(&self.rbuf[self.rpos..self.rend]) {
            return Err(self.fail(e));
        }
        self.close_received = true;
        self.msg_in = None;
        self.frame_in = None;
        if !self.close_sent {
            self.queue_auto_close(AutoClose::Echo);
            self.send_control_best_effort()?;
        }
        Ok(())
    }

    /// Sends queued control frames now if possible; `WouldBlock` keeps them for a later call.
    fn send_control_best_effort(&mut self) -> Result<(), Error> {
        match self.flush_pending() {
            Err(e) if !e.is_would_block() => Err(e),
            _ => Ok(()),
        }
    }

    /// Reads and drops frames until the peer's close frame arrives (used by `close`).
    pub(super) fn discard_until_close(&mut self) -> Result<(), Error> {
        let mut scratch = [0u8; 512];
        loop {
            match self.step()? {
                Step::Close => return Ok(()),
                Step::End(..) => {}
                Step::Payload(_) => {
                    self.read_data(&mut scratch)?;
                }
            }
        }
    }

    /// Whether the message being read is compressed (RSV1 on its first frame).
    #[allow(dead_code)] // until the deflate decorator lands
    pub(crate) fn message_compressed(&self) -> bool {
        self.msg_in.as_ref().is_some_and(|m| m.compressed)
    }

    /// The opcode of the message being read, once its first frame has arrived.
    #[allow(dead_code)] // used by the deflate decorator only
    pub(crate) fn message_opcode(&self) -> Option<OpCode> {
        self.msg_in.as_ref().map(|m| m.opcode)
    }

    /// The payload of the close frame received (empty before one arrives). It stays in the
    /// read buffer as `rbuf[rpos..rend]`: once a close has arrived nothing more is read.
    pub(crate) fn close_payload(&self) -> &[u8] {
        if self.close_received {
            &self.rbuf[self.rpos..self.rend]
        } else {
            &[]
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read, Write};

    use crate::conn::Conn;
    use crate::error::Error;
    use crate::frame::OpCode;

    /// Reads from `input`, records writes.
    struct Wire {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Wire {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Wire {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn masked(op: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    #[test]
    fn whole_frames_in_one_read_take_the_fast_path_with_the_same_results() {
        let mut wire = masked(0x1, b"hello", [1, 2, 3, 4]);
        wire.extend(masked(0x2, &[9; 40], [5, 6, 7, 8]));
        wire.extend(masked(0x2, b"", [0; 4]));
        wire.extend(masked(0x1, b"\xff\xfe", [1, 1, 1, 1]));
        let stream = Wire {
            input: io::Cursor::new(wire),
            output: Vec::new(),
        };
        let mut conn = Conn::server(stream, 1024, 4096).unwrap();
        // A longer buffer is re-used and truncated to the message.
        let mut buf = vec![7; 100];
        assert_eq!(
            conn.read_message(&mut buf).unwrap(),
            (OpCode::Text, &b"hello"[..])
        );
        assert_eq!(
            conn.read_message(&mut buf).unwrap(),
            (OpCode::Binary, &[9; 40][..])
        );
        assert_eq!(
            conn.read_message(&mut buf).unwrap(),
            (OpCode::Binary, &b""[..])
        );
        assert!(matches!(
            conn.read_message(&mut buf),
            Err(Error::InvalidUtf8)
        ));
        // The connection failed with a 1007 close frame.
        assert_eq!(&conn.get_ref().output[..4], &[0x88, 15, 0x03, 0xef]);
        assert!(matches!(conn.read_message(&mut buf), Err(Error::Failed)));
    }
}
