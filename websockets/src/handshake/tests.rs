//! Handshake tests: in memory for the request rules, over TCP on 127.0.0.1 end to end.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use super::*;
use crate::{CloseCode, OpCode};
use lowbit_cooper::{HeadReader, Status};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A stream that reads from fixed input and collects what is written.
struct Memory {
    input: io::Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Memory {
    fn new(input: &[u8]) -> Self {
        Self {
            input: io::Cursor::new(input.to_vec()),
            output: Vec::new(),
        }
    }
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(extra: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Runs the server handshake over `input` in memory; returns the result and what was sent.
fn serve(handshake: &Handshake, input: &[u8]) -> (Result<Opened<Memory>, HandshakeError>, String) {
    // The stream moves into the connection, so collect the output through a shared buffer.
    struct Shared<'a>(Memory, &'a mut Vec<u8>);
    impl Read for Shared<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Shared<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut sent = Vec::new();
    let r = handshake
        .accept(Shared(Memory::new(input), &mut sent))
        .map(|o| {
            Opened::new(
                Conn::server(Memory::new(b""), 1024, 1024).unwrap(),
                o.subprotocol,
                o.extensions,
                #[cfg(feature = "deflate")]
                None,
            )
        });
    (r, String::from_utf8(sent).unwrap())
}

#[test]
fn the_rfc_example_is_accepted() {
    let (r, sent) = serve(
        &Handshake::new(),
        request("Origin: http://example.com\r\n").as_bytes(),
    );
    let opened = r.unwrap();
    assert_eq!(opened.subprotocol, None);
    assert_eq!(opened.extensions, None);
    assert_eq!(
        sent,
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
}

#[test]
fn every_request_rule_is_enforced() {
    let good = request("");
    let cases: [(String, &str, &str); 12] = [
        (
            good.replacen("GET", "POST", 1),
            "NotGet",
            "405 Method Not Allowed",
        ),
        (
            good.replace("Host: server.example.com\r\n", ""),
            "BadHost",
            "400 ",
        ),
        (
            good.replace("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
            "BadHost",
            "400 ",
        ),
        (
            good.replace("Host: server.example.com", "Host: "),
            "BadHost",
            "400 ",
        ),
        (
            good.replace("Sec-WebSocket-Version: 13\r\n", ""),
            "UnsupportedVersion",
            "426 ",
        ),
        (
            good.replace("Version: 13", "Version: 8"),
            "UnsupportedVersion",
            "426 ",
        ),
        (
            good.replace(KEY, "dGhlIHNhbXBsZSBub25jZQ"),
            "BadKey",
            "400 ",
        ),
        (good.replace(KEY, "c2hvcnQ="), "BadKey", "400 "),
        (
            good.replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), ""),
            "BadKey",
            "400 ",
        ),
        (
            request(&format!("Sec-WebSocket-Key: {KEY}\r\n")),
            "BadKey",
            "400 ",
        ),
        (good.replace("HTTP/1.1", "HTTP/1.0"), "NotUpgrade", "426 "),
        (
            good.replace("Upgrade: websocket", "Upgrade: h2c"),
            "NoCommonProtocol",
            "426 ",
        ),
    ];
    for (input, error, status) in cases {
        let (r, sent) = serve(&Handshake::new(), input.as_bytes());
        let got = format!("{:?}", r.as_ref().map(|_| ()));
        assert!(got.contains(error), "{input:?}: {got}");
        assert!(
            sent.starts_with(&format!("HTTP/1.1 {status}")),
            "{input:?}: {sent}"
        );
        assert!(!sent.contains("Sec-WebSocket-Accept"), "{sent}");
        if error == "UnsupportedVersion" {
            assert!(sent.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{sent}");
        }
        if error == "NotGet" {
            assert!(sent.contains("\r\nAllow: GET\r\n"), "{sent}");
        }
    }
}

#[test]
fn case_variations_are_accepted() {
    let input = request("")
        .replace("Upgrade: websocket", "upgrade: WebSocket")
        .replace("Connection: Upgrade", "CONNECTION: keep-alive, UPGRADE")
        .replace("Sec-WebSocket-Key", "sec-websocket-key")
        .replace("Sec-WebSocket-Version", "SEC-WEBSOCKET-VERSION");
    let (r, sent) = serve(&Handshake::new(), input.as_bytes());
    assert!(r.is_ok(), "{r:?}");
    assert!(sent.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[test]
fn subprotocols_follow_the_servers_preference() {
    let server = Handshake::new().subprotocols(["v2", "v1"]);
    for (offer, chosen) in [
        ("Sec-WebSocket-Protocol: v1, v2\r\n", Some("v2")),
        (
            "Sec-WebSocket-Protocol: v1\r\nSec-WebSocket-Protocol: x, v2\r\n",
            Some("v2"),
        ),
        ("Sec-WebSocket-Protocol: v1\r\n", Some("v1")),
        ("Sec-WebSocket-Protocol: V1, v3\r\n", None),
        ("", None),
    ] {
        let (r, sent) = serve(&server, request(offer).as_bytes());
        assert_eq!(r.unwrap().subprotocol.as_deref(), chosen, "{offer:?}");
        match chosen {
            Some(p) => assert!(sent.contains(&format!("\r\nSec-WebSocket-Protocol: {p}\r\n"))),
            None => assert!(!sent.contains("Sec-WebSocket-Protocol"), "{sent}"),
        }
    }
    let bad = Handshake::new().subprotocols(["a b"]);
    let (r, sent) = serve(&bad, request("").as_bytes());
    assert!(matches!(r, Err(HandshakeError::Config(_))), "{r:?}");
    assert!(sent.is_empty());
}

#[test]
fn the_extension_hook_sees_offers_and_answers() {
    let server = Handshake::new().server_extensions(|offers| {
        let joined = offers.join("|");
        (joined == "permessage-foo; x=1, bar|baz").then(|| "permessage-foo; x=1".to_owned())
    });
    let input = request(
        "Sec-WebSocket-Extensions: permessage-foo; x=1, bar\r\nSec-WebSocket-Extensions: baz\r\n",
    );
    let (r, sent) = serve(&server, input.as_bytes());
    assert_eq!(
        r.unwrap().extensions.as_deref(),
        Some("permessage-foo; x=1")
    );
    assert!(
        sent.contains("\r\nSec-WebSocket-Extensions: permessage-foo; x=1\r\n"),
        "{sent}"
    );

    // No hook: offers are declined, the handshake goes on.
    let (r, sent) = serve(&Handshake::new(), input.as_bytes());
    assert_eq!(r.unwrap().extensions, None);
    assert!(!sent.contains("Extensions"), "{sent}");

    // An answer that is not a valid header value fails the handshake with 500.
    let broken = Handshake::new().server_extensions(|_| Some("a\r\nb".to_owned()));
    let (r, sent) = serve(&broken, input.as_bytes());
    assert!(
        matches!(
            r,
            Err(HandshakeError::Http(cooper::Error::Rejected {
                status: 500
            }))
        ),
        "{r:?}"
    );
    assert!(sent.starts_with("HTTP/1.1 500 "), "{sent}");
}

#[test]
fn the_handler_can_reject_or_add_headers() {
    let mut stream = Memory::new(request("").as_bytes());
    let r = Handshake::new().accept_with(&mut stream, |req, _| {
        if req.path() == "/chat" {
            Err(Status::FORBIDDEN)
        } else {
            Ok(())
        }
    });
    let r = r.map(|_| ());
    assert!(
        matches!(
            r,
            Err(HandshakeError::Http(cooper::Error::Rejected {
                status: 403
            }))
        ),
        "{r:?}"
    );
    assert!(stream.output.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));

    let mut stream = Memory::new(request("").as_bytes());
    let opened = Handshake::new().accept_with(&mut stream, |_, resp| {
        resp.push("Set-Cookie", "a=b")?;
        Ok(())
    });
    assert!(opened.is_ok());
    drop(opened);
    let sent = String::from_utf8(stream.output).unwrap();
    assert!(
        sent.contains("\r\nSet-Cookie: a=b\r\nSec-WebSocket-Accept: "),
        "{sent}"
    );
}

#[test]
fn frame_bytes_right_after_the_head_arrive_in_the_first_read() {
    // A masked text frame "hello" sent in the same write as the head.
    let mut input = request("").into_bytes();
    let key = [0x11, 0x22, 0x33, 0x44];
    input.extend_from_slice(&[0x81, 0x85]);
    input.extend_from_slice(&key);
    input.extend(b"hello".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    let mut opened = Handshake::new().accept(Memory::new(&input)).unwrap();
    let mut buf = Vec::new();
    let (op, payload) = opened.conn.read_message(&mut buf).unwrap();
    assert_eq!((op, payload), (OpCode::Text, &b"hello"[..]));
}

#[test]
fn zero_limits_are_refused_before_any_io() {
    for handshake in [
        Handshake::new().read_limit(0),
        Handshake::new().chunk_size(0),
    ] {
        let (r, sent) = serve(&handshake, request("").as_bytes());
        assert!(matches!(r, Err(HandshakeError::Config(_))), "{r:?}");
        assert!(sent.is_empty());
        let r = handshake.connect_stream(Memory::new(b""), "ws://h/");
        assert!(matches!(r, Err(HandshakeError::Config(_))), "{r:?}");
    }
}

/// Binds an ephemeral port on 127.0.0.1 and serves one connection with `f` on a thread.
fn one_shot_server<T, F>(f: F) -> (String, thread::JoinHandle<T>)
where
    T: Send + 'static,
    F: FnOnce(TcpStream) -> T + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(TIMEOUT)).unwrap();
        f(tcp)
    });
    (format!("ws://{addr}/echo?x=1"), handle)
}

#[test]
fn tcp_handshake_then_messages_both_ways() {
    let (url, server) = one_shot_server(|tcp| {
        let mut path = String::new();
        let opened = Handshake::new()
            .subprotocols(["v2", "v1"])
            .accept_with(tcp, |req, _| {
                path = req.path().to_owned();
                Ok(())
            })
            .unwrap();
        assert_eq!(path, "/echo?x=1");
        assert_eq!(opened.subprotocol.as_deref(), Some("v2"));
        let mut conn = opened.conn;
        let mut buf = Vec::new();
        loop {
            let (op, payload) = conn.read_message(&mut buf).unwrap();
            if op == OpCode::Close {
                return;
            }
            conn.write_message(op, payload).unwrap();
        }
    });
    let opened = Handshake::new()
        .subprotocols(["v1", "v2"])
        .connect(&url)
        .unwrap();
    assert_eq!(opened.subprotocol.as_deref(), Some("v2"));
    let mut conn = opened.conn;
    conn.get_ref().set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = Vec::new();
    for (op, payload) in [
        (OpCode::Text, &b"hello"[..]),
        (OpCode::Binary, &[0, 1, 2, 255][..]),
        (OpCode::Binary, &vec![7; 100_000][..]),
    ] {
        conn.write_message(op, payload).unwrap();
        let (got_op, got) = conn.read_message(&mut buf).unwrap();
        assert_eq!((got_op, got), (op, payload));
    }
    conn.close(CloseCode::NORMAL, "done").unwrap();
    server.join().unwrap();
}

/// A raw server that answers any request with `response(key)` and then sends `after`.
fn fake_server(
    response: impl FnOnce(&str) -> String + Send + 'static,
    after: &'static [u8],
) -> (String, thread::JoinHandle<()>) {
    one_shot_server(move |mut tcp| {
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .to_owned();
        let mut out = response(&key).into_bytes();
        out.extend_from_slice(after);
        tcp.write_all(&out).unwrap();
        // Wait for the client to hang up, so the bytes are not reset away.
        let _ = tcp.read(&mut [0u8; 64]);
    })
}

fn switching(accept: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
}

#[test]
fn tcp_client_refuses_a_wrong_accept_key() {
    let (url, server) = fake_server(|_| switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ""), b"");
    let r = Handshake::new().connect(&url);
    assert!(matches!(r, Err(HandshakeError::BadAccept)), "{r:?}");
    drop(r);
    server.join().unwrap();
}

#[test]
fn tcp_client_gets_frames_sent_right_after_the_101() {
    let (url, server) = fake_server(
        |key| switching(&accept_key(key.as_bytes()), ""),
        b"\x82\x03abc",
    );
    let mut conn = Handshake::new().connect(&url).unwrap().conn;
    let mut buf = Vec::new();
    let (op, payload) = conn.read_message(&mut buf).unwrap();
    assert_eq!((op, payload), (OpCode::Binary, &b"abc"[..]));
    drop(conn);
    server.join().unwrap();
}

/// The client's checks of a response, over memory.
fn client_check(handshake: &Handshake, extra: &str) -> Result<Opened<Memory>, HandshakeError> {
    // The key is random, so answer through a stream that computes the accept value.
    struct Answering {
        written: Vec<u8>,
        reply: Option<io::Cursor<Vec<u8>>>,
        extra: String,
    }
    impl Read for Answering {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.reply.is_none() {
                let text = String::from_utf8_lossy(&self.written).into_owned();
                let key = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                    .unwrap_or_default();
                let reply = switching(&accept_key(key.as_bytes()), &self.extra);
                self.reply = Some(io::Cursor::new(reply.into_bytes()));
            }
            self.reply.as_mut().map_or(Ok(0), |r| r.read(buf))
        }
    }
    impl Write for Answering {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let stream = Answering {
        written: Vec::new(),
        reply: None,
        extra: extra.to_owned(),
    };
    handshake
        .connect_stream(stream, "ws://example.com:8080/a")
        .map(|o| {
            Opened::new(
                Conn::client(Memory::new(b""), 16, 16).unwrap(),
                o.subprotocol,
                o.extensions,
                #[cfg(feature = "deflate")]
                None,
            )
        })
}

#[test]
fn client_refuses_unrequested_subprotocols_and_extensions() {
    let plain = Handshake::new();
    assert!(client_check(&plain, "").is_ok());
    assert!(matches!(
        client_check(&plain, "Sec-WebSocket-Protocol: chat\r\n"),
        Err(HandshakeError::UnrequestedSubprotocol)
    ));
    assert!(matches!(
        client_check(&plain, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        Err(HandshakeError::UnrequestedExtension(_))
    ));

    let chat = Handshake::new().subprotocols(["chat", "v2"]);
    assert_eq!(
        client_check(&chat, "Sec-WebSocket-Protocol: v2\r\n")
            .unwrap()
            .subprotocol
            .as_deref(),
        Some("v2")
    );
    assert_eq!(client_check(&chat, "").unwrap().subprotocol, None);
    for bad in ["chat, v2", "other", "Chat"] {
        let extra = format!("Sec-WebSocket-Protocol: {bad}\r\n");
        assert!(
            matches!(
                client_check(&chat, &extra),
                Err(HandshakeError::UnrequestedSubprotocol)
            ),
            "{bad}"
        );
    }

    let deflate = Handshake::new().client_extensions(
        "permessage-deflate; client_max_window_bits",
        |answer| {
            if answer
                .iter()
                .any(|a| a.contains("server_max_window_bits=8"))
            {
                Err("window bits not supported")
            } else {
                Ok(())
            }
        },
    );
    let ok = client_check(
        &deflate,
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
    );
    assert_eq!(
        ok.unwrap().extensions.as_deref(),
        Some("permessage-deflate; server_no_context_takeover")
    );
    assert_eq!(client_check(&deflate, "").unwrap().extensions, None);
    assert!(matches!(
        client_check(&deflate, "Sec-WebSocket-Extensions: x-other\r\n"),
        Err(HandshakeError::UnrequestedExtension(
            "an extension that was not offered"
        ))
    ));
    assert!(matches!(
        client_check(
            &deflate,
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n"
        ),
        Err(HandshakeError::UnrequestedExtension(
            "window bits not supported"
        ))
    ));
}

#[test]
fn client_request_carries_every_required_header() {
    let mut extra = HeaderBuf::new();
    extra.push("Origin", "http://example.com").unwrap();
    let handshake = Handshake::new()
        .subprotocols(["chat", "v2"])
        .request_headers(extra)
        .client_extensions("permessage-deflate", |_| Ok(()));
    let mut written = Vec::new();
    struct Recorder<'a>(&'a mut Vec<u8>);
    impl Read for Recorder<'_> {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
    }
    impl Write for Recorder<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let r = handshake.connect_stream(Recorder(&mut written), "ws://example.com:8080?q");
    assert!(
        matches!(r, Err(HandshakeError::Http(cooper::Error::Io(_)))),
        "{r:?}"
    );
    let text = String::from_utf8(written).unwrap();
    assert!(
        text.starts_with("GET /?q HTTP/1.1\r\nHost: example.com:8080\r\n"),
        "{text}"
    );
    for line in [
        "\r\nConnection: Upgrade\r\n",
        "\r\nUpgrade: websocket\r\n",
        "\r\nOrigin: http://example.com\r\n",
        "\r\nSec-WebSocket-Version: 13\r\n",
        "\r\nSec-WebSocket-Protocol: chat, v2\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    assert!(accept::is_valid_key(key.as_bytes()), "{key}");

    let r = Handshake::new().connect("wss://example.com/");
    assert!(matches!(r, Err(HandshakeError::InvalidUrl(_))), "{r:?}");
    let r = Handshake::new().connect("http://example.com/");
    assert!(matches!(r, Err(HandshakeError::InvalidUrl(_))), "{r:?}");
}

#[test]
fn tcp_server_gets_frames_sent_with_the_head() {
    let (url, server) = one_shot_server(|tcp| {
        let mut conn = Handshake::new().accept(tcp).unwrap().conn;
        let mut buf = Vec::new();
        let (op, payload) = conn.read_message(&mut buf).unwrap();
        (op, payload.to_vec())
    });
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut tcp = TcpStream::connect(&addr).unwrap();
    // The head and a masked binary frame [1, 2, 3] in one write.
    let mut out = request("").into_bytes();
    out.extend_from_slice(&[0x82, 0x83, 9, 8, 7, 6, 1 ^ 9, 2 ^ 8, 3 ^ 7]);
    tcp.write_all(&out).unwrap();
    let (op, payload) = server.join().unwrap();
    assert_eq!((op, payload.as_slice()), (OpCode::Binary, &[1, 2, 3][..]));
}

/// `respond` over a head read across `WouldBlock`s (one byte per read) answers exactly as
/// `accept`, for requests it accepts and for each kind it refuses; the connection it opens
/// reads the frame the client sent right behind its head.
#[test]
fn respond_on_a_resumed_head_answers_as_accept() {
    /// A byte per call, with a `WouldBlock` before each.
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
    let handshake = Handshake::new()
        .subprotocols(["chat"])
        .max_head(1024)
        .server_extensions(|offers| offers.first().map(|_| "x-test".to_owned()));
    let oversized = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
    let cases = [
        request("Sec-WebSocket-Protocol: other, chat\r\nSec-WebSocket-Extensions: x-test\r\n"),
        request("").replace("Version: 13", "Version: 8"),
        request("").replace("GET", "POST"),
        request("").replace(KEY, "short"),
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        oversized,
    ];
    for case in &cases {
        let (accepted, sent) = serve(&handshake, case.as_bytes());
        let mut head = HeadReader::new(1024);
        let mut drip = Drip {
            input: case.as_bytes(),
            stall: false,
        };
        loop {
            match head.read_from(&mut drip) {
                Ok(()) => break,
                Err(lowbit_cooper::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    assert!(head.is_too_large(), "{e}");
                    break;
                }
            }
        }
        let mut response = Vec::new();
        let responded = handshake.respond(&head, |_, _| Ok(()), &mut response);
        assert_eq!(String::from_utf8(response).unwrap(), sent, "{case}");
        match (responded, accepted) {
            (Ok(r), Ok(a)) => {
                assert_eq!(
                    (&r.subprotocol, &r.extensions),
                    (&a.subprotocol, &a.extensions)
                );
                assert_eq!(r.subprotocol.as_deref(), Some("chat"));
            }
            (Err(r), Err(a)) => assert_eq!(r.to_string(), a.to_string()),
            other => panic!("{case}: {other:?}"),
        }
    }

    // Frame bytes read together with the head reach the connection first.
    let mut wire = request("").into_bytes();
    wire.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
    let mut head = HeadReader::new(1024);
    head.read_from(&mut &wire[..]).unwrap();
    let accepted = Handshake::new()
        .respond(&head, |_, _| Ok(()), &mut Vec::new())
        .unwrap();
    let mut opened = accepted.open(Memory::new(b"")).unwrap();
    let mut buf = Vec::new();
    let (op, payload) = opened.conn.read_message(&mut buf).unwrap();
    assert_eq!((op, payload), (OpCode::Text, &b"hi"[..]));
}
