//! `cargo bench -p bench`: every workload, interleaved round by round; writes BENCHMARKS.md.

#[global_allocator]
static GLOBAL: bench::alloc::Counting = bench::alloc::Counting;

fn main() {
    bench::run_all();
}
