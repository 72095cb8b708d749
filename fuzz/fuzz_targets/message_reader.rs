#![no_main]
//! Reading through `message_reader` gives the same messages and replies as `read_message`
//! (except that a close in the middle of a message aborts that message's reader).
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::Conn;
use lowbit_websockets_fuzz::{Replay, config, read_all, read_all_with_reader, seen};

fuzz_target!(|data: &[u8]| {
    let [cfg, input @ ..] = data else { return };
    let (role, limit, chunk) = config(*cfg);
    let whole = seen(read_all(
        Conn::new(Replay::new(input), role, limit, chunk).unwrap(),
    ));
    let streamed = read_all_with_reader(Conn::new(Replay::new(input), role, limit, chunk).unwrap());
    assert_eq!(whole, streamed);
});
