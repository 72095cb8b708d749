//! The client side: write an upgrade request, read and check the `101` response.

use std::io::{Read, Write};

use crate::head::{self, DEFAULT_MAX_HEAD, MAX_HEADERS, read_head};
use crate::headers::{is_protocol, is_token};
use crate::{Error, HeaderBuf, Headers, Upgraded};

/// An upgrade request to send: protocol, host and path, plus optional method and headers.
///
/// ```
/// use lowbit_cooper::{Client, HeaderBuf};
/// let mut extra = HeaderBuf::new();
/// extra.push("Origin", "https://example.com")?;
/// let client = Client::new("websocket", "example.com:9001", "/chat")
///     .headers(extra)
///     .max_head(4096);
/// # drop(client);
/// # Ok::<(), lowbit_cooper::InvalidHeader>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client<'a> {
    protocol: &'a str,
    host: &'a str,
    path: &'a str,
    method: &'a str,
    headers: HeaderBuf,
    max_head: usize,
}

impl<'a> Client<'a> {
    /// A `GET` request for `path` on `host` (the `Host` header: `name` or `name:port`), asking to
    /// switch to `protocol`.
    #[must_use]
    pub fn new(protocol: &'a str, host: &'a str, path: &'a str) -> Self {
        Self {
            protocol,
            host,
            path,
            method: "GET",
            headers: HeaderBuf::new(),
            max_head: DEFAULT_MAX_HEAD,
        }
    }

    /// Sets the method (default `GET`).
    #[must_use]
    pub fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }

    /// Sets the extra request headers, sent after `Host`, `Connection` and `Upgrade`.
    #[must_use]
    pub fn headers(mut self, headers: HeaderBuf) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the bound on the response head in bytes (default [`DEFAULT_MAX_HEAD`], 8 KiB).
    #[must_use]
    pub fn max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// Writes the request to `stream`, reads the response head and checks it.
    ///
    /// The response must be `HTTP/1.1 101`, with the token `upgrade` in `Connection` and exactly
    /// the requested protocol in `Upgrade` (case-insensitively). Then `check` runs once on the
    /// parsed [`Response`] (e.g. to verify a key or a negotiated extension); returning `Err(reason)`
    /// refuses the upgrade. On success the stream comes back unchanged, with any bytes the server
    /// sent after its head in [`Upgraded::early`].
    ///
    /// Reading uses blocking semantics: set a read timeout on sockets.
    ///
    /// # Errors
    /// - [`Error::InvalidRequest`]: the method, path, host or protocol cannot be sent; nothing is
    ///   written.
    /// - [`Error::Io`]: the stream failed or closed before the response head was complete.
    /// - [`Error::HeadTooLarge`], [`Error::Malformed`]: the response head is too big or not HTTP.
    /// - [`Error::UnexpectedStatus`]: the status is not `101`, or the version not HTTP/1.1.
    /// - [`Error::NotUpgrade`]: `Connection: upgrade` or `Upgrade` is missing.
    /// - [`Error::NoCommonProtocol`]: `Upgrade` names another protocol.
    /// - [`Error::Refused`]: `check` refused the response.
    pub fn connect<S, F>(&self, mut stream: S, check: F) -> Result<Upgraded<S>, Error>
    where
        S: Read + Write,
        F: FnOnce(&Response<'_>) -> Result<(), &'static str>,
    {
        stream.write_all(&self.encode()?)?;
        stream.flush()?;
        let mut examined = 0;
        let head = read_head(&mut stream, self.max_head, &mut examined)?;
        self.check(&head.buf[..head.len], check)?;
        Ok(Upgraded {
            stream,
            protocol: self.protocol.to_owned(),
            early: head.into_early(),
        })
    }

    /// The request head, after checking every part that goes on the wire.
    fn encode(&self) -> Result<Vec<u8>, Error> {
        let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !is_token(self.method.as_bytes())
            || !visible(self.path)
            || !visible(self.host)
            || !is_protocol(self.protocol.as_bytes())
        {
            return Err(Error::InvalidRequest);
        }
        let mut out = Vec::with_capacity(96 + self.path.len() + self.headers.as_bytes().len());
        for part in [
            self.method,
            " ",
            self.path,
            " HTTP/1.1\r\nHost: ",
            self.host,
            "\r\nConnection: Upgrade\r\nUpgrade: ",
            self.protocol,
            "\r\n",
        ] {
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(self.headers.as_bytes());
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }

    /// Parses the response head once and applies the upgrade rules, then `check`.
    fn check<F>(&self, head: &[u8], check: F) -> Result<(), Error>
    where
        F: FnOnce(&Response<'_>) -> Result<(), &'static str>,
    {
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut raw);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => return Err(Error::Malformed("incomplete response head")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Error::HeadTooLarge {
                    limit: self.max_head,
                });
            }
            Err(e) => return Err(Error::Malformed(head::describe(e))),
        }
        let (Some(version), Some(status)) = (resp.version, resp.code) else {
            return Err(Error::Malformed("incomplete status line"));
        };
        if status != 101 || version != 1 {
            return Err(Error::UnexpectedStatus { status });
        }
        let headers = Headers::new(resp.headers);
        if !headers.has_token("connection", "upgrade") || headers.list("upgrade").next().is_none() {
            return Err(Error::NotUpgrade);
        }
        // RFC 6455 §4.1 (and RFC 9110 §7.8 generally): the 101 must switch to what was asked.
        if !headers
            .list("upgrade")
            .all(|p| p.eq_ignore_ascii_case(self.protocol.as_bytes()))
        {
            return Err(Error::NoCommonProtocol);
        }
        let response = Response {
            status,
            reason: resp.reason.unwrap_or(""),
            headers,
        };
        check(&response).map_err(Error::Refused)
    }
}

/// A `101 Switching Protocols` response as the client's check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    status: u16,
    reason: &'a str,
    headers: Headers<'a>,
}

impl<'a> Response<'a> {
    /// The status code: always 101 here.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent (it carries no meaning).
    #[must_use]
    pub fn reason(&self) -> &'a str {
        self.reason
    }

    /// The response's headers.
    #[must_use]
    pub fn headers(&self) -> Headers<'a> {
        self.headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::tests::Mock;

    const SWITCH: &[u8] =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";

    fn connect(input: &[u8], chunk: usize) -> Result<Upgraded<Mock>, Error> {
        Client::new("websocket", "example.com", "/chat")
            .connect(Mock::new(input, chunk), |_| Ok(()))
    }

    #[test]
    fn writes_the_request_and_accepts_a_101() {
        let mut extra = HeaderBuf::new();
        extra.push("Origin", "http://x").unwrap();
        let client = Client::new("websocket", "example.com:80", "/a?b=c")
            .method("GET")
            .headers(extra)
            .max_head(1024);
        let mut seen = None;
        let up = client
            .connect(Mock::new(SWITCH, 1000), |resp| {
                seen = Some((
                    resp.status(),
                    resp.reason().to_owned(),
                    resp.headers().len(),
                ));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, Some((101, "Switching Protocols".to_owned(), 2)));
        assert_eq!(up.protocol, "websocket");
        assert!(up.early.is_empty());
        assert_eq!(
            String::from_utf8(up.stream.output).unwrap(),
            "GET /a?b=c HTTP/1.1\r\nHost: example.com:80\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nOrigin: http://x\r\n\r\n"
        );
    }

    #[test]
    fn one_byte_reads_and_early_bytes() {
        let mut input = SWITCH.to_vec();
        input.extend_from_slice(b"\x81\x02hi");
        let up = connect(&input, 1).unwrap();
        assert!(up.early.is_empty());
        assert_eq!(up.stream.pos, SWITCH.len());
        let up = connect(&input, 1000).unwrap();
        assert_eq!(up.early, b"\x81\x02hi");
    }

    #[test]
    fn case_and_list_variations_are_accepted() {
        let up = connect(
            b"HTTP/1.1 101 OK\r\nconnection: keep-alive, UPGRADE\r\nupgrade: WebSocket\r\n\r\n",
            3,
        );
        assert!(up.is_ok(), "{up:?}");
    }

    #[test]
    fn bad_responses_are_refused() {
        for (input, want) in [
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"[..],
                "UnexpectedStatus",
            ),
            (
                b"HTTP/1.0 101 Switching\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                "UnexpectedStatus",
            ),
            (
                b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n",
                "NotUpgrade",
            ),
            (
                b"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\n\r\n",
                "NotUpgrade",
            ),
            (
                b"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
                "NoCommonProtocol",
            ),
            (
                b"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: websocket, h2c\r\n\r\n",
                "NoCommonProtocol",
            ),
            (b"HTTP/1.1 1O1 Switching\r\n\r\n", "Malformed"),
            (
                b"HTTP/1.1 101 Switching\r\nBad Name: x\r\n\r\n",
                "Malformed",
            ),
            (b"HTTP/1.1 101 Switching\r\n", "Io"),
        ] {
            let r = connect(input, 1000);
            let got = format!("{:?}", r.as_ref().map(|_| ()));
            assert!(got.contains(want), "{input:?}: {got}");
        }
        let mut long = b"HTTP/1.1 101 Switching\r\nX: ".to_vec();
        long.resize(10_000, b'a');
        assert!(matches!(
            connect(&long, 1000),
            Err(Error::HeadTooLarge { limit: 8192 })
        ));
    }

    #[test]
    fn the_check_can_refuse() {
        let r = Client::new("websocket", "h", "/").connect(Mock::new(SWITCH, 1000), |resp| {
            if resp.headers().get("sec-websocket-accept").is_none() {
                Err("missing accept key")
            } else {
                Ok(())
            }
        });
        assert!(
            matches!(r, Err(Error::Refused("missing accept key"))),
            "{r:?}"
        );
    }

    #[test]
    fn invalid_request_parts_write_nothing() {
        for (protocol, host, path, method) in [
            ("websocket", "h", "/a b", "GET"),
            ("websocket", "h", "", "GET"),
            ("websocket", "h\r\nX: y", "/", "GET"),
            ("websocket", "", "/", "GET"),
            ("web socket", "h", "/", "GET"),
            ("websocket", "h", "/", "G T"),
        ] {
            let client = Client::new(protocol, host, path).method(method);
            let mut m = Mock::new(SWITCH, 1000);
            let r = client.connect(&mut m, |_| Ok(()));
            assert!(matches!(r, Err(Error::InvalidRequest)), "{r:?}");
            assert!(m.output.is_empty());
        }
    }
}
