//! lowbit websockets

#[cfg(feature = "deflate")]
mod deflate;
#[cfg(feature = "deflate")]
pub use deflate::{
    Agreed, CodecError, CodecPool, Compression, Compressor, ContextTakeover, DEFLATE_TAIL,
    Decompressor, DeflateParams, Direction, ExtensionError, MemLevel, PERMESSAGE_DEFLATE, Pooled,
    Progress, TailHoldback, WindowBits, ZlibRsCompressor, ZlibRsDecompressor, negotiate, offer,
    verify_response,
};
#[cfg(feature = "deflate-zlib")]
pub use deflate::{ZlibCompressor, ZlibDecompressor};
