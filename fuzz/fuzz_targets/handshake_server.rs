#![no_main]
//! A request head (RFC 6455 checks over cooper and httparse) with reads cut where the fuzzer
//! chooses; after a `101`, the bytes sent behind the head are read as messages.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::handshake::Handshake;
use lowbit_websockets_fuzz::{Replay, assert_http_response, hook, read_all};

fuzz_target!(|data: &[u8]| {
    let [n, rest @ ..] = data else { return };
    let (schedule, input) = rest.split_at(usize::from(*n % 16).min(rest.len()));
    let handshake = Handshake::new()
        .subprotocols(["chat"])
        .server_extensions(hook)
        .max_head(512);
    let mut stream = Replay::with_schedule(input, schedule);
    match handshake.accept(&mut stream) {
        Ok(opened) => drop(read_all(opened.conn)),
        Err(_) => assert_http_response(&stream.written),
    }
});
