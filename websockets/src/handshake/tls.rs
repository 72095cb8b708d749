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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;
    use std::time::Duration;

    use rustls::RootCertStore;
    use rustls::crypto::ring::default_provider;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    use super::*;
    use crate::{CloseCode, OpCode};

    /// A self-signed certificate for `localhost`, made fresh for the test.
    fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
        (made.cert.der().clone(), key.into())
    }

    fn client_config(trusted: Option<CertificateDer<'static>>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        if let Some(cert) = trusted {
            roots.add(cert).unwrap();
        }
        let config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// Serves one TLS connection on 127.0.0.1, echoing messages until the close.
    fn echo_server(
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
    ) -> (u16, thread::JoinHandle<Result<(), HandshakeError>>) {
        let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (tcp, _) = listener.accept()?;
            tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
            let opened = Handshake::new()
                .subprotocols(["chat"])
                .accept_tls(tcp, Arc::new(config))?;
            assert_eq!(opened.subprotocol.as_deref(), Some("chat"));
            let mut conn = opened.conn;
            let mut buf = Vec::new();
            loop {
                let (op, payload) = conn.read_message(&mut buf).map_err(io_error)?;
                if op == OpCode::Close {
                    return Ok(());
                }
                conn.write_message(op, payload).map_err(io_error)?;
            }
        });
        (port, handle)
    }

    fn io_error(e: crate::Error) -> HandshakeError {
        HandshakeError::Http(lowbit_cooper::Error::Io(e.into()))
    }

    #[test]
    fn wss_handshake_then_messages_both_ways() {
        let (cert, key) = certificate();
        let (port, server) = echo_server(cert.clone(), key);
        let url = format!("wss://localhost:{port}/secure");
        let opened = Handshake::new()
            .subprotocols(["chat"])
            .connect_tls(&url, client_config(Some(cert)))
            .unwrap();
        assert_eq!(opened.subprotocol.as_deref(), Some("chat"));
        let mut conn = opened.conn;
        conn.get_ref()
            .sock
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = Vec::new();
        for (op, payload) in [
            (OpCode::Text, &b"over tls"[..]),
            (OpCode::Binary, &vec![3; 70_000][..]),
        ] {
            conn.write_message(op, payload).unwrap();
            let (got_op, got) = conn.read_message(&mut buf).unwrap();
            assert_eq!((got_op, got), (op, payload));
        }
        conn.close(CloseCode::NORMAL, "").unwrap();
        server.join().unwrap().unwrap();
    }

    #[test]
    fn an_untrusted_certificate_is_refused() {
        let (cert, key) = certificate();
        let (port, server) = echo_server(cert, key);
        let url = format!("wss://localhost:{port}/");
        let r = Handshake::new().connect_tls(&url, client_config(None));
        assert!(
            matches!(r, Err(HandshakeError::Http(lowbit_cooper::Error::Io(_)))),
            "{r:?}"
        );
        drop(r);
        assert!(server.join().unwrap().is_err());
    }

    #[test]
    fn connect_tls_wants_wss() {
        let r = Handshake::new().connect_tls("ws://localhost:1/", client_config(None));
        assert!(matches!(r, Err(HandshakeError::InvalidUrl(_))), "{r:?}");
    }
}
