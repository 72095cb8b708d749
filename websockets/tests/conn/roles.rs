//! Conversations between a client and a server `Conn`, over a Unix socket pair and in memory.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use lowbit_websockets::{CloseCode, CloseFrame, Conn, Error, OpCode, Role};

use crate::support::{self, client_frame, duplex, parse_frames};

const SIZES: [usize; 10] = [
    0,
    1,
    125,
    126,
    65535,
    65536,
    100_000,
    1 << 20,
    4 << 20,
    16 << 20,
];

/// Sends every size from `sender_role` to the other side over a socket pair; the receiver echoes.
fn echo_over_socket(sender_role: Role, chunk: usize) {
    let (a, b) = UnixStream::pair().unwrap();
    let limit = 32 << 20;
    let echo = thread::spawn(move || {
        let mut conn = Conn::new(b, !sender_role, limit, chunk).unwrap();
        let mut buf = Vec::new();
        loop {
            let (op, payload) = conn.read_message(&mut buf).unwrap();
            if op == OpCode::Close {
                return;
            }
            let payload = payload.to_vec();
            conn.write_message(op, &payload).unwrap();
        }
    });
    let mut conn = Conn::new(a, sender_role, limit, chunk).unwrap();
    let mut buf = Vec::new();
    for (i, &size) in SIZES.iter().enumerate() {
        let (op, data) = if i % 2 == 0 {
            (OpCode::Text, support::text(size).into_bytes())
        } else {
            (OpCode::Binary, support::payload(size, i as u8))
        };
        conn.write_message(op, &data).unwrap();
        let (rop, got) = conn.read_message(&mut buf).unwrap();
        assert_eq!(rop, op);
        assert!(got == &data[..], "size {size} differs");
        // The same, streamed in fragments from a reader.
        conn.stream_message(op, 0, chunk, &data[..]).unwrap();
        let (rop, got) = conn.read_message(&mut buf).unwrap();
        assert_eq!(rop, op);
        assert!(got == &data[..], "streamed size {size} differs");
    }
    conn.close(CloseCode::NORMAL, "done").unwrap();
    echo.join().unwrap();
}

#[test]
fn client_to_server_over_unix_socket() {
    echo_over_socket(Role::Client, 4096);
}

#[test]
fn server_to_client_over_unix_socket() {
    echo_over_socket(Role::Server, 16 * 1024);
}

#[test]
fn fragmented_message_with_control_frames_in_between() {
    let (mut peer, end) = duplex();
    let mut server = Conn::server(end, 1 << 20, 4096).unwrap();
    let mut wire = client_frame(false, OpCode::Text, "héllo ".as_bytes());
    wire.extend(client_frame(true, OpCode::Ping, b"p1"));
    wire.extend(client_frame(
        false,
        OpCode::Continuation,
        "wörld".as_bytes(),
    ));
    wire.extend(client_frame(true, OpCode::Pong, b"unsolicited"));
    wire.extend(client_frame(true, OpCode::Continuation, b"!"));
    peer.write_all(&wire).unwrap();
    let mut buf = Vec::new();
    let (op, msg) = server.read_message(&mut buf).unwrap();
    assert_eq!((op, msg), (OpCode::Text, "héllo wörld!".as_bytes()));
    let sent = parse_frames(&peer.drain());
    assert_eq!(sent, vec![(true, 0, OpCode::Pong, b"p1".to_vec())]);
}

#[test]
fn close_handshake_echoes_the_code() {
    let (a, b) = duplex();
    let mut client = Conn::client(a, 1 << 20, 4096).unwrap();
    let mut server = Conn::server(b, 1 << 20, 4096).unwrap();
    // The client starts: its close goes out, then it waits (WouldBlock in memory).
    let err = client.close(CloseCode(4001), "bye").unwrap_err();
    assert!(err.is_would_block());
    let mut buf = Vec::new();
    let (op, payload) = server.read_message(&mut buf).unwrap();
    assert_eq!(op, OpCode::Close);
    let frame = CloseFrame::decode(payload).unwrap().unwrap();
    assert_eq!((frame.code, frame.reason), (CloseCode(4001), "bye"));
    assert!(matches!(
        server.write_message(OpCode::Text, b"late"),
        Err(Error::Closed)
    ));
    // The server's echo completes the client's close.
    client.close(CloseCode(4001), "bye").unwrap();
    assert!(client.is_close_received());
}

#[test]
fn read_limit_checked_from_the_header() {
    let (mut peer, end) = duplex();
    let mut server = Conn::server(end, 1000, 4096).unwrap();
    // Announce 1001 bytes but send only the header: the limit must fire at once.
    let wire = client_frame(true, OpCode::Binary, &[0; 1001]);
    peer.write_all(&wire[..8]).unwrap();
    let mut buf = Vec::new();
    let err = server.read_message(&mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooBig {
                size: 1001,
                limit: 1000
            }
        ),
        "{err}"
    );
    assert_eq!(buf.capacity(), 0, "memory reserved before the limit check");
    let sent = parse_frames(&peer.drain());
    assert_eq!(sent[0].2, OpCode::Close);
    assert_eq!(&sent[0].3[..2], &1009u16.to_be_bytes());
    // Fragments add up: 600 + 600 > 1000.
    let (mut peer, end) = duplex();
    let mut server = Conn::server(end, 1000, 4096).unwrap();
    peer.write_all(&client_frame(false, OpCode::Binary, &[1; 600]))
        .unwrap();
    peer.write_all(&client_frame(true, OpCode::Continuation, &[1; 600]))
        .unwrap();
    let err = server.read_message(&mut buf).unwrap_err();
    assert!(matches!(err, Error::MessageTooBig { size: 1200, .. }));
}

#[test]
fn message_reader_streams_a_large_message() {
    let (a, b) = UnixStream::pair().unwrap();
    let data = support::payload(3 << 20, 7);
    let expected = data.clone();
    let sender = thread::spawn(move || {
        let mut client = Conn::client(a, 1 << 20, 4096).unwrap();
        client
            .stream_message(OpCode::Binary, 0, 4096, &data[..])
            .unwrap();
        client
    });
    // The read limit bounds the whole message even when read as a stream.
    let mut server = Conn::server(b, 8 << 20, 4096).unwrap();
    let mut reader = server.message_reader().unwrap();
    assert_eq!(reader.opcode(), OpCode::Binary);
    let mut got = Vec::new();
    let mut piece = [0u8; 1000];
    loop {
        let n = reader.read(&mut piece).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&piece[..n]);
    }
    assert!(got == expected);
    drop(sender.join().unwrap());
}

#[test]
fn message_reader_fails_fast_on_bad_utf8() {
    let (mut peer, end) = duplex();
    let mut server = Conn::server(end, 1 << 20, 4096).unwrap();
    peer.write_all(&client_frame(false, OpCode::Text, b"fine"))
        .unwrap();
    peer.write_all(&client_frame(false, OpCode::Continuation, b"\xff"))
        .unwrap();
    let mut reader = server.message_reader().unwrap();
    let mut out = [0; 64];
    assert_eq!(reader.read(&mut out).unwrap(), 4);
    let err = reader.read(&mut out).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let sent = parse_frames(&peer.drain());
    assert_eq!(&sent[0].3[..2], &1007u16.to_be_bytes());
}

#[test]
fn corked_frames_leave_in_one_write() {
    let (peer, end) = duplex();
    let mut client = Conn::client(end, 1 << 20, 4096).unwrap();
    client.set_corked(true);
    for i in 0..50u8 {
        client.write_message(OpCode::Binary, &[i; 16]).unwrap();
    }
    assert_eq!(peer.available(), 0, "corked frames left before flush");
    client.flush().unwrap();
    let frames = parse_frames(&peer.drain());
    assert_eq!(frames.len(), 50);
    assert!(
        frames
            .iter()
            .enumerate()
            .all(|(i, f)| f.3 == vec![i as u8; 16])
    );
    // A full scratch buffer goes out by itself.
    for _ in 0..300 {
        client.write_message(OpCode::Binary, &[0; 16]).unwrap();
    }
    assert!(!peer.drain().is_empty());
}

#[test]
fn early_bytes_are_served_first() {
    let (mut peer, end) = duplex();
    let first = client_frame(true, OpCode::Text, b"early");
    let mut server = Conn::server(end, 1 << 20, 4096)
        .unwrap()
        .with_early_bytes(&first);
    peer.write_all(&client_frame(true, OpCode::Text, b"later"))
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(server.read_message(&mut buf).unwrap().1, b"early");
    assert_eq!(server.read_message(&mut buf).unwrap().1, b"later");
}

#[test]
fn peer_vanishing_mid_frame_is_an_eof_error() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut server = Conn::server(b, 1 << 20, 4096).unwrap();
    let wire = client_frame(true, OpCode::Binary, &[5; 300]);
    std::io::Write::write_all(&mut &a, &wire[..100]).unwrap();
    drop(a);
    let mut buf = Vec::new();
    let err = server.read_message(&mut buf).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err}"
    );
    assert_eq!(err.close_code(), None);
}
