//! Allocations per message (counted by the global allocator, not timed) and heap per
//! connection, on the memory pipe.

use std::hint::black_box;
use std::io::{Read, Write};

use futures::SinkExt;
use lowbit_websockets::{CHUNK_SIZE_LOW_MEMORY, Conn, OpCode, READ_LIMIT_STANDARD, Role};

use crate::alloc::{Snapshot, snapshot};
use crate::mem::{Dir, payload, runtime};
use crate::pipe::{MemPipe, mem_pair};

/// Messages measured after warm-up.
const MSGS: u64 = 32;
/// Warm-up messages (buffers reach their steady size).
const WARM: u64 = 4;

/// Allocation counts of one path.
#[derive(Debug, Clone)]
pub struct AllocRow {
    /// Library.
    pub lib: &'static str,
    /// What was measured.
    pub path: String,
    /// Allocations per message on the writing side.
    pub write_allocs: f64,
    /// Bytes allocated per message on the writing side.
    pub write_bytes: f64,
    /// Allocations per message on the reading side.
    pub read_allocs: f64,
    /// Bytes allocated per message on the reading side.
    pub read_bytes: f64,
}

/// Accumulates counter deltas of the write and read halves of each message.
#[derive(Default)]
struct Tally {
    wa: u64,
    wb: u64,
    ra: u64,
    rb: u64,
}

impl Tally {
    fn write(&mut self, s0: &Snapshot) {
        let s = snapshot();
        self.wa += s.allocs_since(s0);
        self.wb += s.bytes_since(s0);
    }

    fn read(&mut self, s0: &Snapshot) {
        let s = snapshot();
        self.ra += s.allocs_since(s0);
        self.rb += s.bytes_since(s0);
    }

    fn row(self, lib: &'static str, path: String) -> AllocRow {
        let n = MSGS as f64;
        AllocRow {
            lib,
            path,
            write_allocs: self.wa as f64 / n,
            write_bytes: self.wb as f64 / n,
            read_allocs: self.ra as f64 / n,
            read_bytes: self.rb as f64 / n,
        }
    }
}

fn dir_name(dir: Dir) -> &'static str {
    match dir {
        Dir::ServerToClient => "server→client",
        Dir::ClientToServer => "client→server",
    }
}

fn size_name(size: usize) -> String {
    if size >= 1 << 20 {
        format!("{} MiB", size >> 20)
    } else if size >= 1024 {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// Ours: `write_message`/`read_message`, `stream_message`, `message_reader`.
fn ours(dir: Dir, size: usize, stream: bool, reader: bool) -> AllocRow {
    let (a, b) = mem_pair();
    let (wr, rr) = dir.roles();
    let chunk = CHUNK_SIZE_LOW_MEMORY;
    let mut w = Conn::new(a, wr, 2 << 20, chunk).expect("conn");
    let mut r = Conn::new(b, rr, 2 << 20, chunk).expect("conn");
    let data = payload(size);
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    let mut t = Tally::default();
    for i in 0..WARM + MSGS {
        let s0 = snapshot();
        if stream {
            w.stream_message(OpCode::Binary, 0, chunk, &data[..])
                .expect("stream");
        } else {
            w.write_message(OpCode::Binary, &data).expect("write");
        }
        if i >= WARM {
            t.write(&s0);
        }
        let s0 = snapshot();
        if reader {
            let mut rd = r.message_reader().expect("reader");
            while rd.read(&mut piece).expect("read") > 0 {}
        } else {
            let (_, p) = r.read_message(&mut buf).expect("read");
            black_box(p.len());
        }
        if i >= WARM {
            t.read(&s0);
        }
    }
    let what = match (stream, reader) {
        (true, _) => "stream_message",
        (_, true) => "message_reader",
        _ => "write_message / read_message",
    };
    t.row(
        "ours",
        format!("{what}, {} {}", size_name(size), dir_name(dir)),
    )
}

fn tungstenite(dir: Dir, size: usize) -> AllocRow {
    use tungstenite::protocol::Role as R;
    let (a, b) = mem_pair();
    let role = |r| {
        if r == Role::Client {
            R::Client
        } else {
            R::Server
        }
    };
    let (wr, rr) = dir.roles();
    let mut w = tungstenite::WebSocket::from_raw_socket(a, role(wr), None);
    let mut r = tungstenite::WebSocket::from_raw_socket(b, role(rr), None);
    let data = tungstenite::Bytes::from(payload(size));
    let mut t = Tally::default();
    for i in 0..WARM + MSGS {
        let s0 = snapshot();
        w.send(tungstenite::Message::Binary(data.clone()))
            .expect("send");
        if i >= WARM {
            t.write(&s0);
        }
        let s0 = snapshot();
        let m = r.read().expect("read");
        black_box(m.len());
        drop(m);
        if i >= WARM {
            t.read(&s0);
        }
    }
    t.row(
        "tungstenite",
        format!("{} {}", size_name(size), dir_name(dir)),
    )
}

fn fastwebsockets(dir: Dir, size: usize) -> AllocRow {
    let (a, b) = mem_pair();
    let role = |r| {
        if r == Role::Client {
            fastwebsockets::Role::Client
        } else {
            fastwebsockets::Role::Server
        }
    };
    let (wr, rr) = dir.roles();
    let mut w = fastwebsockets::WebSocket::after_handshake(a, role(wr));
    let mut r = fastwebsockets::WebSocket::after_handshake(b, role(rr));
    r.set_max_message_size(4 << 20);
    let data = payload(size);
    let rt = runtime();
    let mut t = Tally::default();
    rt.block_on(async {
        for i in 0..WARM + MSGS {
            let s0 = snapshot();
            let f = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&data));
            w.write_frame(f).await.expect("write");
            if i >= WARM {
                t.write(&s0);
            }
            let s0 = snapshot();
            let f = r.read_frame().await.expect("read");
            black_box(f.payload.len());
            drop(f);
            if i >= WARM {
                t.read(&s0);
            }
        }
    });
    t.row(
        "fastwebsockets",
        format!("{} {}", size_name(size), dir_name(dir)),
    )
}

fn yawc(dir: Dir, size: usize) -> AllocRow {
    let (a, b) = mem_pair();
    let role = |r| {
        if r == Role::Client {
            yawc::Role::Client
        } else {
            yawc::Role::Server
        }
    };
    let (wr, rr) = dir.roles();
    let opts = yawc::Options::default().with_limits(4 << 20, 8 << 20);
    let mut w = yawc::WebSocket::from_stream(a, role(wr), opts.clone()).expect("yawc");
    let mut r = yawc::WebSocket::from_stream(b, role(rr), opts).expect("yawc");
    let data = bytes::Bytes::from(payload(size));
    let rt = runtime();
    let mut t = Tally::default();
    rt.block_on(async {
        for i in 0..WARM + MSGS {
            let s0 = snapshot();
            w.send(yawc::Frame::binary(data.clone()))
                .await
                .expect("send");
            if i >= WARM {
                t.write(&s0);
            }
            let s0 = snapshot();
            let f = r.next_frame().await.expect("read");
            black_box(f.payload().len());
            drop(f);
            if i >= WARM {
                t.read(&s0);
            }
        }
    });
    t.row("yawc", format!("{} {}", size_name(size), dir_name(dir)))
}

/// Every allocation row.
#[must_use]
pub fn alloc_rows() -> Vec<AllocRow> {
    let mut v = Vec::new();
    for size in [1 << 20, 16] {
        for dir in [Dir::ServerToClient, Dir::ClientToServer] {
            v.push(ours(dir, size, false, false));
            v.push(tungstenite(dir, size));
            v.push(fastwebsockets(dir, size));
            v.push(yawc(dir, size));
        }
    }
    for dir in [Dir::ServerToClient, Dir::ClientToServer] {
        v.push(ours(dir, 1 << 20, true, false));
        v.push(ours(dir, 1 << 20, false, true));
    }
    v
}

/// Heap held by one connection.
#[derive(Debug, Clone)]
pub struct HeapRow {
    /// Library and setting.
    pub lib: String,
    /// Bytes right after construction.
    pub idle: isize,
    /// Bytes after writing one 1 MiB message and reading one (the caller's buffer excluded).
    pub after: isize,
}

/// Prepares a pipe whose inbound side (for the returned end) holds one 1 MiB server-to-client
/// frame and whose outbound side has room for a 1 MiB frame without growing.
fn loaded_pipe(size: usize) -> MemPipe {
    let (mut a, mut b) = mem_pair();
    // Pre-grow the outbound direction so the connection's write is not charged for it.
    b.write_all(&vec![0; size + 64]).expect("pre-grow");
    let mut sink = vec![0; size + 64];
    a.read_exact(&mut sink).expect("drain");
    let mut server = Conn::server(a, READ_LIMIT_STANDARD, CHUNK_SIZE_LOW_MEMORY).expect("conn");
    server
        .write_message(OpCode::Binary, &payload(size))
        .expect("frame");
    b
}

fn heap_ours(chunk: usize) -> HeapRow {
    const SIZE: usize = 1 << 20;
    let pipe = loaded_pipe(SIZE);
    let data = payload(SIZE);
    let mut buf = Vec::with_capacity(SIZE);
    let s0 = snapshot();
    let mut c = Conn::client(pipe, 2 << 20, chunk).expect("conn");
    let idle = snapshot().live_since(&s0);
    c.write_message(OpCode::Binary, &data).expect("write");
    let (_, p) = c.read_message(&mut buf).expect("read");
    black_box(p.len());
    let after = snapshot().live_since(&s0);
    HeapRow {
        lib: format!("ours, {} KiB chunks", chunk / 1024),
        idle,
        after,
    }
}

fn heap_tungstenite() -> HeapRow {
    const SIZE: usize = 1 << 20;
    let pipe = loaded_pipe(SIZE);
    let data = tungstenite::Bytes::from(payload(SIZE));
    let s0 = snapshot();
    let mut c =
        tungstenite::WebSocket::from_raw_socket(pipe, tungstenite::protocol::Role::Client, None);
    let idle = snapshot().live_since(&s0);
    c.send(tungstenite::Message::Binary(data.clone()))
        .expect("send");
    let m = c.read().expect("read");
    drop(m);
    let after = snapshot().live_since(&s0);
    HeapRow {
        lib: "tungstenite (defaults)".into(),
        idle,
        after,
    }
}

fn heap_fastwebsockets() -> HeapRow {
    const SIZE: usize = 1 << 20;
    let pipe = loaded_pipe(SIZE);
    let data = payload(SIZE);
    let rt = runtime();
    rt.block_on(async {});
    let s0 = snapshot();
    let mut c = fastwebsockets::WebSocket::after_handshake(pipe, fastwebsockets::Role::Client);
    let idle = snapshot().live_since(&s0);
    rt.block_on(async {
        let f = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&data));
        c.write_frame(f).await.expect("write");
        let f = c.read_frame().await.expect("read");
        black_box(f.payload.len());
    });
    let after = snapshot().live_since(&s0);
    HeapRow {
        lib: "fastwebsockets (defaults)".into(),
        idle,
        after,
    }
}

fn heap_yawc() -> HeapRow {
    const SIZE: usize = 1 << 20;
    let pipe = loaded_pipe(SIZE);
    let data = bytes::Bytes::from(payload(SIZE));
    let rt = runtime();
    rt.block_on(async {});
    let opts = yawc::Options::default().with_limits(4 << 20, 8 << 20);
    let s0 = snapshot();
    let mut c = yawc::WebSocket::from_stream(pipe, yawc::Role::Client, opts).expect("yawc");
    let idle = snapshot().live_since(&s0);
    rt.block_on(async {
        c.send(yawc::Frame::binary(data.clone()))
            .await
            .expect("send");
        let f = c.next_frame().await.expect("read");
        black_box(f.payload().len());
    });
    let after = snapshot().live_since(&s0);
    HeapRow {
        lib: "yawc (defaults, no deflate)".into(),
        idle,
        after,
    }
}

/// Every heap row.
#[must_use]
pub fn heap_rows() -> Vec<HeapRow> {
    vec![
        heap_ours(CHUNK_SIZE_LOW_MEMORY),
        heap_ours(16 * 1024),
        heap_tungstenite(),
        heap_fastwebsockets(),
        heap_yawc(),
    ]
}
