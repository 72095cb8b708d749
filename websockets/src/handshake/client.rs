//! The client side: the request of RFC 6455 §4.1 and the checks of its response.

use std::io::{Read, Write};
use std::net::TcpStream;

use lowbit_cooper as cooper;

use super::accept::{accept_key, new_key};
use super::url::WsUrl;
use super::{Handshake, HandshakeError, Opened, extension_name, list_elements};
use crate::Conn;

impl Handshake {
    /// Connects over TCP to a `ws://` URL and runs the client side of the opening handshake.
    ///
    /// The socket gets `TCP_NODELAY` (frames are written whole, so Nagle's algorithm would
    /// only delay them). For `wss://` use `connect_tls` (feature `tls`), or set up the stream
    /// yourself and call [`connect_stream`](Self::connect_stream).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidUrl`] for a URL that is not `ws://`; the connection's I/O errors
    /// as [`HandshakeError::Http`]; then as [`connect_stream`](Self::connect_stream).
    pub fn connect(&self, url: &str) -> Result<Opened<TcpStream>, HandshakeError> {
        let parsed = WsUrl::parse(url).map_err(HandshakeError::InvalidUrl)?;
        if parsed.secure {
            return Err(HandshakeError::InvalidUrl(
                "a wss:// url needs a tls stream (connect_tls or connect_stream)",
            ));
        }
        self.validate()?;
        let tcp = TcpStream::connect((parsed.bare_host(), parsed.port))?;
        tcp.set_nodelay(true)?;
        self.connect_stream(tcp, url)
    }

    /// Runs the client side of the opening handshake on a connected `stream`, for `url`.
    ///
    /// `url` (`ws://` or `wss://`; the caller supplies any TLS in `stream`) gives the `Host`
    /// header and the request path. The request carries a fresh random `Sec-WebSocket-Key`,
    /// version 13, this side's [`subprotocols`](Self::subprotocols) and extension offer, and
    /// [`request_headers`](Self::request_headers). The `101` response must carry the matching
    /// `Sec-WebSocket-Accept`, at most one subprotocol from those offered, and only extensions
    /// offered and accepted by the check (RFC 6455 §4.1).
    ///
    /// # Errors
    /// - [`HandshakeError::InvalidUrl`], [`HandshakeError::Config`]: before any I/O.
    /// - [`HandshakeError::BadAccept`], [`HandshakeError::UnrequestedSubprotocol`],
    ///   [`HandshakeError::UnrequestedExtension`]: the response broke a rule.
    /// - [`HandshakeError::Http`]: I/O, or a response that is not a valid `101` upgrade to
    ///   `websocket` (e.g. [`cooper::Error::UnexpectedStatus`]).
    pub fn connect_stream<S: Read + Write>(
        &self,
        stream: S,
        url: &str,
    ) -> Result<Opened<S>, HandshakeError> {
        let parsed = WsUrl::parse(url).map_err(HandshakeError::InvalidUrl)?;
        self.validate()?;
        let key = new_key();
        let expected = accept_key(key.as_bytes());
        let mut headers = self.request_headers.clone();
        let bad_offer = |_| {
            HandshakeError::Config(crate::Error::InvalidConfig(
                "the extension offer is not a valid header value",
            ))
        };
        headers
            .push("Sec-WebSocket-Key", &key)
            .and_then(|h| h.push("Sec-WebSocket-Version", "13"))
            .map_err(|_| HandshakeError::Http(cooper::Error::InvalidRequest))?;
        if !self.subprotocols.is_empty() {
            headers
                .push("Sec-WebSocket-Protocol", &self.subprotocols.join(", "))
                .map_err(|_| HandshakeError::Http(cooper::Error::InvalidRequest))?;
        }
        if let Some((offer, _)) = &self.client_extensions {
            headers
                .push("Sec-WebSocket-Extensions", offer)
                .map_err(bad_offer)?;
        }
        let host = parsed.host_header();
        let client = cooper::Client::new("websocket", &host, &parsed.resource)
            .headers(headers)
            .max_head(self.max_head);

        let mut conn = Conn::client(stream, self.read_limit, self.chunk_size)
            .map_err(HandshakeError::Config)?;
        let mut fault = None;
        let mut agreed = (None, None);
        let upgraded = client.connect(conn.get_mut(), |response| {
            match self.check_response(&response.headers(), &expected) {
                Ok(ok) => {
                    agreed = ok;
                    Ok(())
                }
                Err(e) => {
                    fault = Some(e);
                    Err("the response broke a websocket rule")
                }
            }
        });
        let early = match upgraded {
            Ok(up) => up.early,
            Err(e) => return Err(fault.unwrap_or(HandshakeError::Http(e))),
        };
        Ok(Opened::new(
            conn.with_early_bytes(&early),
            agreed.0,
            agreed.1,
            #[cfg(feature = "deflate")]
            self.deflate,
        ))
    }

    /// RFC 6455 §4.1, the client's checks of a `101` (cooper checked `Upgrade` and
    /// `Connection`): returns the subprotocol and extensions agreed.
    fn check_response(
        &self,
        headers: &cooper::Headers<'_>,
        expected_accept: &str,
    ) -> Result<(Option<String>, Option<String>), HandshakeError> {
        // Item 4: exactly the accept value for our key.
        let accept_ok = headers.count("sec-websocket-accept") == 1
            && headers
                .get("sec-websocket-accept")
                .is_some_and(|v| v.trim_ascii() == expected_accept.as_bytes());
        if !accept_ok {
            return Err(HandshakeError::BadAccept);
        }
        // Item 5: only extensions we offered, and what our check accepts.
        let mut values = Vec::new();
        for value in headers.get_all("sec-websocket-extensions") {
            values.push(
                std::str::from_utf8(value)
                    .map_err(|_| HandshakeError::UnrequestedExtension("the answer is not text"))?,
            );
        }
        let extensions = if list_elements(&values).next().is_none() {
            None
        } else {
            let Some((offer, check)) = &self.client_extensions else {
                return Err(HandshakeError::UnrequestedExtension(
                    "no extension was offered",
                ));
            };
            let offer = [offer.as_str()];
            let all_offered = list_elements(&values).all(|answer| {
                list_elements(&offer)
                    .any(|o| extension_name(o).eq_ignore_ascii_case(extension_name(answer)))
            });
            if !all_offered {
                return Err(HandshakeError::UnrequestedExtension(
                    "an extension that was not offered",
                ));
            }
            check(&values).map_err(HandshakeError::UnrequestedExtension)?;
            Some(values.join(", "))
        };
        // Item 6: at most one subprotocol, one we offered.
        let mut chosen = Vec::new();
        for value in headers.get_all("sec-websocket-protocol") {
            chosen.push(
                std::str::from_utf8(value).map_err(|_| HandshakeError::UnrequestedSubprotocol)?,
            );
        }
        let mut elements = list_elements(&chosen);
        let subprotocol = match (elements.next(), elements.next()) {
            (None, _) => None,
            (Some(p), None) if self.subprotocols.iter().any(|ours| ours == p) => Some(p.to_owned()),
            _ => return Err(HandshakeError::UnrequestedSubprotocol),
        };
        Ok((subprotocol, extensions))
    }
}
