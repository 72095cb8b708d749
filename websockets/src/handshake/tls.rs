//! `wss://`: the handshake over a rustls stream, for both roles.

use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

use super::url::WsUrl;
use super::{Handshake, HandshakeError, Opened};

/// A client's TLS stream: rustls over TCP.
pub type TlsClientStream = StreamOwned<ClientConnection, TcpStream>;

/// A server's TLS stream: rustls over TCP.
pub type TlsServerStream = StreamOwned<ServerConnection, TcpStream>;

impl Handshake {
    /// Connects over TCP and TLS to a `wss://` URL and runs the client handshake.
    ///
    /// `config` holds the trust roots and the crypto provider (this crate picks neither); the
    /// server name checked is the URL's host. The TLS handshake runs on the first I/O, so
    /// certificate errors surface as [`HandshakeError::Http`] holding an I/O error that wraps
    /// the [`rustls::Error`].
    ///
    /// # Errors
    /// [`HandshakeError::InvalidUrl`] for a URL that is not `wss://` or a host that is not a
    /// valid server name; [`HandshakeError::Tls`] if rustls refuses `config`; then as
    /// [`connect_stream`](Self::connect_stream).
    pub fn connect_tls(
        &self,
        url: &str,
        config: Arc<ClientConfig>,
    ) -> Result<Opened<TlsClientStream>, HandshakeError> {
        let parsed = WsUrl::parse(url).map_err(HandshakeError::InvalidUrl)?;
        if !parsed.secure {
            return Err(HandshakeError::InvalidUrl("connect_tls needs a wss:// url"));
        }
        self.validate()?;
        let name = ServerName::try_from(parsed.bare_host().to_owned())
            .map_err(|_| HandshakeError::InvalidUrl("the host is not a valid tls server name"))?;
        let tls = ClientConnection::new(config, name).map_err(HandshakeError::Tls)?;
        let tcp = TcpStream::connect((parsed.bare_host(), parsed.port))?;
        tcp.set_nodelay(true)?;
        self.connect_stream(StreamOwned::new(tls, tcp), url)
    }

    /// Runs TLS and then the server handshake on an accepted TCP stream.
    ///
    /// Set a read timeout on `tcp` first: it bounds both the TLS and the HTTP handshake.
    ///
    /// # Errors
    /// [`HandshakeError::Tls`] if rustls refuses `config`; TLS failures as
    /// [`HandshakeError::Http`] holding an I/O error; then as [`accept`](Self::accept).
    pub fn accept_tls(
        &self,
        tcp: TcpStream,
        config: Arc<ServerConfig>,
    ) -> Result<Opened<TlsServerStream>, HandshakeError> {
        let tls = ServerConnection::new(config).map_err(HandshakeError::Tls)?;
        self.accept(StreamOwned::new(tls, tcp))
    }
}
