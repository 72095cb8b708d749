//! The opening handshake (RFC 6455 §4) for both roles, on top of [`lowbit_cooper`].
//!
//! [`Handshake`] holds the settings (limits, chunk size, subprotocols, head bound, extension
//! hooks); [`Handshake::accept`] runs the server side over any stream and
//! [`Handshake::connect`] the client side from a `ws://` URL. Both return a ready [`Conn`] in an
//! [`Opened`], with the bytes the peer sent right after its head already queued inside it.
//!
//! # Server
//! ```no_run
//! use lowbit_websockets::handshake::Handshake;
//! use std::net::TcpListener;
//!
//! let handshake = Handshake::new().read_limit(64 << 20).subprotocols(["chat"]);
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! for tcp in listener.incoming() {
//!     let mut ws = handshake.accept(tcp?)?.conn;
//!     let mut buf = Vec::new();
//!     let (op, payload) = ws.read_message(&mut buf)?;
//!     ws.write_message(op, payload)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Client
//! ```no_run
//! use lowbit_websockets::{OpCode, handshake::Handshake};
//!
//! let mut ws = Handshake::new().connect("ws://127.0.0.1:9001/chat")?.conn;
//! ws.write_message(OpCode::Text, b"hello")?;
//! let mut buf = Vec::new();
//! let (_op, reply) = ws.read_message(&mut buf)?;
//! assert_eq!(reply, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accept;
mod client;
mod error;
mod server;
mod url;

use std::fmt;
use std::sync::Arc;

pub use accept::accept_key;
pub use error::HandshakeError;
pub use lowbit_cooper as cooper;
use lowbit_cooper::{DEFAULT_MAX_HEAD, HeaderBuf};
pub use server::Accepted;
#[cfg(feature = "tls")]
pub use tls::{TlsClientStream, TlsServerStream};

#[cfg(feature = "deflate")]
use crate::DeflateParams;
use crate::{CHUNK_SIZE_LOW_MEMORY, Conn, READ_LIMIT_STANDARD};

/// A server's extension hook: it receives the values of the request's `Sec-WebSocket-Extensions`
/// headers (one string per header line, each a comma-separated list of offers) and returns the
/// response's `Sec-WebSocket-Extensions` value, or `None` to accept no extension.
pub type ServerExtensions = dyn Fn(&[&str]) -> Option<String> + Send + Sync;

/// A client's extension check: it receives the values of the response's
/// `Sec-WebSocket-Extensions` headers and refuses them with a reason, or accepts them.
pub type ClientExtensions = dyn Fn(&[&str]) -> Result<(), &'static str> + Send + Sync;

/// Settings for the opening handshake in either role, and the connection it opens.
///
/// Build one, share it (it is cheap to clone), and call [`accept`](Self::accept) per accepted
/// stream or [`connect`](Self::connect) per outgoing connection.
///
/// ```
/// use lowbit_websockets::handshake::Handshake;
/// let handshake = Handshake::new()
///     .read_limit(64 << 20)      // largest message accepted: 64 MiB
///     .chunk_size(16 * 1024)     // buffers per connection: about twice this
///     .subprotocols(["v2.chat", "chat"])
///     .max_head(4096);           // largest HTTP head accepted
/// # drop(handshake);
/// ```
#[derive(Clone)]
pub struct Handshake {
    read_limit: usize,
    chunk_size: usize,
    max_head: usize,
    subprotocols: Vec<String>,
    request_headers: HeaderBuf,
    server_extensions: Option<Arc<ServerExtensions>>,
    client_extensions: Option<(String, Arc<ClientExtensions>)>,
    /// Set by [`Handshake::deflate`]: the parameters [`Opened::session`] builds with.
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateParams>,
}

impl Default for Handshake {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("read_limit", &self.read_limit)
            .field("chunk_size", &self.chunk_size)
            .field("max_head", &self.max_head)
            .field("subprotocols", &self.subprotocols)
            .field("request_headers", &self.request_headers)
            .field("server_extensions", &self.server_extensions.is_some())
            .field(
                "client_extensions",
                &self.client_extensions.as_ref().map(|(offer, _)| offer),
            )
            .finish()
    }
}

impl Handshake {
    /// The defaults: read limit [`READ_LIMIT_STANDARD`] (1 MiB), chunk size
    /// [`CHUNK_SIZE_LOW_MEMORY`] (4 KiB), head bound [`DEFAULT_MAX_HEAD`] (8 KiB), no
    /// subprotocols, no extensions.
    #[must_use]
    pub fn new() -> Self {
        Self {
            read_limit: READ_LIMIT_STANDARD,
            chunk_size: CHUNK_SIZE_LOW_MEMORY,
            max_head: DEFAULT_MAX_HEAD,
            subprotocols: Vec::new(),
            request_headers: HeaderBuf::new(),
            server_extensions: None,
            client_extensions: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// The largest message the connection accepts, in bytes (see [`Conn::new`]); at least 1.
    #[must_use]
    pub fn read_limit(mut self, bytes: usize) -> Self {
        self.read_limit = bytes;
        self
    }

    /// The connection's chunk size in bytes (see [`Conn::new`]): its read and scratch buffers
    /// are about this big each; at least 1.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// The bound on the HTTP head read during the handshake, in bytes (default 8 KiB). A server
    /// answers a larger request head with `431`.
    #[must_use]
    pub fn max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// The subprotocols (`Sec-WebSocket-Protocol`) this side speaks, most preferred first.
    ///
    /// A server picks the first of these that the client offered, so the order is the
    /// server's preference (RFC 6455 §4.2.2 lets the server choose); when none matches, the
    /// connection opens without a subprotocol. A client offers them all, in this order.
    /// Each name must be an HTTP token, which `accept` and `connect` check.
    #[must_use]
    pub fn subprotocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Extra headers a client sends with its request (e.g. `Origin`, `Authorization`).
    #[must_use]
    pub fn request_headers(mut self, headers: HeaderBuf) -> Self {
        self.request_headers = headers;
        self
    }

    /// The server's extension negotiation: `hook` sees the request's `Sec-WebSocket-Extensions`
    /// values and returns the response value (or `None`). Without a hook, every offer is
    /// declined. The agreed value is returned in [`Opened::extensions`].
    #[must_use]
    pub fn server_extensions<F>(mut self, hook: F) -> Self
    where
        F: Fn(&[&str]) -> Option<String> + Send + Sync + 'static,
    {
        self.server_extensions = Some(Arc::new(hook));
        self
    }

    /// The client's extension offer (`Sec-WebSocket-Extensions` request value) and the check of
    /// the server's answer. Without an offer, a response naming any extension is refused
    /// (RFC 6455 §4.1). With one, the response must name only extensions offered, and then
    /// `check` decides; the agreed value is returned in [`Opened::extensions`].
    #[must_use]
    pub fn client_extensions<F>(mut self, offer: impl Into<String>, check: F) -> Self
    where
        F: Fn(&[&str]) -> Result<(), &'static str> + Send + Sync + 'static,
    {
        self.client_extensions = Some((offer.into(), Arc::new(check)));
        self
    }

    /// Negotiates permessage-deflate (RFC 7692) with `params`, in either role: a server accepts
    /// the first offer it can honour ([`negotiate`](crate::negotiate)), a client offers
    /// `params` ([`offer`](crate::offer)) and refuses an answer the offer does not allow
    /// ([`verify_response`](crate::verify_response)). [`Opened::session`] then wraps the
    /// connection in [`Deflate`](crate::Deflate) with the same parameters when the peer agreed.
    /// It replaces any extension hook set before.
    ///
    /// ```
    /// use lowbit_websockets::DeflateParams;
    /// use lowbit_websockets::handshake::Handshake;
    ///
    /// let server = Handshake::new().deflate(DeflateParams::default());
    /// let client = Handshake::new().deflate(DeflateParams::low_memory());
    /// # drop((server, client));
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(mut self, params: DeflateParams) -> Self {
        self.deflate = Some(params);
        self.server_extensions(move |offers| {
            crate::negotiate(offers, &params).map(|(_, response)| response)
        })
        .client_extensions(crate::offer(&params), move |answers| {
            crate::verify_response(&params, answers)
                .map(|_| ())
                .map_err(|_| "permessage-deflate answer not allowed by our offer")
        })
    }

    /// Checks the settings that cannot be checked by the setters, before any I/O.
    fn validate(&self) -> Result<(), HandshakeError> {
        if !self
            .subprotocols
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(is_tchar))
        {
            return Err(HandshakeError::Config(crate::Error::InvalidConfig(
                "subprotocol names must be http tokens",
            )));
        }
        Ok(())
    }
}

/// An open connection, and what the handshake agreed.
#[non_exhaustive]
pub struct Opened<S> {
    /// The connection, ready for messages; bytes that arrived with the peer's head are queued
    /// inside it and come first.
    pub conn: Conn<S>,
    /// The subprotocol agreed, if any.
    pub subprotocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value in force (the server's response), if any.
    pub extensions: Option<String>,
    /// The parameters of [`Handshake::deflate`], if it was called.
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateParams>,
}

impl<S> Opened<S> {
    /// What the handshake opened, with `deflate` (from [`Handshake::deflate`]).
    fn new(
        conn: Conn<S>,
        subprotocol: Option<String>,
        extensions: Option<String>,
        #[cfg(feature = "deflate")] deflate: Option<DeflateParams>,
    ) -> Self {
        Self {
            conn,
            subprotocol,
            extensions,
            #[cfg(feature = "deflate")]
            deflate,
        }
    }
}

impl<S: std::io::Read + std::io::Write> Opened<S> {
    /// The connection as a [`Session`](crate::Session): wrapped in
    /// [`Deflate`](crate::Deflate) when the handshake was built with
    /// [`Handshake::deflate`] and the peer agreed to permessage-deflate, plain otherwise (an
    /// extension agreed through a custom hook is left to the caller: use [`Opened::conn`]).
    ///
    /// # Errors
    /// [`HandshakeError::UnrequestedExtension`] if the agreed value does not parse (it passed
    /// the handshake's checks, so only a custom hook can cause this);
    /// [`HandshakeError::Config`] if the decorator refuses the parameters.
    #[cfg(feature = "deflate")]
    pub fn session(self) -> Result<crate::Session<S>, HandshakeError> {
        let (Some(params), Some(agreed)) = (self.deflate, self.extensions.as_deref()) else {
            return Ok(crate::Session::Plain(self.conn));
        };
        let bad = |_| HandshakeError::UnrequestedExtension("permessage-deflate");
        let agreed = match self.conn.role() {
            crate::Role::Server => Some(crate::Agreed::server_side(agreed).map_err(bad)?),
            crate::Role::Client => crate::verify_response(&params, [agreed]).map_err(bad)?,
        };
        Ok(match agreed {
            Some(agreed) => crate::Session::Deflate(Box::new(
                crate::Deflate::new(self.conn, &agreed, &params).map_err(HandshakeError::Config)?,
            )),
            None => crate::Session::Plain(self.conn),
        })
    }
}

impl<S> fmt::Debug for Opened<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("subprotocol", &self.subprotocol)
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The non-empty, trimmed elements of comma-separated header values.
fn list_elements<'a>(values: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// The extension name of one element of `Sec-WebSocket-Extensions` (before any `;` parameter).
fn extension_name(element: &str) -> &str {
    element.split(';').next().unwrap_or("").trim()
}

#[cfg(feature = "tls")]
mod tls;

#[cfg(test)]
mod tests;
