//! The interleaved runner: every case is calibrated, warmed up, then measured once per round,
//! round after round, so that machine drift hits all libraries alike.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A measured body: runs `iters` iterations and returns the time they took (setup excluded).
pub type Body = Box<dyn FnMut(u64) -> Duration>;

/// One thing to measure.
pub struct Case {
    /// Unique key, e.g. `mem.w1.ours16k`.
    pub id: String,
    body: Body,
    iters: u64,
    /// Nanoseconds per iteration, one per round.
    samples: Vec<f64>,
}

impl Case {
    /// A case with a key and a body.
    pub fn new(id: impl Into<String>, body: Body) -> Self {
        Self {
            id: id.into(),
            body,
            iters: 1,
            samples: Vec::new(),
        }
    }
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds after warm-up.
    pub rounds: usize,
    /// Target time of one sample.
    pub sample: Duration,
}

impl Plan {
    /// From `BENCH_MODE` (`quick` or `full`, default `full`) and optional `BENCH_ROUNDS`.
    #[must_use]
    pub fn from_env() -> Self {
        let quick = std::env::var("BENCH_MODE").is_ok_and(|m| m == "quick");
        let mut plan = if quick {
            Self {
                rounds: 7,
                sample: Duration::from_millis(5),
            }
        } else {
            Self {
                rounds: 61,
                sample: Duration::from_millis(40),
            }
        };
        if let Some(r) = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
        {
            plan.rounds = r;
        }
        plan
    }
}

/// Per-case samples after a run: nanoseconds per iteration, by round.
pub struct Samples(HashMap<String, Vec<f64>>);

/// The median of `v` (which it sorts); NaN when empty.
#[must_use]
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

impl Samples {
    /// Median nanoseconds per iteration of a case.
    #[must_use]
    pub fn median_ns(&self, id: &str) -> Option<f64> {
        let mut v = self.0.get(id)?.clone();
        Some(median(&mut v))
    }

    /// The fastest round of a case, in nanoseconds per iteration.
    #[must_use]
    pub fn min_ns(&self, id: &str) -> Option<f64> {
        self.0.get(id)?.iter().copied().reduce(f64::min)
    }

    /// Median over rounds of `time(b) / time(a)`: how many times faster `a` ran than `b`
    /// in the same round.
    #[must_use]
    pub fn speed_ratio(&self, a: &str, b: &str) -> Option<f64> {
        let (va, vb) = (self.0.get(a)?, self.0.get(b)?);
        let mut r: Vec<f64> = va.iter().zip(vb).map(|(x, y)| y / x).collect();
        Some(median(&mut r))
    }
}

/// Calibrates, warms up and runs `cases` for `plan.rounds` interleaved rounds.
#[must_use]
pub fn run(mut cases: Vec<Case>, plan: Plan) -> Samples {
    let started = Instant::now();
    for case in &mut cases {
        // Calibrate: double the iteration count until one sample takes the target time.
        let mut iters = 1u64;
        loop {
            let t = (case.body)(iters);
            if t >= plan.sample || iters >= 1 << 28 {
                let scale = plan.sample.as_secs_f64() / t.as_secs_f64().max(1e-9);
                case.iters = ((iters as f64 * scale) as u64).max(1);
                break;
            }
            iters *= 2;
        }
        // Warm up at the final size.
        let _ = (case.body)(case.iters);
        eprintln!("calibrated {:<40} {:>10} iterations", case.id, case.iters);
    }
    eprintln!("calibration took {:.1?}", started.elapsed());
    // Cases of one group (the key up to its last dot) run back to back, so that ratios
    // within a group compare runs seconds apart; groups and members rotate every round.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let g =
            c.id.rsplit_once('.')
                .map_or(c.id.as_str(), |(g, _)| g)
                .to_string();
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    let ng = groups.len();
    for round in 0..plan.rounds {
        for k in 0..ng {
            let members = &groups[(k + round) % ng].1;
            for j in 0..members.len() {
                let case = &mut cases[members[(j + round) % members.len()]];
                let t = (case.body)(case.iters);
                case.samples.push(t.as_nanos() as f64 / case.iters as f64);
            }
        }
        eprintln!(
            "round {}/{} done at {:.1?}",
            round + 1,
            plan.rounds,
            started.elapsed()
        );
    }
    Samples(cases.into_iter().map(|c| (c.id, c.samples)).collect())
}

impl Samples {
    /// The case keys.
    #[must_use]
    pub fn ids(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}
