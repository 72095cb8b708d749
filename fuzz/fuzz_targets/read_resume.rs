#![no_main]
//! Stalls (`WouldBlock`) and short reads and writes wherever the fuzzer puts them change nothing:
//! the same messages, the same ending and the same replies as with a clean stream.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::Conn;
use lowbit_websockets_fuzz::{Replay, assert_same_transcript, config, read_all};

fuzz_target!(|data: &[u8]| {
    let [cfg, n, rest @ ..] = data else { return };
    let (schedule, input) = rest.split_at(usize::from(*n).min(rest.len()));
    let (role, limit, chunk) = config(*cfg);
    let clean = Conn::new(Replay::new(input), role, limit, chunk).unwrap();
    let stalled = Conn::new(Replay::with_schedule(input, schedule), role, limit, chunk).unwrap();
    assert_same_transcript(&read_all(clean), &read_all(stalled));
});
