#![no_main]
//! The server handshake without I/O against the blocking one: a head read by `HeadReader`
//! across stalls and short reads wherever the fuzzer puts them, answered by
//! `Handshake::respond`, gives the response `accept` sends on a clean stream, and the
//! connection `Accepted::open` makes reads the same messages.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::handshake::Handshake;
use lowbit_websockets::handshake::cooper::{Error, HeadReader};
use lowbit_websockets_fuzz::{Replay, assert_same_transcript, hook, read_all};

fuzz_target!(|data: &[u8]| {
    let [n, rest @ ..] = data else { return };
    let (schedule, input) = rest.split_at(usize::from(*n % 32).min(rest.len()));
    let handshake = Handshake::new()
        .subprotocols(["chat"])
        .server_extensions(hook)
        .max_head(512);
    let mut clean = Replay::new(input);
    let accepted = handshake.accept(&mut clean);
    let mut stalled = Replay::with_schedule(input, schedule);
    let mut head = HeadReader::new(512);
    let read = loop {
        match head.read_from(&mut stalled) {
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => break other,
        }
    };
    if read.is_err() && !head.is_too_large() {
        // The stream ended inside the head: `accept` failed the same way, sending nothing.
        assert!(accepted.is_err() && clean.written.is_empty());
        return;
    }
    let mut response = Vec::new();
    let responded = handshake.respond(&head, |_, _| Ok(()), &mut response);
    match (accepted, responded) {
        (Ok(opened), Ok(ok)) => {
            assert_eq!(opened.conn.get_ref().written, response);
            assert_eq!(
                (&opened.subprotocol, &opened.extensions),
                (&ok.subprotocol, &ok.extensions)
            );
            let mut conn = opened.conn;
            conn.get_mut().written.clear();
            let resumed = ok.open(&mut stalled).unwrap().conn;
            assert_same_transcript(&read_all(conn), &read_all(resumed));
        }
        (Err(a), Err(r)) => {
            assert_eq!(a.to_string(), r.to_string());
            assert_eq!(clean.written, response);
        }
        (a, r) => panic!("accept {:?} but respond {:?}", a.err(), r.err()),
    }
});
