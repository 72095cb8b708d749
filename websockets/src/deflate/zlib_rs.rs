//! The default backend: `zlib-rs` (pure Rust, safe API) driven directly.
//!
//! `zlib_rs::Deflate::new_with_config` takes a [`zlib_rs::DeflateConfig`] with the window bits
//! *and* the memory level (which `flate2` does not expose); negative window bits select raw
//! deflate, as RFC 7692 needs. Measured memory is in `MEMORY.md` beside this file: zlib-rs keeps
//! a 128 KiB hash table at every memory level and a 32 KiB inflate window at every window size,
//! so its settings trade speed and ratio more than memory.
//!
//! An 8-bit window: zlib-style encoders refuse raw deflate with `window_bits = 8` (zlib-rs
//! asserts). RFC 7692 §7.1.2 lets a peer that asked for 8 bits allocate exactly 256 bytes, so
//! silently compressing with 9 bits (what many libraries do) can produce distances it cannot
//! follow. When 8 bits are agreed for our output we open a 9-bit window with the run-length
//! strategy, whose only back-reference distance is 1: valid under every window, at a lower ratio.

use zlib_rs::{
    Deflate, DeflateConfig, DeflateError, DeflateFlush, Inflate, InflateError, InflateFlush,
    Status, Strategy,
};

use super::codec::{
    AfterFinalBlock, CodecError, Compression, Compressor, Decompressor, EmptyFlush,
    MAX_WINDOW_BITS, MIN_FLUSH_OUTPUT, MIN_WINDOW_BITS, Progress,
};

/// A raw-deflate [`Compressor`] on zlib-rs.
pub struct ZlibRsCompressor {
    inner: Deflate,
    window_bits: u8,
    empty: EmptyFlush,
}

impl ZlibRsCompressor {
    /// A compressor whose back-references stay within `1 << window_bits` bytes.
    ///
    /// `window_bits` is 8..=15 (8 is served by a 9-bit window with the run-length strategy, see
    /// the module docs); `mem_level` is 1..=9 (zlib's default is 8).
    ///
    /// # Errors
    /// [`CodecError::InvalidConfig`] for a window or memory level out of range.
    pub fn new(level: Compression, window_bits: u8, mem_level: u8) -> Result<Self, CodecError> {
        if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits)
            || !(1..=9).contains(&mem_level)
        {
            return Err(CodecError::InvalidConfig);
        }
        let strategy = if window_bits == MIN_WINDOW_BITS {
            Strategy::Rle
        } else {
            Strategy::Default
        };
        let config = DeflateConfig {
            level: i32::from(level.get()),
            // Raw deflate: negative window bits; 8 is refused by the encoder (see module docs).
            window_bits: -i32::from(window_bits.max(MIN_WINDOW_BITS + 1)),
            mem_level: i32::from(mem_level),
            strategy,
            ..DeflateConfig::default()
        };
        Ok(Self {
            inner: Deflate::new_with_config(config),
            window_bits,
            empty: EmptyFlush::default(),
        })
    }
}

impl core::fmt::Debug for ZlibRsCompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZlibRsCompressor")
            .field("window_bits", &self.window_bits)
            .finish_non_exhaustive()
    }
}

fn deflate_error(e: DeflateError) -> CodecError {
    match e {
        DeflateError::MemError => CodecError::OutOfMemory,
        DeflateError::StreamError | DeflateError::DataError => CodecError::Backend,
    }
}

impl Compressor for ZlibRsCompressor {
    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Result<Progress, CodecError> {
        if flush && output.len() < MIN_FLUSH_OUTPUT {
            return Err(CodecError::OutputTooSmall);
        }
        if let Some(p) = self.empty.intercept(input, output, flush) {
            return Ok(p);
        }
        let mode = if flush {
            DeflateFlush::SyncFlush
        } else {
            DeflateFlush::NoFlush
        };
        let (in0, out0) = (self.inner.total_in(), self.inner.total_out());
        let status = self
            .inner
            .compress(input, output, mode)
            .map_err(deflate_error)?;
        // The totals grow by at most the slice lengths, which are `usize`.
        let consumed = (self.inner.total_in() - in0) as usize;
        let written = (self.inner.total_out() - out0) as usize;
        let done = match status {
            // zlib: after a sync flush, spare output space means the flush is complete.
            Status::Ok | Status::BufError => {
                flush && consumed == input.len() && written < output.len()
            }
            Status::StreamEnd => return Err(CodecError::Backend),
        };
        let p = Progress {
            consumed,
            written,
            done,
        };
        self.empty.after(&p);
        Ok(p)
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.empty.reset();
    }

    fn window_bits(&self) -> u8 {
        self.window_bits
    }
}

/// A raw-deflate [`Decompressor`] on zlib-rs.
///
/// zlib-rs always allocates a 32 KiB window, so this decompressor follows any peer window
/// (also peers that answer "8 bits" and then write 9, as older zlib did); the agreed window bits
/// are checked but do not change its size.
pub struct ZlibRsDecompressor {
    inner: Inflate,
    after_final: AfterFinalBlock,
}

impl ZlibRsDecompressor {
    /// A decompressor for a peer window of `window_bits` (8..=15).
    ///
    /// # Errors
    /// [`CodecError::InvalidConfig`] for a window out of range.
    pub fn new(window_bits: u8) -> Result<Self, CodecError> {
        if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits) {
            return Err(CodecError::InvalidConfig);
        }
        Ok(Self {
            inner: Inflate::new(false, MAX_WINDOW_BITS),
            after_final: AfterFinalBlock::default(),
        })
    }
}

impl core::fmt::Debug for ZlibRsDecompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZlibRsDecompressor").finish_non_exhaustive()
    }
}

fn inflate_error(e: InflateError) -> CodecError {
    match e {
        InflateError::DataError | InflateError::NeedDict { .. } => CodecError::InvalidData,
        InflateError::MemError => CodecError::OutOfMemory,
        InflateError::StreamError => CodecError::Backend,
    }
}

impl Decompressor for ZlibRsDecompressor {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError> {
        let mut progress = Progress::default();
        loop {
            if self.after_final.is_active() {
                let (used, complete) = self.after_final.swallow(&input[progress.consumed..])?;
                progress.consumed += used;
                if !complete {
                    return Ok(progress);
                }
                self.inner.reset(false);
            }
            let (in0, out0) = (self.inner.total_in(), self.inner.total_out());
            let status = self
                .inner
                .decompress(
                    &input[progress.consumed..],
                    &mut output[progress.written..],
                    InflateFlush::NoFlush,
                )
                .map_err(inflate_error)?;
            // The totals grow by at most the slice lengths, which are `usize`.
            progress.consumed += (self.inner.total_in() - in0) as usize;
            progress.written += (self.inner.total_out() - out0) as usize;
            match status {
                Status::Ok | Status::BufError => return Ok(progress),
                Status::StreamEnd => self.after_final.stream_ended(),
            }
        }
    }

    fn reset(&mut self) {
        self.inner.reset(false);
        self.after_final.clear();
    }

    fn window_bits(&self) -> u8 {
        MAX_WINDOW_BITS
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::deflate::codec::{DEFLATE_TAIL, TailHoldback};

    /// Compresses one message in input pieces of `piece` bytes into an output buffer of
    /// `out_len` bytes, returning the message payload as sent (tail stripped).
    pub(crate) fn compress_message<C: Compressor>(
        c: &mut C,
        msg: &[u8],
        piece: usize,
        out_len: usize,
    ) -> Vec<u8> {
        let mut buf = vec![0u8; out_len];
        let mut hold = TailHoldback::new();
        let mut sent = Vec::new();
        let mut rest = msg;
        loop {
            let take = rest.len().min(piece);
            let last = take == rest.len();
            let p = c
                .compress(&rest[..take], hold.space(&mut buf).unwrap(), last)
                .unwrap();
            rest = &rest[p.consumed..];
            sent.extend_from_slice(hold.ready(&buf, p.written, p.done).unwrap());
            if p.done {
                assert!(rest.is_empty());
                return sent;
            }
        }
    }

    /// Inflates one message payload (tail appended as a last piece) in input pieces of `piece`
    /// bytes into output chunks of `out_len` bytes; stops with `None` past `limit` bytes.
    pub(crate) fn inflate_message<D: Decompressor>(
        d: &mut D,
        payload: &[u8],
        piece: usize,
        out_len: usize,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, CodecError> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; out_len];
        let pieces = payload.chunks(piece.max(1)).chain([&DEFLATE_TAIL[..]]);
        for mut input in pieces {
            loop {
                let room = chunk.len().min(limit.saturating_add(1) - out.len());
                let p = d.decompress(input, &mut chunk[..room])?;
                out.extend_from_slice(&chunk[..p.written]);
                if out.len() > limit {
                    return Ok(None);
                }
                input = &input[p.consumed..];
                if input.is_empty() && p.written < room {
                    break;
                }
            }
        }
        Ok(Some(out))
    }

    pub(crate) fn sample(len: usize, seed: u32) -> Vec<u8> {
        // JSON-ish text with repeats and some noise, deterministic.
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let words = [
            &b"{\"id\":"[..],
            b"\"name\":\"",
            b"value",
            b"\"},",
            b"true,",
            b"null",
        ];
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x % 5 == 0 {
                v.push(b'0' + (x >> 8) as u8 % 10);
            } else {
                v.extend_from_slice(words[(x >> 3) as usize % words.len()]);
            }
        }
        v.truncate(len);
        v
    }

    /// A second, independent inflater; `stream` is sync-flushed messages, each with its tail.
    pub(crate) fn reference_inflate(stream: &[u8]) -> Vec<u8> {
        let mut s = stream.to_vec();
        // An empty final block with fixed codes ends the stream.
        s.extend_from_slice(&[0x03, 0x00]);
        miniz_oxide::inflate::decompress_to_vec(&s).expect("reference inflater rejects output")
    }

    #[test]
    fn round_trip_in_pieces_with_and_without_takeover() {
        for bits in [8, 9, 12, 15] {
            for reset in [false, true] {
                let mut c = ZlibRsCompressor::new(Compression::fast(), bits, 8).unwrap();
                let mut d = ZlibRsDecompressor::new(bits).unwrap();
                let mut all_sent = Vec::new();
                for (i, len) in [0usize, 1, 125, 3000, 70_000, 1000].into_iter().enumerate() {
                    let msg = sample(len, i as u32 + 1);
                    let piece = [1, 7, 4096, usize::MAX][i % 4];
                    let sent = compress_message(&mut c, &msg, piece, 64 + i * 100);
                    let got = inflate_message(&mut d, &sent, 3 + i * 50, 100, usize::MAX)
                        .unwrap()
                        .unwrap();
                    assert_eq!(got, msg, "bits {bits} reset {reset} message {i}");
                    if reset {
                        // No context takeover: each message inflates on its own.
                        let mut own = sent.clone();
                        own.extend_from_slice(&DEFLATE_TAIL);
                        assert_eq!(reference_inflate(&own), msg);
                        c.reset();
                        d.reset();
                    } else {
                        all_sent.extend_from_slice(&sent);
                        all_sent.extend_from_slice(&DEFLATE_TAIL);
                    }
                }
                if !reset {
                    // With context takeover the messages form one sync-flushed stream.
                    let whole = reference_inflate(&all_sent);
                    let expect: Vec<u8> = [0usize, 1, 125, 3000, 70_000, 1000]
                        .into_iter()
                        .enumerate()
                        .flat_map(|(i, len)| sample(len, i as u32 + 1))
                        .collect();
                    assert_eq!(whole, expect);
                }
            }
        }
    }

    #[test]
    fn empty_message_is_one_byte() {
        // RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00 byte.
        let mut c = ZlibRsCompressor::new(Compression::fast(), 15, 8).unwrap();
        assert_eq!(compress_message(&mut c, b"", 1, 16), [0x00]);
    }

    #[test]
    fn empty_messages_between_others() {
        // zlib skips a flush with nothing new; the empty stored block must still go out.
        let mut c = ZlibRsCompressor::new(Compression::fast(), 15, 8).unwrap();
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        for (i, msg) in [&b"abc"[..], b"", b"", b"abcabc", b""]
            .into_iter()
            .enumerate()
        {
            for out_len in [12, 64] {
                let sent = compress_message(&mut c, msg, 2, out_len);
                if msg.is_empty() {
                    assert_eq!(sent, [0x00], "message {i}");
                }
                let got = inflate_message(&mut d, &sent, 1, 16, usize::MAX).unwrap();
                assert_eq!(got.as_deref(), Some(msg), "message {i}");
            }
        }
    }

    #[test]
    fn context_takeover_shrinks_repeats() {
        let msg = sample(2000, 9);
        let mut c = ZlibRsCompressor::new(Compression::fast(), 15, 8).unwrap();
        let first = compress_message(&mut c, &msg, usize::MAX, 4096).len();
        let second = compress_message(&mut c, &msg, usize::MAX, 4096).len();
        assert!(second * 4 < first, "{second} vs {first}");
        c.reset();
        assert_eq!(
            compress_message(&mut c, &msg, usize::MAX, 4096).len(),
            first
        );
    }

    #[test]
    fn eight_bit_window_output_fits_an_eight_bit_inflater() {
        let msg = sample(50_000, 3);
        let mut c = ZlibRsCompressor::new(Compression::BEST, 8, 8).unwrap();
        assert_eq!(c.window_bits(), 8);
        let mut sent = Vec::new();
        for _ in 0..3 {
            sent.extend_from_slice(&compress_message(&mut c, &msg, 999, 512));
            sent.extend_from_slice(&DEFLATE_TAIL);
        }
        // An inflater with a true 256-byte window follows the whole stream.
        let mut strict = Inflate::new(false, 8);
        let mut out = vec![0u8; 200_000];
        let status = strict
            .decompress(&sent, &mut out, InflateFlush::SyncFlush)
            .unwrap();
        assert_eq!(status, Status::Ok);
        assert_eq!(strict.total_out(), 150_000);
        assert!(
            sent.len() < 150_000 * 3 / 4,
            "still compresses: {}",
            sent.len()
        );
    }

    #[test]
    fn inflate_bounded_by_output() {
        // A bomb: 1 MiB of zeros compresses to about a kilobyte.
        let zeros = vec![0u8; 1 << 20];
        let mut c = ZlibRsCompressor::new(Compression::BEST, 15, 8).unwrap();
        let sent = compress_message(&mut c, &zeros, usize::MAX, 1 << 16);
        assert!(sent.len() < 2048);
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        let mut out = [0u8; 1000];
        let p = d.decompress(&sent, &mut out).unwrap();
        assert_eq!(p.written, 1000);
        assert!(p.consumed < sent.len());
        // Limits enforced by the caller on inflated bytes end it there.
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        assert_eq!(inflate_message(&mut d, &sent, 64, 512, 4096).unwrap(), None);
    }

    #[test]
    fn final_block_then_tail() {
        // A sender may end a message with BFINAL set (then it starts a fresh stream).
        let mut raw = Deflate::new(1, false, 15);
        let mut stream = vec![0u8; 256];
        raw.compress(b"abcabcabc", &mut stream, DeflateFlush::Finish)
            .unwrap();
        stream.truncate(raw.total_out() as usize);
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        for piece in [2, 100] {
            let got = inflate_message(&mut d, &stream, piece, 4, usize::MAX).unwrap();
            assert_eq!(got.as_deref(), Some(&b"abcabcabc"[..]));
        }
        // Then a sync-flushed message on a fresh stream.
        let mut c = ZlibRsCompressor::new(Compression::fast(), 15, 8).unwrap();
        let sent = compress_message(&mut c, b"next", 10, 64);
        let got = inflate_message(&mut d, &sent, 1, 64, usize::MAX).unwrap();
        assert_eq!(got.as_deref(), Some(&b"next"[..]));
        // Anything but the tail after a final block is refused.
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        let mut junk = stream.clone();
        junk.push(0x01);
        assert_eq!(
            inflate_message(&mut d, &junk, 100, 64, usize::MAX),
            Err(CodecError::InvalidData)
        );
    }

    #[test]
    fn invalid_data_and_config() {
        let mut d = ZlibRsDecompressor::new(15).unwrap();
        let mut out = [0u8; 64];
        // BTYPE 11 is reserved.
        assert_eq!(
            d.decompress(&[0xff, 0xff], &mut out),
            Err(CodecError::InvalidData)
        );
        assert!(matches!(
            ZlibRsCompressor::new(Compression::fast(), 7, 8),
            Err(CodecError::InvalidConfig)
        ));
        assert!(matches!(
            ZlibRsCompressor::new(Compression::fast(), 15, 0),
            Err(CodecError::InvalidConfig)
        ));
        assert!(matches!(
            ZlibRsDecompressor::new(16),
            Err(CodecError::InvalidConfig)
        ));
    }
}
