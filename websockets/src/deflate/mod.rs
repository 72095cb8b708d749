//! permessage-deflate (RFC 7692): codec traits, backends and parameter negotiation.
//!
//! - [`codec`]: the [`Compressor`] / [`Decompressor`] traits the decorator is generic over, the
//!   compression level type and the `00 00 ff ff` tail handling.
//! - [`params`]: RFC 7692 offers and responses, on byte slices.
//! - [`pool`]: codecs shared per thread and lent per message (no context takeover).
//! - [`zlib_rs`]: the default backend.
//! - `zlib` (feature `deflate-zlib`): C zlib, for small per-connection memory.

pub(crate) mod codec;
pub(crate) mod params;
pub(crate) mod pool;
#[cfg(feature = "deflate-zlib")]
pub(crate) mod zlib;
pub(crate) mod zlib_rs;

pub use codec::{
    CodecError, Compression, Compressor, DEFLATE_TAIL, Decompressor, Progress, TailHoldback,
};
pub use params::{
    Agreed, ContextTakeover, DeflateParams, Direction, ExtensionError, MemLevel,
    PERMESSAGE_DEFLATE, WindowBits, negotiate, offer, verify_response,
};
pub use pool::{CodecPool, Pooled};
#[cfg(feature = "deflate-zlib")]
pub use zlib::{ZlibCompressor, ZlibDecompressor};
pub use zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};

#[cfg(test)]
mod tests {
    /// Codecs move with their connection to another thread.
    #[test]
    fn codecs_are_send() {
        fn send<T: Send>() {}
        send::<super::ZlibRsCompressor>();
        send::<super::ZlibRsDecompressor>();
        #[cfg(feature = "deflate-zlib")]
        send::<super::ZlibCompressor>();
        #[cfg(feature = "deflate-zlib")]
        send::<super::ZlibDecompressor>();
    }
}
