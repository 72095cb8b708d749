#![no_main]
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::{Conn, OpCode};
use lowbit_websockets_fuzz::{Replay, check_written, config};

fuzz_target!(|data: &[u8]| {
    let [cfg, input @ ..] = data else { return };
    let (role, limit, chunk) = config(*cfg);
    let mut conn = Conn::new(Replay::new(input), role, limit, chunk).unwrap();
    let mut buf = Vec::new();
    while let Ok((op, payload)) = conn.read_message(&mut buf) {
        assert!(op.is_data_start() && payload.len() <= limit || op == OpCode::Close);
        assert!(op != OpCode::Text || std::str::from_utf8(payload).is_ok());
    }
    check_written(role, &conn.get_ref().written);
});
