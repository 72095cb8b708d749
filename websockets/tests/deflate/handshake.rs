//! permessage-deflate negotiated by the real handshake over TCP, then messages both ways.
#![cfg(feature = "handshake")]

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use lowbit_websockets::handshake::Handshake;
use lowbit_websockets::{
    Agreed, CloseCode, ContextTakeover, Deflate, DeflateParams, OpCode, Peer, negotiate, offer,
    verify_response,
};

fn echo<P: Peer>(peer: &mut P) {
    let mut buf = Vec::new();
    let mut copy = Vec::new();
    loop {
        let (op, payload) = peer.read_message(&mut buf).unwrap();
        if op == OpCode::Close {
            return;
        }
        copy.clear();
        copy.extend_from_slice(payload);
        peer.write_message(op, &copy).unwrap();
    }
}

#[test]
fn negotiated_through_the_handshake_then_echoed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server_params = DeflateParams::low_memory();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let opened = Handshake::new()
            .server_extensions(move |offers| {
                negotiate(offers, &server_params).map(|(_, response)| response)
            })
            .accept(tcp)
            .unwrap();
        let response = opened.extensions.expect("deflate agreed");
        let agreed = Agreed::server_side(&response).unwrap();
        let mut peer = Deflate::new(opened.conn, &agreed, &server_params).unwrap();
        echo(&mut peer);
        response
    });

    let client_params = DeflateParams::default().outgoing_context_takeover(ContextTakeover::Reset);
    let opened = Handshake::new()
        .client_extensions(offer(&client_params), move |answers| {
            verify_response(&client_params, answers)
                .map(|_| ())
                .map_err(|_| "permessage-deflate answer refused")
        })
        .connect(&url)
        .unwrap();
    let response = opened.extensions.clone().unwrap();
    let agreed = verify_response(&client_params, [&response])
        .unwrap()
        .unwrap();
    opened
        .conn
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut client = Deflate::new(opened.conn, &agreed, &client_params).unwrap();
    let mut buf = Vec::new();
    for len in [0usize, 5, 1000, 200_000] {
        let msg: Vec<u8> = (0..len).map(|i| b"json{}:,"[i % 8]).collect();
        client.write_message(OpCode::Text, &msg).unwrap();
        let (op, got) = client.read_message(&mut buf).unwrap();
        assert_eq!((op, got), (OpCode::Text, &msg[..]));
    }
    client.close(CloseCode::NORMAL, "done").unwrap();
    let server_response = server.join().unwrap();
    assert_eq!(server_response, response);
    // The low-memory server limits both windows and states it, and the client's hint holds.
    assert_eq!(
        response,
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; \
         client_max_window_bits=10"
    );
}

/// `Handshake::deflate` on both sides, then `Opened::session`: both sessions deflate, and
/// messages cross intact (text validated after inflating); a side without it gets plain
/// sessions on both ends.
#[test]
fn handshake_deflate_and_session() {
    use lowbit_websockets::Session;

    for (server_deflate, client_deflate) in [(true, true), (true, false), (false, true)] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let server = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut handshake = Handshake::new();
            if server_deflate {
                handshake = handshake.deflate(DeflateParams::low_memory());
            }
            let mut session = handshake.accept(tcp).unwrap().session().unwrap();
            let deflating = session.is_deflate();
            echo(&mut session);
            deflating
        });
        let mut handshake = Handshake::new();
        if client_deflate {
            handshake = handshake.deflate(DeflateParams::no_context_takeover());
        }
        let opened = handshake.connect(&url).unwrap();
        let negotiated = opened.extensions.is_some();
        let mut session: Session<_> = opened.session().unwrap();
        let both = server_deflate && client_deflate;
        assert_eq!((negotiated, session.is_deflate()), (both, both));
        let text = "deflate through the handshake, ✓ ".repeat(3000);
        let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut buf = Vec::new();
        for (op, payload) in [(OpCode::Text, text.as_bytes()), (OpCode::Binary, &binary)] {
            session.write_message(op, payload).unwrap();
            let (got_op, got) = session.read_message(&mut buf).unwrap();
            assert_eq!((got_op, got), (op, payload));
        }
        session.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(server.join().unwrap(), both);
    }
}
