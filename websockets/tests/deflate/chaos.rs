use lowbit_websockets::{
    Conn, Deflate, DeflateParams, Error, OpCode, negotiate, offer, verify_response,
};

use crate::support::{Chaos, End, duplex, text};

fn retry<T>(mut f: impl FnMut() -> Result<T, Error>) -> T {
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// Short reads, short writes and WouldBlock everywhere: every message arrives intact, with the
/// compression context kept across messages (a lost or repeated byte would corrupt the rest).
#[test]
fn deflate_survives_chaos_both_ways() {
    for seed in 1..6u64 {
        let params = DeflateParams::default();
        let (a, b) = duplex();
        let (sa, resp) = negotiate([offer(&params)], &params).unwrap();
        let ca = verify_response(&params, [&resp]).unwrap().unwrap();
        let mut c: Deflate<Chaos<End>> = Deflate::new(
            Conn::client(Chaos::new(a, seed), 1 << 20, 512).unwrap(),
            &ca,
            &params,
        )
        .unwrap();
        let mut s: Deflate<Chaos<End>> = Deflate::new(
            Conn::server(Chaos::new(b, seed * 7), 1 << 20, 512).unwrap(),
            &sa,
            &params,
        )
        .unwrap();
        let mut buf = Vec::new();
        for (i, len) in [0usize, 10, 700, 5000, 40_000].into_iter().enumerate() {
            let msg = text(len + i).into_bytes();
            retry(|| c.write_message(OpCode::Text, &msg));
            retry(|| c.flush());
            let got = retry(|| s.read_message(&mut buf).map(|(op, p)| (op, p.to_vec())));
            assert_eq!(got, (OpCode::Text, msg.clone()), "seed {seed} message {i}");
            // The same reader on every retry: it remembers what it gave.
            let mut reader = &msg[..];
            retry(|| s.stream_message(OpCode::Binary, 0, 300, &mut reader));
            retry(|| s.flush());
            let got = retry(|| c.read_message(&mut buf).map(|(op, p)| (op, p.to_vec())));
            assert_eq!(got, (OpCode::Binary, msg), "seed {seed} message {i}");
        }
    }
}
