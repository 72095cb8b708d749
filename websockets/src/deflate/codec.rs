//! The codec seam: what the `Deflate` decorator needs from a compression backend.
//!
//! Both traits work on caller-owned slices and never allocate per call, so a backend can be
//! driven chunk by chunk from a fixed scratch buffer. The permessage-deflate framing around them
//! (RFC 7692 §7.2.1: strip the `00 00 ff ff` tail of a sync flush; §7.2.2: append it again
//! before inflating) lives here too, in [`TailHoldback`] and [`DEFLATE_TAIL`].

use core::fmt;

/// The four bytes that end a sync flush (an empty stored block), removed from every compressed
/// message and appended again by the receiver (RFC 7692 §7.2.1, §7.2.2).
pub const DEFLATE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The least output space a flushing [`Compressor::compress`] call needs: after a flush that
/// exactly filled the previous output, zlib writes one more empty block (5 bytes), and with less
/// room than that it would never finish.
pub const MIN_FLUSH_OUTPUT: usize = 8;

/// The smallest LZ77 window RFC 7692 lets a peer ask for (`*_max_window_bits=8`).
pub(crate) const MIN_WINDOW_BITS: u8 = 8;
/// The largest (and default) LZ77 window, 32 KiB.
pub(crate) const MAX_WINDOW_BITS: u8 = 15;

/// A failure inside a compression backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The peer sent data that is not a valid raw deflate stream, or one that asks for a preset
    /// dictionary (RFC 7692 has none). The connection must be failed.
    InvalidData,
    /// A window size outside `8..=15`, a memory level outside `1..=9` or a compression level
    /// above 9 was asked of a backend.
    InvalidConfig,
    /// The backend could not allocate its state.
    OutOfMemory,
    /// The backend reported an inconsistent state; a bug in it or in its caller.
    Backend,
    /// A compressed message did not end with the `00 00 ff ff` tail of a sync flush.
    MissingTail,
    /// A buffer handed to [`TailHoldback`] leaves no room once the held tail is placed.
    OutputTooSmall,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidData => "invalid compressed data",
            Self::InvalidConfig => "invalid compression parameters",
            Self::OutOfMemory => "compression state could not be allocated",
            Self::Backend => "compression backend in an inconsistent state",
            Self::MissingTail => "compressed message does not end with a sync flush",
            Self::OutputTooSmall => "compression output buffer too small",
        })
    }
}

impl std::error::Error for CodecError {}

/// A compression level, 0 (stored, no compression) to 9 (smallest output, slowest).
///
/// [`Compression::BEST_SPEED`] (level 1, the seed's `BestSpeed`) is the usual choice for
/// WebSocket traffic: most of the gain at a fraction of the cost.
///
/// ```
/// use lowbit_websockets::Compression;
/// assert_eq!(Compression::fast(), Compression::BEST_SPEED);
/// assert_eq!(Compression::level(12).get(), 9); // clamped
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Compression(u8);

impl Compression {
    /// Level 0: stored blocks only.
    pub const NONE: Self = Self(0);
    /// Level 1: the fastest level that compresses.
    pub const BEST_SPEED: Self = Self(1);
    /// Level 6: zlib's default balance.
    pub const DEFAULT: Self = Self(6);
    /// Level 9: the smallest output.
    pub const BEST: Self = Self(9);

    /// The fastest level that compresses, [`Compression::BEST_SPEED`].
    #[must_use]
    pub const fn fast() -> Self {
        Self::BEST_SPEED
    }

    /// A level from 0 to 9; larger values are treated as 9.
    #[must_use]
    pub const fn level(level: u8) -> Self {
        Self(if level > 9 { 9 } else { level })
    }

    /// The level as a number from 0 to 9.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for Compression {
    /// [`Compression::BEST_SPEED`].
    fn default() -> Self {
        Self::BEST_SPEED
    }
}

/// What one call to a codec did: bytes taken from the input and bytes written to the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use]
pub struct Progress {
    /// Bytes consumed from the front of the input.
    pub consumed: usize,
    /// Bytes written to the front of the output.
    pub written: usize,
    /// For [`Compressor::compress`] with `flush`: the whole input is consumed and the sync-flushed
    /// output is completely written, so the message is finished. Always `false` otherwise.
    pub done: bool,
}

/// A raw-deflate compressor that ends each message with a sync flush (RFC 7692 §7.2.1).
///
/// One message is compressed by calls with `flush == false` for every piece but the last, then
/// calls with `flush == true` (and the remaining input) until [`Progress::done`]. A full output
/// buffer simply means "call again"; flushing calls need at least [`MIN_FLUSH_OUTPUT`] bytes.
///
/// # Contract for implementors
/// - A compressor built for `window_bits` never emits a back-reference farther than
///   `1 << window_bits` bytes, so a peer that allocated exactly that window can inflate it
///   (RFC 7692 §7.1.2). zlib-style encoders cannot open an 8-bit raw window; the bundled backends
///   then open a 9-bit window and restrict themselves to distance-1 matches (run-length
///   strategy), which every window honours.
/// - The output of a finished message ends with [`DEFLATE_TAIL`].
/// - `compress` never allocates.
pub trait Compressor {
    /// Compresses `input` into `output`; `flush` says `input` holds the message's last bytes.
    ///
    /// # Errors
    /// [`CodecError::OutputTooSmall`] for a flushing call with less than [`MIN_FLUSH_OUTPUT`]
    /// bytes of output; [`CodecError::Backend`] if the backend's state is inconsistent (a bug;
    /// drop the codec).
    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Result<Progress, CodecError>;

    /// Forgets the LZ77 window, for "no context takeover" (RFC 7692 §7.1.1). Called after a
    /// message is finished, never in the middle of one.
    fn reset(&mut self);

    /// The base-2 logarithm of the window the peer must be able to hold for our output.
    fn window_bits(&self) -> u8;
}

/// A raw-deflate decompressor (RFC 7692 §7.2.2).
///
/// The caller feeds the message's payload in pieces and then [`DEFLATE_TAIL`] as a last piece.
/// Output is bounded by the caller's buffer, which is how the read limit is enforced on
/// *inflated* bytes: a call never writes more than `output.len()`.
///
/// When a call fills `output` completely, more output may be pending even if all input was
/// consumed: call again with fresh output space. The input is drained once a call returns
/// `written < output.len()` with all input consumed.
///
/// # Contract for implementors
/// - A message may end with a final block (BFINAL set, RFC 7692 §7.2.3.4): the decompressor
///   then accepts exactly [`DEFLATE_TAIL`] after it, rejects anything else as
///   [`CodecError::InvalidData`], and starts a fresh stream for the next message.
/// - `decompress` never allocates.
pub trait Decompressor {
    /// Inflates from `input` into `output`.
    ///
    /// # Errors
    /// [`CodecError::InvalidData`] when the input is not valid raw deflate (the caller fails the
    /// connection); [`CodecError::Backend`] for an inconsistent state.
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError>;

    /// Forgets the LZ77 window, for "no context takeover" (RFC 7692 §7.1.1). Called after a
    /// message is finished, never in the middle of one.
    fn reset(&mut self);

    /// The base-2 logarithm of the largest window this decompressor can follow.
    fn window_bits(&self) -> u8;
}

impl<C: Compressor + ?Sized> Compressor for &mut C {
    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Result<Progress, CodecError> {
        (**self).compress(input, output, flush)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn window_bits(&self) -> u8 {
        (**self).window_bits()
    }
}

impl<D: Decompressor + ?Sized> Decompressor for &mut D {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError> {
        (**self).decompress(input, output)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn window_bits(&self) -> u8 {
        (**self).window_bits()
    }
}

impl<C: Compressor + ?Sized> Compressor for Box<C> {
    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Result<Progress, CodecError> {
        (**self).compress(input, output, flush)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn window_bits(&self) -> u8 {
        (**self).window_bits()
    }
}

impl<D: Decompressor + ?Sized> Decompressor for Box<D> {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError> {
        (**self).decompress(input, output)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn window_bits(&self) -> u8 {
        (**self).window_bits()
    }
}

/// Makes the sync flush of an empty message visible.
///
/// zlib skips a sync flush when nothing was compressed since the previous one, so an empty
/// message after another would produce no bytes at all; RFC 7692 needs its empty stored block
/// (which strips to the single byte `0x00`, §7.2.3.6). Right after a completed flush (or a
/// reset) the stream is byte-aligned, so the block can be written as is: `00 00 00 ff ff`. It
/// changes neither the LZ77 window nor the bit position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmptyFlush {
    /// The stream is byte-aligned with nothing pending since the last flush.
    idle: bool,
    /// Bytes of the empty block already written.
    pos: usize,
}

impl Default for EmptyFlush {
    fn default() -> Self {
        Self { idle: true, pos: 0 }
    }
}

impl EmptyFlush {
    const BLOCK: [u8; 5] = [0x00, 0x00, 0x00, 0xff, 0xff];

    /// Handles the call itself when it is an empty message's flush; otherwise `None` and the
    /// backend runs.
    pub(crate) fn intercept(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Option<Progress> {
        if self.pos == 0 && !(flush && input.is_empty() && self.idle) {
            if !input.is_empty() {
                self.idle = false;
            }
            return None;
        }
        let n = output.len().min(Self::BLOCK.len() - self.pos);
        output[..n].copy_from_slice(&Self::BLOCK[self.pos..self.pos + n]);
        self.pos += n;
        let done = self.pos == Self::BLOCK.len();
        if done {
            self.pos = 0;
        }
        Some(Progress {
            consumed: 0,
            written: n,
            done,
        })
    }

    /// Notes the result of a backend call.
    pub(crate) fn after(&mut self, progress: &Progress) {
        if progress.done {
            self.idle = true;
        }
    }

    /// The stream was reset: aligned and empty.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

/// What a decompressor does after the peer ended its deflate stream with a final block (BFINAL).
///
/// RFC 7692 §7.2.3.4 allows a message to end with a final block instead of a sync flush; the
/// receiver still appends [`DEFLATE_TAIL`], which then trails the ended stream. The only bytes
/// accepted after the final block are exactly that tail; once it has passed, the decompressor
/// starts a fresh stream (the sender's next message opens a new one with an empty window).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AfterFinalBlock {
    /// `Some(n)`: the stream ended and `n` bytes of the tail have been seen since.
    matched: Option<usize>,
}

impl AfterFinalBlock {
    /// Notes that the backend reported the end of the stream.
    pub(crate) fn stream_ended(&mut self) {
        self.matched = Some(0);
    }

    /// Whether the stream has ended and the tail is still expected.
    pub(crate) fn is_active(&self) -> bool {
        self.matched.is_some()
    }

    /// Consumes tail bytes from `input`; returns how many, and whether the tail is complete (the
    /// caller then resets its backend and goes on with the rest of `input`).
    pub(crate) fn swallow(&mut self, input: &[u8]) -> Result<(usize, bool), CodecError> {
        let Some(mut n) = self.matched else {
            return Ok((0, false));
        };
        let mut used = 0;
        while n < DEFLATE_TAIL.len() {
            let Some(&b) = input.get(used) else {
                self.matched = Some(n);
                return Ok((used, false));
            };
            if b != DEFLATE_TAIL[n] {
                return Err(CodecError::InvalidData);
            }
            n += 1;
            used += 1;
        }
        self.matched = None;
        Ok((used, true))
    }

    /// Forgets an ended stream.
    pub(crate) fn clear(&mut self) {
        self.matched = None;
    }
}

/// Strips [`DEFLATE_TAIL`] from compressed output produced piece by piece into one reused buffer,
/// where the tail may straddle two (or more) pieces.
///
/// The last four bytes of each piece are held back at the front of the buffer, and the
/// compressor writes behind them; everything before them is ready to send. When the message is
/// done the held bytes must be exactly the tail and are dropped. No allocation, no I/O.
///
/// ```
/// use lowbit_websockets::{Compression, Compressor, TailHoldback, ZlibRsCompressor};
/// let mut c = ZlibRsCompressor::new(Compression::fast(), 15, 8)?;
/// let mut buf = [0u8; 16];
/// let mut hold = TailHoldback::new();
/// let (mut input, mut sent) = (&b"hello hello hello hello hello"[..], Vec::new());
/// loop {
///     let p = c.compress(input, hold.space(&mut buf)?, true)?;
///     input = &input[p.consumed..];
///     sent.extend_from_slice(hold.ready(&buf, p.written, p.done)?);
///     if p.done { break; }
/// }
/// assert!(!sent.ends_with(&[0, 0, 0xff, 0xff]));
/// # Ok::<(), lowbit_websockets::CodecError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TailHoldback {
    /// Where the held bytes sit in the buffer (they are moved to the front by `space`).
    held_at: usize,
    /// How many bytes are held, 0..=4.
    held: usize,
}

impl TailHoldback {
    /// A holdback with nothing held, for the start of a message.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            held_at: 0,
            held: 0,
        }
    }

    /// Moves the held bytes to the front of `buf` and returns the space behind them, where the
    /// compressor writes its next piece.
    ///
    /// # Errors
    /// [`CodecError::OutputTooSmall`] if `buf` leaves less than [`MIN_FLUSH_OUTPUT`] bytes
    /// behind the held bytes (any buffer of 12 bytes or more works).
    pub fn space<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b mut [u8], CodecError> {
        if buf.len() < DEFLATE_TAIL.len() + MIN_FLUSH_OUTPUT || self.held_at + self.held > buf.len()
        {
            return Err(CodecError::OutputTooSmall);
        }
        buf.copy_within(self.held_at..self.held_at + self.held, 0);
        self.held_at = 0;
        Ok(&mut buf[self.held..])
    }

    /// Accounts for `written` bytes the compressor put into the space from [`Self::space`] and
    /// returns the bytes of `buf` ready to send (possibly none).
    ///
    /// With `done` the message is finished: the tail is checked and dropped, and the holdback is
    /// ready for the next message.
    ///
    /// # Errors
    /// [`CodecError::MissingTail`] if `done` and the output does not end with [`DEFLATE_TAIL`];
    /// [`CodecError::OutputTooSmall`] if `written` overruns `buf`.
    pub fn ready<'b>(
        &mut self,
        buf: &'b [u8],
        written: usize,
        done: bool,
    ) -> Result<&'b [u8], CodecError> {
        let total = self.held + written;
        if total > buf.len() {
            return Err(CodecError::OutputTooSmall);
        }
        let keep = total.min(DEFLATE_TAIL.len());
        let send = total - keep;
        if done {
            if buf[send..total] != DEFLATE_TAIL {
                return Err(CodecError::MissingTail);
            }
            *self = Self::new();
        } else {
            self.held_at = send;
            self.held = keep;
        }
        Ok(&buf[..send])
    }

    /// Forgets any held bytes, for a message abandoned midway.
    pub fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` through a holdback in pieces whose sizes cycle through `pieces`, in a buffer
    /// of `buf_len` bytes, as a compressor would write it; returns what would have been sent.
    fn strip(stream: &[u8], buf_len: usize, pieces: &[usize]) -> Result<Vec<u8>, CodecError> {
        let mut buf = vec![0xAAu8; buf_len];
        let mut hold = TailHoldback::new();
        let mut sent = Vec::new();
        let mut rest = stream;
        let mut i = 0;
        loop {
            let space = hold.space(&mut buf)?;
            let n = pieces[i % pieces.len()].min(space.len()).min(rest.len());
            space[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            i += 1;
            let done = rest.is_empty();
            sent.extend_from_slice(hold.ready(&buf, n, done)?);
            if done {
                return Ok(sent);
            }
        }
    }

    #[test]
    fn tail_stripped_at_every_straddle_position() {
        let body: Vec<u8> = (1..=23u8).collect();
        let mut stream = body.clone();
        stream.extend_from_slice(&DEFLATE_TAIL);
        for buf_len in 12..=20 {
            for first in 0..=stream.len() {
                for second in 1..=6 {
                    let got = strip(&stream, buf_len, &[first, second]).unwrap();
                    assert_eq!(got, body, "buf {buf_len} pieces {first},{second}");
                }
            }
        }
    }

    #[test]
    fn tail_alone_strips_to_nothing() {
        assert_eq!(strip(&DEFLATE_TAIL, 12, &[1]).unwrap(), Vec::<u8>::new());
        assert_eq!(strip(&DEFLATE_TAIL, 12, &[4]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn missing_tail_is_an_error() {
        assert_eq!(
            strip(&[1, 2, 3, 0, 0, 0xff, 0xfe], 12, &[3]),
            Err(CodecError::MissingTail)
        );
        assert_eq!(
            strip(&[0, 0xff, 0xff], 12, &[3]),
            Err(CodecError::MissingTail)
        );
    }

    #[test]
    fn tiny_buffers_are_refused() {
        let mut hold = TailHoldback::new();
        let mut buf = [0u8; 11];
        assert_eq!(
            hold.space(&mut buf).map(|s| s.len()),
            Err(CodecError::OutputTooSmall)
        );
        let mut buf = [0u8; 12];
        assert_eq!(hold.space(&mut buf).map(|s| s.len()), Ok(12));
        assert_eq!(hold.ready(&buf, 13, false), Err(CodecError::OutputTooSmall));
    }

    #[test]
    fn holdback_reusable_after_done() {
        let mut hold = TailHoldback::new();
        let mut buf = [0u8; 12];
        hold.space(&mut buf).unwrap()[..6].copy_from_slice(&[9, 9, 0, 0, 0xff, 0xff]);
        assert_eq!(hold.ready(&buf, 6, true).unwrap(), &[9, 9]);
        assert_eq!(hold.space(&mut buf).unwrap().len(), 12);
    }

    #[test]
    fn compression_levels() {
        assert_eq!(Compression::level(0), Compression::NONE);
        assert_eq!(Compression::level(1), Compression::fast());
        assert_eq!(Compression::level(200).get(), 9);
        assert_eq!(Compression::default(), Compression::BEST_SPEED);
    }
}
