//! Workloads on the in-process memory pipe, one thread: write a message, then read it.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::Instant;

use futures::SinkExt;
use lowbit_websockets::{Conn, OpCode, Role};

use crate::harness::Body;
use crate::pipe::{MemPipe, mem_pair};

/// Which way messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Server to client: unmasked.
    ServerToClient,
    /// Client to server: masked by the writer, unmasked by the reader.
    ClientToServer,
}

impl Dir {
    /// The writing and the reading role.
    #[must_use]
    pub fn roles(self) -> (Role, Role) {
        match self {
            Self::ServerToClient => (Role::Server, Role::Client),
            Self::ClientToServer => (Role::Client, Role::Server),
        }
    }
}

/// Which of our paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `write_message` then `read_message`.
    Message,
    /// `stream_message` from a slice reader, then `read_message`.
    Stream,
    /// `write_message`, then the `message_reader` drained into a 64 KiB buffer.
    Reader,
    /// `write_message_in_place` (a client masks the message in its own buffer), then
    /// `read_message`.
    InPlace,
}

/// Deterministic incompressible-ish bytes.
#[must_use]
pub fn payload(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A connected (writer, reader) pair of ours over the memory pipe.
fn ours_pair(dir: Dir, chunk: usize, limit: usize) -> (Conn<MemPipe>, Conn<MemPipe>) {
    let (a, b) = mem_pair();
    let (wr, rr) = dir.roles();
    let w = Conn::new(a, wr, limit, chunk).expect("valid config");
    let r = Conn::new(b, rr, limit, chunk).expect("valid config");
    (w, r)
}

/// Ours: one message of `size` bytes written and read per iteration.
#[must_use]
pub fn ours(dir: Dir, size: usize, chunk: usize, path: Path) -> Body {
    let (mut w, mut r) = ours_pair(dir, chunk, size.max(1 << 20));
    let mut data = payload(size);
    let mut buf = Vec::new();
    let mut piece = vec![0u8; 64 * 1024];
    Box::new(move |iters| {
        let t = Instant::now();
        for _ in 0..iters {
            match path {
                Path::Message | Path::Reader => {
                    w.write_message(OpCode::Binary, &data).expect("write");
                }
                Path::Stream => {
                    w.stream_message(OpCode::Binary, 0, chunk, &data[..])
                        .expect("stream");
                }
                Path::InPlace => {
                    w.write_message_in_place(OpCode::Binary, &mut data)
                        .expect("write");
                }
            }
            match path {
                Path::Message | Path::Stream | Path::InPlace => {
                    let (_, p) = r.read_message(&mut buf).expect("read");
                    black_box(p.len());
                }
                Path::Reader => {
                    let mut reader = r.message_reader().expect("reader");
                    let mut total = 0;
                    loop {
                        let n = reader.read(&mut piece).expect("read");
                        if n == 0 {
                            break;
                        }
                        total += n;
                    }
                    black_box(total);
                }
            }
        }
        t.elapsed()
    })
}

/// Ceiling: the same bytes through the pipe with no framing (one write, one read).
#[must_use]
pub fn raw(size: usize) -> Body {
    let (mut a, mut b) = mem_pair();
    let data = payload(size);
    let mut buf = vec![0u8; size];
    Box::new(move |iters| {
        let t = Instant::now();
        for _ in 0..iters {
            a.write_all(&data).expect("write");
            b.read_exact(&mut buf).expect("read");
            black_box(&buf);
        }
        t.elapsed()
    })
}

/// Ceiling: glibc `memcpy` of `size` bytes in pieces of `piece` bytes, between buffers that
/// both start 64-byte aligned (with arbitrary relative alignment, `rep movsb` on this CPU can
/// be 15× slower for 4 KiB..1 MiB pieces; see the pipe).
#[must_use]
pub fn memcpy(size: usize, piece: usize) -> Body {
    let data = payload(size + 64);
    let mut buf = vec![0u8; size + 64];
    let src_at = (data.as_ptr() as usize).wrapping_neg() & 63;
    let dst_at = (buf.as_ptr() as usize).wrapping_neg() & 63;
    Box::new(move |iters| {
        let t = Instant::now();
        for _ in 0..iters {
            let src = &data[src_at..src_at + size];
            let dst = &mut buf[dst_at..dst_at + size];
            for (d, s) in dst.chunks_mut(piece).zip(src.chunks(piece)) {
                d.copy_from_slice(s);
            }
            black_box(&buf);
        }
        t.elapsed()
    })
}

fn tung_role(r: Role) -> tungstenite::protocol::Role {
    match r {
        Role::Client => tungstenite::protocol::Role::Client,
        Role::Server => tungstenite::protocol::Role::Server,
    }
}

/// tungstenite: `send(Message::Binary(bytes))` (a refcounted clone, no copy), `read()`.
#[must_use]
pub fn tungstenite(dir: Dir, size: usize) -> Body {
    let (a, b) = mem_pair();
    let (wr, rr) = dir.roles();
    let mut w = tungstenite::WebSocket::from_raw_socket(a, tung_role(wr), None);
    let mut r = tungstenite::WebSocket::from_raw_socket(b, tung_role(rr), None);
    let data = tungstenite::Bytes::from(payload(size));
    Box::new(move |iters| {
        let t = Instant::now();
        for _ in 0..iters {
            w.send(tungstenite::Message::Binary(data.clone()))
                .expect("send");
            let m = r.read().expect("read");
            black_box(m.len());
        }
        t.elapsed()
    })
}

/// A current-thread tokio runtime.
#[must_use]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn fws_role(r: Role) -> fastwebsockets::Role {
    match r {
        Role::Client => fastwebsockets::Role::Client,
        Role::Server => fastwebsockets::Role::Server,
    }
}

/// fastwebsockets: `write_frame(Frame::binary(Payload::Borrowed))` and `read_frame()` (frames,
/// no reassembly); a client write from an immutable payload copies it to mask it.
#[must_use]
pub fn fastwebsockets(dir: Dir, size: usize) -> Body {
    let (a, b) = mem_pair();
    let (wr, rr) = dir.roles();
    let mut w = fastwebsockets::WebSocket::after_handshake(a, fws_role(wr));
    let mut r = fastwebsockets::WebSocket::after_handshake(b, fws_role(rr));
    r.set_max_message_size(size.max(1 << 20) * 2);
    let data = payload(size);
    let rt = runtime();
    Box::new(move |iters| {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..iters {
                w.write_frame(fastwebsockets::Frame::binary(
                    fastwebsockets::Payload::Borrowed(&data),
                ))
                .await
                .expect("write");
                let f = r.read_frame().await.expect("read");
                black_box(f.payload.len());
            }
            t.elapsed()
        })
    })
}

fn yawc_role(r: Role) -> yawc::Role {
    match r {
        Role::Client => yawc::Role::Client,
        Role::Server => yawc::Role::Server,
    }
}

/// yawc: `Sink::send(Frame::binary(bytes))` and `next_frame()`.
#[must_use]
pub fn yawc(dir: Dir, size: usize) -> Body {
    let (a, b) = mem_pair();
    let (wr, rr) = dir.roles();
    let opts = yawc::Options::default().with_limits(4 << 20, 8 << 20);
    let mut w = yawc::WebSocket::from_stream(a, yawc_role(wr), opts.clone()).expect("yawc");
    let mut r = yawc::WebSocket::from_stream(b, yawc_role(rr), opts).expect("yawc");
    let data = bytes::Bytes::from(payload(size));
    let rt = runtime();
    Box::new(move |iters| {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..iters {
                w.send(yawc::Frame::binary(data.clone()))
                    .await
                    .expect("send");
                let f = r.next_frame().await.expect("read");
                black_box(f.payload().len());
            }
            t.elapsed()
        })
    })
}
