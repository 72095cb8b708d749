#![no_main]
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::Utf8Validator;
use lowbit_websockets_fuzz::{split3, utf8_failure_piece};

fuzz_target!(|data: &[u8]| {
    let [a, b, text @ ..] = data else { return };
    let pieces = split3(text, *a, *b);
    let mut v = Utf8Validator::new();
    let got = pieces.iter().position(|p| v.feed(p).is_err());
    let got = got.or_else(|| v.finish().is_err().then_some(pieces.len()));
    assert_eq!(got, utf8_failure_piece(&pieces), "{pieces:?}");
});
