//! The server side: RFC 6455 §4.2 checks on an upgrade request that cooper has parsed.

use std::io::{Read, Write};

use lowbit_cooper::{self as cooper, HeadReader, HeaderBuf, Status};

use super::accept::{accept_key, is_valid_key};
use super::{Handshake, HandshakeError, Opened, list_elements};
use crate::Conn;

/// A request accepted by [`Handshake::respond`]: what was agreed, and the bytes the client sent
/// after its head.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// The subprotocol agreed, if any.
    pub subprotocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value answered, if any.
    pub extensions: Option<String>,
    early: Vec<u8>,
    read_limit: usize,
    chunk_size: usize,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::DeflateParams>,
}

impl Accepted {
    /// The server connection over `stream`, once the `101` has been sent: the bytes the client
    /// sent right after its head are queued in it and read first.
    ///
    /// # Errors
    /// [`HandshakeError::Config`] for limits [`Conn::new`] refuses (checked by `respond`
    /// already).
    pub fn open<S: Read + Write>(self, stream: S) -> Result<Opened<S>, HandshakeError> {
        let conn = Conn::server(stream, self.read_limit, self.chunk_size)
            .map_err(HandshakeError::Config)?
            .with_early_bytes(&self.early);
        Ok(Opened::new(
            conn,
            self.subprotocol,
            self.extensions,
            #[cfg(feature = "deflate")]
            self.deflate,
        ))
    }
}

/// What a request that passed every check agreed to.
struct Agreed {
    accept: String,
    subprotocol: Option<String>,
    extensions: Option<String>,
}

impl Handshake {
    /// Runs the server side of the opening handshake on `stream` and returns the connection.
    ///
    /// Equivalent to [`accept_with`](Self::accept_with) with a handler that accepts every
    /// request that passes the WebSocket checks.
    ///
    /// # Errors
    /// As [`accept_with`](Self::accept_with).
    pub fn accept<S: Read + Write>(&self, stream: S) -> Result<Opened<S>, HandshakeError> {
        self.accept_with(stream, |_, _| Ok(()))
    }

    /// Runs the server side of the opening handshake on `stream`, asking `handler` before
    /// switching, and returns the connection.
    ///
    /// The request must pass, in this order (RFC 6455 §4.2.1): an HTTP/1.1 upgrade to
    /// `websocket` (cooper's checks), method `GET`, exactly one `Host`,
    /// `Sec-WebSocket-Version: 13`, and one `Sec-WebSocket-Key` that is base64 for 16 bytes.
    /// Then the subprotocol is chosen in this side's order of preference
    /// ([`subprotocols`](Self::subprotocols)), the extension hook runs
    /// ([`server_extensions`](Self::server_extensions)), and `handler` sees the request (for
    /// routing on the path, checking `Origin` or cookies) and may add response headers or reject
    /// with a status. Then the server sends `101` with `Sec-WebSocket-Accept` and what was agreed.
    ///
    /// Bytes the client sent after its head are queued in the returned [`Conn`] and are read
    /// first. Set a read timeout on sockets first: a client that sends its head slowly holds the
    /// caller until then.
    ///
    /// # Errors
    /// The server has answered each of these with an error response and drops the stream:
    /// - [`HandshakeError::NotGet`] (405), [`HandshakeError::BadHost`] (400),
    ///   [`HandshakeError::UnsupportedVersion`] (426), [`HandshakeError::BadKey`] (400),
    ///   [`HandshakeError::BadHeader`] (400);
    /// - [`HandshakeError::Http`]: cooper's errors ([`cooper::Error::Malformed`] 400,
    ///   [`cooper::Error::HeadTooLarge`] 431, [`cooper::Error::NotUpgrade`] 426, …), including
    ///   [`cooper::Error::Rejected`] when `handler` rejects, and I/O errors (nothing sent).
    ///
    /// [`HandshakeError::Config`] comes before any I/O.
    pub fn accept_with<S, F>(&self, mut stream: S, handler: F) -> Result<Opened<S>, HandshakeError>
    where
        S: Read + Write,
        F: FnOnce(&cooper::Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        self.check_server_config()?;
        let mut head = HeadReader::new(self.max_head);
        if let Err(e) = head.read_from(&mut stream) {
            // An oversized head is answered (431) by `respond`; other failures end it here.
            if !head.is_too_large() {
                return Err(HandshakeError::Http(e));
            }
        }
        let mut response = Vec::new();
        let accepted = self.respond(&head, handler, &mut response);
        let sent = stream.write_all(&response).and_then(|()| stream.flush());
        // A refusal is the error to report, whether or not it could be sent.
        let accepted = accepted?;
        sent.map_err(|e| HandshakeError::Http(cooper::Error::Io(e)))?;
        accepted.open(stream)
    }

    /// The server side of the opening handshake without I/O, for event loops on non-blocking
    /// sockets: the checks and `handler` of [`accept_with`](Self::accept_with) on a request head
    /// read with [`cooper::HeadReader`] (resumable after `WouldBlock`), with the response
    /// (`101`, or the refusal) written into `response` for the caller to send. Once it is sent,
    /// [`Accepted::open`] makes the connection, with the bytes the client sent after its head
    /// queued first.
    ///
    /// ```
    /// use lowbit_websockets::handshake::{Handshake, cooper::HeadReader};
    ///
    /// let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\n\r\n";
    /// // On each readable event: `head.read_from(&mut socket)` until it returns `Ok`.
    /// let mut head = HeadReader::new(8192);
    /// head.read_from(&mut &request[..])?;
    /// let mut response = Vec::new();
    /// let accepted = Handshake::new().respond(&head, |_, _| Ok(()), &mut response)?;
    /// assert!(response.ends_with(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
    /// // Send `response` (resuming after WouldBlock), then:
    /// let socket = std::io::Cursor::new(Vec::new());
    /// let mut opened = accepted.open(socket)?;
    /// opened.conn.write_message(lowbit_websockets::OpCode::Text, b"hello")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`accept_with`](Self::accept_with), with `response` holding the error response to
    /// send (`431` for a head over the bound, [`HeadReader::is_too_large`]); a head not
    /// complete yet is [`HandshakeError::Http`] with an `InvalidInput` I/O error and nothing to
    /// send.
    pub fn respond<F>(
        &self,
        head: &HeadReader,
        handler: F,
        response: &mut Vec<u8>,
    ) -> Result<Accepted, HandshakeError>
    where
        F: FnOnce(&cooper::Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        self.check_server_config()?;
        let server = cooper::Server::new(["websocket"])
            .map_err(|_| HandshakeError::Http(cooper::Error::InvalidRequest))?
            .max_head(self.max_head);
        let mut fault = None;
        let mut agreed = None;
        let answered = server.answer(
            head,
            |request, headers| {
                let ok = self
                    .check_request(request, headers)
                    .map_err(|(error, status)| {
                        fault = Some(error);
                        status
                    })?;
                handler(request, headers)?;
                headers.push("Sec-WebSocket-Accept", &ok.accept)?;
                if let Some(p) = &ok.subprotocol {
                    headers.push("Sec-WebSocket-Protocol", p)?;
                }
                if let Some(e) = &ok.extensions {
                    headers.push("Sec-WebSocket-Extensions", e)?;
                }
                agreed = Some(ok);
                Ok(())
            },
            response,
        );
        if let Err(e) = answered {
            return Err(fault.unwrap_or(HandshakeError::Http(e)));
        }
        let agreed = agreed.ok_or(HandshakeError::Http(cooper::Error::InvalidRequest))?;
        Ok(Accepted {
            subprotocol: agreed.subprotocol,
            extensions: agreed.extensions,
            early: head.early().to_vec(),
            read_limit: self.read_limit,
            chunk_size: self.chunk_size,
            #[cfg(feature = "deflate")]
            deflate: self.deflate,
        })
    }

    /// The subprotocol names and the connection's limits, checked before any I/O.
    fn check_server_config(&self) -> Result<(), HandshakeError> {
        self.validate()?;
        crate::conn::check_config(self.read_limit, self.chunk_size).map_err(HandshakeError::Config)
    }

    /// RFC 6455 §4.2.1 and §4.2.2 on a request cooper accepted as an upgrade to `websocket`.
    fn check_request(
        &self,
        request: &cooper::Request<'_>,
        response: &mut HeaderBuf,
    ) -> Result<Agreed, (HandshakeError, Status)> {
        let headers = request.headers();
        // §4.2.1 item 1: an HTTP/1.1 or higher GET request (cooper refused HTTP/1.0).
        if request.method() != "GET" {
            // RFC 9110 §15.5.6: a 405 response MUST carry Allow.
            let _infallible = response.push("Allow", "GET");
            return Err((HandshakeError::NotGet, Status::METHOD_NOT_ALLOWED));
        }
        // §4.2.1 item 2 (and RFC 9112 §3.2: exactly one Host).
        if headers.count("host") != 1
            || headers
                .get("host")
                .is_some_and(|h| h.trim_ascii().is_empty())
        {
            return Err((HandshakeError::BadHost, Status::BAD_REQUEST));
        }
        // §4.2.1 item 6 and §4.4: any other version gets 426 naming the one we speak.
        let version_ok = headers.count("sec-websocket-version") == 1
            && headers
                .get("sec-websocket-version")
                .is_some_and(|v| v.trim_ascii() == b"13");
        if !version_ok {
            let _infallible = response.push("Sec-WebSocket-Version", "13");
            return Err((HandshakeError::UnsupportedVersion, Status::UPGRADE_REQUIRED));
        }
        // §4.2.1 item 5: one key, base64 for 16 bytes.
        let key = match headers.get("sec-websocket-key") {
            Some(key) if headers.count("sec-websocket-key") == 1 && is_valid_key(key) => key,
            _ => return Err((HandshakeError::BadKey, Status::BAD_REQUEST)),
        };
        let bad_header = || (HandshakeError::BadHeader, Status::BAD_REQUEST);
        // §4.2.2 step 5.4: the first of our subprotocols that the client offered.
        let mut offered = Vec::new();
        for value in headers.get_all("sec-websocket-protocol") {
            offered.push(std::str::from_utf8(value).map_err(|_| bad_header())?);
        }
        let subprotocol = self
            .subprotocols
            .iter()
            .find(|ours| list_elements(&offered).any(|theirs| theirs == ours.as_str()))
            .cloned();
        // §9.1: the server answers extension offers through the hook, or declines them all.
        let mut offers = Vec::new();
        for value in headers.get_all("sec-websocket-extensions") {
            offers.push(std::str::from_utf8(value).map_err(|_| bad_header())?);
        }
        let extensions = match &self.server_extensions {
            Some(hook) if list_elements(&offers).next().is_some() => hook(&offers),
            _ => None,
        };
        Ok(Agreed {
            accept: accept_key(key),
            subprotocol,
            extensions,
        })
    }
}
