#![no_main]
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::{Decoded, Header, MAX_HEADER_LEN, Role, validate};
use lowbit_websockets_fuzz::assert_prefixes_incomplete;
fuzz_target!(|data: &[u8]| {
    let Ok(Decoded::Complete { header, len }) = Header::decode(data) else {
        return;
    };
    assert_prefixes_incomplete(data, len);
    let _ = validate(&header, Role::Server, 4).and(validate(&header, Role::Client, 0));
    let mut out = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    let again = Header::decode(&out[..n]).unwrap();
    assert!(n == header.encoded_len() && again == Decoded::Complete { header, len: n });
    assert!(
        n != len || out[..n] == data[..n],
        "shortest form re-encodes byte for byte"
    );
});
