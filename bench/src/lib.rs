//! Side-by-side benchmarks of lowbit websockets against its peers (tungstenite,
//! fastwebsockets, yawc) and against ceilings (the raw transport, the bare codec, memcpy).
//! Run with `cargo bench -p bench`; it writes `BENCHMARKS.md` and `bench/ratios.svg`.

pub mod alloc;
pub mod allocs;
pub mod deflate;
pub mod harness;
pub mod mem;
pub mod pipe;
pub mod report;
pub mod sock;

use harness::{Case, Plan};
use mem::{Dir, Path};
use report::{Row, Target, Unit};
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
        if w == "w2" {
            add(&mut v, format!("{g}.oursinplace"), || {
                mem::ours(dir, MIB, K16, Path::InPlace)
            });
        }
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
            if w == "w2" {
                add(&mut v, format!("{g}.oursinplace"), || {
                    sock::case(t, Lib::OursInPlace(K16), work)
                });
            }
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
    for (s, size) in [("16", 16), ("1k", 1024), ("8k", 8192)] {
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
        add(&mut v, format!("{g}.ours64k"), || {
            sock::case(t, Lib::Ours(64 * 1024), work)
        });
        add(&mut v, format!("{g}.ours4k"), || {
            sock::case(t, Lib::Ours(K4), work)
        });
        add(&mut v, format!("{g}.tungstenite"), || {
            sock::case(t, Lib::Tungstenite, work)
        });
        add(&mut v, format!("{g}.fastwebsockets"), || {
            sock::case(t, Lib::Fastwebsockets, work)
        });
        add(&mut v, format!("{g}.raw"), || sock::case(t, Lib::Raw, work));
    }
    for (p, phase) in [
        ("c", deflate::Phase::Compress),
        ("i", deflate::Phase::Inflate),
    ] {
        let g = format!("mem.w4{p}");
        add(&mut v, format!("{g}.raw"), || deflate::bare(phase, MIB));
        add(&mut v, format!("{g}.yawc"), || deflate::yawc(phase, MIB));
        add(&mut v, format!("{g}.ours"), || {
            deflate::ours(phase, MIB, K16, Path::Message)
        });
        add(&mut v, format!("{g}.ours4k"), || {
            deflate::ours(phase, MIB, K4, Path::Message)
        });
    }
    let both = deflate::Phase::Both;
    add(&mut v, "mem.w5d.raw".into(), || deflate::bare(both, MIB));
    add(&mut v, "mem.w5d.message16k".into(), || {
        deflate::ours(both, MIB, K16, Path::Message)
    });
    add(&mut v, "mem.w5d.stream16k".into(), || {
        deflate::ours(both, MIB, K16, Path::Stream)
    });
    add(&mut v, "mem.w5d.reader16k".into(), || {
        deflate::ours(both, MIB, K16, Path::Reader)
    });
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

/// The rows of the report, in order.
#[must_use]
pub fn rows(ours_deflate: bool) -> Vec<Row> {
    let mib = Unit::GBps(MIB as f64);
    let raw = Some(("raw", "raw pipe"));
    let row = |what: &str, transport, group: &str, ours: &str, ceiling, unit, target| Row {
        what: what.into(),
        transport,
        group: group.into(),
        ours: ours.into(),
        ceiling,
        unit,
        target,
    };
    let mut v = vec![
        row(
            "W1 1 MiB server→client, 4 KiB chunks",
            "mem",
            "mem.w1",
            "ours4k",
            raw,
            mib,
            Target::Ceiling(0.95),
        ),
        row(
            "W1 1 MiB server→client, 16 KiB chunks",
            "mem",
            "mem.w1",
            "ours16k",
            raw,
            mib,
            Target::Ceiling(0.95),
        ),
        row(
            "W2 1 MiB client→server (masked), 4 KiB chunks",
            "mem",
            "mem.w2",
            "ours4k",
            raw,
            mib,
            Target::Ceiling(0.8),
        ),
        row(
            "W2 1 MiB client→server (masked), 16 KiB chunks",
            "mem",
            "mem.w2",
            "ours16k",
            raw,
            mib,
            Target::Ceiling(0.8),
        ),
        row(
            "W2 1 MiB client→server, masked in place (`write_message_in_place`)",
            "mem",
            "mem.w2",
            "oursinplace",
            raw,
            mib,
            Target::None,
        ),
        row(
            "W3 16 B server→client, write + read",
            "mem",
            "mem.w3.16.sc",
            "ours",
            raw,
            Unit::Ns,
            Target::Peer(2.0),
        ),
        row(
            "W3 16 B client→server, write + read",
            "mem",
            "mem.w3.16.cs",
            "ours",
            raw,
            Unit::Ns,
            Target::Peer(2.0),
        ),
        row(
            "W3 1 KiB server→client, write + read",
            "mem",
            "mem.w3.1k.sc",
            "ours",
            raw,
            Unit::Ns,
            Target::Peer(1.5),
        ),
        row(
            "W3 1 KiB client→server, write + read",
            "mem",
            "mem.w3.1k.cs",
            "ours",
            raw,
            Unit::Ns,
            Target::Peer(1.5),
        ),
        row(
            "W3 8 KiB server→client, write + read",
            "mem",
            "mem.w3.8k.sc",
            "ours",
            raw,
            Unit::Ns,
            Target::None,
        ),
        row(
            "W3 8 KiB client→server, write + read",
            "mem",
            "mem.w3.8k.cs",
            "ours",
            raw,
            Unit::Ns,
            Target::None,
        ),
        row(
            "W3 16 B one-way, flush per message",
            "tcp",
            "tcp.w3.flush1",
            "ours",
            Some(("raw", "raw TCP")),
            Unit::Mps,
            Target::Ceiling(0.95),
        ),
        row(
            "W3 16 B one-way, corked (flush every 64)",
            "tcp",
            "tcp.w3.flush64",
            "ours",
            Some(("raw", "raw TCP, same batching")),
            Unit::Mps,
            Target::Ceiling(0.9),
        ),
        row(
            "W3 16 B echo round trip",
            "tcp",
            "tcp.w3.echo",
            "ours",
            Some(("raw", "raw TCP")),
            Unit::Us,
            Target::Ceiling(0.95),
        ),
    ];
    let deflate_target = if ours_deflate {
        Target::CeilingAndPeers(0.95)
    } else {
        Target::None
    };
    v.push(row(
        "W4 deflate 1 MiB JSON-like, compress phase, 16 KiB chunks",
        "mem",
        "mem.w4c",
        "ours",
        Some(("raw", "bare zlib-rs")),
        mib,
        deflate_target,
    ));
    v.push(row(
        "W4 deflate 1 MiB JSON-like, inflate phase, 16 KiB chunks",
        "mem",
        "mem.w4i",
        "ours",
        Some(("raw", "bare zlib-rs")),
        mib,
        deflate_target,
    ));
    for (p, pn) in [("c", "compress"), ("i", "inflate")] {
        v.push(row(
            &format!("W4 deflate 1 MiB JSON-like, {pn} phase, 4 KiB chunks"),
            "mem",
            &format!("mem.w4{p}"),
            "ours4k",
            Some(("raw", "bare zlib-rs")),
            mib,
            deflate_target,
        ));
    }
    for (t, tn) in [("unix", "unix"), ("tcp", "tcp")] {
        v.push(row(
            "W1 1 MiB server→client, 16 KiB chunks",
            tn,
            &format!("{t}.w1"),
            "ours16k",
            Some(("raw", "raw socket")),
            mib,
            Target::None,
        ));
        v.push(row(
            "W2 1 MiB client→server, 16 KiB chunks",
            tn,
            &format!("{t}.w2"),
            "ours16k",
            Some(("raw", "raw socket")),
            mib,
            Target::None,
        ));
        v.push(row(
            "W2 1 MiB client→server, masked in place (`write_message_in_place`)",
            tn,
            &format!("{t}.w2"),
            "oursinplace",
            Some(("raw", "raw socket")),
            mib,
            Target::None,
        ));
    }
    for (name, what) in [
        ("message16k", "write_message + read_message"),
        ("stream16k", "stream_message + read_message"),
        ("reader16k", "write_message + message_reader"),
    ] {
        v.push(row(
            &format!("W5 deflate 1 MiB server→client, {what} (both phases)"),
            "mem",
            "mem.w5d",
            name,
            Some(("raw", "bare zlib-rs, both phases")),
            mib,
            Target::None,
        ));
    }
    for (d, dn) in [("sc", "server→client"), ("cs", "client→server")] {
        let g = format!("mem.w5.{d}");
        v.push(row(
            &format!("W5 1 MiB {dn}, write_message + read_message"),
            "mem",
            &g,
            "message16k",
            raw,
            mib,
            Target::None,
        ));
        v.push(row(
            &format!("W5 1 MiB {dn}, stream_message (16 KiB frames) + read_message"),
            "mem",
            &g,
            "stream16k",
            raw,
            mib,
            Target::None,
        ));
        v.push(row(
            &format!("W5 1 MiB {dn}, write_message + message_reader"),
            "mem",
            &g,
            "reader16k",
            raw,
            mib,
            Target::None,
        ));
    }
    v
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs everything and writes the report.
pub fn run_all() {
    let started = std::time::Instant::now();
    let load0 = loadavg();
    // A filtered run is for profiling one case: skip the allocation pass.
    let filtered = std::env::var("BENCH_FILTER").is_ok_and(|f| !f.is_empty());
    let (allocs, heap) = if filtered {
        (Vec::new(), Vec::new())
    } else {
        let mut a = allocs::alloc_rows();
        a.extend(allocs::deflate_alloc_rows());
        let mut h = allocs::heap_rows();
        h.extend(allocs::deflate_heap_rows());
        (a, h)
    };
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
            "{id:<40} {:>12.1} ns  x{r:.3} raw  (fastest rounds x{best:.3})",
            samples.median_ns(&id).unwrap_or(f64::NAN)
        );
    }
    if filtered {
        // A partial run leaves BENCHMARKS.md alone.
        return;
    }
    let ours_deflate = samples.median_ns("mem.w4c.ours").is_some();
    let rows = rows(ours_deflate);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let md = report::write(
        &root,
        &report::Inputs {
            samples: &samples,
            rows: &rows,
            allocs: &allocs,
            heap: &heap,
            plan,
            deflate_ratio: deflate::bare_ratio(MIB),
            ours_deflate_ratio: deflate::ours_ratio(MIB),
            ours_deflate,
            load: (load0, loadavg()),
            seconds: started.elapsed().as_secs_f64(),
        },
    );
    println!("{md}");
}
