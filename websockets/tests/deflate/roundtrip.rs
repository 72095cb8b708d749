use lowbit_websockets::{DEFLATE_TAIL, DeflateParams, OpCode, RSV1};

use crate::support::{parse_frames, payload, text};
use crate::{pair, param_sets, read};

const SIZES: [usize; 5] = [0, 1, 125, 4097, 64 << 10];

#[test]
fn every_parameter_combination_both_directions() {
    for cp in param_sets() {
        for sp in param_sets() {
            let (mut c, mut s) = pair(&cp, &sp, 4096);
            let mut buf = Vec::new();
            for (i, &len) in SIZES.iter().enumerate() {
                let msg = payload(len, i as u8);
                // Whole messages, client to server and back.
                c.write_message(OpCode::Binary, &msg).unwrap();
                assert_eq!(
                    read(&mut s, &mut buf).unwrap(),
                    (OpCode::Binary, msg.clone())
                );
                s.write_message(OpCode::Binary, &msg).unwrap();
                assert_eq!(
                    read(&mut c, &mut buf).unwrap(),
                    (OpCode::Binary, msg.clone())
                );
                // Streamed, in small chunks.
                let t = text(len);
                s.stream_message(OpCode::Text, 0, 1000, t.as_bytes())
                    .unwrap();
                assert_eq!(
                    read(&mut c, &mut buf).unwrap(),
                    (OpCode::Text, t.clone().into())
                );
                c.stream_message(OpCode::Text, 0, 333, t.as_bytes())
                    .unwrap();
                assert_eq!(read(&mut s, &mut buf).unwrap(), (OpCode::Text, t.into()));
            }
        }
    }
}

#[test]
fn large_messages() {
    let (mut c, mut s) = pair(
        &DeflateParams::default(),
        &DeflateParams::default(),
        16 << 10,
    );
    let mut buf = Vec::new();
    for len in [1 << 20, 16 << 20] {
        let msg = text(len).into_bytes();
        c.write_message(OpCode::Text, &msg).unwrap();
        let (op, got) = s.read_message(&mut buf).unwrap();
        assert_eq!((op, got.len()), (OpCode::Text, msg.len()));
        assert!(got == &msg[..]);
        s.stream_message(OpCode::Binary, 0, 16 << 10, &msg[..])
            .unwrap();
        let (_, got) = c.read_message(&mut buf).unwrap();
        assert!(got == &msg[..]);
    }
}

/// Our frames, inflated by an independent inflater: RSV1 on the first frame only, the tail
/// stripped, frames within the chunk size, and the context kept or reset as agreed.
#[test]
fn reference_inflater_reads_our_output() {
    for params in [
        DeflateParams::default(),
        DeflateParams::no_context_takeover(),
    ] {
        let (mut c, s) = pair(&params, &params, 4096);
        let keep = c.agreed().outgoing.context_takeover == lowbit_websockets::ContextTakeover::Keep;
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (i, len) in [10usize, 3000, 20_000, 20_000, 0].into_iter().enumerate() {
            let msg = text(len).into_bytes();
            c.write_message(OpCode::Text, &msg).unwrap();
            let wire = s.get_ref().get_ref().drain();
            let frames = parse_frames(&wire);
            let mut body = Vec::new();
            for (k, (fin, rsv, op, p)) in frames.iter().enumerate() {
                assert_eq!(*rsv, if k == 0 { RSV1 } else { 0 }, "message {i} frame {k}");
                assert_eq!(
                    *op,
                    if k == 0 {
                        OpCode::Text
                    } else {
                        OpCode::Continuation
                    }
                );
                assert_eq!(*fin, k + 1 == frames.len());
                assert!(p.len() <= 4096);
                body.extend_from_slice(p);
            }
            assert!(!body.ends_with(&DEFLATE_TAIL));
            body.extend_from_slice(&DEFLATE_TAIL);
            if keep {
                stream.extend_from_slice(&body);
                expected.extend_from_slice(&msg);
            } else {
                stream = body;
                expected = msg;
            }
            let mut whole = stream.clone();
            whole.extend_from_slice(&[0x03, 0x00]); // an empty final block ends the stream
            let inflated = miniz_oxide::inflate::decompress_to_vec(&whole).unwrap();
            assert_eq!(inflated, expected, "message {i}");
        }
    }
}

#[test]
fn uncompressed_messages_inside_a_session() {
    let (mut c, mut s) = pair(&DeflateParams::default(), &DeflateParams::default(), 4096);
    let mut buf = Vec::new();
    c.set_threshold(100);
    for len in [5usize, 99, 100, 5000, 7] {
        let msg = text(len).into_bytes();
        c.write_message(OpCode::Text, &msg).unwrap();
        let wire = s.get_ref().get_ref().drain();
        let frames = parse_frames(&wire);
        assert_eq!(frames[0].1 == RSV1, len >= 100, "length {len}");
        s.get_ref().get_ref().inject(&wire);
        assert_eq!(read(&mut s, &mut buf).unwrap(), (OpCode::Text, msg));
    }
    // Control frames pass through and are never compressed.
    c.write_message(OpCode::Ping, b"ping").unwrap();
    let wire = s.get_ref().get_ref().drain();
    assert_eq!(parse_frames(&wire)[0].1, 0);
}

#[test]
fn close_handshake_through_the_decorator() {
    let (mut c, mut s) = pair(&DeflateParams::default(), &DeflateParams::default(), 4096);
    let mut buf = Vec::new();
    c.write_message(OpCode::Text, b"bye soon").unwrap();
    let code = lowbit_websockets::CloseCode::NORMAL;
    // The client's close goes out; it then waits for the echo (WouldBlock on the pipe).
    assert!(c.close(code, "done").unwrap_err().is_would_block());
    assert_eq!(read(&mut s, &mut buf).unwrap().1, b"bye soon");
    let (op, _) = read(&mut s, &mut buf).unwrap();
    assert_eq!(op, OpCode::Close);
    c.close(code, "done").unwrap();
}

#[test]
fn message_reader_inflates_as_it_goes() {
    use std::io::Read;
    let (mut c, mut s) = pair(&DeflateParams::default(), &DeflateParams::default(), 4096);
    c.set_threshold(50);
    for len in [0usize, 10, 49, 50, 5000, 300_000] {
        let msg = text(len).into_bytes();
        c.write_message(OpCode::Text, &msg).unwrap();
        let mut reader = s.message_reader().unwrap();
        assert_eq!(reader.opcode(), OpCode::Text);
        let mut got = Vec::new();
        let mut piece = [0u8; 777];
        loop {
            let n = reader.read(&mut piece).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&piece[..n]);
        }
        assert!(got == msg, "length {len}");
    }
    // The reader and read_message interleave, the context carrying over.
    c.write_message(OpCode::Binary, b"after the reader")
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read(&mut s, &mut buf).unwrap().1, b"after the reader");
}

#[test]
fn message_reader_enforces_the_limit_on_inflated_bytes() {
    use std::io::Read;
    let (mut c, s) = pair(&DeflateParams::default(), &DeflateParams::default(), 4096);
    let (conn, comp, decomp) = s.into_parts();
    // Rebuild the server with a small read limit.
    let small = lowbit_websockets::Conn::server(conn.into_inner(), 10_000, 4096).unwrap();
    let (s_agreed, _) = lowbit_websockets::negotiate(
        [lowbit_websockets::offer(&DeflateParams::default())],
        &DeflateParams::default(),
    )
    .unwrap();
    let mut s = lowbit_websockets::Deflate::with_codec(small, &s_agreed, comp, decomp).unwrap();
    c.write_message(OpCode::Binary, &vec![0u8; 10_001]).unwrap();
    let mut reader = s.message_reader().unwrap();
    let mut sink = Vec::new();
    let err = reader.read_to_end(&mut sink).unwrap_err();
    assert!(err.to_string().contains("read limit"), "{err}");
    assert!(sink.len() <= 10_000);
}
