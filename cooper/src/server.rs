//! The server side: read an upgrade request, choose a protocol, ask the caller, answer `101`.

use std::io::{self, Read, Write};

use crate::head::{self, DEFAULT_MAX_HEAD, Head, HeadReader, MAX_HEADERS};
use crate::headers::is_protocol;
use crate::{Error, HeaderBuf, Headers, InvalidHeader, Status, Upgraded};

/// Accepts HTTP/1.1 upgrade requests for a fixed list of protocols.
///
/// Build one per listener and share it (it is `Clone`, `Send` and `Sync`); call
/// [`Server::accept`] once per connection.
///
/// ```
/// use lowbit_cooper::Server;
/// let server = Server::new(["websocket"])?.max_head(16 * 1024);
/// assert_eq!(server.protocols(), ["websocket"]);
/// # Ok::<(), lowbit_cooper::InvalidHeader>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    protocols: Vec<String>,
    max_head: usize,
}

impl Server {
    /// A server that upgrades to any of `protocols` (e.g. `"websocket"`, `"h2c"`), with the
    /// default head bound [`DEFAULT_MAX_HEAD`].
    ///
    /// # Errors
    /// [`InvalidHeader`] if a protocol is not `name` or `name/version` made of HTTP tokens
    /// (RFC 9110 §7.8).
    pub fn new<I, P>(protocols: I) -> Result<Self, InvalidHeader>
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let protocols: Vec<String> = protocols.into_iter().map(Into::into).collect();
        if protocols.iter().all(|p| is_protocol(p.as_bytes())) {
            Ok(Self {
                protocols,
                max_head: DEFAULT_MAX_HEAD,
            })
        } else {
            Err(InvalidHeader)
        }
    }

    /// Sets the bound on the request head in bytes (default [`DEFAULT_MAX_HEAD`], 8 KiB).
    ///
    /// The server allocates at most this much per handshake, and reads no more than this from
    /// the stream before the `101`; a head that does not end within it is answered with `431`.
    #[must_use]
    pub fn max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// The protocols this server upgrades to, in the order given.
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// Reads one upgrade request from `stream` and answers it.
    ///
    /// The request's `Connection` header must hold the token `upgrade` and its `Upgrade` header
    /// a protocol this server allows (both compared case-insensitively, as comma-separated lists,
    /// across repeated header lines). The first protocol in the client's `Upgrade` list that the
    /// server allows is chosen: RFC 9110 §7.8 has the client list them in order of preference.
    ///
    /// Then `handler` runs, once: it sees the parsed [`Request`] and may add headers to the
    /// response, or reject the request with an error [`Status`] (the headers it added go out with
    /// that status). If it accepts, the server writes `101 Switching Protocols` with
    /// `Connection: Upgrade`, `Upgrade: <protocol>` and the added headers, flushes, and returns the
    /// stream unchanged together with any bytes the client sent after its head
    /// ([`Upgraded::early`]): a client may send its first frames without waiting for the `101`,
    /// and those bytes must be read before anything else from the stream.
    ///
    /// Reading uses blocking semantics: on a non-blocking stream a `WouldBlock` fails the
    /// handshake. Set a read timeout on sockets, so that a client that sends its head slowly
    /// cannot hold a thread for ever; the size bound is [`Server::max_head`].
    ///
    /// # Errors
    /// - [`Error::Io`]: the stream failed or closed before the head was complete; nothing is sent.
    /// - [`Error::HeadTooLarge`]: answered with `431 Request Header Fields Too Large`.
    /// - [`Error::Malformed`]: answered with `400 Bad Request`.
    /// - [`Error::NotUpgrade`], [`Error::NoCommonProtocol`]: answered with `426 Upgrade Required`
    ///   and an `Upgrade` header listing this server's protocols.
    /// - [`Error::Rejected`]: `handler` rejected the request; answered with its status.
    ///
    /// Error responses carry `Connection: close`; a failure to write them is ignored, since the
    /// request has failed anyway.
    pub fn accept<S, F>(&self, mut stream: S, handler: F) -> Result<Upgraded<S>, Error>
    where
        S: Read + Write,
        F: FnOnce(&Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        let mut reader = HeadReader::new(self.max_head);
        if let Err(e) = reader.read_from(&mut stream) {
            if reader.is_too_large() {
                let mut out = Vec::new();
                self.refusal(Status::REQUEST_HEADER_FIELDS_TOO_LARGE, &[], &mut out);
                let _ignored = stream.write_all(&out).and_then(|()| stream.flush());
            }
            return Err(e);
        }
        let mut out = Vec::new();
        match self.answer(&reader, handler, &mut out) {
            Ok(protocol) => {
                let protocol = protocol.to_owned();
                stream.write_all(&out)?;
                stream.flush()?;
                let early = reader.into_head().map(Head::into_early).unwrap_or_default();
                Ok(Upgraded {
                    stream,
                    protocol,
                    early,
                })
            }
            Err(e) => {
                // The request has failed anyway: a failure to send the refusal changes nothing.
                let _ignored = stream.write_all(&out).and_then(|()| stream.flush());
                Err(e)
            }
        }
    }

    /// Answers the request whose head `reader` has read, without I/O: the checks and the
    /// handler of [`accept`](Self::accept), with the response written into `response` for the
    /// caller to send (for event loops on non-blocking streams, which read the head with
    /// [`HeadReader`] as the stream becomes readable). Returns the protocol chosen; the bytes
    /// the peer sent after its head are [`HeadReader::early`].
    ///
    /// ```
    /// use lowbit_cooper::{HeadReader, Server};
    ///
    /// let mut reader = HeadReader::new(8192);
    /// let request = b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n";
    /// reader.read_from(&mut &request[..]).unwrap();
    /// let mut response = Vec::new();
    /// let server = Server::new(["echo"])?;
    /// let protocol = server.answer(&reader, |_, _| Ok(()), &mut response)?;
    /// assert_eq!(protocol, "echo");
    /// assert!(response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`accept`](Self::accept); `response` then holds the error response to send, if any.
    /// A head over the bound ([`HeadReader::is_too_large`]) is answered with `431`; a reader
    /// whose head is not complete yet is an [`Error::Io`] with `InvalidInput`, with nothing to
    /// send.
    pub fn answer<F>(
        &self,
        reader: &HeadReader,
        handler: F,
        response: &mut Vec<u8>,
    ) -> Result<&str, Error>
    where
        F: FnOnce(&Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        let Some(head) = reader.head() else {
            if reader.is_too_large() {
                self.refusal(Status::REQUEST_HEADER_FIELDS_TOO_LARGE, &[], response);
                return Err(Error::HeadTooLarge {
                    limit: self.max_head,
                });
            }
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the request head is not complete",
            )));
        };
        let mut headers = HeaderBuf::new();
        match self.check(head, handler, &mut headers) {
            Ok(chosen) => {
                let protocol = self.protocols[chosen].as_str();
                response.extend_from_slice(
                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ",
                );
                response.extend_from_slice(protocol.as_bytes());
                response.extend_from_slice(b"\r\n");
                response.extend_from_slice(headers.as_bytes());
                response.extend_from_slice(b"\r\n");
                Ok(protocol)
            }
            Err(e) => {
                let status = match &e {
                    Error::HeadTooLarge { .. } => Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    Error::NotUpgrade | Error::NoCommonProtocol => Status::UPGRADE_REQUIRED,
                    Error::Rejected { status } => {
                        Status::new(*status).unwrap_or(Status::INTERNAL_SERVER_ERROR)
                    }
                    _ => Status::BAD_REQUEST,
                };
                self.refusal(status, headers.as_bytes(), response);
                Err(e)
            }
        }
    }

    /// Parses the head once, applies the upgrade rules and runs the handler; returns the index of
    /// the chosen protocol.
    fn check<F>(&self, head: &[u8], handler: F, response: &mut HeaderBuf) -> Result<usize, Error>
    where
        F: FnOnce(&Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut raw);
        match req.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => return Err(Error::Malformed("incomplete request head")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Error::HeadTooLarge {
                    limit: self.max_head,
                });
            }
            Err(e) => return Err(Error::Malformed(head::describe(e))),
        }
        let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
            return Err(Error::Malformed("incomplete request line"));
        };
        let headers = Headers::new(req.headers);
        // RFC 9110 §7.8: a server MUST ignore an Upgrade header field in an HTTP/1.0 request.
        if version != 1
            || !headers.has_token("connection", "upgrade")
            || headers.list("upgrade").next().is_none()
        {
            return Err(Error::NotUpgrade);
        }
        let chosen = headers
            .list("upgrade")
            .find_map(|offered| {
                self.protocols
                    .iter()
                    .position(|p| p.as_bytes().eq_ignore_ascii_case(offered))
            })
            .ok_or(Error::NoCommonProtocol)?;
        let request = Request {
            method,
            path,
            version,
            headers,
            protocol: &self.protocols[chosen],
        };
        handler(&request, response).map_err(|s| Error::Rejected { status: s.code() })?;
        Ok(chosen)
    }

    /// Appends an error response with `status` and the `extra` header lines to `out`.
    fn refusal(&self, status: Status, extra: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        if status == Status::UPGRADE_REQUIRED {
            // RFC 9110 §15.5.22: a 426 response MUST carry an Upgrade header; §7.8: whoever sends
            // Upgrade also sends the "upgrade" connection option.
            out.extend_from_slice(b"Upgrade: ");
            out.extend_from_slice(self.protocols.join(", ").as_bytes());
            out.extend_from_slice(b"\r\nConnection: Upgrade, close\r\n");
        } else {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(extra);
        out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    }
}

/// An upgrade request as the server's handler sees it, after cooper's own checks passed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    method: &'a str,
    path: &'a str,
    version: u8,
    headers: Headers<'a>,
    protocol: &'a str,
}

impl<'a> Request<'a> {
    /// The method, e.g. `GET`.
    #[must_use]
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request target as sent, e.g. `/chat?room=1`.
    #[must_use]
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The HTTP minor version: always 1 here, since an HTTP/1.0 request cannot upgrade.
    #[must_use]
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The request's headers.
    #[must_use]
    pub fn headers(&self) -> Headers<'a> {
        self.headers
    }

    /// The protocol chosen for the upgrade, spelled as in [`Server::new`].
    #[must_use]
    pub fn protocol(&self) -> &'a str {
        self.protocol
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::tests::Mock;

    const GOOD: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\
        Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";

    fn accept_with<F>(
        server: &Server,
        input: &[u8],
        chunk: usize,
        handler: F,
    ) -> (Result<Upgraded<Mock>, Error>, String)
    where
        F: FnOnce(&Request<'_>, &mut HeaderBuf) -> Result<(), Status>,
    {
        let mut sent = Vec::new();
        struct Tee<'o> {
            inner: Mock,
            sent: &'o mut Vec<u8>,
        }
        impl Read for Tee<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read(buf)
            }
        }
        impl Write for Tee<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.sent.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let r = server
            .accept(
                Tee {
                    inner: Mock::new(input, chunk),
                    sent: &mut sent,
                },
                handler,
            )
            .map(|up| Upgraded {
                stream: up.stream.inner,
                protocol: up.protocol,
                early: up.early,
            });
        (r, String::from_utf8(sent).unwrap())
    }

    fn accept(input: &[u8]) -> (Result<Upgraded<Mock>, Error>, String) {
        let server = Server::new(["websocket", "h2c"]).unwrap();
        accept_with(&server, input, 1000, |_, _| Ok(()))
    }

    /// Reads `input` one byte per call with a `WouldBlock` between calls, as a non-blocking
    /// socket might deliver it, then answers.
    fn answer_resumed(server: &Server, input: &[u8]) -> (Result<String, Error>, String, Vec<u8>) {
        struct Drip<'a> {
            input: &'a [u8],
            stall: bool,
        }
        impl Read for Drip<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.stall = !self.stall;
                if self.stall || self.input.is_empty() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                buf[0] = self.input[0];
                self.input = &self.input[1..];
                Ok(1)
            }
        }
        let mut reader = HeadReader::new(server.max_head);
        let mut drip = Drip {
            input,
            stall: false,
        };
        let mut stalls = 0;
        while let Err(e) = reader.read_from(&mut drip) {
            match e {
                Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock && stalls < 100_000 => {
                    stalls += 1;
                }
                _ => break,
            }
        }
        let mut out = Vec::new();
        let r = server
            .answer(&reader, |_, _| Ok(()), &mut out)
            .map(str::to_owned);
        (r, String::from_utf8(out).unwrap(), reader.early().to_vec())
    }

    #[test]
    fn answering_a_head_read_across_would_blocks_matches_accept() {
        let server = Server::new(["websocket", "h2c"]).unwrap();
        let mut input = GOOD.to_vec();
        input.extend_from_slice(b"\x81\x00");
        for request in [&input[..], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"] {
            let (answered, response, early) = answer_resumed(&server, request);
            let (accepted, sent) = accept(request);
            assert_eq!(response, sent);
            match (answered, accepted) {
                (Ok(protocol), Ok(up)) => assert_eq!(protocol, up.protocol),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                other => panic!("{other:?}"),
            }
            // One byte per read: the reader stops right after the head.
            assert!(early.is_empty());
        }
        // An endless head: 431 from `answer`, as from `accept`.
        let server = server.max_head(64);
        let (r, response, _) = answer_resumed(&server, &[b'a'; 100]);
        assert!(matches!(r, Err(Error::HeadTooLarge { limit: 64 })), "{r:?}");
        assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
        // A head not complete yet: nothing to answer.
        let (r, response, _) = answer_resumed(&server, b"GET / HTTP/1.1\r\n");
        assert!(matches!(r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::InvalidInput));
        assert!(response.is_empty());
    }

    #[test]
    fn a_good_request_is_switched() {
        let (up, sent) = accept(GOOD);
        let up = up.unwrap();
        assert_eq!(up.protocol, "websocket");
        assert!(up.early.is_empty());
        assert_eq!(
            sent,
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        );
    }

    #[test]
    fn the_handler_sees_the_request_and_adds_headers() {
        let server = Server::new(["websocket"]).unwrap();
        let mut seen = None;
        let (up, sent) = accept_with(&server, GOOD, 1000, |req, resp| {
            seen = Some((
                req.method().to_owned(),
                req.path().to_owned(),
                req.version(),
                req.protocol().to_owned(),
                req.headers().get_str("host").map(str::to_owned),
            ));
            resp.push("X-Extra", "1")?;
            Ok(())
        });
        up.unwrap();
        assert_eq!(
            seen,
            Some((
                "GET".to_owned(),
                "/chat".to_owned(),
                1,
                "websocket".to_owned(),
                Some("example.com".to_owned())
            ))
        );
        assert!(
            sent.ends_with("Upgrade: websocket\r\nX-Extra: 1\r\n\r\n"),
            "{sent}"
        );
    }

    #[test]
    fn case_and_list_variations_are_accepted() {
        for (connection, upgrade, chosen) in [
            ("upgrade", "websocket", "websocket"),
            ("UPGRADE", "WebSocket", "websocket"),
            ("Keep-Alive,Upgrade", "foo/2, h2c", "h2c"),
            ("close ,  upgrade ,", " ,websocket", "websocket"),
            ("upgrade", "h2c, websocket", "h2c"),
        ] {
            let input =
                format!("GET / HTTP/1.1\r\nconnection: {connection}\r\nUPGRADE: {upgrade}\r\n\r\n");
            let (up, _) = accept(input.as_bytes());
            assert_eq!(up.unwrap().protocol, chosen, "{connection:?} {upgrade:?}");
        }
        // Repeated lines join into one list.
        let (up, _) = accept(
            b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nUpgrade: foo\r\n\
              Connection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        );
        assert_eq!(up.unwrap().protocol, "websocket");
    }

    #[test]
    fn missing_upgrade_headers_get_426_naming_the_protocols() {
        for input in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: ,\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: upgraded\r\nUpgrade: websocket\r\n\r\n",
            b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        ] {
            let (r, sent) = accept(input);
            assert!(matches!(r, Err(Error::NotUpgrade)), "{r:?}");
            assert!(
                sent.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
                "{sent}"
            );
            assert!(sent.contains("\r\nUpgrade: websocket, h2c\r\n"), "{sent}");
            assert!(
                sent.contains("\r\nConnection: Upgrade, close\r\n"),
                "{sent}"
            );
            assert!(sent.ends_with("Content-Length: 0\r\n\r\n"), "{sent}");
        }
    }

    #[test]
    fn an_unknown_protocol_gets_426() {
        let (r, sent) =
            accept(b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websockets, h2\r\n\r\n");
        assert!(matches!(r, Err(Error::NoCommonProtocol)), "{r:?}");
        assert!(sent.starts_with("HTTP/1.1 426 "), "{sent}");
    }

    #[test]
    fn malformed_heads_get_400() {
        for input in [
            &b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"[..],
            b"GET / HTTP/9.1\r\n\r\n",
            b"GET  HTTP/1.1\r\n\r\n",
            b"\x00GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            b"\r\n\r\n",
        ] {
            let (r, sent) = accept(input);
            assert!(matches!(r, Err(Error::Malformed(_))), "{input:?}: {r:?}");
            assert!(
                sent.starts_with("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"),
                "{sent}"
            );
        }
    }

    #[test]
    fn oversized_heads_get_431() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(9000, b'a');
        long.extend_from_slice(b"\r\n\r\n");
        let (r, sent) = accept(&long);
        assert!(
            matches!(r, Err(Error::HeadTooLarge { limit: 8192 })),
            "{r:?}"
        );
        assert!(
            sent.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{sent}"
        );

        // A bigger bound lets the same head through to the upgrade checks.
        let server = Server::new(["websocket"]).unwrap().max_head(16 * 1024);
        let (r, _) = accept_with(&server, &long, 1000, |_, _| Ok(()));
        assert!(matches!(r, Err(Error::NotUpgrade)), "{r:?}");

        // Too many header lines is answered in the same way.
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let (r, sent) = accept(&many);
        assert!(matches!(r, Err(Error::HeadTooLarge { .. })), "{r:?}");
        assert!(sent.starts_with("HTTP/1.1 431 "), "{sent}");
    }

    #[test]
    fn a_100_kb_header_line_is_answered_fast() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(100_000, b'a');
        long.extend_from_slice(b"\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
        let start = std::time::Instant::now();
        // Default bound: refused after reading 8 KiB, one byte at a time.
        let server = Server::new(["websocket"]).unwrap();
        let (r, sent) = accept_with(&server, &long, 1, |_, _| Ok(()));
        assert!(matches!(r, Err(Error::HeadTooLarge { .. })), "{r:?}");
        assert!(sent.starts_with("HTTP/1.1 431 "));
        // A bound that admits it: read one byte at a time, scanned and parsed once.
        let server = server.max_head(128 * 1024);
        let (r, _) = accept_with(&server, &long, 1, |_, _| Ok(()));
        assert_eq!(r.unwrap().protocol, "websocket");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn one_byte_reads_and_early_bytes() {
        let mut input = GOOD.to_vec();
        input.extend_from_slice(b"\x81\x85\x01\x02\x03\x04hello-and-more");
        // One byte per read: the head ends exactly where reading stops, the rest stays unread.
        let server = Server::new(["websocket"]).unwrap();
        let (up, _) = accept_with(&server, &input, 1, |_, _| Ok(()));
        let up = up.unwrap();
        assert!(up.early.is_empty());
        assert_eq!(up.stream.pos, GOOD.len());
        // One read for everything: the bytes after the head come back intact.
        let (up, _) = accept_with(&server, &input, usize::MAX, |_, _| Ok(()));
        let up = up.unwrap();
        assert_eq!(up.early, &input[GOOD.len()..]);
        assert_eq!(up.stream.pos, input.len());
    }

    #[test]
    fn a_rejection_sends_its_status_and_headers() {
        let server = Server::new(["websocket"]).unwrap();
        let (r, sent) = accept_with(&server, GOOD, 1000, |req, resp| {
            assert_eq!(req.path(), "/chat");
            resp.push("Sec-WebSocket-Version", "13")?;
            Err(Status::UPGRADE_REQUIRED)
        });
        assert!(matches!(r, Err(Error::Rejected { status: 426 })), "{r:?}");
        assert_eq!(
            sent,
            "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\
             Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
        );

        let (r, sent) = accept_with(&server, GOOD, 1000, |_, resp| {
            resp.push("bad name", "x")?;
            Ok(())
        });
        assert!(matches!(r, Err(Error::Rejected { status: 500 })), "{r:?}");
        assert!(
            sent.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{sent}"
        );

        let (r, sent) = accept_with(&server, GOOD, 1000, |_, _| Err(Status::FORBIDDEN));
        assert!(matches!(r, Err(Error::Rejected { status: 403 })), "{r:?}");
        assert_eq!(
            sent,
            "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn eof_before_the_end_of_the_head_sends_nothing() {
        let (r, sent) = accept(&GOOD[..GOOD.len() - 2]);
        assert!(matches!(r, Err(Error::Io(_))), "{r:?}");
        assert!(sent.is_empty());
    }

    #[test]
    fn invalid_protocol_names_are_refused() {
        assert!(Server::new(["websocket", "h2c", "HTTP/2.0"]).is_ok());
        for bad in ["", "web socket", "a/", "/b", "a/b/c", "x\r\n"] {
            assert_eq!(Server::new([bad]), Err(InvalidHeader), "{bad:?}");
        }
    }
}
