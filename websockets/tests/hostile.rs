//! Hostile peers over real sockets (TCP on 127.0.0.1, and a Unix socket pair where small kernel
//! buffers are needed). Each attack ends with the right close code or error, no panic and no
//! memory growth, and the next connection on the same listener is served normally.
//!
//! The server side is a non-blocking echo loop (`serve_echo`), so these tests also drive the
//! `WouldBlock` contract over real sockets. Every socket has a timeout and every loop a deadline:
//! a regression fails the test instead of hanging it.
#![allow(unsafe_code)] // a counting global allocator cannot be written without it

#[path = "support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

#[cfg(feature = "deflate")]
use lowbit_websockets::{Agreed, Compression, Deflate, DeflateParams, negotiate, offer};
use lowbit_websockets::{CHUNK_SIZE_LOW_MEMORY, CloseCode, Conn, Error, OpCode, Peer, Role};

#[cfg(feature = "handshake")]
use lowbit_websockets::handshake::{Handshake, HandshakeError, cooper};
use support::{frame, parse_frames};

/// The read limit of every connection here.
const LIMIT: usize = 64 * 1024;
/// How long any single test may wait for the other side.
const DEADLINE: Duration = Duration::from_secs(20);
const KEY: [u8; 4] = [0x3C, 0x5A, 0x96, 0xF0];

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator and only updates a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by the calling thread so far.
fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

/// How the server side of one connection ended.
#[derive(Debug)]
struct Outcome {
    /// Messages echoed.
    echoed: usize,
    /// The close code in the peer's close frame, when the closing handshake completed
    /// (`Some(None)` for a close frame without a code).
    peer_close: Option<Option<u16>>,
    /// The error that ended the connection, with the close code it sent.
    error: Option<(String, Option<CloseCode>, Option<io::ErrorKind>)>,
    /// Allocations the server thread made after the connection was set up.
    allocs: usize,
    /// Whether the connection's heap was the same at the end as at the start.
    heap_unchanged: bool,
    /// The capacity of the read buffer at the end.
    buf_capacity: usize,
}

impl Outcome {
    /// The close code sent for the error that ended the connection.
    fn error_code(&self) -> Option<u16> {
        self.error.as_ref().and_then(|e| e.1).map(u16::from)
    }
}

/// Waits a moment for a non-blocking stream; the deadline turns a hang into a failure.
fn wait(start: Instant) {
    assert!(start.elapsed() < DEADLINE, "deadline exceeded");
    thread::sleep(Duration::from_micros(200));
}

/// What the echo loop needs besides [`Peer`]: a plain connection or one with deflate.
trait Echo: Peer {
    fn has_pending_writes(&self) -> bool;
    fn heap_size(&self) -> usize;
}

impl<S: Read + Write> Echo for Conn<S> {
    fn has_pending_writes(&self) -> bool {
        Conn::has_pending_writes(self)
    }
    fn heap_size(&self) -> usize {
        Conn::heap_size(self)
    }
}

#[cfg(feature = "deflate")]
impl<S: Read + Write> Echo for Deflate<S> {
    fn has_pending_writes(&self) -> bool {
        self.get_ref().has_pending_writes()
    }
    fn heap_size(&self) -> usize {
        self.get_ref().heap_size()
    }
}

/// A non-blocking echo loop over `conn`: reads a message, writes it back, resuming both after
/// `WouldBlock`; ends at the peer's close (after the echo is flushed) or at an error.
fn serve_echo<P: Echo>(mut conn: P) -> Outcome {
    let start = Instant::now();
    let heap = conn.heap_size();
    let (mut buf, mut out) = (Vec::new(), Vec::with_capacity(LIMIT));
    let mut pending: Option<OpCode> = None;
    let mut echoed = 0;
    let base = allocs();
    let end = |conn: &P, buf: &Vec<u8>, echoed, peer_close, error| Outcome {
        echoed,
        peer_close,
        error,
        allocs: allocs() - base,
        heap_unchanged: conn.heap_size() == heap,
        buf_capacity: buf.capacity(),
    };
    loop {
        if let Some(op) = pending {
            match conn.write_message(op, &out) {
                Ok(()) => (pending, echoed) = (None, echoed + 1),
                Err(e) if e.is_would_block() => wait(start),
                Err(e) => {
                    let error = Some((e.to_string(), e.close_code(), io_kind(&e)));
                    return end(&conn, &buf, echoed, None, error);
                }
            }
            continue;
        }
        match conn.read_message(&mut buf) {
            Ok((OpCode::Close, payload)) => {
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                while conn.has_pending_writes() {
                    match conn.flush() {
                        Err(e) if e.is_would_block() => wait(start),
                        other => other.unwrap(),
                    }
                }
                return end(&conn, &buf, echoed, Some(code), None);
            }
            Ok((op, payload)) => {
                out.clear();
                out.extend_from_slice(payload);
                pending = Some(op);
            }
            Err(e) if e.is_would_block() => {
                // The pong or close reply a stalled write left behind goes out with a flush.
                if conn.has_pending_writes() && conn.flush().is_err_and(|e| !e.is_would_block()) {
                    return end(
                        &conn,
                        &buf,
                        echoed,
                        None,
                        Some(("flush".into(), None, None)),
                    );
                }
                wait(start);
            }
            Err(e) => {
                let error = Some((e.to_string(), e.close_code(), io_kind(&e)));
                return end(&conn, &buf, echoed, None, error);
            }
        }
    }
}

fn io_kind(e: &Error) -> Option<io::ErrorKind> {
    match e {
        Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

/// A server connection over an accepted socket, non-blocking.
fn server_conn(stream: TcpStream, role: Role) -> Conn<TcpStream> {
    stream.set_nonblocking(true).unwrap();
    Conn::new(stream, role, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap()
}

/// What a listener does with one accepted connection.
type Handler = Box<dyn FnOnce(TcpStream) -> Outcome + Send>;

/// A listener on 127.0.0.1 serving one connection per handler, in order, then one more with
/// the plain echo loop (for [`Server::assert_served_normally`]).
struct Server {
    addr: SocketAddr,
    outcomes: mpsc::Receiver<Outcome>,
    thread: thread::JoinHandle<()>,
    /// Connections open with the HTTP handshake (else frames start at once).
    handshake: bool,
}

impl Server {
    fn new(handlers: Vec<Handler>) -> Self {
        Self::start(handlers, false)
    }

    fn start(handlers: Vec<Handler>, handshake: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, outcomes) = mpsc::channel();
        let thread = thread::spawn(move || {
            #[cfg(feature = "handshake")]
            let last = if handshake {
                handshake_echo()
            } else {
                Box::new(|s| serve_echo(server_conn(s, Role::Server)))
            };
            #[cfg(not(feature = "handshake"))]
            let last: Handler = Box::new(|s| serve_echo(server_conn(s, Role::Server)));
            for handler in handlers.into_iter().chain([last]) {
                let (stream, _) = listener.accept().unwrap();
                stream.set_nodelay(true).unwrap();
                tx.send(handler(stream)).unwrap();
            }
        });
        Self {
            addr,
            outcomes,
            thread,
            handshake,
        }
    }

    /// Echo servers for `n` hostile connections.
    fn echo(n: usize) -> Self {
        let handlers = (0..n)
            .map(|_| -> Handler { Box::new(|s| serve_echo(server_conn(s, Role::Server))) })
            .collect();
        Self::new(handlers)
    }

    /// A new client socket with timeouts.
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        s.set_write_timeout(Some(DEADLINE)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// The outcome of the next connection served.
    fn outcome(&self) -> Outcome {
        self.outcomes
            .recv_timeout(DEADLINE)
            .expect("server outcome")
    }

    /// Checks that a well-behaved client is served after the attacks, and that the server thread
    /// did not panic.
    fn assert_served_normally(self) {
        let mut conn = self.client();
        let mut buf = Vec::new();
        conn.write_message(OpCode::Text, "still served ✓".as_bytes())
            .unwrap();
        let (op, payload) = conn.read_message(&mut buf).unwrap();
        assert_eq!((op, payload), (OpCode::Text, "still served ✓".as_bytes()));
        conn.close(CloseCode::NORMAL, "bye").unwrap();
        let outcome = self.outcome();
        assert_eq!(outcome.peer_close, Some(Some(1000)), "{outcome:?}");
        assert_eq!(outcome.echoed, 1);
        self.thread.join().expect("server thread");
    }

    #[cfg(feature = "handshake")]
    fn client(&self) -> Conn<TcpStream> {
        if self.handshake {
            let url = format!("ws://{}/", self.addr);
            let opened = Handshake::new()
                .connect_stream(self.connect(), &url)
                .unwrap();
            return opened.conn;
        }
        Conn::client(self.connect(), LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap()
    }

    #[cfg(not(feature = "handshake"))]
    fn client(&self) -> Conn<TcpStream> {
        assert!(!self.handshake, "the handshake needs its feature");
        Conn::client(self.connect(), LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap()
    }
}

/// The handshake's read timeout: how long a silent client may hold the server.
#[cfg(feature = "handshake")]
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(300);

/// A server handler that runs the opening handshake (with a read timeout), then the echo loop.
#[cfg(feature = "handshake")]
fn handshake_echo() -> Handler {
    Box::new(|stream| {
        stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).unwrap();
        match Handshake::new().read_limit(LIMIT).accept(stream) {
            Ok(opened) => {
                opened.conn.get_ref().set_read_timeout(None).unwrap();
                opened.conn.get_ref().set_nonblocking(true).unwrap();
                serve_echo(opened.conn)
            }
            Err(e) => handshake_failed(&e),
        }
    })
}

/// Takes the next outcome, which must be a handshake ended by its read timeout, soon after
/// `started`.
#[cfg(feature = "handshake")]
fn assert_handshake_timed_out(server: &Server, started: Instant) {
    let outcome = server.outcome();
    let kind = outcome.error.as_ref().and_then(|e| e.2);
    assert!(
        matches!(
            kind,
            Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
        ),
        "{outcome:?}"
    );
    assert!(started.elapsed() < HANDSHAKE_TIMEOUT * 10);
}

/// The outcome of a connection whose opening handshake failed.
#[cfg(feature = "handshake")]
fn handshake_failed(e: &HandshakeError) -> Outcome {
    let kind = match e {
        HandshakeError::Http(cooper::Error::Io(e)) => Some(e.kind()),
        _ => None,
    };
    Outcome {
        echoed: 0,
        peer_close: None,
        error: Some((e.to_string(), None, kind)),
        allocs: 0,
        heap_unchanged: true,
        buf_capacity: 0,
    }
}

/// Writes `wire` (ignoring a reset: the server may already have given up), then reads what the
/// server sent until it closes the connection (over TLS, a missing close_notify counts as the
/// end too), and returns the frames.
fn exchange<S: Read + Write>(mut stream: S, wire: &[u8]) -> Vec<(bool, u8, OpCode, Vec<u8>)> {
    let _ = stream.write_all(wire).and_then(|()| stream.flush());
    let mut got = Vec::new();
    let mut piece = [0; 4096];
    loop {
        match stream.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&piece[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
                ) =>
            {
                break;
            }
            Err(e) => panic!("reading the server's answer: {e}"),
        }
    }
    parse_frames(&got)
}

/// The close code in the last frame, which must be a close frame.
fn close_code(frames: &[(bool, u8, OpCode, Vec<u8>)]) -> Option<u16> {
    let (_, _, op, payload) = frames.last().expect("a close frame");
    assert_eq!(*op, OpCode::Close);
    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
}

/// A masked header (as a client sends it) announcing `len` bytes in the 64-bit length form.
fn header_64(op: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut v = vec![u8::from(fin) << 7 | op, 0x80 | 127];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&KEY);
    v
}

fn masked(fin: bool, op: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, op, Some(KEY), payload)
}

#[test]
fn frame_announcing_2_pow_63_minus_1_bytes_is_refused_from_its_header() {
    let server = Server::echo(2);
    let frames = exchange(server.connect(), &header_64(0x2, true, (1 << 63) - 1));
    assert_eq!(close_code(&frames), Some(1009));
    let outcome = server.outcome();
    assert_eq!(outcome.error_code(), Some(1009), "{outcome:?}");
    assert!(
        outcome
            .error
            .as_ref()
            .unwrap()
            .0
            .contains("9223372036854775807")
    );
    // Nothing was reserved for the announced payload.
    assert_eq!(outcome.buf_capacity, 0);
    assert!(outcome.heap_unchanged);

    // One past it sets the top bit, which RFC 6455 §5.2 forbids outright.
    let frames = exchange(server.connect(), &header_64(0x2, true, 1 << 63));
    assert_eq!(close_code(&frames), Some(1002));
    assert_eq!(server.outcome().error_code(), Some(1002));
    server.assert_served_normally();
}

#[test]
fn frame_just_over_the_read_limit_is_refused_and_one_at_it_is_echoed() {
    let server = Server::echo(3);
    // Exactly at the limit: echoed intact.
    let at_limit = support::payload(LIMIT, 7);
    let mut wire = masked(true, OpCode::Binary, &at_limit);
    wire.extend(masked(true, OpCode::Close, &1000u16.to_be_bytes()));
    let frames = exchange(server.connect(), &wire);
    assert_eq!(frames.len(), 2);
    assert_eq!((frames[0].2, &frames[0].3), (OpCode::Binary, &at_limit));
    assert_eq!(close_code(&frames), Some(1000));
    let outcome = server.outcome();
    assert_eq!((outcome.echoed, outcome.peer_close), (1, Some(Some(1000))));

    // One byte over, in one frame: refused from the header (the payload is never sent here, so
    // the close frame is not lost to a reset for unread bytes).
    let frames = exchange(server.connect(), &header_64(0x2, true, LIMIT as u64 + 1));
    assert_eq!(close_code(&frames), Some(1009));
    let outcome = server.outcome();
    assert_eq!(outcome.error_code(), Some(1009), "{outcome:?}");
    assert_eq!(outcome.buf_capacity, 0);

    // One byte over across fragments: refused at the header of the fragment that crosses it.
    let mut wire = masked(false, OpCode::Text, &[b'a'; LIMIT / 2]);
    wire.extend(header_64(0x0, true, LIMIT as u64 / 2 + 1));
    let frames = exchange(server.connect(), &wire);
    assert_eq!(close_code(&frames), Some(1009));
    let outcome = server.outcome();
    assert_eq!(outcome.error_code(), Some(1009), "{outcome:?}");
    assert!(outcome.buf_capacity <= LIMIT, "{outcome:?}");
    server.assert_served_normally();
}

/// 10,000 pings, each answered in order with its own payload, with no allocation per ping.
#[test]
fn ping_flood_gets_every_pong_without_allocating_per_ping() {
    const PINGS: u64 = 10_000;
    // A blocking server: each pong is written whole before the next ping is read, so none may
    // be coalesced, whatever the socket buffers hold.
    let handler = |stream: TcpStream| {
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        serve_echo(Conn::server(stream, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap())
    };
    let server = Server::new(vec![Box::new(handler)]);
    let stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let mut wire = Vec::new();
        for i in 0..PINGS {
            wire.extend(masked(true, OpCode::Ping, &i.to_be_bytes()));
        }
        wire.extend(masked(true, OpCode::Text, b"done"));
        writer.write_all(&wire).unwrap();
    });
    let mut conn = Conn::client(stream, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap();
    // Read the raw frames: the client `Conn` would swallow the pongs.
    let mut raw = Vec::new();
    let mut piece = [0; 8192];
    let wanted = PINGS as usize * 10 + 6;
    while raw.len() < wanted {
        let n = conn.get_mut().read(&mut piece).unwrap();
        assert_ne!(n, 0, "server closed early");
        raw.extend_from_slice(&piece[..n]);
    }
    sender.join().unwrap();
    let frames = parse_frames(&raw);
    assert_eq!(frames.len(), PINGS as usize + 1);
    for (i, f) in frames[..PINGS as usize].iter().enumerate() {
        assert_eq!(
            (f.2, &f.3[..]),
            (OpCode::Pong, &(i as u64).to_be_bytes()[..])
        );
    }
    assert_eq!(
        (frames[PINGS as usize].2, &frames[PINGS as usize].3[..]),
        (OpCode::Text, &b"done"[..])
    );
    conn.close(CloseCode::NORMAL, "").unwrap();
    let outcome = server.outcome();
    assert_eq!((outcome.echoed, outcome.peer_close), (1, Some(Some(1000))));
    // The read buffer's one growth for "done" and nothing for the 10,000 pings.
    assert!(outcome.allocs <= 2, "{outcome:?}");
    assert!(outcome.heap_unchanged);
    server.assert_served_normally();
}

/// A peer that floods pings and reads nothing: the pongs that cannot be written are replaced by
/// the answer to the newest ping (RFC 6455 §5.5.3), so memory stays flat, and once the peer
/// reads, it gets the pong to its last ping before the echo. A Unix socket pair keeps the kernel
/// buffers small (about 200 KiB) so the 1.3 MB of pongs cannot all be buffered.
#[test]
fn ping_flood_from_a_peer_that_does_not_read_keeps_memory_flat() {
    const PINGS: usize = 10_000;
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    theirs.set_read_timeout(Some(DEADLINE)).unwrap();
    theirs.set_write_timeout(Some(DEADLINE)).unwrap();
    let server = thread::spawn(move || {
        serve_echo(Conn::server(ours, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap())
    });
    let mut wire = Vec::new();
    for i in 0..PINGS {
        let mut payload = [b'p'; 125];
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        wire.extend(masked(true, OpCode::Ping, &payload));
    }
    wire.extend(masked(true, OpCode::Text, b"done"));
    theirs.write_all(&wire).unwrap();
    // Only now read: pongs, then the echo.
    let mut raw = Vec::new();
    let mut piece = [0; 8192];
    let frames = loop {
        let n = theirs.read(&mut piece).unwrap();
        assert_ne!(n, 0, "server closed early");
        raw.extend_from_slice(&piece[..n]);
        if raw.ends_with(b"\x81\x04done") {
            break parse_frames(&raw);
        }
    };
    let (echo, pongs) = frames.split_last().unwrap();
    assert_eq!((echo.2, &echo.3[..]), (OpCode::Text, &b"done"[..]));
    let numbers: Vec<u64> = pongs
        .iter()
        .map(|f| {
            assert_eq!(f.2, OpCode::Pong);
            u64::from_be_bytes(f.3[..8].try_into().unwrap())
        })
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "pongs out of order"
    );
    assert_eq!(
        numbers.last(),
        Some(&(PINGS as u64 - 1)),
        "the newest ping is answered"
    );
    assert!(
        pongs.len() < PINGS,
        "the buffers never filled; the test proves nothing"
    );
    theirs
        .write_all(&masked(true, OpCode::Close, &1000u16.to_be_bytes()))
        .unwrap();
    let outcome = server.join().unwrap();
    assert_eq!(
        (outcome.echoed, outcome.peer_close),
        (1, Some(Some(1000))),
        "{outcome:?}"
    );
    assert!(outcome.allocs <= 2 && outcome.heap_unchanged, "{outcome:?}");
}

/// Our side writes 64 KiB messages to a peer that has stopped reading: once the socket buffers
/// are full, the write surfaces `WouldBlock`, and repeating it neither allocates nor grows the
/// connection. When the peer reads again, every message arrives intact and in order.
fn peer_that_stops_reading(role: Role) {
    const SIZE: usize = 64 * 1024;
    let payloads: Vec<Vec<u8>> = (0..8).map(|i| support::payload(SIZE, i)).collect();
    let expected = payloads.clone();
    let (blocked_tx, blocked_rx) = mpsc::channel();
    let handler: Handler = Box::new(move |stream| {
        let start = Instant::now();
        let mut conn = server_conn(stream, role);
        let heap = conn.heap_size();
        let base = allocs();
        let mut sent = 0;
        let blocked_after = loop {
            match conn.write_message(OpCode::Binary, &payloads[sent % 8]) {
                Ok(()) => sent += 1,
                Err(e) if e.is_would_block() => break sent,
                Err(e) => panic!("{e}"),
            }
            assert!(sent < 4096, "256 MiB written without WouldBlock");
        };
        for _ in 0..100 {
            let again = conn.write_message(OpCode::Binary, &payloads[sent % 8]);
            assert!(again.unwrap_err().is_would_block());
        }
        assert_eq!(allocs() - base, 0, "allocations while blocked");
        assert_eq!(conn.heap_size(), heap);
        blocked_tx.send(blocked_after).unwrap();
        // The peer reads again: finish the blocked message, then eight more.
        while sent < blocked_after + 9 {
            match conn.write_message(OpCode::Binary, &payloads[sent % 8]) {
                Ok(()) => sent += 1,
                Err(e) if e.is_would_block() => wait(start),
                Err(e) => panic!("{e}"),
            }
        }
        loop {
            match conn.close(CloseCode::NORMAL, "done") {
                Ok(()) => break,
                Err(e) if e.is_would_block() => wait(start),
                Err(e) => panic!("{e}"),
            }
        }
        assert!(conn.is_close_received());
        Outcome {
            echoed: sent,
            peer_close: None,
            error: None,
            allocs: allocs() - base,
            heap_unchanged: conn.heap_size() == heap,
            buf_capacity: 0,
        }
    });
    let server = Server::new(vec![handler]);
    let stream = server.connect();
    let blocked_after = blocked_rx.recv_timeout(DEADLINE).unwrap();
    assert!(blocked_after > 0);
    let mut peer = Conn::new(stream, !role, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap();
    let mut buf = Vec::new();
    for i in 0..blocked_after + 9 {
        let (op, payload) = peer.read_message(&mut buf).unwrap();
        assert_eq!(op, OpCode::Binary);
        assert!(payload == expected[i % 8], "message {i} corrupted");
    }
    let (op, payload) = peer.read_message(&mut buf).unwrap();
    assert_eq!((op, &payload[2..]), (OpCode::Close, &b"done"[..]));
    peer.flush().unwrap();
    let outcome = server.outcome();
    assert_eq!(outcome.echoed, blocked_after + 9);
    assert!(outcome.heap_unchanged);
    server.assert_served_normally();
}

#[test]
fn server_writing_to_a_peer_that_stops_reading() {
    peer_that_stops_reading(Role::Server);
}

#[test]
fn client_writing_to_a_peer_that_stops_reading() {
    peer_that_stops_reading(Role::Client);
}

#[test]
fn peer_vanishing_mid_frame_is_an_unexpected_eof() {
    let mut in_continuation = masked(false, OpCode::Text, b"half a message");
    in_continuation.extend(&masked(true, OpCode::Continuation, b"x")[..3]);
    let mut in_payload = header_64(0x2, true, 1000);
    in_payload.extend([0; 10]);
    let cases: [(&str, Vec<u8>); 5] = [
        ("after one header byte", vec![0x82]),
        ("inside the extended length", vec![0x82, 0xFF, 0, 0, 0]),
        ("inside the payload", in_payload),
        (
            "inside a ping",
            masked(true, OpCode::Ping, b"0123456789")[..9].to_vec(),
        ),
        ("inside a continuation header", in_continuation),
    ];
    let server = Server::echo(cases.len());
    for (what, wire) in cases {
        let mut stream = server.connect();
        stream.write_all(&wire).unwrap();
        stream.shutdown(Shutdown::Both).unwrap();
        drop(stream);
        let outcome = server.outcome();
        let (_, code, kind) = outcome.error.as_ref().expect(what);
        assert_eq!(
            (*code, *kind),
            (None, Some(io::ErrorKind::UnexpectedEof)),
            "{what}: {outcome:?}"
        );
        assert!(outcome.heap_unchanged, "{what}");
    }
    server.assert_served_normally();
}

#[test]
fn invalid_close_codes_and_reasons_get_the_right_close_code() {
    let code = |c: u16, reason: &[u8]| [&c.to_be_bytes()[..], reason].concat();
    let long_reason = "é".repeat(61) + "x"; // 123 bytes: the most a close frame holds
    // (close payload, the code the server answers with, whether that is an echo)
    let mut rows: Vec<(Vec<u8>, Option<u16>, bool)> = vec![
        (vec![], None, true),
        (vec![0x03], Some(1002), false),
        (code(1000, b""), Some(1000), true),
        (code(1000, long_reason.as_bytes()), Some(1000), true),
        (code(4999, "ünïcode".as_bytes()), Some(4999), true),
        (code(3000, b""), Some(3000), true),
        (code(1000, b"\xff"), Some(1007), false),
        (code(1000, b"ok \xed\xa0\x80"), Some(1007), false),
        (code(1000, b"\xe2\x82"), Some(1007), false),
    ];
    for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
        rows.push((code(bad, b"bad code"), Some(1002), false));
    }
    let server = Server::echo(rows.len() + 2);
    for (payload, answer, echo) in rows {
        let frames = exchange(server.connect(), &masked(true, OpCode::Close, &payload));
        assert_eq!(close_code(&frames), answer, "{payload:?}");
        let outcome = server.outcome();
        if echo {
            assert_eq!(outcome.peer_close, Some(answer), "{payload:?}");
        } else {
            assert_eq!(outcome.error_code(), answer, "{payload:?}: {outcome:?}");
        }
    }
    // A close payload over 125 bytes, and a fragmented close frame: both 1002.
    let too_long = code(1000, &[b'a'; 124]);
    for wire in [
        masked(true, OpCode::Close, &too_long),
        masked(false, OpCode::Close, &code(1000, b"")),
    ] {
        assert_eq!(close_code(&exchange(server.connect(), &wire)), Some(1002));
        assert_eq!(server.outcome().error_code(), Some(1002));
    }
    server.assert_served_normally();
}

#[cfg(feature = "handshake")]
mod handshake {
    use super::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    fn server(n: usize) -> Server {
        Server::start((0..n).map(|_| handshake_echo()).collect(), true)
    }

    /// Everything the server sent until it closed the connection.
    fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
        let mut got = Vec::new();
        match stream.read_to_end(&mut got) {
            Ok(_) => got,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => got,
            Err(e) => panic!("{e}"),
        }
    }

    /// A client that sends its head one byte per write is served; one that stops half way is
    /// dropped when the read timeout fires, with nothing sent; one that trickles a head that never
    /// ends is refused with 431 once the 8 KiB bound is reached.
    #[test]
    fn slow_loris_handshake() {
        let server = server(3);
        let started = Instant::now();
        let mut stream = server.connect();
        for byte in REQUEST {
            stream.write_all(&[*byte]).unwrap();
        }
        let mut conn = Conn::client(stream, LIMIT, CHUNK_SIZE_LOW_MEMORY).unwrap();
        // The 101 head is not a frame: skip it before handing the stream over.
        let mut head = Vec::new();
        let mut byte = [0];
        while !head.ends_with(b"\r\n\r\n") {
            conn.get_mut().read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101 "),
            "{}",
            String::from_utf8_lossy(&head)
        );
        conn.write_message(OpCode::Text, b"slow but fine").unwrap();
        let mut buf = Vec::new();
        assert_eq!(
            conn.read_message(&mut buf).unwrap(),
            (OpCode::Text, &b"slow but fine"[..])
        );
        conn.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(server.outcome().echoed, 1);
        assert!(started.elapsed() < HANDSHAKE_TIMEOUT * 10);

        // Half a head, then silence: the timeout ends it, and nothing is answered.
        let mut stream = server.connect();
        stream.write_all(&REQUEST[..40]).unwrap();
        assert_handshake_timed_out(&server, Instant::now());
        assert!(read_to_close(&mut stream).is_empty());

        // A head that never ends, one byte per write: refused at the bound, not later.
        let mut stream = server.connect();
        let start = b"GET / HTTP/1.1\r\nX-Slow: ";
        stream.write_all(start).unwrap();
        for _ in start.len()..cooper::DEFAULT_MAX_HEAD {
            stream.write_all(b"a").unwrap();
        }
        let answer = read_to_close(&mut stream);
        assert!(
            answer.starts_with(b"HTTP/1.1 431 "),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let outcome = server.outcome();
        assert!(
            outcome
                .error
                .as_ref()
                .unwrap()
                .0
                .contains("larger than 8192 bytes"),
            "{outcome:?}"
        );
        server.assert_served_normally();
    }

    /// A head over the bound, and one with more header lines than are parsed: both `431`.
    #[test]
    fn oversized_head() {
        let server = server(2);
        let mut big = REQUEST[..REQUEST.len() - 2].to_vec();
        while big.len() < cooper::DEFAULT_MAX_HEAD {
            big.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        // Exactly the bound, so the server reads every byte sent and its answer is not lost
        // to a reset for unread data.
        big.truncate(cooper::DEFAULT_MAX_HEAD);
        let mut many = REQUEST[..REQUEST.len() - 2].to_vec();
        for i in 0..cooper::MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(many.len() < cooper::DEFAULT_MAX_HEAD);
        for head in [big, many] {
            let mut stream = server.connect();
            stream.write_all(&head).unwrap();
            let answer = read_to_close(&mut stream);
            assert!(
                answer.starts_with(b"HTTP/1.1 431 "),
                "{}",
                String::from_utf8_lossy(&answer)
            );
            let outcome = server.outcome();
            assert!(
                outcome
                    .error
                    .as_ref()
                    .unwrap()
                    .0
                    .contains("larger than 8192 bytes"),
                "{outcome:?}"
            );
        }
        server.assert_served_normally();
    }
}

/// A deflate bomb: one compressed frame of about 4 KB that inflates to 4 MiB, against a read
/// limit of 64 KiB. The limit applies to the inflated size while inflating: the server fails the
/// connection with 1009 having buffered at most the limit, and serves the next one.
#[cfg(feature = "deflate")]
#[test]
fn deflate_bomb_is_stopped_at_the_read_limit() {
    const BOMB: usize = 4 << 20;
    let params = DeflateParams::default();
    let (agreed, _) = negotiate([offer(&params)], &params).unwrap();
    let mirrored = Agreed {
        outgoing: agreed.incoming,
        incoming: agreed.outgoing,
    };
    // The client's side of the agreement, compressing as hard as it can, into memory.
    let mut strong = params;
    strong.compression = Compression::BEST;
    let sink = Conn::client(io::Cursor::new(Vec::new()), BOMB, 64 * 1024).unwrap();
    let mut bomber = Deflate::new(sink, &mirrored, &strong).unwrap();
    bomber
        .write_message(OpCode::Binary, &vec![0; BOMB])
        .unwrap();
    let wire = bomber.get_ref().get_ref().get_ref().clone();
    assert_eq!(parse_frames(&wire).len(), 1);
    assert!(wire.len() < 5000, "{} bytes", wire.len());

    let handler = move |stream| -> Outcome {
        let conn = server_conn(stream, Role::Server);
        serve_echo(Deflate::new(conn, &agreed, &params).unwrap())
    };
    let server = Server::new(vec![Box::new(handler)]);
    let mut stream = server.connect();
    stream.write_all(&wire).unwrap();
    let outcome = server.outcome();
    assert_eq!(outcome.error_code(), Some(1009), "{outcome:?}");
    assert!(outcome.buf_capacity <= LIMIT + 1, "{outcome:?}");
    assert!(outcome.heap_unchanged, "{outcome:?}");
    // The close frame, unless unread bomb bytes made the server's close a reset.
    let mut got = Vec::new();
    if stream.read_to_end(&mut got).is_ok() {
        assert_eq!(close_code(&parse_frames(&got)), Some(1009));
    }
    server.assert_served_normally();
}

/// The same attacks over TLS (rustls on both sides): the server's `Conn` runs over a
/// non-blocking rustls stream, so `WouldBlock` comes from rustls as well as from the socket.
#[cfg(feature = "tls")]
mod tls {
    use std::sync::Arc;

    use lowbit_websockets::handshake::TlsServerStream;
    use rustls::crypto::ring::default_provider;
    use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};

    use super::*;

    type TlsClient = StreamOwned<ClientConnection, TcpStream>;

    /// A server and a client configuration around a fresh self-signed `localhost` certificate.
    fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert: CertificateDer<'static> = made.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
        let provider = Arc::new(default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.into())
            .unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// TLS and the opening handshake (bounded by a read timeout), then the non-blocking echo
    /// loop over the rustls stream.
    fn tls_echo(config: Arc<ServerConfig>) -> Handler {
        Box::new(move |stream| {
            stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).unwrap();
            let accepted = Handshake::new()
                .read_limit(LIMIT)
                .accept_tls(stream, config);
            match accepted {
                Ok(opened) => {
                    let tls: &TlsServerStream = opened.conn.get_ref();
                    tls.sock.set_read_timeout(None).unwrap();
                    tls.sock.set_nonblocking(true).unwrap();
                    serve_echo(opened.conn)
                }
                Err(e) => handshake_failed(&e),
            }
        })
    }

    /// A client through TLS and the opening handshake.
    fn client(server: &Server, config: &Arc<ClientConfig>) -> Conn<TlsClient> {
        let name = ServerName::try_from("localhost").unwrap();
        let tls = ClientConnection::new(config.clone(), name).unwrap();
        let stream = StreamOwned::new(tls, server.connect());
        Handshake::new()
            .connect_stream(stream, "wss://localhost/")
            .unwrap()
            .conn
    }

    #[test]
    fn hostile_peers_over_tls() {
        let (server_config, client_config) = configs();
        let server = Server::new((0..8).map(|_| tls_echo(server_config.clone())).collect());

        // A frame announcing 2^63-1 bytes: 1009 from the header, nothing reserved.
        let stream = client(&server, &client_config).into_inner();
        let frames = exchange(stream, &header_64(0x2, true, (1 << 63) - 1));
        assert_eq!(close_code(&frames), Some(1009));
        let outcome = server.outcome();
        assert_eq!(outcome.error_code(), Some(1009), "{outcome:?}");
        assert_eq!(outcome.buf_capacity, 0);

        // One byte over the read limit across two fragments: 1009.
        let mut wire = masked(false, OpCode::Binary, &vec![1; LIMIT / 2]);
        wire.extend(masked(true, OpCode::Continuation, &vec![2; LIMIT / 2 + 1]));
        let frames = exchange(client(&server, &client_config).into_inner(), &wire);
        assert_eq!(close_code(&frames), Some(1009));
        assert_eq!(server.outcome().error_code(), Some(1009));

        // A peer vanishing mid-frame, without and then with a TLS close_notify: an unexpected
        // end of stream either way, no close code, the connection's memory unchanged.
        for notify in [false, true] {
            let mut stream = client(&server, &client_config).into_inner();
            stream.write_all(&header_64(0x2, true, 1000)).unwrap();
            stream.write_all(&[0; 10]).unwrap();
            if notify {
                stream.conn.send_close_notify();
            }
            stream.flush().unwrap();
            stream.sock.shutdown(Shutdown::Both).unwrap();
            let outcome = server.outcome();
            let (_, code, kind) = outcome.error.as_ref().expect("an error");
            assert_eq!(
                (*code, *kind),
                (None, Some(io::ErrorKind::UnexpectedEof)),
                "close_notify {notify}: {outcome:?}"
            );
            assert!(outcome.heap_unchanged);
        }

        // Not TLS at all (a plain HTTP upgrade request): the TLS handshake fails at once.
        let mut stream = server.connect();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
            .unwrap();
        let outcome = server.outcome();
        let (message, _, kind) = outcome.error.as_ref().expect("a tls error");
        assert_eq!(*kind, Some(io::ErrorKind::InvalidData), "{message}");
        drop(stream);

        // A client that connects and says nothing: the read timeout ends the handshake.
        let started = Instant::now();
        let silent = server.connect();
        assert_handshake_timed_out(&server, started);
        drop(silent);

        // A ping flood through TLS: every ping answered, then a message echoed.
        let mut conn = client(&server, &client_config);
        for i in 0..1000u32 {
            conn.write_message(OpCode::Ping, &i.to_be_bytes()).unwrap();
        }
        conn.write_message(OpCode::Text, b"after the flood")
            .unwrap();
        let mut buf = Vec::new();
        let (op, payload) = conn.read_message(&mut buf).unwrap();
        assert_eq!((op, payload), (OpCode::Text, &b"after the flood"[..]));
        conn.close(CloseCode::NORMAL, "").unwrap();
        let outcome = server.outcome();
        assert_eq!((outcome.echoed, outcome.peer_close), (1, Some(Some(1000))));

        // A well-behaved TLS client is still served.
        let mut conn = client(&server, &client_config);
        conn.write_message(OpCode::Binary, &[7; 60_000]).unwrap();
        let (op, payload) = conn.read_message(&mut buf).unwrap();
        assert_eq!((op, payload.len()), (OpCode::Binary, 60_000));
        conn.close(CloseCode::NORMAL, "bye").unwrap();
        assert_eq!(server.outcome().peer_close, Some(Some(1000)));
        server.assert_served_normally();
    }
}
