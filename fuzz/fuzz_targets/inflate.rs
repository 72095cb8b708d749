#![no_main]
//! The zlib-rs decompressor behind `Deflate`, fed fuzz input in pieces into a small output: no
//! panic, no spinning, no claim beyond what it was given, and a stop at a bound like the limit.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::ZlibRsDecompressor;
use lowbit_websockets_fuzz::inflate_in_pieces;

fuzz_target!(|data: &[u8]| {
    let [bits, piece, out, input @ ..] = data else {
        return;
    };
    let mut inflater = ZlibRsDecompressor::new(8 + bits % 8).unwrap();
    let (piece, out) = (1 + usize::from(*piece), 1 + usize::from(*out));
    assert!(inflate_in_pieces(&mut inflater, input, piece, out, 1 << 20) <= (1 << 20) + out);
});
