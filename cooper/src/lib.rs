//! lowbit cooper: a small, protocol-agnostic HTTP/1.1 upgrade coordinator for both ends of a
//! connection, over any `Read + Write` stream.
//!
//! ```text
//! server: stream ─► bounded head read ─► httparse (once) ─► Connection/Upgrade rules
//!                   ─► your handler (inspect, add headers, or reject) ─► 101 ─► Upgraded<S>
//! client: request ─► stream ─► bounded head read ─► 101 rules ─► your check ─► Upgraded<S>
//! ```
//!
//! cooper reads an HTTP/1.1 head, decides whether the upgrade may happen, and then gets out of the
//! way: [`Upgraded`] hands back the *same* stream type `S` together with the bytes the peer sent
//! right after its head (a client may send its first frames without waiting for the `101`). The
//! protocol that takes over feeds those early bytes to its own reader first, so nothing wraps the
//! stream and nothing costs anything once they are consumed.
//!
//! What cooper guarantees:
//! - **Bounded.** The head is read into at most [`Server::max_head`] bytes (default
//!   [`DEFAULT_MAX_HEAD`], 8 KiB) and never more is read before the `101`; a bigger head is
//!   answered `431`. At most [`MAX_HEADERS`] header lines are parsed.
//! - **Linear.** Each read is scanned once for the end of the head, and the head is parsed once,
//!   by [`httparse`](https://docs.rs/httparse) into a fixed array. A 100 KB header line delivered
//!   one byte per read costs 100 KB of scanning, not the quadratic re-parse behind CVE-2023-43669.
//! - **Strict lists.** `Connection` and `Upgrade` are comma-separated, case-insensitive token
//!   lists, joined across repeated lines; a token never matches as a substring of another.
//! - **Answered.** A server writes the error response itself: `400` for a malformed head, `431`
//!   for an oversized one, `426` with an `Upgrade` header naming its protocols when none fits, and
//!   the handler's status when it rejects.
//! - **No dyn, no copies afterwards.** The handler is a generic closure called once per connection.
//!
//! # Server
//!
//! ```
//! use lowbit_cooper::{Server, Status};
//! use std::io::{self, Read, Write};
//!
//! /// A stream that reads from `input` and collects what is written.
//! struct Memory {
//!     input: io::Cursor<Vec<u8>>,
//!     output: Vec<u8>,
//! }
//! impl Read for Memory {
//!     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
//!         self.input.read(buf)
//!     }
//! }
//! impl Write for Memory {
//!     fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
//!         self.output.write(buf)
//!     }
//!     fn flush(&mut self) -> io::Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! // A request, and the first bytes of the new protocol sent right behind it.
//! let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\
//!     Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00";
//! let stream = Memory { input: io::Cursor::new(request.to_vec()), output: Vec::new() };
//!
//! let server = Server::new(["websocket"])?;
//! let upgraded = server.accept(stream, |request, response| {
//!     if request.path() != "/chat" {
//!         return Err(Status::NOT_FOUND);
//!     }
//!     response.push("X-Served-By", "cooper")?;
//!     Ok(())
//! })?;
//!
//! assert_eq!(upgraded.protocol, "websocket");
//! assert_eq!(upgraded.early, b"\x81\x00"); // read these before reading the stream again
//! assert_eq!(
//!     upgraded.stream.output, // the stream is still a `Memory`
//!     b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
//!       X-Served-By: cooper\r\n\r\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Client
//!
//! ```
//! use lowbit_cooper::Client;
//! # use std::io::{self, Read, Write};
//! # struct Memory { input: io::Cursor<Vec<u8>>, output: Vec<u8> }
//! # impl Read for Memory {
//! #     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> { self.input.read(buf) }
//! # }
//! # impl Write for Memory {
//! #     fn write(&mut self, buf: &[u8]) -> io::Result<usize> { self.output.write(buf) }
//! #     fn flush(&mut self) -> io::Result<()> { Ok(()) }
//! # }
//! let reply = b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\
//!     Upgrade: websocket\r\nX-Token: 42\r\n\r\n";
//! let stream = Memory { input: io::Cursor::new(reply.to_vec()), output: Vec::new() };
//!
//! let upgraded = Client::new("websocket", "example.com", "/chat").connect(stream, |response| {
//!     match response.headers().get("x-token") {
//!         Some(b"42") => Ok(()),
//!         _ => Err("wrong token"),
//!     }
//! })?;
//! assert!(upgraded.stream.output.starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Timeouts and non-blocking streams
//!
//! The handshake uses blocking semantics. A `WouldBlock` from the stream fails it, and a peer
//! that sends its head slowly holds the caller until the stream's own timeout fires: set one
//! (e.g. `TcpStream::set_read_timeout`) before calling [`Server::accept`] or [`Client::connect`].
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod client;
mod error;
mod head;
mod headers;
mod server;
mod status;

pub use client::{Client, Response};
pub use error::{Error, InvalidHeader};
pub use head::{DEFAULT_MAX_HEAD, HeadReader, MAX_HEADERS};
pub use headers::{HeaderBuf, Headers};
pub use server::{Request, Server};
pub use status::Status;

/// A stream that has switched protocols, with the bytes its peer sent after the HTTP head.
///
/// `stream` is the stream passed in, unchanged and unwrapped. The peer may already have sent data
/// in the new protocol right behind its head, and cooper may have read some of it: those bytes are
/// in `early`, and must be consumed before anything else is read from `stream`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Upgraded<S> {
    /// The stream, positioned after the bytes in `early`.
    pub stream: S,
    /// The protocol switched to (a server's spelling from [`Server::new`], a client's from
    /// [`Client::new`]).
    pub protocol: String,
    /// Bytes received after the head, at most the head bound in length; often empty.
    pub early: Vec<u8>,
}

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
