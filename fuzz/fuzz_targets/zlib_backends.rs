#![no_main]
//! The C zlib backend (feature `deflate-zlib`) against zlib-rs. Inflating: the same input in
//! the same pieces gives the same bytes and the same verdict from both (but see below for
//! windows under 15 bits). Deflating: what C zlib
//! compresses, in fuzz-chosen pieces and parameters, zlib-rs inflates back to the input.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::{
    Compression, ZlibCompressor, ZlibDecompressor, ZlibRsCompressor, ZlibRsDecompressor,
};
use lowbit_websockets_fuzz::{compress_in_pieces, inflate_collect};

fuzz_target!(|data: &[u8]| {
    let [mode, bits, piece, out, input @ ..] = data else {
        return;
    };
    let bits = 8 + bits % 8;
    let (piece, out) = (1 + usize::from(*piece) * 7, 1 + usize::from(*out));
    if mode & 1 == 0 {
        let c = inflate_collect(
            &mut ZlibDecompressor::new(bits).unwrap(),
            input,
            piece,
            out,
            1 << 20,
        );
        let r = inflate_collect(
            &mut ZlibRsDecompressor::new(bits).unwrap(),
            input,
            piece,
            out,
            1 << 20,
        );
        // C zlib opens the agreed window; zlib-rs always a 15-bit one, so it may also accept
        // references farther back than the peer agreed to. Whatever C zlib accepts, zlib-rs
        // must accept identically; with a 15-bit window they must agree on everything.
        if c.ok || bits == 15 {
            assert_eq!(c, r);
        } else if r.ok {
            assert!(r.out.starts_with(&c.out), "zlib-rs inflated other bytes");
        } else {
            // Both refuse; each may lose the output of its failing call.
            let n = c.out.len().min(r.out.len());
            assert_eq!(c.out[..n], r.out[..n]);
        }
    } else {
        let level = Compression::level((mode >> 1) % 10);
        let mem = 1 + (mode >> 5) % 8;
        let wire = if mode & 2 == 0 {
            compress_in_pieces(
                &mut ZlibCompressor::new(level, bits, mem).unwrap(),
                input,
                piece,
                out,
            )
        } else {
            compress_in_pieces(
                &mut ZlibRsCompressor::new(level, bits, mem).unwrap(),
                input,
                piece,
                out,
            )
        };
        // The peer allocated exactly the window we announced.
        let back = inflate_collect(
            &mut ZlibRsDecompressor::new(bits).unwrap(),
            &wire,
            4096,
            4096,
            1 << 20,
        );
        assert!(back.ok && back.out == input, "round trip failed");
        let back = inflate_collect(
            &mut ZlibDecompressor::new(bits).unwrap(),
            &wire,
            4096,
            4096,
            1 << 20,
        );
        assert!(
            back.ok && back.out == input,
            "round trip failed (C zlib inflating)"
        );
    }
});
