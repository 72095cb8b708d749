//! W4: permessage-deflate on the memory pipe, 1 MiB of varied JSON-like records, level 1.
//! Each case writes then reads one message per iteration and reports the time of one phase:
//! `compress` (the write) or `inflate` (the read).

use std::hint::black_box;
use std::time::{Duration, Instant};

use futures::SinkExt;
use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateFlush};

use crate::harness::Body;
use crate::mem::runtime;
use crate::pipe::mem_pair;

/// Which phase a case reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The writing side: compress and frame.
    Compress,
    /// The reading side: unframe and inflate.
    Inflate,
}

/// `len` bytes of newline-separated JSON-like records from a fixed seed: varied ids, names,
/// numbers, tags and short texts, not one string repeated.
#[must_use]
pub fn json_records(len: usize) -> Vec<u8> {
    const WORDS: [&str; 32] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra",
        "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "order", "cancel",
        "fill", "quote", "trade", "book",
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = String::with_capacity(len + 512);
    let mut id = 100_000u64;
    while out.len() < len {
        id += 1 + next() % 7;
        let r = next();
        let w = |k: u64| WORDS[(k % 32) as usize];
        out.push_str(&format!(
            "{{\"id\":{id},\"user\":\"{}_{}\",\"ts\":{},\"price\":{}.{:02},\"qty\":{},\
             \"side\":\"{}\",\"tags\":[\"{}\",\"{}\"],\"active\":{},\"note\":\"{} {} {}\"}}\n",
            w(r),
            r % 997,
            1_700_000_000 + (next() % 86_400_000),
            next() % 10_000,
            next() % 100,
            next() % 500,
            if r & 1 == 0 { "buy" } else { "sell" },
            w(r >> 8),
            w(r >> 16),
            r & 2 == 0,
            w(r >> 24),
            w(r >> 32),
            w(r >> 40),
        ));
    }
    out.truncate(len);
    out.into_bytes()
}

/// The bare codec (zlib-rs, raw deflate, window 15, level 1): compress with a sync flush,
/// inflate the same bytes, context kept across messages, as permessage-deflate does.
#[must_use]
pub fn bare(phase: Phase, size: usize) -> Body {
    let data = json_records(size);
    let mut c = Deflate::new(1, false, 15);
    let mut d = Inflate::new(false, 15);
    let mut packed = vec![0u8; size + size / 8 + 1024];
    let mut plain = vec![0u8; size + 1024];
    Box::new(move |iters| {
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            let before = c.total_out();
            c.compress(&data, &mut packed, DeflateFlush::SyncFlush)
                .expect("compress");
            let n = (c.total_out() - before) as usize;
            if phase == Phase::Compress {
                spent += t.elapsed();
            }
            let t = Instant::now();
            let before = d.total_out();
            d.decompress(&packed[..n], &mut plain, InflateFlush::SyncFlush)
                .expect("inflate");
            let m = (d.total_out() - before) as usize;
            assert_eq!(m, size, "bare codec round trip");
            if phase == Phase::Inflate {
                spent += t.elapsed();
            }
            black_box(&plain);
        }
        spent
    })
}

/// Compressed size / original size with the bare codec (one message, fresh context).
#[must_use]
pub fn bare_ratio(size: usize) -> f64 {
    let data = json_records(size);
    let mut c = Deflate::new(1, false, 15);
    let mut packed = vec![0u8; size + size / 8 + 1024];
    c.compress(&data, &mut packed, DeflateFlush::SyncFlush)
        .expect("compress");
    // The 4-byte sync-flush tail is not sent (RFC 7692 §7.2.1).
    (c.total_out() as f64 - 4.0) / size as f64
}

/// yawc with permessage-deflate at level 1, server to client.
#[must_use]
pub fn yawc(phase: Phase, size: usize) -> Body {
    let (a, b) = mem_pair();
    let opts = yawc::Options::default()
        .with_limits(4 << 20, 8 << 20)
        .with_compression_level(yawc::CompressionLevel::fast());
    let ext = Some("permessage-deflate");
    let mut w =
        yawc::WebSocket::from_stream_with_extensions(a, yawc::Role::Server, ext, opts.clone())
            .expect("yawc");
    let mut r = yawc::WebSocket::from_stream_with_extensions(b, yawc::Role::Client, ext, opts)
        .expect("yawc");
    let data = bytes::Bytes::from(json_records(size));
    let rt = runtime();
    Box::new(move |iters| {
        rt.block_on(async {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                w.send(yawc::Frame::binary(data.clone()))
                    .await
                    .expect("send");
                if phase == Phase::Compress {
                    spent += t.elapsed();
                }
                let t = Instant::now();
                let f = r.next_frame().await.expect("read");
                assert_eq!(f.payload().len(), size, "yawc round trip");
                if phase == Phase::Inflate {
                    spent += t.elapsed();
                }
            }
            spent
        })
    })
}
