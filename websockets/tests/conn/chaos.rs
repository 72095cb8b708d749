//! Conversations through a stream that returns `WouldBlock`, short reads and short writes at
//! random deliver byte-identical messages, in both roles.

use lowbit_websockets::{Conn, Error, OpCode};
use proptest::prelude::*;

use crate::support::{Chaos, duplex, payload};

#[derive(Debug, Clone)]
enum Send {
    Whole(OpCode, Vec<u8>),
    Streamed(OpCode, Vec<u8>, usize),
    /// Through `write_message_in_place`, masked in a working copy.
    InPlace(OpCode, Vec<u8>),
    Ping(Vec<u8>),
}

fn send_strategy() -> impl Strategy<Value = Send> {
    prop_oneof![
        4 => (any::<bool>(), 0..3000usize).prop_map(|(t, n)| {
            if t {
                Send::Whole(OpCode::Text, crate::support::text(n).into_bytes())
            } else {
                Send::Whole(OpCode::Binary, payload(n, n as u8))
            }
        }),
        2 => (0..5000usize, 1..600usize).prop_map(|(n, c)| {
            Send::Streamed(OpCode::Text, crate::support::text(n).into_bytes(), c)
        }),
        2 => (0..5000usize).prop_map(|n| Send::InPlace(OpCode::Binary, payload(n, n as u8))),
        1 => (0..125usize).prop_map(|n| Send::Ping(payload(n, 1))),
    ]
}

fn retry<T>(mut f: impl FnMut() -> Result<T, Error>) -> Option<T> {
    match f() {
        Ok(v) => Some(v),
        Err(e) if e.is_would_block() => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The client sends, the server echoes every data message back, the client checks the echoes.
fn conversation(sends: &[Send], seed: u64) {
    let (a, b) = duplex();
    let mut client = Conn::client(Chaos::new(a, seed), 1 << 20, 1024).unwrap();
    let mut server = Conn::server(Chaos::new(b, seed.wrapping_mul(7) + 1), 1 << 20, 1024).unwrap();
    let expected: Vec<(OpCode, Vec<u8>)> = sends
        .iter()
        .filter_map(|s| match s {
            Send::Whole(op, d) | Send::Streamed(op, d, _) | Send::InPlace(op, d) => {
                Some((*op, d.clone()))
            }
            Send::Ping(_) => None,
        })
        .collect();
    let (mut next_send, mut server_got, mut client_got) = (0, 0, 0);
    let mut echo: Option<(OpCode, Vec<u8>)> = None;
    let (mut sbuf, mut cbuf) = (Vec::new(), Vec::new());
    let mut rounds = 0;
    let mut started = false;
    let mut stream_src: &[u8] = &[];
    // The working copy an in-place send masks, kept untouched across resumptions.
    let mut in_place = Vec::new();
    while client_got < expected.len() {
        rounds += 1;
        assert!(rounds < 1_000_000, "no progress");
        if let Some(s) = sends.get(next_send) {
            if !started {
                // A streamed message reads from one slice reader across resumptions.
                stream_src = match s {
                    Send::Streamed(_, d, _) => d,
                    _ => &[],
                };
                if let Send::InPlace(_, d) = s {
                    in_place.clone_from(d);
                }
                started = true;
            }
            let done = retry(|| match s {
                Send::Whole(op, d) => client.write_message(*op, d),
                Send::Streamed(op, _, c) => client.stream_message(*op, 0, *c, &mut stream_src),
                Send::InPlace(op, _) => client.write_message_in_place(*op, &mut in_place),
                Send::Ping(p) => client.write_message(OpCode::Ping, p),
            });
            if done.is_some() {
                next_send += 1;
                started = false;
            }
        }
        match &mut echo {
            Some((op, d)) => {
                // Every other echo goes through the in-place path (a server's leaves it as is).
                let sent = if server_got % 2 == 0 {
                    retry(|| server.write_message_in_place(*op, d))
                } else {
                    retry(|| server.write_message(*op, d))
                };
                if sent.is_some() {
                    echo = None;
                }
            }
            None => {
                if let Some((op, p)) =
                    retry(|| server.read_message(&mut sbuf).map(|(o, p)| (o, p.len())))
                {
                    let (eop, ed) = &expected[server_got];
                    assert_eq!(op, *eop);
                    assert_eq!(&sbuf[..p], &ed[..], "server got message {server_got}");
                    server_got += 1;
                    echo = Some((op, sbuf[..p].to_vec()));
                }
            }
        }
        if let Some((op, n)) = retry(|| client.read_message(&mut cbuf).map(|(o, p)| (o, p.len()))) {
            let (eop, ed) = &expected[client_got];
            assert_eq!(op, *eop);
            assert_eq!(&cbuf[..n], &ed[..], "client got echo {client_got}");
            client_got += 1;
        }
        let _ = retry(|| client.flush());
        let _ = retry(|| server.flush());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn chaos_conversations_are_byte_identical(
        sends in proptest::collection::vec(send_strategy(), 1..8),
        seed in any::<u64>(),
    ) {
        conversation(&sends, seed);
    }
}
