//! The queue of control frames (pong, close) waiting for a frame boundary.

use std::io::{self, Write};

use crate::frame::{Header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
use crate::mask;

/// The largest encoded control frame: a 125-byte payload needs a 2-byte length form, plus a mask.
const MAX_CONTROL_FRAME: usize = 2 + 4 + MAX_CONTROL_PAYLOAD;

/// Encoded control frames; `buf[pos..end]` is still to be written.
///
/// It holds two frames of the largest size: one partly written and one not yet started. A pong
/// replaces a pong not yet started (RFC 6455 §5.5.3 allows answering only the most recent
/// ping), so pongs always fit; a close frame may not (when a frame is half written and a pong
/// waits behind it), and [`push`](Self::push) then refuses it: the connection keeps the close
/// aside ([`AutoClose`](super::AutoClose)) and queues it once the queue has drained, so every
/// ping received before the peer's close is still answered (§5.5.2). `Conn::close` flushes the
/// queue before queueing its own close. Nothing is queued after a close.
///
/// The positions are `u16` (the buffer is 262 bytes): this structure is inline in every
/// connection, so its size counts ten thousand times over on a busy server.
pub(super) struct ControlQueue {
    buf: [u8; 2 * MAX_CONTROL_FRAME],
    pos: u16,
    end: u16,
    /// Where the last queued pong starts, or `NO_PONG`.
    pong_at: u16,
}

/// `pong_at` when no pong is queued (a `u16` sentinel rather than an `Option`: 2 bytes less).
const NO_PONG: u16 = u16::MAX;

impl ControlQueue {
    pub(super) const fn new() -> Self {
        Self {
            buf: [0; 2 * MAX_CONTROL_FRAME],
            pos: 0,
            end: 0,
            pong_at: NO_PONG,
        }
    }

    /// Whether every queued byte has been written.
    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// Queues a pong or a close frame with `payload` (at most 125 bytes), masked with `mask`.
    /// Returns `false`, queueing nothing, when a close frame does not fit; a pong always does.
    pub(super) fn push(&mut self, op: OpCode, payload: &[u8], mask: Option<[u8; 4]>) -> bool {
        debug_assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
        if self.is_empty() {
            self.clear();
        } else if self.pos > 0 {
            // Move the unsent rest of the frame in flight to the front.
            let (pos, end) = (usize::from(self.pos), usize::from(self.end));
            self.buf.copy_within(pos..end, 0);
            // A pong that started before `pos` is in flight: no longer replaceable.
            self.pong_at = match self.pong_at.checked_sub(self.pos) {
                Some(at) if self.pong_at != NO_PONG => at,
                _ => NO_PONG,
            };
            self.end -= self.pos;
            self.pos = 0;
        }
        let header = Header {
            fin: true,
            rsv: 0,
            opcode: op,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut h = [0; MAX_HEADER_LEN];
        let hlen = header.encode(&mut h);
        let mut at = usize::from(self.end);
        if op == OpCode::Pong && self.pong_at != NO_PONG && self.pong_at >= self.pos {
            // A pong not yet started: this newer one replaces it.
            at = usize::from(self.pong_at);
        }
        if at + hlen + payload.len() > self.buf.len() {
            debug_assert!(op == OpCode::Close, "a pong always fits");
            return false;
        }
        self.buf[at..at + hlen].copy_from_slice(&h[..hlen]);
        let body = &mut self.buf[at + hlen..at + hlen + payload.len()];
        match mask {
            Some(key) => mask::mask_copy(body, payload, key, 0),
            None => body.copy_from_slice(payload),
        }
        // At most two frames of 131 bytes: positions fit in u16.
        self.end = (at + hlen + payload.len()) as u16;
        // Only a pong behind which nothing is queued may be replaced.
        self.pong_at = if op == OpCode::Pong {
            at as u16
        } else {
            NO_PONG
        };
        true
    }

    /// Writes the queued bytes to `stream`. An error (`WouldBlock` included) keeps the
    /// unwritten rest for the next call.
    pub(super) fn write_to<W: Write>(&mut self, stream: &mut W) -> io::Result<()> {
        let mut pos = usize::from(self.pos);
        let result = super::write::write_out(stream, &self.buf[..usize::from(self.end)], &mut pos);
        // `pos` never passes `end`, a u16.
        self.pos = pos as u16;
        if result.is_ok() {
            self.clear();
        }
        result
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
        self.pong_at = NO_PONG;
    }

    /// The queued bytes not yet written (for tests).
    #[cfg(test)]
    pub(super) fn unwritten(&self) -> &[u8] {
        &self.buf[usize::from(self.pos)..usize::from(self.end)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::tests::Stalled;

    /// Accepts `room` bytes of writes, then blocks.
    fn tight(room: usize) -> Stalled {
        Stalled {
            input: io::Cursor::new(Vec::new()),
            written: Vec::new(),
            room,
        }
    }

    #[test]
    fn a_newer_pong_replaces_one_not_started_and_a_close_waits_for_room() {
        let mut q = ControlQueue::new();
        let key = Some([1, 2, 3, 4]);
        assert!(q.push(OpCode::Pong, &[1; 125], key));
        let mut w = tight(1);
        assert!(q.write_to(&mut w).is_err());
        // The first pong is in flight; the second and third share one slot.
        assert!(q.push(OpCode::Pong, &[2; 125], key));
        assert!(q.push(OpCode::Pong, &[3; 125], key));
        assert_eq!(q.unwritten().len(), 130 + 131);
        // No room for a close behind them: refused, nothing dropped.
        assert!(!q.push(OpCode::Close, &[0x03, 0xe8], key));
        assert_eq!(q.unwritten().len(), 130 + 131);
        w.room = usize::MAX;
        q.write_to(&mut w).unwrap();
        assert!(q.is_empty());
        assert!(q.push(OpCode::Close, &[0x03, 0xe8], key));
        q.write_to(&mut w).unwrap();
        assert_eq!(w.written.len(), 131 + 131 + 8);
        assert_eq!(&w.written[131..133], &[0x8a, 0xfd]);
        assert_eq!(&w.written[262..264], &[0x88, 0x82]);
    }

    #[test]
    fn a_pong_queued_before_a_close_is_not_replaced_after_it() {
        let mut q = ControlQueue::new();
        assert!(q.push(OpCode::Pong, b"p", None));
        assert!(q.push(OpCode::Close, b"", None));
        let mut w = tight(usize::MAX);
        q.write_to(&mut w).unwrap();
        assert_eq!(w.written, b"\x8a\x01p\x88\x00");
    }

    #[test]
    fn the_pong_in_flight_is_never_replaced() {
        let mut q = ControlQueue::new();
        assert!(q.push(OpCode::Pong, b"first", None));
        let mut w = tight(1);
        assert!(q.write_to(&mut w).is_err());
        assert!(q.push(OpCode::Pong, b"second", None));
        w.room = usize::MAX;
        q.write_to(&mut w).unwrap();
        assert_eq!(w.written, b"\x8a\x05first\x8a\x06second");
    }
}
