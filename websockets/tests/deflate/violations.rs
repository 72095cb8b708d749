use lowbit_websockets::{
    CloseCode, CloseFrame, Compression, Compressor, Conn, DEFLATE_TAIL, Deflate, DeflateParams,
    Error, OpCode, ProtocolError, RSV1, TailHoldback, ZlibRsCompressor, negotiate,
};

use crate::support::{End, duplex, frame, parse_frames};

const MASK: Option<[u8; 4]> = Some([1, 2, 3, 4]);

/// A server with the default parameters and `limit`, and the client end of its pipe.
fn server(limit: usize) -> (Deflate<End>, End) {
    let (a, b) = duplex();
    let params = DeflateParams::default();
    let (agreed, _) = negotiate(["permessage-deflate"], &params).unwrap();
    let conn = Conn::server(b, limit, 4096).unwrap();
    (Deflate::new(conn, &agreed, &params).unwrap(), a)
}

fn compress(msg: &[u8]) -> Vec<u8> {
    let mut c = ZlibRsCompressor::new(Compression::BEST, 15, 9).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut hold = TailHoldback::new();
    let (mut rest, mut out) = (msg, Vec::new());
    loop {
        let p = c
            .compress(rest, hold.space(&mut buf).unwrap(), true)
            .unwrap();
        rest = &rest[p.consumed..];
        out.extend_from_slice(hold.ready(&buf, p.written, p.done).unwrap());
        if p.done {
            return out;
        }
    }
}

/// Bytes from the client to the server.
fn send(client: &mut End, bytes: &[u8]) {
    std::io::Write::write_all(client, bytes).unwrap();
}

/// The close code the server sent.
fn close_code(client_end: &End) -> Option<u16> {
    let frames = parse_frames(&client_end.drain());
    let (_, _, op, payload) = frames.last()?;
    assert_eq!(*op, OpCode::Close);
    CloseFrame::decode(payload).unwrap().map(|f| f.code.0)
}

#[test]
fn bomb_stops_at_the_read_limit() {
    let limit = 1 << 20;
    let (mut s, mut client) = server(limit);
    // 64 MiB of zeros: about 64 KiB compressed, far under the limit on the wire.
    let bomb = compress(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < limit / 8, "{}", bomb.len());
    send(&mut client, &frame(true, RSV1, OpCode::Binary, MASK, &bomb));
    let mut buf = Vec::new();
    let err = s.read_message(&mut buf).unwrap_err();
    assert!(
        matches!(err, Error::MessageTooBig { limit: l, .. } if l == limit),
        "{err:?}"
    );
    // Never more than the limit (and one byte) was inflated into the buffer.
    assert!(buf.len() <= limit + 1 && buf.capacity() <= 2 * limit);
    assert_eq!(close_code(&client), Some(CloseCode::MESSAGE_TOO_BIG.0));
}

#[test]
fn message_at_the_limit_is_accepted() {
    let limit = 100_000;
    let (mut s, mut client) = server(limit);
    let msg = vec![7u8; limit];
    send(
        &mut client,
        &frame(true, RSV1, OpCode::Binary, MASK, &compress(&msg)),
    );
    let mut buf = Vec::new();
    assert_eq!(s.read_message(&mut buf).unwrap().1.len(), limit);
    let over = vec![7u8; limit + 1];
    send(
        &mut client,
        &frame(true, RSV1, OpCode::Binary, MASK, &compress(&over)),
    );
    assert!(matches!(
        s.read_message(&mut buf),
        Err(Error::MessageTooBig { .. })
    ));
}

#[test]
fn uncompressed_message_over_the_limit() {
    let (mut s, mut client) = server(1000);
    send(
        &mut client,
        &frame(true, 0, OpCode::Binary, MASK, &[1u8; 1001]),
    );
    let mut buf = Vec::new();
    assert!(matches!(
        s.read_message(&mut buf),
        Err(Error::MessageTooBig { .. })
    ));
    assert_eq!(close_code(&client), Some(CloseCode::MESSAGE_TOO_BIG.0));
}

#[test]
fn rsv1_on_control_and_continuation_frames() {
    // RFC 7692 §6.1: RSV1 only on the first frame of a data message.
    let cases = [
        frame(true, RSV1, OpCode::Ping, MASK, b"x"),
        [
            frame(false, RSV1, OpCode::Text, MASK, &compress(b"hello")[..2]),
            frame(
                true,
                RSV1,
                OpCode::Continuation,
                MASK,
                &compress(b"hello")[2..],
            ),
        ]
        .concat(),
    ];
    for wire in cases {
        let (mut s, mut client) = server(1 << 20);
        send(&mut client, &wire);
        let err = s.read_message(&mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::ReservedBits(_))),
            "{err:?}"
        );
        assert_eq!(close_code(&client), Some(CloseCode::PROTOCOL_ERROR.0));
    }
}

#[test]
fn garbage_and_bad_text() {
    let (mut s, mut client) = server(1 << 20);
    send(
        &mut client,
        &frame(true, RSV1, OpCode::Binary, MASK, &[0xff, 0xff, 0xff]),
    );
    let err = s.read_message(&mut Vec::new()).unwrap_err();
    assert!(matches!(
        err,
        Error::Protocol(ProtocolError::InvalidCompressedData)
    ));
    assert_eq!(close_code(&client), Some(CloseCode::PROTOCOL_ERROR.0));

    // Invalid UTF-8 is caught after inflating, with 1007.
    let (mut s, mut client) = server(1 << 20);
    send(
        &mut client,
        &frame(true, RSV1, OpCode::Text, MASK, &compress(b"ok \xff\xfe")),
    );
    assert!(matches!(
        s.read_message(&mut Vec::new()),
        Err(Error::InvalidUtf8)
    ));
    assert_eq!(close_code(&client), Some(CloseCode::INVALID_PAYLOAD.0));
}

#[test]
fn fragmented_and_final_block_messages_from_other_encoders() {
    let (mut s, mut client) = server(1 << 20);
    let body = compress(b"fragmented compressed message");
    let (a, b) = body.split_at(body.len() / 2);
    send(&mut client, &frame(false, RSV1, OpCode::Text, MASK, a));
    send(&mut client, &frame(true, 0, OpCode::Ping, MASK, b"between"));
    send(&mut client, &frame(true, 0, OpCode::Continuation, MASK, b));
    // RFC 7692 §7.2.3.4: "Hello" in a block with BFINAL set.
    send(
        &mut client,
        &frame(
            true,
            RSV1,
            OpCode::Text,
            MASK,
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        ),
    );
    // RFC 7692 §7.2.3.6 style empty message, and an RSV1 frame with no payload at all.
    send(&mut client, &frame(true, RSV1, OpCode::Text, MASK, &[0x00]));
    send(&mut client, &frame(true, RSV1, OpCode::Binary, MASK, &[]));
    let mut buf = Vec::new();
    let mut next = || {
        s.read_message(&mut buf)
            .map(|(op, p)| (op, p.to_vec()))
            .unwrap()
    };
    assert_eq!(
        next(),
        (OpCode::Text, b"fragmented compressed message".to_vec())
    );
    assert_eq!(next(), (OpCode::Text, b"Hello".to_vec()));
    assert_eq!(next(), (OpCode::Text, Vec::new()));
    assert_eq!(next(), (OpCode::Binary, Vec::new()));
    assert!(!DEFLATE_TAIL.is_empty());
}

#[test]
fn codec_window_must_fit_the_agreement() {
    let (_, b) = duplex();
    let params = DeflateParams::default();
    let (agreed, _) =
        negotiate(["permessage-deflate; server_max_window_bits=10"], &params).unwrap();
    let conn = Conn::server(b, 1024, 1024).unwrap();
    let c = ZlibRsCompressor::new(Compression::fast(), 15, 8).unwrap();
    let d = lowbit_websockets::ZlibRsDecompressor::new(15).unwrap();
    assert!(matches!(
        Deflate::with_codec(conn, &agreed, c, d),
        Err(Error::InvalidConfig(_))
    ));
}
