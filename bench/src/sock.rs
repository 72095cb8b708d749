//! Workloads over real sockets, a thread per side: an AF_UNIX socket pair and TCP on
//! 127.0.0.1 with `TCP_NODELAY`. The main thread times the reading (or echo-client) side.

use std::hint::black_box;
use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use lowbit_websockets::{Conn, OpCode, Role};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::harness::Body;
use crate::mem::{Dir, payload};

/// The socket kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `socketpair(AF_UNIX, SOCK_STREAM)`.
    Unix,
    /// TCP over loopback with `TCP_NODELAY` on both ends.
    Tcp,
}

/// The library on both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    /// lowbit websockets with this chunk size.
    Ours(usize),
    /// The same, with bulk messages written by `write_message_in_place`.
    OursInPlace(usize),
    /// tungstenite (sync).
    Tungstenite,
    /// fastwebsockets on a current-thread tokio runtime per side.
    Fastwebsockets,
    /// No framing: the same payload bytes written and read.
    Raw,
}

/// What the two sides do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// One-way messages of `size` bytes in direction `dir`, flushed after each.
    Bulk {
        /// Direction.
        dir: Dir,
        /// Payload size.
        size: usize,
    },
    /// One-way server-to-client messages of `size` bytes, flushed every `batch` messages.
    Small {
        /// Payload size.
        size: usize,
        /// Messages per flush (1 = flush each).
        batch: usize,
    },
    /// The client sends `size` bytes, the server echoes them, the client reads the echo.
    Echo {
        /// Payload size.
        size: usize,
    },
}

/// A blocking socket of either kind.
pub enum StdSock {
    /// AF_UNIX.
    Unix(UnixStream),
    /// TCP.
    Tcp(TcpStream),
}

impl Read for StdSock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Unix(s) => s.read(buf),
            Self::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for StdSock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Unix(s) => s.write(buf),
            Self::Tcp(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Unix(s) => s.write_vectored(bufs),
            Self::Tcp(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A tokio socket of either kind.
enum TokSock {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

impl TokSock {
    /// Must run inside the runtime.
    fn from_std(s: StdSock) -> Self {
        match s {
            StdSock::Unix(s) => {
                s.set_nonblocking(true).expect("nonblocking");
                Self::Unix(tokio::net::UnixStream::from_std(s).expect("tokio unix"))
            }
            StdSock::Tcp(s) => {
                s.set_nonblocking(true).expect("nonblocking");
                Self::Tcp(tokio::net::TcpStream::from_std(s).expect("tokio tcp"))
            }
        }
    }
}

impl AsyncRead for TokSock {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TokSock {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A connected pair: (main thread's end, spawned thread's end).
fn connect(t: Transport, listener: Option<&TcpListener>) -> (StdSock, StdSock) {
    match t {
        Transport::Unix => {
            let (a, b) = UnixStream::pair().expect("socketpair");
            (StdSock::Unix(a), StdSock::Unix(b))
        }
        Transport::Tcp => {
            let l = listener.expect("listener");
            let a = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
            let (b, _) = l.accept().expect("accept");
            a.set_nodelay(true).expect("nodelay");
            b.set_nodelay(true).expect("nodelay");
            (StdSock::Tcp(a), StdSock::Tcp(b))
        }
    }
}

/// The role of the spawned thread's side and of the main thread's side.
fn roles(work: Work) -> (Role, Role) {
    match work {
        Work::Bulk { dir, .. } => dir.roles(),
        Work::Small { .. } => (Role::Server, Role::Client),
        // The spawned thread is the echo server; the main thread the client.
        Work::Echo { .. } => (Role::Server, Role::Client),
    }
}

/// A case body: a fresh connection and peer thread per sample; the main side is timed.
#[must_use]
pub fn case(t: Transport, lib: Lib, work: Work) -> Body {
    let listener = (t == Transport::Tcp).then(|| TcpListener::bind("127.0.0.1:0").expect("bind"));
    Box::new(move |iters| {
        let (main, spawned) = connect(t, listener.as_ref());
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let (peer_role, main_role) = roles(work);
        let h = thread::Builder::new()
            .name("peer".into())
            .spawn(move || match lib {
                Lib::Ours(chunk) => {
                    ours_peer(spawned, peer_role, chunk, false, work, iters, &b2);
                }
                Lib::OursInPlace(chunk) => {
                    ours_peer(spawned, peer_role, chunk, true, work, iters, &b2);
                }
                Lib::Tungstenite => tung_peer(spawned, peer_role, work, iters, &b2),
                Lib::Fastwebsockets => fws_peer(spawned, peer_role, work, iters, &b2),
                Lib::Raw => raw_peer(spawned, work, iters, &b2),
            })
            .expect("spawn");
        let elapsed = match lib {
            Lib::Ours(chunk) | Lib::OursInPlace(chunk) => {
                ours_main(main, main_role, chunk, work, iters, &barrier)
            }
            Lib::Tungstenite => tung_main(main, main_role, work, iters, &barrier),
            Lib::Fastwebsockets => fws_main(main, main_role, work, iters, &barrier),
            Lib::Raw => raw_main(main, work, iters, &barrier),
        };
        h.join().expect("peer thread");
        elapsed
    })
}

fn size_of(work: Work) -> usize {
    match work {
        Work::Bulk { size, .. } | Work::Small { size, .. } | Work::Echo { size } => size,
    }
}

const LIMIT: usize = 2 << 20;

/// A current-thread tokio runtime with its I/O driver.
fn io_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime")
}

fn ours_peer(
    s: StdSock,
    role: Role,
    chunk: usize,
    in_place: bool,
    work: Work,
    iters: u64,
    b: &Barrier,
) {
    let mut c = Conn::new(s, role, LIMIT, chunk).expect("conn");
    let mut data = payload(size_of(work));
    let mut buf = Vec::new();
    b.wait();
    match work {
        Work::Bulk { .. } => {
            for _ in 0..iters {
                if in_place {
                    c.write_message_in_place(OpCode::Binary, &mut data)
                        .expect("write");
                } else {
                    c.write_message(OpCode::Binary, &data).expect("write");
                }
            }
        }
        Work::Small { batch, .. } => {
            c.set_corked(batch > 1);
            for i in 0..iters {
                c.write_message(OpCode::Binary, &data).expect("write");
                if batch > 1 && (i + 1) % batch as u64 == 0 {
                    c.flush().expect("flush");
                }
            }
        }
        Work::Echo { .. } => {
            for _ in 0..iters {
                let (op, p) = c.read_message(&mut buf).expect("read");
                c.write_message(op, p).expect("echo");
            }
        }
    }
    c.flush().expect("flush");
}

fn ours_main(
    s: StdSock,
    role: Role,
    chunk: usize,
    work: Work,
    iters: u64,
    b: &Barrier,
) -> Duration {
    let mut c = Conn::new(s, role, LIMIT, chunk).expect("conn");
    let data = payload(size_of(work));
    let mut buf = Vec::new();
    b.wait();
    let t = Instant::now();
    for _ in 0..iters {
        if let Work::Echo { .. } = work {
            c.write_message(OpCode::Binary, &data).expect("write");
        }
        let (_, p) = c.read_message(&mut buf).expect("read");
        black_box(p.len());
    }
    t.elapsed()
}

fn tung_role(r: Role) -> tungstenite::protocol::Role {
    match r {
        Role::Client => tungstenite::protocol::Role::Client,
        Role::Server => tungstenite::protocol::Role::Server,
    }
}

fn tung_peer(s: StdSock, role: Role, work: Work, iters: u64, b: &Barrier) {
    let mut ws = tungstenite::WebSocket::from_raw_socket(s, tung_role(role), None);
    let data = tungstenite::Bytes::from(payload(size_of(work)));
    b.wait();
    match work {
        Work::Bulk { .. } | Work::Small { batch: 1, .. } => {
            for _ in 0..iters {
                ws.send(tungstenite::Message::Binary(data.clone()))
                    .expect("send");
            }
        }
        Work::Small { batch, .. } => {
            for i in 0..iters {
                ws.write(tungstenite::Message::Binary(data.clone()))
                    .expect("write");
                if (i + 1) % batch as u64 == 0 {
                    ws.flush().expect("flush");
                }
            }
        }
        Work::Echo { .. } => {
            for _ in 0..iters {
                let m = ws.read().expect("read");
                ws.send(m).expect("echo");
            }
        }
    }
    ws.flush().expect("flush");
}

fn tung_main(s: StdSock, role: Role, work: Work, iters: u64, b: &Barrier) -> Duration {
    let mut ws = tungstenite::WebSocket::from_raw_socket(s, tung_role(role), None);
    let data = tungstenite::Bytes::from(payload(size_of(work)));
    b.wait();
    let t = Instant::now();
    for _ in 0..iters {
        if let Work::Echo { .. } = work {
            ws.send(tungstenite::Message::Binary(data.clone()))
                .expect("send");
        }
        let m = ws.read().expect("read");
        black_box(m.len());
    }
    t.elapsed()
}

fn fws_role(r: Role) -> fastwebsockets::Role {
    match r {
        Role::Client => fastwebsockets::Role::Client,
        Role::Server => fastwebsockets::Role::Server,
    }
}

fn fws_peer(s: StdSock, role: Role, work: Work, iters: u64, b: &Barrier) {
    let rt = io_runtime();
    let data = payload(size_of(work));
    rt.block_on(async {
        let sock = TokSock::from_std(s);
        match work {
            Work::Small { batch, .. } if batch > 1 => {
                // No corking of its own: a BufWriter is the idiomatic way to batch frames.
                let sock = tokio::io::BufWriter::with_capacity(64 * 1024, sock);
                let mut ws = fastwebsockets::WebSocket::after_handshake(sock, fws_role(role));
                b.wait();
                for i in 0..iters {
                    let f = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&data));
                    ws.write_frame(f).await.expect("write");
                    if (i + 1) % batch as u64 == 0 {
                        ws.flush().await.expect("flush");
                    }
                }
                ws.flush().await.expect("flush");
            }
            _ => {
                let mut ws = fastwebsockets::WebSocket::after_handshake(sock, fws_role(role));
                ws.set_max_message_size(LIMIT);
                b.wait();
                for _ in 0..iters {
                    if let Work::Echo { .. } = work {
                        let f = ws.read_frame().await.expect("read");
                        let p = f.payload.to_vec();
                        let f = fastwebsockets::Frame::binary(fastwebsockets::Payload::Owned(p));
                        ws.write_frame(f).await.expect("echo");
                    } else {
                        let f =
                            fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&data));
                        ws.write_frame(f).await.expect("write");
                    }
                }
            }
        }
    });
}

fn fws_main(s: StdSock, role: Role, work: Work, iters: u64, b: &Barrier) -> Duration {
    let rt = io_runtime();
    let data = payload(size_of(work));
    rt.block_on(async {
        let sock = TokSock::from_std(s);
        let mut ws = fastwebsockets::WebSocket::after_handshake(sock, fws_role(role));
        ws.set_max_message_size(LIMIT);
        b.wait();
        let t = Instant::now();
        for _ in 0..iters {
            if let Work::Echo { .. } = work {
                let f = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&data));
                ws.write_frame(f).await.expect("write");
            }
            let f = ws.read_frame().await.expect("read");
            black_box(f.payload.len());
        }
        t.elapsed()
    })
}

fn raw_peer(mut s: StdSock, work: Work, iters: u64, b: &Barrier) {
    let size = size_of(work);
    let data = payload(size);
    b.wait();
    match work {
        Work::Bulk { .. } | Work::Small { batch: 1, .. } => {
            for _ in 0..iters {
                s.write_all(&data).expect("write");
            }
        }
        Work::Small { batch, .. } => {
            let mut pending = Vec::with_capacity(batch * size);
            for i in 0..iters {
                pending.extend_from_slice(&data);
                if (i + 1) % batch as u64 == 0 {
                    s.write_all(&pending).expect("write");
                    pending.clear();
                }
            }
            s.write_all(&pending).expect("write");
        }
        Work::Echo { .. } => {
            let mut buf = vec![0; size];
            for _ in 0..iters {
                s.read_exact(&mut buf).expect("read");
                s.write_all(&buf).expect("echo");
            }
        }
    }
}

fn raw_main(mut s: StdSock, work: Work, iters: u64, b: &Barrier) -> Duration {
    let size = size_of(work);
    let data = payload(size);
    let mut buf = vec![0; size.max(64 * 1024)];
    b.wait();
    let t = Instant::now();
    match work {
        Work::Bulk { .. } => {
            for _ in 0..iters {
                s.read_exact(&mut buf[..size]).expect("read");
                black_box(&buf);
            }
        }
        Work::Small { .. } => {
            let mut left = size as u64 * iters;
            while left > 0 {
                let n = s.read(&mut buf).expect("read");
                assert!(n > 0, "stream ended early");
                left -= n as u64;
            }
        }
        Work::Echo { .. } => {
            for _ in 0..iters {
                s.write_all(&data).expect("write");
                s.read_exact(&mut buf[..size]).expect("read");
            }
        }
    }
    t.elapsed()
}
