#![no_main]
//! Stalls (`WouldBlock`) and short reads wherever the fuzzer puts them change nothing: the same
//! messages, the same ending and the same frames written back as with one clean read.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::Conn;
use lowbit_websockets_fuzz::{Replay, config, read_all};

fuzz_target!(|data: &[u8]| {
    let [cfg, n, rest @ ..] = data else { return };
    let (schedule, input) = rest.split_at(usize::from(*n).min(rest.len()));
    let (role, limit, chunk) = config(*cfg);
    let clean = Conn::new(Replay::new(input), role, limit, chunk).unwrap();
    let stalled = Conn::new(Replay::with_schedule(input, schedule), role, limit, chunk).unwrap();
    assert_eq!(read_all(clean), read_all(stalled));
});
