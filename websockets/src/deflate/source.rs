//! The outgoing half of the decorator: plain bytes in, compressed bytes out, as an `io::Read`
//! that `Conn::stream_message` frames (RSV1 on the first frame, FIN on the last, one-byte
//! lookahead, resumable after `WouldBlock`).

use std::io::{self, Read};

use super::codec::{CodecError, Compressor, TailHoldback};

/// What the compressed message being sent has done so far; kept between calls so a
/// `WouldBlock` (from the stream or from the caller's reader) resumes at the same byte.
#[derive(Debug, Default)]
pub(super) struct TxState {
    /// A compressed message is in progress.
    pub(super) active: bool,
    /// Plain input: bytes of the payload (or of `input`) already given to the compressor.
    in_pos: usize,
    /// Plain input read from the caller's reader into `input`.
    in_len: usize,
    /// The caller's reader has ended.
    eof: bool,
    /// Compressed bytes in `out[ready_pos..ready_end]` not yet handed to the connection.
    ready_pos: usize,
    ready_end: usize,
    hold: TailHoldback,
    /// The sync flush is complete: nothing more to hand out after `ready`.
    done: bool,
}

impl TxState {
    pub(super) fn start(&mut self) {
        *self = Self {
            active: true,
            ..Self::default()
        };
    }

    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// Where the plain bytes come from.
pub(super) enum Plain<'p, R> {
    /// A whole payload (`write_message`).
    Slice(&'p [u8]),
    /// A reader (`stream_message`), read through the decorator's input buffer.
    Reader(R),
}

/// Compressed bytes of one message, read by the connection's streaming engine.
pub(super) struct Compressing<'a, C, R> {
    pub(super) compressor: &'a mut C,
    pub(super) tx: &'a mut TxState,
    /// Compressor output, with the tail held back at its front.
    pub(super) out: &'a mut [u8],
    /// Plain bytes read from a `Plain::Reader`.
    pub(super) input: &'a mut [u8],
    pub(super) plain: Plain<'a, R>,
}

fn codec_io(e: CodecError) -> io::Error {
    io::Error::other(e)
}

impl<C: Compressor, R: Read> Read for Compressing<'_, C, R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        loop {
            let t = &mut *self.tx;
            if t.ready_pos < t.ready_end {
                let n = dst.len().min(t.ready_end - t.ready_pos);
                dst[..n].copy_from_slice(&self.out[t.ready_pos..t.ready_pos + n]);
                t.ready_pos += n;
                return Ok(n);
            }
            if t.done || dst.is_empty() {
                return Ok(0);
            }
            let (plain, last): (&[u8], bool) = match &mut self.plain {
                Plain::Slice(payload) => (&payload[t.in_pos..], true),
                Plain::Reader(reader) => {
                    if t.in_pos == t.in_len && !t.eof {
                        // WouldBlock and other errors go to the connection, state intact.
                        let n = reader.read(self.input)?;
                        t.in_pos = 0;
                        t.in_len = n;
                        t.eof = n == 0;
                    }
                    (&self.input[t.in_pos..t.in_len], t.eof)
                }
            };
            let space = t.hold.space(self.out).map_err(codec_io)?;
            let p = self
                .compressor
                .compress(plain, space, last)
                .map_err(codec_io)?;
            t.in_pos += p.consumed;
            t.ready_pos = 0;
            t.ready_end = t
                .hold
                .ready(self.out, p.written, p.done)
                .map_err(codec_io)?
                .len();
            t.done = p.done;
        }
    }
}
