//! Lookahead streaming: full chunks, FIN on the last fragment, no empty trailing frame.

use std::io::{self, Read};

use lowbit_websockets::{Conn, Error, OpCode, Role};

use crate::support::{self, duplex, parse_frames};

/// A reader that hands out one byte per call, and fails or blocks where told.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    fail_at: Option<usize>,
    block_every: Option<usize>,
    calls: usize,
}

impl Trickle {
    fn new(data: Vec<u8>) -> Self {
        Self {
            data,
            pos: 0,
            fail_at: None,
            block_every: None,
            calls: 0,
        }
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.block_every.is_some_and(|k| self.calls % k == 0) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.fail_at == Some(self.pos) {
            return Err(io::Error::other("disk on fire"));
        }
        if self.pos == self.data.len() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.data[self.pos];
        self.pos += 1;
        Ok(1)
    }
}

fn streamed_frames(role: Role, len: usize, chunk: usize) -> Vec<(bool, u8, OpCode, Vec<u8>)> {
    let (peer, end) = duplex();
    let mut conn = Conn::new(end, role, 1 << 20, 4096).unwrap();
    let data = support::payload(len, 3);
    conn.stream_message(OpCode::Binary, 0, chunk, Trickle::new(data.clone()))
        .unwrap();
    let frames = parse_frames(&peer.drain());
    let joined: Vec<u8> = frames.iter().flat_map(|f| f.3.clone()).collect();
    assert_eq!(joined, data);
    frames
}

#[test]
fn fragments_are_full_and_the_last_carries_fin() {
    for role in [Role::Client, Role::Server] {
        for (len, chunk, expected) in [
            (10_000, 4096, vec![4096, 4096, 1808]),
            (8192, 4096, vec![4096, 4096]),
            (4096, 4096, vec![4096]),
            (4097, 4096, vec![4096, 1]),
            (1, 4096, vec![1]),
            (0, 4096, vec![0]),
            (10, 3, vec![3, 3, 3, 1]),
        ] {
            let frames = streamed_frames(role, len, chunk);
            let sizes: Vec<usize> = frames.iter().map(|f| f.3.len()).collect();
            assert_eq!(sizes, expected, "{role:?} {len}/{chunk}");
            for (i, f) in frames.iter().enumerate() {
                assert_eq!(f.0, i == frames.len() - 1, "FIN only on the last frame");
                let op = if i == 0 {
                    OpCode::Binary
                } else {
                    OpCode::Continuation
                };
                assert_eq!(f.2, op);
            }
        }
    }
}

#[test]
fn chunk_size_above_the_connection_is_refused() {
    let (_peer, end) = duplex();
    let mut conn = Conn::server(end, 1 << 20, 4096).unwrap();
    let err = conn
        .stream_message(OpCode::Binary, 0, 4097, &b"x"[..])
        .unwrap_err();
    assert!(matches!(
        err,
        Error::ChunkSizeExceeded {
            requested: 4097,
            limit: 4096
        }
    ));
    // Nothing was sent and the connection still works.
    conn.write_message(OpCode::Text, b"fine").unwrap();
}

#[test]
fn reader_error_mid_message_fails_the_connection() {
    let (peer, end) = duplex();
    let mut conn = Conn::server(end, 1 << 20, 4096).unwrap();
    let mut reader = Trickle::new(support::payload(10_000, 1));
    reader.fail_at = Some(5000);
    let err = conn
        .stream_message(OpCode::Binary, 0, 4096, &mut reader)
        .unwrap_err();
    assert!(matches!(err, Error::Io(_)));
    assert!(matches!(
        conn.write_message(OpCode::Text, b"x"),
        Err(Error::Failed)
    ));
    let frames = parse_frames(&peer.drain());
    assert_eq!(frames.len(), 2);
    assert!(!frames[0].0);
    assert_eq!(
        (frames[1].2, &frames[1].3[..]),
        (OpCode::Close, &1011u16.to_be_bytes()[..])
    );
}

#[test]
fn reader_error_before_the_first_frame_leaves_the_connection_usable() {
    let (peer, end) = duplex();
    let mut conn = Conn::server(end, 1 << 20, 4096).unwrap();
    let mut reader = Trickle::new(support::payload(10_000, 1));
    reader.fail_at = Some(100);
    assert!(
        conn.stream_message(OpCode::Binary, 0, 4096, &mut reader)
            .is_err()
    );
    conn.write_message(OpCode::Text, b"fine").unwrap();
    let frames = parse_frames(&peer.drain());
    assert_eq!(frames, vec![(true, 0, OpCode::Text, b"fine".to_vec())]);
}

#[test]
fn non_blocking_reader_resumes() {
    for role in [Role::Client, Role::Server] {
        let (peer, end) = duplex();
        let mut conn = Conn::new(end, role, 1 << 20, 4096).unwrap();
        let data = support::payload(9000, 9);
        let mut reader = Trickle::new(data.clone());
        reader.block_every = Some(7);
        let mut blocked = 0;
        loop {
            match conn.stream_message(OpCode::Text, 0, 1000, &mut reader) {
                Ok(()) => break,
                Err(e) if e.is_would_block() => blocked += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(blocked > 100);
        let frames = parse_frames(&peer.drain());
        assert_eq!(frames.len(), 9);
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.3.clone()).collect();
        assert_eq!(joined, data);
    }
}
