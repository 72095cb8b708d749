//! # lowbit websockets
//!
//! A minimalist WebSocket transport (RFC 6455 framing, RFC 7692 permessage-deflate):
//! synchronous, state-free primitives over any `Read + Write` stream. No background threads,
//! timers or connection maps: the caller owns scheduling, buffers and I/O.
//!
//! ```text
//! bytes ─► frame (decode/encode on slices) ─► Conn<S: Read + Write> ─► Deflate (optional) ─► caller
//! HTTP/1.1 head ─► lowbit-cooper (bounded read, 101, early bytes) ─► handshake checks ─► Conn
//! ```
//!
//! The protocol core (`frame`, `mask`, `utf8`, `close`) works on byte slices; [`Conn`] is the
//! only code that calls `read` and `write`, and it can stop at any `WouldBlock` and resume at the
//! same byte (see [`Conn`]'s "Non-blocking streams").
//!
//! ## An echo loop
//! ```
//! use std::io::Cursor;
//! use lowbit_websockets::{Conn, OpCode, READ_LIMIT_STANDARD, CHUNK_SIZE_LOW_MEMORY};
//!
//! // A masked "hi" from a client, as a server receives it (a socket in real use).
//! let wire = vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
//! let mut conn = Conn::server(Cursor::new(wire), READ_LIMIT_STANDARD, CHUNK_SIZE_LOW_MEMORY)?;
//! let mut buf = Vec::new();
//! let (op, payload) = conn.read_message(&mut buf)?;
//! assert_eq!((op, payload), (OpCode::Text, &b"hi"[..]));
//! conn.write_message(op, payload)?;
//! assert_eq!(&conn.get_ref().get_ref()[8..], &[0x81, 0x02, b'h', b'i']);
//! # Ok::<(), lowbit_websockets::Error>(())
//! ```
//!
//! A server and a client over TCP, with the opening handshake, are in the `handshake` module's
//! docs; permessage-deflate wraps a `Conn` in `Deflate` (feature `deflate`), which implements
//! the same [`Peer`] trait.
//!
//! ## Memory
//! A connection allocates its read and scratch buffers once, in the constructor: about two
//! chunk sizes (8207 bytes with [`CHUNK_SIZE_LOW_MEMORY`]). Messages are read into the caller's
//! reusable `Vec<u8>`; writes assemble frames in the scratch buffer. Steady state allocates
//! nothing per message.
//!
//! ## Features
//! - `simd` (default): UTF-8 validation with `simdutf8`.
//! - `handshake` (default): the opening handshake for both roles ([`handshake::Handshake`]),
//!   over the `lowbit-cooper` HTTP upgrade crate, with `sha1_smol` and `base64`.
//! - `tls`: `wss://` through `rustls` (`Handshake::connect_tls`, `Handshake::accept_tls`).
//! - `deflate` (default): permessage-deflate (RFC 7692) with the pure-Rust `zlib-rs` backend.
//! - `deflate-zlib`: a second deflate backend on C zlib (`libz-sys`), for small windows and
//!   memory levels (about 20 KiB a connection).
#![doc(test(attr(deny(warnings))))]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod close;
mod conn;
#[cfg(feature = "deflate")]
mod deflate;
mod error;
mod frame;
#[cfg(feature = "handshake")]
pub mod handshake;
pub mod mask;
#[cfg(feature = "deflate")]
mod session;
mod utf8;

pub use close::{CloseCode, CloseFrame, MAX_CLOSE_REASON};
pub use conn::{Conn, MessageReader, Peer};
pub use error::{Error, ProtocolError};
pub use frame::{
    Decoded, Header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1, Role, validate,
};
pub use utf8::Utf8Validator;

#[cfg(feature = "deflate")]
pub use deflate::{
    Agreed, CodecError, CodecPool, Compression, Compressor, ContextTakeover, DEFLATE_TAIL,
    Decompressor, Deflate, DeflateParams, DeflateReader, Direction, ExtensionError,
    MIN_FLUSH_OUTPUT, MemLevel, PERMESSAGE_DEFLATE, Pooled, Progress, TailHoldback, WindowBits,
    ZlibRsCompressor, ZlibRsDecompressor, negotiate, offer, verify_response,
};
#[cfg(feature = "deflate-zlib")]
pub use deflate::{ZlibCompressor, ZlibDecompressor};
#[cfg(feature = "deflate")]
pub use session::Session;

/// The seed's standard read limit: 1 MiB.
pub const READ_LIMIT_STANDARD: usize = 1 << 20;
/// The seed's low-memory chunk size: 4 KiB.
pub const CHUNK_SIZE_LOW_MEMORY: usize = 4096;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "handshake"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
