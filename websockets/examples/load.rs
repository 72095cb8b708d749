//! A load generator for the echo servers: opens many connections, keeps them idle, echoes
//! messages on all of them at once and checks every byte.
//!
//! ```text
//! cargo run --release --example load -- ADDR [--conns N] [--messages M] [--window W]
//!     [--min BYTES] [--max BYTES] [--threads T] [--read-delay-ms MS] [--deflate PRESET]
//!     [--random] [--pause]
//! ```
//!
//! Defaults: 10,000 connections, 10 messages each of 16 B to 4 KiB (sizes and contents drawn
//! from a seeded generator, alternating binary and text), at most 4 in flight per connection,
//! 2 threads for the handshakes. Phases, each announced by one line on stdout:
//! 1. `idle N`: N connections are open and idle (handshakes are blocking, a few threads at a
//!    time, so the server's backlog never overflows).
//! 2. `echoed ...`: every connection sent its messages (corked: each window goes out in one
//!    write) and got each one back; all sockets are non-blocking in one `mio` event loop, using
//!    the same resumable [`Conn`] calls as the server.
//! 3. `closed ...`: every connection ran the closing handshake.
//!
//! All connections come from 127.0.0.1 to one server port, so each needs its own ephemeral
//! port: Linux offers 28,232 by default (`net.ipv4.ip_local_port_range` 32768-60999), enough for
//! 10,000 at a time; the server closes first, so its side keeps the TIME_WAIT states. Each
//! process needs a file descriptor per connection: raise the limit first (`ulimit -n 10256`, as
//! `scale/run.sh` does).
//!
//! With `--read-delay-ms`, connections send (up to their window) for that long before reading
//! any echo, so the server's writes back up and must be resumed after `WouldBlock`.
//!
//! With `--deflate PRESET` (`default`, `low-memory`, `shared`: the server's presets), every
//! connection offers permessage-deflate with that preset's parameters and, once agreed, uses the
//! same kind of codecs as the server; a connection the server declines counts as failed.
//!
//! With `--pause`, the generator waits for a line on stdin after phases 1 and 2, so that a
//! script can measure the server in between. It exits with status 1 if any message was lost,
//! corrupted or reordered, or any connection failed.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lowbit_websockets::handshake::Handshake;
use lowbit_websockets::{
    CHUNK_SIZE_LOW_MEMORY, CloseCode, Conn, Error, OpCode, READ_LIMIT_STANDARD,
};
#[cfg(feature = "deflate")]
use lowbit_websockets::{offer, verify_response};

#[path = "common/ws.rs"]
mod ws;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
#[cfg(feature = "deflate")]
use ws::Codecs;
use ws::{Preset, Ws};

/// Settings from the command line.
#[derive(Debug, Clone)]
struct Settings {
    addr: String,
    conns: usize,
    messages: usize,
    window: usize,
    min: usize,
    max: usize,
    threads: usize,
    pause: bool,
    /// Send for this long before reading any echo.
    read_delay: Duration,
    /// Offer permessage-deflate with this preset's parameters (and use its codecs).
    preset: Option<Preset>,
    /// Random printable bytes instead of JSON-like text (about 82 % after deflate).
    random: bool,
}

fn main() -> ExitCode {
    let settings = match parse_args() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&settings) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Settings, String> {
    let mut s = Settings {
        addr: String::new(),
        conns: 10_000,
        messages: 10,
        window: 4,
        min: 16,
        max: 4096,
        threads: 2,
        pause: false,
        read_delay: Duration::ZERO,
        preset: None,
        random: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--conns" => s.conns = number("--conns")?,
            "--messages" => s.messages = number("--messages")?,
            "--window" => s.window = number("--window")?.max(1),
            "--min" => s.min = number("--min")?,
            "--max" => s.max = number("--max")?,
            "--threads" => s.threads = number("--threads")?.max(1),
            "--pause" => s.pause = true,
            "--random" => s.random = true,
            "--deflate" => {
                let name = args.next().unwrap_or_default();
                s.preset = Some(Preset::parse(&name).ok_or_else(|| {
                    let names: Vec<&str> = Preset::ALL.iter().map(|(n, _)| *n).collect();
                    format!("--deflate takes one of: {}", names.join(", "))
                })?);
            }
            "--read-delay-ms" => {
                s.read_delay = Duration::from_millis(number("--read-delay-ms")? as u64);
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => s.addr = arg,
        }
    }
    if s.addr.is_empty() {
        return Err(
            "usage: load ADDR [--conns N] [--messages M] [--window W] [--min B] \
                    [--max B] [--threads T] [--read-delay-ms MS] [--deflate PRESET] [--random] [--pause]"
                .to_owned(),
        );
    }
    if s.min > s.max || s.max > READ_LIMIT_STANDARD {
        return Err("need --min <= --max <= 1 MiB".to_owned());
    }
    Ok(s)
}

/// The messages: slices of one ASCII pattern (valid as text and as binary), chosen per
/// connection and index by a hash, so the checker regenerates the expected bytes for free.
///
/// The pattern is JSON-like records of words and numbers drawn by a seeded generator: it
/// compresses roughly like chat or API traffic even with a 1 KiB deflate window. (Random bytes
/// would make the small-window presets look pathological: with nothing to match, C zlib at
/// memory level 2 closes a Huffman block every 256 literals.) `--random` chooses random
/// printable bytes instead, which deflate cannot shrink much.
struct Messages {
    pattern: Vec<u8>,
    min: usize,
    max: usize,
    per_conn: usize,
    /// Messages in flight per connection.
    window: usize,
}

impl Messages {
    fn new(s: &Settings) -> Self {
        const WORDS: [&str; 16] = [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
            "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
        ];
        let mut state = 0x5eed_u64;
        let size = (2 * s.max + 64).max(64 * 1024);
        if s.random {
            let pattern = (0..size)
                .map(|_| b'!' + (splitmix(&mut state) % 94) as u8)
                .collect();
            return Self::with_pattern(pattern, s);
        }
        let mut pattern = String::new();
        while pattern.len() < size {
            let id = splitmix(&mut state) % 1_000_000;
            let user = WORDS[(splitmix(&mut state) % 16) as usize];
            pattern.push_str(&format!("{{\"id\":{id},\"user\":\"{user}\",\"text\":\""));
            for _ in 0..3 + splitmix(&mut state) % 12 {
                pattern.push_str(WORDS[(splitmix(&mut state) % 16) as usize]);
                pattern.push(' ');
            }
            pattern.push_str("\"},\n");
        }
        Self::with_pattern(pattern.into_bytes(), s)
    }

    fn with_pattern(pattern: Vec<u8>, s: &Settings) -> Self {
        Self {
            pattern,
            min: s.min,
            max: s.max,
            per_conn: s.messages,
            window: s.window,
        }
    }

    /// Message `i` of connection `conn`.
    fn get(&self, conn: usize, i: usize) -> (OpCode, &[u8]) {
        let mut state = (conn * self.per_conn + i) as u64;
        let h = splitmix(&mut state);
        let len = self.min + (h % (self.max - self.min + 1) as u64) as usize;
        let at = ((h >> 32) % (self.pattern.len() - len + 1) as u64) as usize;
        let op = if i % 2 == 0 {
            OpCode::Binary
        } else {
            OpCode::Text
        };
        (op, &self.pattern[at..at + len])
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One client connection during the echo and close phases.
struct Client {
    conn: Ws<TcpStream>,
    sent: usize,
    received: usize,
    buf: Vec<u8>,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Echoing,
    Echoed,
    Closing,
    /// Our close was answered; waiting for the server's end of stream.
    Draining,
    Done,
    Failed,
}

/// What went wrong, counted.
#[derive(Debug, Default)]
struct Faults {
    corrupted: u64,
    failed: u64,
}

fn run(s: &Settings) -> io::Result<bool> {
    let url = format!("ws://{}/", s.addr);
    let started = Instant::now();
    let opened = open_all(s, &url)?;
    let opened_in = started.elapsed();
    let mut clients = Vec::with_capacity(opened.len());
    let agreed_extension = opened.first().and_then(|(_, e)| e.clone());
    #[cfg(feature = "deflate")]
    let codecs = s
        .preset
        .map(Codecs::new)
        .transpose()
        .map_err(io::Error::other)?;
    for (conn, extensions) in opened {
        let conn = match (s.preset, extensions) {
            (None, _) => Ws::Plain(conn),
            #[cfg(feature = "deflate")]
            (Some(_), Some(ext)) => {
                let Some(codecs) = &codecs else {
                    unreachable!("built with the preset")
                };
                let agreed = verify_response(codecs.params(), [ext.as_str()])
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        io::Error::other("the server's deflate answer did not verify")
                    })?;
                codecs.wrap(conn, &agreed).map_err(io::Error::other)?
            }
            (Some(_), _) => return Err(io::Error::other("the server declined permessage-deflate")),
        };
        clients.push(Client {
            conn,
            sent: 0,
            received: 0,
            buf: Vec::new(),
            phase: Phase::Echoing,
        });
    }
    println!(
        "idle {} connections opened in {:.2} s; extensions: {}",
        clients.len(),
        opened_in.as_secs_f64(),
        agreed_extension.as_deref().unwrap_or("none")
    );
    pause(s.pause)?;

    let mut poll = Poll::new()?;
    for (i, c) in clients.iter_mut().enumerate() {
        c.conn.conn().get_ref().set_nonblocking(true)?;
        c.conn.conn_mut().set_corked(true);
        let fd = c.conn.conn().get_ref().as_raw_fd();
        poll.registry().register(
            &mut SourceFd(&fd),
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
    }
    let messages = Messages::new(s);
    let mut faults = Faults::default();
    let mut events = Events::with_capacity(1024);

    // Echo: every connection starts at once; events drive each as far as it goes.
    let echo_start = Instant::now();
    let mut bytes = 0u64;
    let mut pending = clients.len();
    if s.read_delay > Duration::ZERO {
        // Send without reading for a while, so the server's echoes back up until its writes
        // meet `WouldBlock` and must be resumed.
        let until = Instant::now() + s.read_delay;
        let mut ctx = Echo {
            messages: &messages,
            bytes: &mut bytes,
            faults: &mut faults,
            read: false,
        };
        for (i, c) in clients.iter_mut().enumerate() {
            drive_echo(i, c, &mut ctx);
        }
        while Instant::now() < until {
            match poll.poll(
                &mut events,
                Some(until.saturating_duration_since(Instant::now())),
            ) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            for event in &events {
                let i = event.token().0;
                drive_echo(i, &mut clients[i], &mut ctx);
            }
        }
    }
    let mut ctx = Echo {
        messages: &messages,
        bytes: &mut bytes,
        faults: &mut faults,
        read: true,
    };
    for (i, c) in clients.iter_mut().enumerate() {
        if drive_echo(i, c, &mut ctx) {
            pending -= 1;
        }
    }
    while pending > 0 {
        poll_events(&mut poll, &mut events)?;
        for event in &events {
            let i = event.token().0;
            let c = &mut clients[i];
            if c.phase == Phase::Echoing && drive_echo(i, c, &mut ctx) {
                pending -= 1;
            }
        }
    }
    let echo_time = echo_start.elapsed().as_secs_f64();
    let echoed = clients.iter().map(|c| c.received as u64).sum::<u64>();
    let expected = (s.conns * s.messages) as u64;
    println!(
        "echoed {echoed} of {expected} messages, {bytes} payload bytes each way in {echo_time:.3} s: \
         {:.1} MiB/s each way, {:.0} messages/s; {} corrupted, {} connections failed",
        bytes as f64 / echo_time / (1 << 20) as f64,
        echoed as f64 / echo_time,
        faults.corrupted,
        faults.failed
    );
    pause(s.pause)?;

    // Close: the closing handshake on every connection, resumed like the rest.
    let close_start = Instant::now();
    let mut pending = 0;
    for c in &mut clients {
        if c.phase == Phase::Echoed {
            c.phase = Phase::Closing;
            if !drive_close(c) {
                pending += 1;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending > 0 && Instant::now() < deadline {
        poll_events(&mut poll, &mut events)?;
        for event in &events {
            let c = &mut clients[event.token().0];
            if matches!(c.phase, Phase::Closing | Phase::Draining) && drive_close(c) {
                pending -= 1;
            }
        }
    }
    let closed = clients.iter().filter(|c| c.phase == Phase::Done).count();
    println!(
        "closed {closed} of {} connections cleanly in {:.2} s",
        clients.len(),
        close_start.elapsed().as_secs_f64()
    );
    Ok(echoed == expected && faults.corrupted == 0 && faults.failed == 0 && closed == s.conns)
}

fn poll_events(poll: &mut Poll, events: &mut Events) -> io::Result<()> {
    match poll.poll(events, Some(Duration::from_secs(10))) {
        Ok(()) if events.is_empty() => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no progress for 10 s",
        )),
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(e),
    }
}

fn pause(enabled: bool) -> io::Result<()> {
    io::stdout().flush()?;
    if enabled {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
    }
    Ok(())
}

/// A connection just opened, and the `Sec-WebSocket-Extensions` value agreed.
type Opened = (Conn<TcpStream>, Option<String>);

/// Opens `s.conns` connections, `s.threads` handshakes at a time.
fn open_all(s: &Settings, url: &str) -> io::Result<Vec<Opened>> {
    let handshake = Handshake::new()
        .read_limit(READ_LIMIT_STANDARD)
        .chunk_size(CHUNK_SIZE_LOW_MEMORY);
    #[cfg(feature = "deflate")]
    let handshake = match s.preset {
        Some(preset) => {
            let params = preset.params();
            handshake.client_extensions(offer(&params), move |values| {
                match verify_response(&params, values.iter().copied()) {
                    Ok(_) => Ok(()),
                    Err(_) => Err("the permessage-deflate answer breaks rfc 7692"),
                }
            })
        }
        None => handshake,
    };
    let per_thread: Vec<io::Result<Vec<Opened>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..s.threads)
            .map(|t| {
                let handshake = &handshake;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for _ in (t..s.conns).step_by(s.threads) {
                        mine.push(open_one(handshake, &s.addr, url)?);
                    }
                    Ok(mine)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(s.conns);
    for conns in per_thread {
        all.extend(conns?);
    }
    Ok(all)
}

fn open_one(handshake: &Handshake, addr: &str, url: &str) -> io::Result<Opened> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let opened = handshake
        .connect_stream(tcp, url)
        .map_err(|e| io::Error::other(format!("handshake: {e}")))?;
    Ok((opened.conn, opened.extensions))
}

/// What the echo phase shares between connections.
struct Echo<'a> {
    messages: &'a Messages,
    bytes: &'a mut u64,
    faults: &'a mut Faults,
    /// Whether to read echoes yet.
    read: bool,
}

/// Sends and checks messages until the socket would block; returns whether this connection
/// has finished (all echoed, or failed).
fn drive_echo(id: usize, c: &mut Client, ctx: &mut Echo<'_>) -> bool {
    let messages = ctx.messages;
    let per_conn = messages.per_conn;
    let fail = |c: &mut Client, faults: &mut Faults, e: &Error| {
        eprintln!("load: connection {id} failed: {e}");
        faults.failed += 1;
        c.phase = Phase::Failed;
        true
    };
    if c.phase != Phase::Echoing {
        return false;
    }
    loop {
        // Keep the window full: frames gather in the scratch buffer (corked) and go out in
        // one write with the flush below. `WouldBlock` means not accepted: the same message is
        // offered again on the next event.
        while c.sent < per_conn && c.sent - c.received < messages.window {
            let (op, payload) = messages.get(id, c.sent);
            match c.conn.write_message(op, payload) {
                Ok(()) => c.sent += 1,
                Err(e) if e.is_would_block() => break,
                Err(e) => return fail(c, ctx.faults, &e),
            }
        }
        if c.conn.conn().has_pending_writes() {
            match c.conn.flush() {
                Ok(()) => {}
                Err(e) if e.is_would_block() => {}
                Err(e) => return fail(c, ctx.faults, &e),
            }
        }
        if !ctx.read {
            return false;
        }
        if c.received == per_conn {
            c.phase = Phase::Echoed;
            return true;
        }
        match c.conn.read_message(&mut c.buf) {
            Ok((op, payload)) => {
                let (want_op, want) = messages.get(id, c.received);
                if op != want_op || payload != want {
                    if ctx.faults.corrupted < 5 {
                        eprintln!(
                            "load: connection {id} message {}: got {op:?} of {} bytes, \
                             expected {want_op:?} of {} bytes",
                            c.received,
                            payload.len(),
                            want.len()
                        );
                    }
                    ctx.faults.corrupted += 1;
                }
                *ctx.bytes += payload.len() as u64;
                c.received += 1;
            }
            Err(e) if e.is_would_block() => return false,
            Err(e) => return fail(c, ctx.faults, &e),
        }
    }
}

/// Runs the closing handshake, then waits for the server to end the stream; returns whether
/// the connection is finished.
fn drive_close(c: &mut Client) -> bool {
    if c.phase == Phase::Closing {
        match c.conn.close(CloseCode::NORMAL, "done") {
            Ok(()) => c.phase = Phase::Draining,
            Err(e) if e.is_would_block() => return false,
            Err(e) => {
                eprintln!("load: close failed: {e}");
                c.phase = Phase::Failed;
                return true;
            }
        }
    }
    let mut sink = [0u8; 256];
    loop {
        match c.conn.conn_mut().get_mut().read(&mut sink) {
            Ok(0) => {
                c.phase = Phase::Done;
                return true;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                c.phase = Phase::Done;
                return true;
            }
        }
    }
}
