//! Counting-allocator checks: 0 allocations per message in steady state on every path, both
//! roles, and a connection's heap is the same before and after a 1 MiB message.
#![allow(unsafe_code)] // a counting global allocator cannot be written without it

#[path = "support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;

use lowbit_websockets::{CHUNK_SIZE_LOW_MEMORY, Conn, OpCode, Role};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator and only updates thread-local counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        LIVE.with(|c| c.set(c.get() + layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|c| c.set(c.get() - layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        LIVE.with(|c| c.set(c.get() + new_size as isize - layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// One round of every path from `tx` to `rx`: whole messages, a streamed one, the reader.
fn round<A, B>(
    tx: &mut Conn<A>,
    rx: &mut Conn<B>,
    big: &[u8],
    small: &[u8],
    buf: &mut Vec<u8>,
    piece: &mut [u8],
) where
    A: std::io::Read + std::io::Write,
    B: std::io::Read + std::io::Write,
{
    for payload in [small, big] {
        tx.write_message(OpCode::Binary, payload).unwrap();
        let (_, got) = rx.read_message(buf).unwrap();
        assert_eq!(got.len(), payload.len());
        tx.stream_message(OpCode::Binary, 0, CHUNK_SIZE_LOW_MEMORY, payload)
            .unwrap();
        let (_, got) = rx.read_message(buf).unwrap();
        assert_eq!(got.len(), payload.len());
        tx.write_message(OpCode::Text, b"text").unwrap();
        let mut reader = rx.message_reader().unwrap();
        let mut total = 0;
        loop {
            let n = reader.read(piece).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 4);
    }
    // A message masked in place (its bytes are the caller's to spend).
    tx.write_message_in_place(OpCode::Binary, piece).unwrap();
    let (_, got) = rx.read_message(buf).unwrap();
    assert_eq!(got.len(), piece.len());
    tx.write_message(OpCode::Ping, b"ping").unwrap();
    tx.write_message(OpCode::Binary, small).unwrap();
    rx.read_message(buf).unwrap();
    // The pong reaches the sender, which consumes it while reading the next message.
    rx.write_message(OpCode::Binary, small).unwrap();
    tx.read_message(buf).unwrap();
}

#[test]
fn zero_allocations_per_message_and_stable_heap() {
    for role in [Role::Client, Role::Server] {
        let (a, b) = support::duplex();
        let before = live();
        let mut tx = Conn::new(a, role, 4 << 20, CHUNK_SIZE_LOW_MEMORY).unwrap();
        let idle = live() - before;
        // The whole connection (heap and structure) within two 4 KiB chunks and 512 bytes.
        let whole = idle as usize + std::mem::size_of_val(&tx);
        eprintln!("idle connection: {idle} heap bytes, {whole} in all");
        assert!(whole <= 8704, "an idle connection holds {whole} bytes");
        let mut rx = Conn::new(b, !role, 4 << 20, CHUNK_SIZE_LOW_MEMORY).unwrap();
        let big = support::payload(1 << 20, 1);
        let small = support::payload(16, 2);
        let mut buf = Vec::new();
        let mut piece = vec![0u8; 1000];
        for _ in 0..3 {
            round(&mut tx, &mut rx, &big, &small, &mut buf, &mut piece);
        }
        let (count, heap) = (allocs(), live());
        assert!(
            count > 0,
            "the counter sees the warm-up growth of the caller's buffer"
        );
        for _ in 0..20 {
            round(&mut tx, &mut rx, &big, &small, &mut buf, &mut piece);
        }
        assert_eq!(allocs() - count, 0, "{role:?}: allocations in steady state");
        assert_eq!(live() - heap, 0, "{role:?}: heap grew");
        assert_eq!(
            tx.heap_size() as isize,
            idle,
            "{role:?}: connection grew after 1 MiB"
        );
    }
}
