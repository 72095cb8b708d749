#![no_main]
//! Whole messages read through `Deflate` (inflating under the read limit, RSV1 rules, UTF-8 after
//! inflating) in either role with fuzz-chosen windows; `message_reader` must agree.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets_fuzz::{assert_same_seen, config, deflate_peer};
use lowbit_websockets_fuzz::{read_all_deflate, read_all_deflate_reader};

fuzz_target!(|data: &[u8]| {
    let [cfg, w, input @ ..] = data else { return };
    let limit = config(*cfg).1;
    let whole = read_all_deflate(deflate_peer(input, *cfg, *w), limit);
    assert_same_seen(
        &whole,
        &read_all_deflate_reader(deflate_peer(input, *cfg, *w)),
    );
});
