//! A second backend: C zlib through `libz-sys` (feature `deflate-zlib`).
//!
//! Why this one: it is the only common deflate whose state shrinks with its settings. zlib's
//! documented formula (`zconf.h`) is `(1 << (windowBits + 2)) + (1 << (memLevel + 9))` bytes for
//! deflate and `1 << windowBits` for inflate, plus about 13 KiB of fixed state for the pair, so a
//! pair at 9 window bits and memory level 1 costs under 20 KiB (measured in `MEMORY.md`). zlib-rs
//! keeps a 128 KiB hash table and a 32 KiB inflate window at every setting, and `flate2` exposes
//! no memory level, so neither reaches the 64 KiB-per-connection preset with the context kept.
//! It also links whatever zlib the system ships (or zlib-ng through `libz-sys`' features), and it
//! is the reference implementation our tests inflate against.
//!
//! This module is the crate's only FFI. The unsafe code is confined to it: each call hands zlib
//! a `z_stream` that lives in a `Box` (zlib records the stream's address in its state and checks
//! it on every call, so the stream must not move) and slices whose lengths bound `avail_in` and
//! `avail_out`. zlib allocates through [`zalloc`]/[`zfree`] below, on the Rust allocator, so its
//! memory shows up in allocation counts like every other byte the crate uses.
#![allow(unsafe_code)]

use core::ffi::c_int;
use core::ptr;
use std::alloc::{Layout, alloc, dealloc};

use libz_sys as z;

use super::codec::{
    AfterFinalBlock, CodecError, Compression, Compressor, Decompressor, EmptyFlush,
    MAX_WINDOW_BITS, MIN_FLUSH_OUTPUT, MIN_WINDOW_BITS, Progress,
};

/// Bytes in front of every block handed to zlib, holding the block's size; also its alignment.
const HEADER: usize = 16;

/// zlib's allocation hook, on the Rust global allocator.
unsafe extern "C" fn zalloc(_opaque: z::voidpf, items: z::uInt, size: z::uInt) -> z::voidpf {
    let Some(bytes) = (items as usize)
        .checked_mul(size as usize)
        .and_then(|n| n.checked_add(HEADER))
    else {
        return ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(bytes, HEADER) else {
        return ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size (at least HEADER bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `base` is valid for `bytes >= HEADER` bytes and aligned to 16, enough for a usize;
    // the block returned to zlib starts HEADER bytes in, still inside the allocation.
    unsafe {
        base.cast::<usize>().write(bytes);
        base.add(HEADER).cast()
    }
}

/// zlib's free hook, the inverse of [`zalloc`].
unsafe extern "C" fn zfree(_opaque: z::voidpf, address: z::voidpf) {
    if address.is_null() {
        return;
    }
    // SAFETY: zlib frees only blocks it got from `zalloc`, which start HEADER bytes after an
    // allocation whose first usize is its size, with alignment HEADER: the same layout as
    // allocated.
    unsafe {
        let base = address.cast::<u8>().sub(HEADER);
        let bytes = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align_unchecked(bytes, HEADER));
    }
}

/// A `z_stream` at a fixed address, before `*Init2_`.
fn new_stream() -> Box<z::z_stream> {
    Box::new(z::z_stream {
        next_in: ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: ptr::null_mut(),
        state: ptr::null_mut(),
        zalloc,
        zfree,
        opaque: ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    })
}

fn init_error(ret: c_int) -> CodecError {
    match ret {
        z::Z_MEM_ERROR => CodecError::OutOfMemory,
        z::Z_STREAM_ERROR => CodecError::InvalidConfig,
        _ => CodecError::Backend,
    }
}

/// Runs one zlib call over `input` and `output`, returning its code and the progress made.
///
/// # Safety
/// `strm` must have been initialised by `deflateInit2_` (when `call` is `deflate`) or
/// `inflateInit2_` (when `call` is `inflate`) and not ended.
unsafe fn run(
    strm: &mut z::z_stream,
    input: &[u8],
    output: &mut [u8],
    call: unsafe extern "C" fn(z::z_streamp, c_int) -> c_int,
    flush: c_int,
) -> (c_int, usize, usize) {
    let avail_in = z::uInt::try_from(input.len()).unwrap_or(z::uInt::MAX);
    let avail_out = z::uInt::try_from(output.len()).unwrap_or(z::uInt::MAX);
    // zlib never writes through next_in; the cast only satisfies the C signature.
    strm.next_in = input.as_ptr().cast_mut();
    strm.avail_in = avail_in;
    strm.next_out = output.as_mut_ptr();
    strm.avail_out = avail_out;
    // SAFETY: per this function's contract the stream is initialised; next_in/next_out point to
    // `avail_in`/`avail_out` valid bytes of live slices borrowed for the duration of the call.
    let ret = unsafe { call(strm, flush) };
    let consumed = (avail_in - strm.avail_in) as usize;
    let written = (avail_out - strm.avail_out) as usize;
    // Leave no pointer into the caller's buffers behind.
    strm.next_in = ptr::null_mut();
    strm.avail_in = 0;
    strm.next_out = ptr::null_mut();
    strm.avail_out = 0;
    (ret, consumed, written)
}

/// A raw-deflate [`Compressor`] on C zlib.
pub struct ZlibCompressor {
    /// Initialised by `deflateInit2_` in `new`, ended in `drop`.
    strm: Box<z::z_stream>,
    window_bits: u8,
    empty: EmptyFlush,
}

// SAFETY: the stream and everything zlib allocated for it are owned by this value alone; zlib
// keeps no thread-local or global state per stream, so moving it to another thread is sound.
unsafe impl Send for ZlibCompressor {}

impl ZlibCompressor {
    /// A compressor whose back-references stay within `1 << window_bits` bytes.
    ///
    /// `window_bits` is 8..=15 (zlib cannot open a raw 8-bit window, so 8 is served by a 9-bit
    /// window with the run-length strategy, whose matches are all at distance 1); `mem_level`
    /// is 1..=9. The state costs about `(4 << window_bits) + (512 << mem_level) + 6 KiB`.
    ///
    /// # Errors
    /// [`CodecError::InvalidConfig`] for a window or memory level out of range,
    /// [`CodecError::OutOfMemory`] if zlib cannot allocate.
    pub fn new(level: Compression, window_bits: u8, mem_level: u8) -> Result<Self, CodecError> {
        if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits)
            || !(1..=9).contains(&mem_level)
        {
            return Err(CodecError::InvalidConfig);
        }
        let strategy = if window_bits == MIN_WINDOW_BITS {
            z::Z_RLE
        } else {
            z::Z_DEFAULT_STRATEGY
        };
        let mut strm = new_stream();
        // SAFETY: `strm` is a boxed, zeroed stream with valid allocation hooks; the version and
        // size are those of the header libz-sys was built against.
        let ret = unsafe {
            z::deflateInit2_(
                &mut *strm,
                c_int::from(level.get()),
                z::Z_DEFLATED,
                -c_int::from(window_bits.max(MIN_WINDOW_BITS + 1)),
                c_int::from(mem_level),
                strategy,
                z::zlibVersion(),
                size_of::<z::z_stream>() as c_int,
            )
        };
        if ret != z::Z_OK {
            return Err(init_error(ret));
        }
        Ok(Self {
            strm,
            window_bits,
            empty: EmptyFlush::default(),
        })
    }
}

impl core::fmt::Debug for ZlibCompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZlibCompressor")
            .field("window_bits", &self.window_bits)
            .finish_non_exhaustive()
    }
}

impl Compressor for ZlibCompressor {
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
            z::Z_SYNC_FLUSH
        } else {
            z::Z_NO_FLUSH
        };
        // SAFETY: `self.strm` was initialised by deflateInit2_ and is ended only in drop.
        let (ret, consumed, written) =
            unsafe { run(&mut self.strm, input, output, z::deflate, mode) };
        match ret {
            z::Z_OK | z::Z_BUF_ERROR => {
                let p = Progress {
                    consumed,
                    written,
                    // zlib: after a sync flush, spare output space means the flush is complete.
                    done: flush && consumed == input.len() && written < output.len(),
                };
                self.empty.after(&p);
                Ok(p)
            }
            _ => Err(CodecError::Backend),
        }
    }

    fn reset(&mut self) {
        // SAFETY: the stream is initialised; deflateReset keeps its parameters and allocations.
        unsafe { z::deflateReset(&mut *self.strm) };
        self.empty.reset();
    }

    fn window_bits(&self) -> u8 {
        self.window_bits
    }
}

impl Drop for ZlibCompressor {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised in `new` and is ended once, here.
        unsafe { z::deflateEnd(&mut *self.strm) };
    }
}

/// A raw-deflate [`Decompressor`] on C zlib, with a window of the agreed size.
pub struct ZlibDecompressor {
    /// Initialised by `inflateInit2_` in `new`, ended in `drop`.
    strm: Box<z::z_stream>,
    window_bits: u8,
    after_final: AfterFinalBlock,
}

// SAFETY: as for `ZlibCompressor`, the stream is exclusively owned and has no thread affinity.
unsafe impl Send for ZlibDecompressor {}

impl ZlibDecompressor {
    /// A decompressor for a peer window of `window_bits` (8..=15).
    ///
    /// 8 opens a 9-bit window: zlib-based peers that agreed on 8 bits compress with 9. The state
    /// costs about `(1 << window_bits) + 7 KiB`.
    ///
    /// # Errors
    /// [`CodecError::InvalidConfig`] for a window out of range, [`CodecError::OutOfMemory`] if
    /// zlib cannot allocate.
    pub fn new(window_bits: u8) -> Result<Self, CodecError> {
        if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits) {
            return Err(CodecError::InvalidConfig);
        }
        let window_bits = window_bits.max(MIN_WINDOW_BITS + 1);
        let mut strm = new_stream();
        // SAFETY: as in `ZlibCompressor::new`.
        let ret = unsafe {
            z::inflateInit2_(
                &mut *strm,
                -c_int::from(window_bits),
                z::zlibVersion(),
                size_of::<z::z_stream>() as c_int,
            )
        };
        if ret != z::Z_OK {
            return Err(init_error(ret));
        }
        Ok(Self {
            strm,
            window_bits,
            after_final: AfterFinalBlock::default(),
        })
    }
}

impl core::fmt::Debug for ZlibDecompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZlibDecompressor")
            .field("window_bits", &self.window_bits)
            .finish_non_exhaustive()
    }
}

impl Decompressor for ZlibDecompressor {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError> {
        let mut progress = Progress::default();
        loop {
            if self.after_final.is_active() {
                let (used, complete) = self.after_final.swallow(&input[progress.consumed..])?;
                progress.consumed += used;
                if !complete {
                    return Ok(progress);
                }
                // SAFETY: the stream is initialised; inflateReset keeps the window allocation.
                unsafe { z::inflateReset(&mut *self.strm) };
            }
            // SAFETY: `self.strm` was initialised by inflateInit2_ and is ended only in drop.
            let (ret, consumed, written) = unsafe {
                run(
                    &mut self.strm,
                    &input[progress.consumed..],
                    &mut output[progress.written..],
                    z::inflate,
                    z::Z_NO_FLUSH,
                )
            };
            progress.consumed += consumed;
            progress.written += written;
            match ret {
                z::Z_OK | z::Z_BUF_ERROR => return Ok(progress),
                z::Z_STREAM_END => self.after_final.stream_ended(),
                z::Z_DATA_ERROR | z::Z_NEED_DICT => return Err(CodecError::InvalidData),
                z::Z_MEM_ERROR => return Err(CodecError::OutOfMemory),
                _ => return Err(CodecError::Backend),
            }
        }
    }

    fn reset(&mut self) {
        // SAFETY: the stream is initialised; inflateReset keeps the window allocation.
        unsafe { z::inflateReset(&mut *self.strm) };
        self.after_final.clear();
    }

    fn window_bits(&self) -> u8 {
        self.window_bits
    }
}

impl Drop for ZlibDecompressor {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised in `new` and is ended once, here.
        unsafe { z::inflateEnd(&mut *self.strm) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::codec::DEFLATE_TAIL;
    use crate::deflate::zlib_rs::tests::{compress_message, inflate_message, sample};
    use crate::deflate::zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};

    #[test]
    fn round_trip_and_cross_backend() {
        for bits in [8, 9, 12, 15] {
            for mem in [1, 8] {
                let mut ours = ZlibCompressor::new(Compression::fast(), bits, mem).unwrap();
                let mut rs = ZlibRsCompressor::new(Compression::fast(), bits, mem).unwrap();
                let mut d_ours = ZlibDecompressor::new(bits).unwrap();
                let mut d_rs = ZlibRsDecompressor::new(bits).unwrap();
                let mut d_ours2 = ZlibDecompressor::new(bits).unwrap();
                for (i, len) in [0usize, 1, 125, 5000, 70_000].into_iter().enumerate() {
                    let msg = sample(len, 10 + i as u32);
                    // C zlib → zlib-rs, and zlib-rs → C zlib, with context takeover.
                    let a = compress_message(&mut ours, &msg, 333, 100);
                    let b = compress_message(&mut rs, &msg, 1000, 77);
                    let back_a = inflate_message(&mut d_rs, &a, 50, 64, usize::MAX).unwrap();
                    let back_b = inflate_message(&mut d_ours, &b, 7, 4096, usize::MAX).unwrap();
                    assert_eq!(back_a.as_deref(), Some(&msg[..]), "bits {bits} mem {mem}");
                    assert_eq!(back_b.as_deref(), Some(&msg[..]), "bits {bits} mem {mem}");
                    // Without takeover each message stands alone.
                    let mut solo = ZlibCompressor::new(Compression::BEST, bits, mem).unwrap();
                    let c = compress_message(&mut solo, &msg, usize::MAX, 1 << 17);
                    let back_c = inflate_message(&mut d_ours2, &c, 1 << 20, 999, usize::MAX);
                    assert_eq!(back_c.unwrap().as_deref(), Some(&msg[..]));
                    d_ours2.reset();
                }
            }
        }
    }

    #[test]
    fn empty_messages_between_others() {
        let mut c = ZlibCompressor::new(Compression::fast(), 10, 2).unwrap();
        let mut d = ZlibDecompressor::new(10).unwrap();
        for msg in [&b"abc"[..], b"", b"", b"abcabc", b""] {
            for out_len in [12, 64] {
                let sent = compress_message(&mut c, msg, 2, out_len);
                if msg.is_empty() {
                    assert_eq!(sent, [0x00]);
                }
                let got = inflate_message(&mut d, &sent, 1, 16, usize::MAX).unwrap();
                assert_eq!(got.as_deref(), Some(msg));
            }
        }
        let mut out = [0u8; 7];
        assert_eq!(
            c.compress(b"x", &mut out, true),
            Err(CodecError::OutputTooSmall)
        );
    }

    #[test]
    fn eight_bit_window_fits_a_strict_inflater() {
        let msg = sample(20_000, 5);
        let mut c = ZlibCompressor::new(Compression::BEST, 8, 8).unwrap();
        let mut sent = compress_message(&mut c, &msg, 1000, 300);
        sent.extend_from_slice(&DEFLATE_TAIL);
        let mut strict = zlib_rs::Inflate::new(false, 8);
        let mut out = vec![0u8; 30_000];
        strict
            .decompress(&sent, &mut out, zlib_rs::InflateFlush::SyncFlush)
            .unwrap();
        assert_eq!(&out[..strict.total_out() as usize], &msg[..]);
    }

    #[test]
    fn errors_and_bounds() {
        let mut d = ZlibDecompressor::new(15).unwrap();
        let mut out = [0u8; 16];
        assert_eq!(
            d.decompress(&[0xff, 0xff], &mut out),
            Err(CodecError::InvalidData)
        );
        assert!(matches!(
            ZlibCompressor::new(Compression::fast(), 16, 8),
            Err(CodecError::InvalidConfig)
        ));
        assert!(matches!(
            ZlibDecompressor::new(7),
            Err(CodecError::InvalidConfig)
        ));
        // Bounded output against a bomb.
        let zeros = vec![0u8; 1 << 20];
        let mut c = ZlibCompressor::new(Compression::BEST, 15, 9).unwrap();
        let sent = compress_message(&mut c, &zeros, usize::MAX, 4096);
        let mut d = ZlibDecompressor::new(15).unwrap();
        assert_eq!(
            inflate_message(&mut d, &sent, 100, 256, 10_000).unwrap(),
            None
        );
    }
}
