//! permessage-deflate (RFC 7692): codec traits, backends and parameter negotiation.
//!
//! - [`codec`]: the [`Compressor`] / [`Decompressor`] traits the decorator is generic over, the
//!   compression level type and the `00 00 ff ff` tail handling.
//! - [`params`]: RFC 7692 offers and responses, on byte slices.
//! - [`zlib_rs`]: the default backend.

pub(crate) mod codec;
pub(crate) mod params;
pub(crate) mod zlib_rs;

pub use codec::{
    CodecError, Compression, Compressor, DEFLATE_TAIL, Decompressor, Progress, TailHoldback,
};
pub use params::{
    Agreed, ContextTakeover, DeflateParams, Direction, ExtensionError, MemLevel,
    PERMESSAGE_DEFLATE, WindowBits, negotiate, offer, verify_response,
};
pub use zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};
