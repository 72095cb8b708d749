#!/usr/bin/env bash
# Runs each fuzz target for a bounded time: `bash fuzz/run.sh [seconds-per-target] [target...]`
# (default: 10 seconds, every target listed by `cargo fuzz list`).
#
# Stable Rust is enough: `cargo fuzz run --sanitizer none` passes no `-Z` flag (the default
# address sanitizer needs nightly). Overflow checks and debug assertions stay on
# (cargo-fuzz builds with `-Cdebug-assertions`). cargo-fuzz is installed from crates.io when
# missing; nothing else is fetched.
#
# Each target starts from the committed seeds in corpus/<target>/ and grows a scratch corpus in
# work/<target>/ (ignored by git). A crash stops the script with a non-zero status and leaves the
# input in artifacts/<target>/; reproduce it with
#   cargo fuzz run --sanitizer none <target> artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-10}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build --sanitizer none
mkdir -p work
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "corpus/$target"
    log="work/$target.log"
    status=0
    cargo fuzz run --sanitizer none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    echo "$target: ${seconds}s, ${runs:-?} runs, peak rss ${rss:-?} MB, corpus $(ls "work/$target" | wc -l)"
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log" >&2
        echo "!! $target failed (status $status); the input is in fuzz/artifacts/$target" >&2
        exit 1
    fi
done
echo "all ${#targets[@]} targets ran ${seconds}s each without a failure"
