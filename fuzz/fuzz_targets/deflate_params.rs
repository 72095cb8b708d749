#![no_main]
//! RFC 7692 negotiation: any offer or response text is parsed without panicking, and what a
//! server answers to our own offer is accepted by the client with mirrored parameters.
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::{negotiate, offer, verify_response};
use lowbit_websockets_fuzz::deflate_params;

fuzz_target!(|data: &[u8]| {
    let [c, s, text @ ..] = data else { return };
    let (client, server) = (deflate_params(*c), deflate_params(*s));
    let _ = (negotiate([text], &server), verify_response(&client, [text]));
    let (ours, response) = negotiate([offer(&client)], &server).expect("our own offer");
    let theirs = verify_response(&client, [&response]).unwrap().unwrap();
    assert_eq!(
        (theirs.outgoing, theirs.incoming),
        (ours.incoming, ours.outgoing)
    );
});
