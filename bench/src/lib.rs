//! Side-by-side benchmarks of lowbit websockets against its peers (tungstenite,
//! fastwebsockets, yawc) and against ceilings (the raw transport, the bare codec, memcpy).
//! Run with `cargo bench -p bench`; it writes `BENCHMARKS.md` and `bench/ratios.svg`.

pub mod alloc;
pub mod harness;
pub mod mem;
pub mod pipe;
pub mod sock;

use harness::{Case, Plan};
use mem::{Dir, Path};
use sock::{Lib, Transport, Work};

const MIB: usize = 1 << 20;
const K16: usize = 16 * 1024;
const K4: usize = 4 * 1024;

/// Adds a case whose key contains one of the comma-separated `BENCH_FILTER` words (all
/// cases when it is unset); the body is only built for cases that run.
fn add(v: &mut Vec<Case>, id: String, body: impl FnOnce() -> harness::Body) {
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();
    if filter.split(',').any(|f| id.contains(f)) {
        v.push(Case::new(id, body()));
    }
}

/// Every case of the run (as filtered by `BENCH_FILTER`).
#[must_use]
pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let tn = |t| match t {
        Transport::Unix => "unix",
        Transport::Tcp => "tcp",
    };
    for (w, dir) in [("w1", Dir::ServerToClient), ("w2", Dir::ClientToServer)] {
        let g = format!("mem.{w}");
        add(&mut v, format!("{g}.ours16k"), || {
            mem::ours(dir, MIB, K16, Path::Message)
        });
        add(&mut v, format!("{g}.ours4k"), || {
            mem::ours(dir, MIB, K4, Path::Message)
        });
        add(&mut v, format!("{g}.tungstenite"), || {
            mem::tungstenite(dir, MIB)
        });
        add(&mut v, format!("{g}.fastwebsockets"), || {
            mem::fastwebsockets(dir, MIB)
        });
        add(&mut v, format!("{g}.yawc"), || mem::yawc(dir, MIB));
        add(&mut v, format!("{g}.raw"), || mem::raw(MIB));
        for t in [Transport::Unix, Transport::Tcp] {
            let g = format!("{}.{w}", tn(t));
            let work = Work::Bulk { dir, size: MIB };
            add(&mut v, format!("{g}.ours16k"), || {
                sock::case(t, Lib::Ours(K16), work)
            });
            add(&mut v, format!("{g}.tungstenite"), || {
                sock::case(t, Lib::Tungstenite, work)
            });
            add(&mut v, format!("{g}.fastwebsockets"), || {
                sock::case(t, Lib::Fastwebsockets, work)
            });
            add(&mut v, format!("{g}.raw"), || sock::case(t, Lib::Raw, work));
        }
    }
    add(&mut v, "mem.w1.memcpy1m".into(), || mem::memcpy(MIB, MIB));
    add(&mut v, "mem.w1.memcpy64k".into(), || {
        mem::memcpy(MIB, 64 * 1024)
    });
    for (s, size) in [("16", 16), ("1k", 1024)] {
        for (d, dir) in [("sc", Dir::ServerToClient), ("cs", Dir::ClientToServer)] {
            let g = format!("mem.w3.{s}.{d}");
            add(&mut v, format!("{g}.ours"), || {
                mem::ours(dir, size, K4, Path::Message)
            });
            add(&mut v, format!("{g}.tungstenite"), || {
                mem::tungstenite(dir, size)
            });
            add(&mut v, format!("{g}.fastwebsockets"), || {
                mem::fastwebsockets(dir, size)
            });
            add(&mut v, format!("{g}.yawc"), || mem::yawc(dir, size));
            add(&mut v, format!("{g}.raw"), || mem::raw(size));
        }
    }
    for (name, work) in [
        ("flush1", Work::Small { size: 16, batch: 1 }),
        (
            "flush64",
            Work::Small {
                size: 16,
                batch: 64,
            },
        ),
        ("echo", Work::Echo { size: 16 }),
    ] {
        let t = Transport::Tcp;
        let g = format!("tcp.w3.{name}");
        add(&mut v, format!("{g}.ours"), || {
            sock::case(t, Lib::Ours(K16), work)
        });
        add(&mut v, format!("{g}.tungstenite"), || {
            sock::case(t, Lib::Tungstenite, work)
        });
        add(&mut v, format!("{g}.fastwebsockets"), || {
            sock::case(t, Lib::Fastwebsockets, work)
        });
        add(&mut v, format!("{g}.raw"), || sock::case(t, Lib::Raw, work));
    }
    for (d, dir) in [("sc", Dir::ServerToClient), ("cs", Dir::ClientToServer)] {
        let g = format!("mem.w5.{d}");
        add(&mut v, format!("{g}.stream16k"), || {
            mem::ours(dir, MIB, K16, Path::Stream)
        });
        add(&mut v, format!("{g}.reader16k"), || {
            mem::ours(dir, MIB, K16, Path::Reader)
        });
        add(&mut v, format!("{g}.message16k"), || {
            mem::ours(dir, MIB, K16, Path::Message)
        });
        add(&mut v, format!("{g}.raw"), || mem::raw(MIB));
    }
    v
}

/// Runs everything and writes the report.
pub fn run_all() {
    let plan = Plan::from_env();
    let samples = harness::run(cases(), plan);
    let mut ids: Vec<_> = samples.ids();
    ids.sort();
    for id in ids {
        let g = id.rsplit_once('.').map_or("", |(g, _)| g);
        let r = samples
            .speed_ratio(&id, &format!("{g}.raw"))
            .unwrap_or(f64::NAN);
        let best = samples.min_ns(&format!("{g}.raw")).unwrap_or(f64::NAN)
            / samples.min_ns(&id).unwrap_or(f64::NAN);
        eprintln!(
            "{id:<40} {:>12.1} ns  x{r:.3} raw (fastest rounds: x{best:.3})",
            samples.median_ns(&id).unwrap_or(f64::NAN)
        );
    }
}
