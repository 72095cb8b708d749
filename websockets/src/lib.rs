//! lowbit websockets

#[cfg(feature = "deflate")]
mod deflate;
#[cfg(feature = "deflate")]
pub use deflate::{
    CodecError, Compression, Compressor, DEFLATE_TAIL, Decompressor, Progress, TailHoldback,
    ZlibRsCompressor, ZlibRsDecompressor,
};
