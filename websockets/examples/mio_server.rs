//! A WebSocket echo server on non-blocking sockets: one thread, one `mio` event loop, any
//! number of connections, with the same [`Conn`] type the blocking examples use.
//!
//! ```text
//! cargo run --release --example mio_server -- [ADDR]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:9002` (`127.0.0.1:0` picks a free port). The server prints
//! `listening on ADDR` on stdout once it accepts connections, and its totals on stderr when
//! stopped with ctrl-c (SIGINT). Read limit 1 MiB, chunk size 4 KiB
//! ([`CHUNK_SIZE_LOW_MEMORY`]): about 8 KiB of buffers a connection.
//!
//! This is the proof that the primitives are resumable: every `read_message`, `write_message`
//! and `flush` that meets `WouldBlock` returns it ([`Error::is_would_block`]), and the next
//! readiness event repeats the same call with the same arguments, as the "Non-blocking streams"
//! section of [`Conn`] asks. No call ever blocks, so one slow peer cannot stall the others.
//!
//! Echoes are corked ([`Conn::set_corked`]): the frames of a batch of messages gather in the
//! scratch buffer and go out in one write once the connection's reads run dry (or the buffer
//! fills). In the 10,000-connection run this halves the server's CPU time per message against
//! one write per echo.
//!
//! # The HTTP upgrade
//! `Handshake::accept` reads the request head with blocking semantics; on one thread serving
//! everyone, a slow client (one byte a second) must not stall the loop. So the server uses the
//! handshake's sans-I/O half: a `cooper::HeadReader` per connection reads the head as the socket
//! becomes readable (resuming after each `WouldBlock`, bounded at 8 KiB), then
//! `Handshake::respond` checks it and writes the `101` (or the refusal) into a buffer, and
//! `Accepted::open` makes the connection with any frame bytes the client sent behind its head
//! queued first. The `101` goes straight to the socket; if that would block (it cannot on a fresh
//! socket, whose send buffer is empty, but nothing relies on that), [`Io`] keeps the rest and
//! sends it before anything the connection writes.
//!
//! # Memory per connection
//! - `Conn`: a read buffer and a scratch buffer of one chunk each (8207 heap bytes), plus the
//!   structure itself (440 bytes), stored inline in the connection table (no `Box`).
//! - The message buffer: one `Vec<u8>` for the whole loop, lent to each connection for its
//!   turn, so messages cost no allocation at all once it has grown. A connection keeps a buffer
//!   of its own ([`Parked`], behind a `Box`) only while a message is half read or its echo
//!   waits for the socket: the buffer must then stay untouched until the next call. A buffer
//!   grown past [`BURST_KEEP`] is released rather than kept, so one large message does not
//!   pin its size. An idle connection holds no message buffer, only an empty `Option<Box>`.
//! - During the handshake only: the buffered head (at most 8 KiB), freed once replayed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[cfg(feature = "deflate")]
use std::sync::{Arc, Mutex};

use lowbit_websockets::handshake::Handshake;
use lowbit_websockets::handshake::cooper::{self, DEFAULT_MAX_HEAD, HeadReader};
#[cfg(feature = "deflate")]
use lowbit_websockets::{Agreed, negotiate};
use lowbit_websockets::{CHUNK_SIZE_LOW_MEMORY, Error, OpCode, READ_LIMIT_STANDARD};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

#[path = "common/ws.rs"]
mod ws;

#[cfg(feature = "deflate")]
use ws::Codecs;
use ws::Preset;

/// The layer of an open connection over this server's stream.
type Ws = ws::Ws<Io>;

/// The listening socket's token (`usize::MAX` is reserved by mio).
const LISTENER: Token = Token(usize::MAX - 1);
/// The token of the waker that ctrl-c uses to stop the loop.
const WAKER: Token = Token(usize::MAX - 2);
/// A message buffer larger than this is released after its message has been echoed.
const BURST_KEEP: usize = 16 * 1024;
/// Messages one connection may handle per turn before the others get theirs.
const TURN_BUDGET: usize = 64;
/// How long a client may take to send its request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closed connection waits for the peer's end of stream before it is dropped.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
/// How often deadlines are checked.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9002".to_owned();
    let mut preset = None;
    let names: Vec<&str> = Preset::ALL.iter().map(|(n, _)| *n).collect();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // The deflate presets this build offers, for scripts.
            "--presets" => {
                println!("{}", names.join(" "));
                return ExitCode::SUCCESS;
            }
            "--deflate" => match args.next().as_deref().and_then(Preset::parse) {
                Some(p) => preset = Some(p),
                None => {
                    eprintln!("mio_server: --deflate takes one of: {}", names.join(", "));
                    return ExitCode::FAILURE;
                }
            },
            _ if arg.starts_with("--") => {
                eprintln!(
                    "mio_server: unknown option {arg}; usage: mio_server [ADDR] [--deflate PRESET]"
                );
                return ExitCode::FAILURE;
            }
            _ => addr = arg,
        }
    }
    match run(&addr, preset) {
        Ok(totals) => {
            eprintln!(
                "mio_server: {} connections accepted, {} handshakes failed, {} messages \
                 ({} bytes) echoed, {} closed cleanly, {} failed, at most {} open at once; \
                 {} echo writes and {} message reads resumed after WouldBlock",
                totals.accepted,
                totals.handshakes_failed,
                totals.messages,
                totals.bytes,
                totals.closed,
                totals.failed,
                totals.peak_open,
                totals.writes_resumed,
                totals.reads_resumed
            );
            if let Some((c, d)) = totals.pools_created {
                eprintln!(
                    "mio_server: the shared pools made {c} compressors and {d} decompressors"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mio_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the server did, printed when it stops.
#[derive(Debug, Default)]
struct Totals {
    accepted: u64,
    handshakes_failed: u64,
    messages: u64,
    bytes: u64,
    closed: u64,
    failed: u64,
    /// Echo writes that met `WouldBlock` mid-message and were repeated later.
    writes_resumed: u64,
    /// Reads that met `WouldBlock` inside a message and were repeated later.
    reads_resumed: u64,
    /// Codecs the shared deflate pools made: compressors, decompressors.
    pools_created: Option<(usize, usize)>,
    open: usize,
    peak_open: usize,
}

/// What every connection's handshake and upgrade share.
struct Server {
    handshake: Handshake,
    /// The deflate layer's builder, when a preset is on.
    #[cfg(feature = "deflate")]
    codecs: Option<Codecs>,
    /// What the extension hook agreed for the handshake running now (one at a time: one thread).
    #[cfg(feature = "deflate")]
    agreed: Arc<Mutex<Option<Agreed>>>,
}

impl Server {
    fn new(preset: Option<Preset>) -> io::Result<Self> {
        let handshake = Handshake::new()
            .read_limit(READ_LIMIT_STANDARD)
            .chunk_size(CHUNK_SIZE_LOW_MEMORY);
        #[cfg(feature = "deflate")]
        {
            let agreed = Arc::new(Mutex::new(None));
            let codecs = preset
                .map(Codecs::new)
                .transpose()
                .map_err(io::Error::other)?;
            let handshake = match &codecs {
                Some(codecs) => {
                    let params = *codecs.params();
                    let slot = Arc::clone(&agreed);
                    handshake.server_extensions(move |offers| {
                        let (agreed, response) = negotiate(offers.iter().copied(), &params)?;
                        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(agreed);
                        Some(response)
                    })
                }
                None => handshake,
            };
            Ok(Self {
                handshake,
                codecs,
                agreed,
            })
        }
        #[cfg(not(feature = "deflate"))]
        match preset {
            Some(_) => Err(io::Error::other("this build has no deflate")),
            None => Ok(Self { handshake }),
        }
    }
}

/// Runs the event loop until ctrl-c.
fn run(addr: &str, preset: Option<Preset>) -> io::Result<Totals> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    ctrlc::set_handler(move || {
        let _ = waker.wake();
    })
    .map_err(io::Error::other)?;
    println!("listening on {}", listener.local_addr()?);
    eprintln!(
        "mio_server: {} bytes a connection slot, plus its heap buffers",
        std::mem::size_of::<Option<Connection>>()
    );
    io::stdout().flush()?;

    let server = Server::new(preset)?;
    let mut table = Table::default();
    let mut totals = Totals::default();
    let mut events = Events::with_capacity(1024);
    // Connections that used up their turn while still having work: edge-triggered readiness
    // will not report them again, so they are driven again after this round of events.
    let mut again: Vec<usize> = Vec::new();
    let mut retry: Vec<usize> = Vec::new();
    let mut last_sweep = Instant::now();
    loop {
        let timeout = if again.is_empty() {
            SWEEP_EVERY
        } else {
            Duration::ZERO
        };
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            match event.token() {
                WAKER => {
                    #[cfg(feature = "deflate")]
                    {
                        totals.pools_created =
                            server.codecs.as_ref().and_then(Codecs::pools_created);
                    }
                    return Ok(totals);
                }
                LISTENER => accept_all(&listener, poll.registry(), &mut table, &mut totals),
                Token(id) => {
                    if drive(id, &server, poll.registry(), &mut table, &mut totals) {
                        again.push(id);
                    }
                }
            }
        }
        std::mem::swap(&mut again, &mut retry);
        for id in retry.drain(..) {
            if drive(id, &server, poll.registry(), &mut table, &mut totals) {
                again.push(id);
            }
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = Instant::now();
            table.sweep(Deadline::now(), poll.registry(), &mut totals);
        }
    }
}

/// Accepts every pending connection and registers it for both kinds of readiness (mio is
/// edge-triggered, so this costs one writable event per connection, not one per turn).
fn accept_all(listener: &TcpListener, registry: &Registry, table: &mut Table, t: &mut Totals) {
    loop {
        let (tcp, _) = match listener.accept() {
            Ok(pair) => pair,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // E.g. out of file descriptors: the connection waits in the backlog.
                eprintln!("mio_server: accept failed: {e}");
                return;
            }
        };
        let _ = tcp.set_nodelay(true);
        let id = table.insert(Connection::Upgrading(Upgrading {
            tcp,
            head: HeadReader::new(DEFAULT_MAX_HEAD),
            deadline: Deadline::after(HANDSHAKE_TIMEOUT),
        }));
        let tcp = table.slots[id].as_mut().map(Connection::tcp_mut);
        let registered = tcp
            .map(|tcp| registry.register(tcp, Token(id), Interest::READABLE | Interest::WRITABLE));
        if let Some(Err(e)) = registered {
            eprintln!("mio_server: register failed: {e}");
            table.slots[id] = None;
            table.free.push(id);
            continue;
        }
        t.accepted += 1;
        t.open += 1;
        t.peak_open = t.peak_open.max(t.open);
    }
}

/// The connections, indexed by token, with a list of free slots.
#[derive(Default)]
struct Table {
    slots: Vec<Option<Connection>>,
    free: Vec<usize>,
    /// The message buffer lent to each open connection for its turn (see [`Parked`]).
    shared: Vec<u8>,
}

impl Table {
    /// Stores `c` in a free slot and returns its index.
    fn insert(&mut self, c: Connection) -> usize {
        match self.free.pop() {
            Some(id) => {
                self.slots[id] = Some(c);
                id
            }
            None => {
                self.slots.push(Some(c));
                self.slots.len() - 1
            }
        }
    }

    /// Drops the connection in slot `id`.
    fn remove(&mut self, id: usize, registry: &Registry, t: &mut Totals) {
        if let Some(mut c) = self.slots[id].take() {
            let _ = registry.deregister(c.tcp_mut());
            self.free.push(id);
            t.open -= 1;
        }
    }

    /// Drops connections whose handshake or linger deadline has passed.
    fn sweep(&mut self, now: Deadline, registry: &Registry, t: &mut Totals) {
        for id in 0..self.slots.len() {
            let expired = match &self.slots[id] {
                Some(Connection::Upgrading(u)) => now >= u.deadline,
                Some(Connection::Closing(c)) => now >= c.deadline,
                _ => false,
            };
            if expired {
                if matches!(self.slots[id], Some(Connection::Upgrading(_))) {
                    t.handshakes_failed += 1;
                }
                self.remove(id, registry, t);
            }
        }
    }
}

/// A point in time in whole seconds since the loop's first use of the clock: 4 bytes in each
/// slot of the table rather than an `Instant`'s 16 (the closing phase is the largest slot, so
/// this counts for every connection). Handshake and linger timeouts need no finer grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Deadline(u32);

impl Deadline {
    fn now() -> Self {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let secs = EPOCH.get_or_init(Instant::now).elapsed().as_secs();
        Self(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// At least `d` from now (rounded up to the next whole second).
    fn after(d: Duration) -> Self {
        let secs = u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        Self(Self::now().0.saturating_add(secs).saturating_add(1))
    }
}

/// One connection, in one of its three phases.
enum Connection {
    /// Reading the request head.
    Upgrading(Upgrading),
    /// Echoing messages.
    Open(Open),
    /// A close frame is queued: flush it, send FIN, wait for the peer's end of stream.
    Closing(Closing),
}

impl Connection {
    fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Self::Upgrading(u) => &mut u.tcp,
            Self::Open(o) => &mut o.ws.conn_mut().get_mut().tcp,
            Self::Closing(c) => &mut c.ws.conn_mut().get_mut().tcp,
        }
    }
}

/// A connection before its `101`.
struct Upgrading {
    tcp: TcpStream,
    /// The request head read so far (and any bytes after it).
    head: HeadReader,
    deadline: Deadline,
}

/// An open connection.
struct Open {
    ws: Ws,
    /// The message buffer, kept between turns only when it must stay untouched.
    parked: Option<Box<Parked>>,
}

/// A message buffer a connection keeps until its next turn.
struct Parked {
    /// The message being read, or the one waiting to be echoed.
    buf: Vec<u8>,
    /// `Some(op)`: `buf` holds a message whose echo met `WouldBlock`; it is written again,
    /// with the same arguments, before anything more is read.
    echo: Option<OpCode>,
}

/// A connection on its way out.
struct Closing {
    ws: Ws,
    /// FIN has been sent.
    shut: bool,
    deadline: Deadline,
}

/// What a connection needs after a turn.
enum Next {
    /// It is waiting for readiness.
    Wait,
    /// It used its budget with work left.
    Again,
    /// Its handshake read a whole head.
    Accept,
    /// It received a close frame, or failed with a close frame queued.
    Close,
    /// It is finished (or failed without a way to tell the peer).
    Drop,
}

/// Drives connection `id` as far as it goes without blocking; returns whether it needs
/// another turn.
fn drive(
    id: usize,
    server: &Server,
    registry: &Registry,
    table: &mut Table,
    t: &mut Totals,
) -> bool {
    let Some(Some(slot)) = table.slots.get_mut(id) else {
        return false; // a stale event for a slot already dropped
    };
    let next = match slot {
        Connection::Upgrading(u) => read_head(u),
        Connection::Open(o) => echo(o, &mut table.shared, t),
        Connection::Closing(c) => linger(c),
    };
    match next {
        Next::Wait => false,
        Next::Again => true,
        Next::Accept => {
            let Some(Connection::Upgrading(u)) = table.slots[id].take() else {
                unreachable!("only a handshake accepts");
            };
            match upgrade(server, u) {
                Some(ws) => {
                    table.slots[id] = Some(Connection::Open(Open { ws, parked: None }));
                    // The client may have sent frames with its head: read them now.
                    drive(id, server, registry, table, t)
                }
                None => {
                    // `upgrade` consumed the socket, which is closed now; only the slot is left.
                    table.free.push(id);
                    t.open -= 1;
                    t.handshakes_failed += 1;
                    false
                }
            }
        }
        Next::Close => {
            let Some(Connection::Open(o)) = table.slots[id].take() else {
                unreachable!("only an open connection closes");
            };
            table.slots[id] = Some(Connection::Closing(Closing {
                ws: o.ws,
                shut: false,
                deadline: Deadline::after(LINGER_TIMEOUT),
            }));
            drive(id, server, registry, table, t)
        }
        Next::Drop => {
            match table.slots[id] {
                Some(Connection::Closing(_)) => t.closed += 1,
                Some(Connection::Upgrading(_)) => t.handshakes_failed += 1,
                _ => t.failed += 1,
            }
            table.remove(id, registry, t);
            false
        }
    }
}

/// Reads the request head without blocking until its blank line or the head bound.
fn read_head(u: &mut Upgrading) -> Next {
    match u.head.read_from(&mut u.tcp) {
        Ok(()) => Next::Accept,
        Err(cooper::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Next::Wait,
        // `respond` answers an oversized head with 431.
        Err(_) if u.head.is_too_large() => Next::Accept,
        Err(_) => Next::Drop,
    }
}

/// Answers the request head and wraps the connection in the layer agreed; `None` if the
/// handshake failed (its refusal, if any, has been written as far as the socket took it).
fn upgrade(server: &Server, mut u: Upgrading) -> Option<Ws> {
    let mut response = Vec::new();
    let answered = server
        .handshake
        .respond(&u.head, |_, _| Ok(()), &mut response);
    let Ok(accepted) = answered else {
        let _ = u.tcp.write(&response);
        return None;
    };
    let extensions = accepted.extensions.clone();
    let mut conn = accepted.open(Io::sending(u.tcp, response).ok()?).ok()?.conn;
    conn.set_corked(true);
    #[cfg(feature = "deflate")]
    if let Some(codecs) = &server.codecs {
        let agreed = server
            .agreed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let (Some(agreed), Some(_)) = (agreed, extensions) {
            return codecs.wrap(conn, &agreed).ok();
        }
    }
    #[cfg(not(feature = "deflate"))]
    let _ = extensions;
    Some(Ws::Plain(conn))
}

/// Echoes messages until the socket would block or the turn's budget is spent, with the
/// connection's parked buffer or else the loop's `shared` one.
fn echo(o: &mut Open, shared: &mut Vec<u8>, t: &mut Totals) -> Next {
    let mut p = match o.parked.take() {
        Some(parked) => *parked,
        None => Parked {
            buf: std::mem::take(shared),
            echo: None,
        },
    };
    let next = echo_with(&mut o.ws, &mut p, t);
    if p.echo.is_some() || !p.buf.is_empty() {
        // An echo to repeat, or a message half read (`read_message` has put bytes in the
        // buffer): it must stay untouched until the next turn.
        o.parked = Some(Box::new(p));
    } else if p.buf.capacity() <= BURST_KEEP {
        // Nothing in it: any empty buffer serves the next read, so the loop keeps this one.
        *shared = p.buf;
    }
    next
}

fn echo_with(ws: &mut Ws, p: &mut Parked, t: &mut Totals) -> Next {
    for _ in 0..TURN_BUDGET {
        if let Some(op) = p.echo {
            match ws.write_message(op, &p.buf) {
                Ok(()) => {
                    p.echo = None;
                    t.messages += 1;
                    t.bytes += p.buf.len() as u64;
                    p.buf.clear();
                    if p.buf.capacity() > BURST_KEEP {
                        p.buf = Vec::new();
                    }
                }
                Err(e) if e.is_would_block() => {
                    t.writes_resumed += 1;
                    return Next::Wait;
                }
                Err(e) => return failed(&e),
            }
        }
        match ws.read_message(&mut p.buf) {
            Ok((OpCode::Close, _)) => return Next::Close,
            Ok((op @ (OpCode::Text | OpCode::Binary), _)) => p.echo = Some(op),
            // read_message returns only data messages and close.
            Ok(_) => {}
            Err(e) if e.is_would_block() => {
                if !p.buf.is_empty() {
                    t.reads_resumed += 1;
                }
                if ws.conn().has_pending_writes() || ws.conn().get_ref().has_queued() {
                    match ws.flush() {
                        Ok(()) => {}
                        Err(e) if e.is_would_block() => {}
                        Err(e) => return failed(&e),
                    }
                }
                return Next::Wait;
            }
            Err(e) => return failed(&e),
        }
    }
    Next::Again
}

/// A failed connection: close it properly when its error sent a close frame, else drop it.
fn failed(e: &Error) -> Next {
    if e.close_code().is_some() {
        Next::Close
    } else {
        Next::Drop
    }
}

/// Flushes the close frame, sends FIN, then waits for the peer's end of stream: the server
/// closes TCP first (RFC 6455 §7.1.1), but closing with unread input would send RST, which can
/// destroy the close frame before the peer reads it.
fn linger(c: &mut Closing) -> Next {
    if !c.shut {
        match c.ws.flush() {
            Ok(()) => {}
            Err(e) if e.is_would_block() => return Next::Wait,
            Err(_) => return Next::Drop,
        }
        let _ = c.ws.conn().get_ref().tcp.shutdown(Shutdown::Write);
        c.shut = true;
    }
    let mut sink = [0u8; 512];
    loop {
        match c.ws.conn_mut().get_mut().tcp.read(&mut sink) {
            Ok(0) => return Next::Drop,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Next::Drop,
        }
    }
}

/// The connection's stream: the socket, plus (only right after the handshake) the part of the
/// `101` response the socket did not take at once, which goes out before anything else.
struct Io {
    tcp: TcpStream,
    /// `None` once the response is out: an open connection pays 8 bytes for this.
    unsent: Option<Box<Unsent>>,
}

/// The rest of the response: `bytes[sent..]`.
struct Unsent {
    bytes: Vec<u8>,
    sent: usize,
}

impl Io {
    /// Writes `response` to the socket as far as it goes without blocking, keeping the rest.
    fn sending(mut tcp: TcpStream, response: Vec<u8>) -> io::Result<Self> {
        let sent = match tcp.write(&response) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        let unsent = (sent < response.len()).then(|| {
            Box::new(Unsent {
                bytes: response,
                sent,
            })
        });
        Ok(Self { tcp, unsent })
    }

    /// Whether part of the response still waits to be sent.
    fn has_queued(&self) -> bool {
        self.unsent.is_some()
    }

    /// Sends the rest of the response; `WouldBlock` if the socket refuses part of it.
    fn drain(&mut self) -> io::Result<()> {
        if let Some(u) = &mut self.unsent {
            while u.sent < u.bytes.len() {
                match self.tcp.write(&u.bytes[u.sent..]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => u.sent += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.unsent = None;
        }
        Ok(())
    }
}

impl Read for Io {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        self.tcp.read(dst)
    }
}

impl Write for Io {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.drain()?;
        self.tcp.write(data)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.drain()?;
        self.tcp.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()
    }
}
