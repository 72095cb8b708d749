#![no_main]
//! The write path under stalls and short writes: whole and streamed messages, corking, flushes
//! and pings answered in between arrive on the wire intact, in order and correctly framed.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets_fuzz::{config, drive_writes};

fuzz_target!(|data: &[u8]| {
    let [cfg, n, rest @ ..] = data else { return };
    let (schedule, ops) = rest.split_at(usize::from(*n % 32).min(rest.len()));
    let (role, _, chunk) = config(*cfg);
    drive_writes(role, chunk, schedule, ops);
});
