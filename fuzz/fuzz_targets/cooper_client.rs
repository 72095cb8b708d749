#![no_main]
//! A response head read by cooper's client side (bounded head reader, httparse, the `101` and
//! `Connection`/`Upgrade` rules), then a check that walks the headers.
use libfuzzer_sys::fuzz_target;
use lowbit_cooper::Client;
use lowbit_websockets_fuzz::Replay;

fuzz_target!(|data: &[u8]| {
    let [n, rest @ ..] = data else { return };
    let (schedule, input) = rest.split_at(usize::from(*n % 16).min(rest.len()));
    let client = Client::new("websocket", "example.com", "/chat").max_head(512);
    let result = client.connect(Replay::with_schedule(input, schedule), |response| {
        let h = response.headers();
        let ok = h.has_token("x", "y") || h.list("x").count() <= h.iter().count() * input.len();
        ok.then_some(()).ok_or("unreachable")
    });
    assert!(result.is_err() || result.unwrap().early.len() <= 512);
});
