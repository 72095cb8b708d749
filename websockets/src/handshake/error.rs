//! Why an opening handshake failed.

use std::fmt;
use std::io;

use lowbit_cooper as cooper;

/// Why an opening handshake failed.
///
/// Server-side variants say which RFC 6455 §4.2.1 rule the request broke; the server has already
/// sent the error response named on each. Client-side variants say which §4.1 rule the response
/// broke; the client sends nothing more and drops the stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP upgrade failed: I/O, a malformed or oversized head, no upgrade to `websocket`,
    /// a status other than `101`, or the server handler's rejection (see [`cooper::Error`]).
    Http(cooper::Error),
    /// Server: the request method is not `GET`; answered `405 Method Not Allowed`.
    NotGet,
    /// Server: no `Host` header, or more than one; answered `400 Bad Request`.
    BadHost,
    /// Server: `Sec-WebSocket-Key` is missing, repeated, or not base64 for 16 bytes; answered
    /// `400 Bad Request`.
    BadKey,
    /// Server: `Sec-WebSocket-Version` is missing or not `13`; answered `426 Upgrade Required`
    /// with `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// Server: a `Sec-WebSocket-Protocol` or `Sec-WebSocket-Extensions` header is not text;
    /// answered `400 Bad Request`.
    BadHeader,
    /// Client: `Sec-WebSocket-Accept` is missing, repeated, or does not match the key sent.
    BadAccept,
    /// Client: the server chose a subprotocol the client did not offer, or several.
    UnrequestedSubprotocol,
    /// Client: the server answered with an extension the client did not offer, or the client's
    /// extension check refused the answer (the reason is given).
    UnrequestedExtension(&'static str),
    /// Client: the URL is not a usable `ws://` or `wss://` URL.
    InvalidUrl(&'static str),
    /// The settings are invalid (a zero read limit or chunk size, a subprotocol name that is not a
    /// token): [`Error::InvalidConfig`](crate::Error::InvalidConfig). Nothing was sent.
    Config(crate::Error),
    /// TLS setup failed (e.g. a server name rustls cannot use).
    #[cfg(feature = "tls")]
    Tls(rustls::Error),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(e) => write!(f, "websocket handshake failed: {e}"),
            Self::NotGet => f.write_str("websocket handshake request is not a get"),
            Self::BadHost => {
                f.write_str("websocket handshake request needs exactly one host header")
            }
            Self::BadKey => f.write_str("invalid or missing sec-websocket-key"),
            Self::UnsupportedVersion => f.write_str("sec-websocket-version is not 13"),
            Self::BadHeader => f.write_str("websocket handshake header is not text"),
            Self::BadAccept => f.write_str("invalid or missing sec-websocket-accept"),
            Self::UnrequestedSubprotocol => f.write_str("server chose a subprotocol not offered"),
            Self::UnrequestedExtension(why) => {
                write!(f, "server extension answer refused: {why}")
            }
            Self::InvalidUrl(why) => write!(f, "invalid websocket url: {why}"),
            Self::Config(e) => write!(f, "invalid handshake settings: {e}"),
            #[cfg(feature = "tls")]
            Self::Tls(e) => write!(f, "tls setup failed: {e}"),
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            Self::Config(e) => Some(e),
            #[cfg(feature = "tls")]
            Self::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<cooper::Error> for HandshakeError {
    fn from(e: cooper::Error) -> Self {
        Self::Http(e)
    }
}

impl From<io::Error> for HandshakeError {
    fn from(e: io::Error) -> Self {
        Self::Http(cooper::Error::Io(e))
    }
}

impl From<HandshakeError> for io::Error {
    fn from(e: HandshakeError) -> Self {
        match e {
            HandshakeError::Http(cooper::Error::Io(e)) => e,
            other => Self::new(io::ErrorKind::InvalidData, other),
        }
    }
}
