//! permessage-deflate (RFC 7692): codec traits, backends and parameter negotiation.
//!
//! - [`codec`]: the [`Compressor`] / [`Decompressor`] traits the decorator is generic over, the
//!   compression level type and the `00 00 ff ff` tail handling.
//! - [`zlib_rs`]: the default backend.

pub(crate) mod codec;
pub(crate) mod zlib_rs;

pub use codec::{
    CodecError, Compression, Compressor, DEFLATE_TAIL, Decompressor, Progress, TailHoldback,
};
pub use zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};
