#!/usr/bin/env bash
# Scale: N connections on one event loop (examples/mio_server.rs), driven by examples/load.rs.
#
#   scale/run.sh [--conns N] [--messages M] [--window W] [--modes "plain ..."]
#                [--dedicated-conns N] [--write]
#
# For each mode, starts the server, measures its resident memory (VmRSS) before any
# connection, with N idle connections open, and after every connection has echoed its messages
# (still open), then lets the load generator close them, stops the server by its PID and prints
# one markdown row. Fails if any message is lost or corrupted or any connection fails.
# Modes: "plain" (no extension); with the deflate feature built, each deflate preset the server
# offers (`mio_server --presets` lists them). With --write, the section between the
# `scale:begin` and `scale:end` markers of BENCHMARKS.md is replaced by this run's (appended if
# missing).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=10000
MESSAGES=10
WINDOW=4
# The "default" deflate preset keeps a dedicated 15-bit zlib-rs pair (about 418 KiB) per
# connection on each side; it runs with fewer connections so both processes stay near 1 GB.
DEDICATED=2000
MODES=""
WRITE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --conns) CONNS="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --window) WINDOW="$2"; shift 2 ;;
        --dedicated-conns) DEDICATED="$2"; shift 2 ;;
        --modes) MODES="$2"; shift 2 ;;
        --write) WRITE=1; shift ;;
        *) echo "usage: $0 [--conns N] [--messages M] [--window W] [--modes \"plain ...\"] [--dedicated-conns N] [--write]" >&2; exit 2 ;;
    esac
done

# Each process needs one descriptor per connection, plus a few.
WANT=$((CONNS + 256))
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$WANT" ]; then
    echo "scale: the hard limit on open files is $HARD, $WANT needed" >&2
    exit 1
fi
ulimit -n "$WANT"

FEATURES=""
if grep -q '^deflate-zlib = \[' websockets/Cargo.toml; then
    FEATURES="--features deflate-zlib"   # brings the deflate feature and the C zlib backend
fi
# shellcheck disable=SC2086
cargo build --release -q -p lowbit-websockets --example mio_server --example load $FEATURES
BIN=target/release/examples
if [ -z "$MODES" ]; then
    MODES="plain $("$BIN/mio_server" --presets 2>/dev/null || true)"
fi

TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then kill -INT "$SERVER"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Starts the server in the background (SERVER: its PID, ADDR: its address). The output file is
# removed first: the shell truncates it only once the child runs, and a stale "listening" line
# from the previous server would hand out a dead port.
start_server() {
    rm -f "$WORK/server.out" "$WORK/server.err"
    "$BIN/mio_server" 127.0.0.1:0 "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER=$!
    ADDR=""
    for _ in $(seq 200); do
        ADDR=$(awk '/^listening on / { print $3 }' "$WORK/server.out" 2>/dev/null || true)
        [ -n "$ADDR" ] && return 0
        sleep 0.05
    done
    cat "$WORK/server.err" >&2
    echo "scale: the server did not start" >&2
    exit 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

ROWS=()
STATUS=0
for MODE in $MODES; do
    ARGS=()
    if [ "$MODE" != plain ]; then ARGS=(--deflate "$MODE"); fi
    N=$CONNS
    if [ "$MODE" = default ] && [ "$N" -gt "$DEDICATED" ]; then N=$DEDICATED; fi
    start_server "${ARGS[@]}"
    sleep 0.2
    BEFORE=$(rss_kib "$SERVER")

    coproc LOAD { exec "$BIN/load" "$ADDR" --conns "$N" --messages "$MESSAGES" \
        --window "$WINDOW" --pause "${ARGS[@]}"; }
    LOAD_PID=$LOAD_PID
    read -r IDLE_LINE <&"${LOAD[0]}"
    sleep 0.2
    IDLE=$(rss_kib "$SERVER")
    CPU0=$(cpu_ticks "$SERVER")
    echo >&"${LOAD[1]}"
    read -r ECHO_LINE <&"${LOAD[0]}"
    CPU1=$(cpu_ticks "$SERVER")
    sleep 0.2
    ECHOED=$(rss_kib "$SERVER")
    echo >&"${LOAD[1]}"
    read -r CLOSE_LINE <&"${LOAD[0]}" || CLOSE_LINE="(no close line)"
    RC=0
    wait "$LOAD_PID" || RC=$?
    sleep 0.5
    kill -INT "$SERVER"
    wait "$SERVER" || true
    SERVER=""

    echo "== $MODE" >&2
    echo "load:   $IDLE_LINE" >&2
    echo "load:   $ECHO_LINE" >&2
    echo "load:   $CLOSE_LINE" >&2
    sed 's/^/server: /' "$WORK/server.err" >&2
    if [ "$RC" -ne 0 ]; then
        echo "scale: the load generator failed ($RC) in mode $MODE" >&2
        STATUS=1
    fi

    PER_IDLE=$(awk -v a="$IDLE" -v b="$BEFORE" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')
    PER_ECHO=$(awk -v a="$ECHOED" -v b="$BEFORE" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')
    MSGS=$(sed -E 's/^echoed ([0-9]+) of ([0-9]+) .*/\1 \/ \2/' <<<"$ECHO_LINE")
    BAD=$(sed -E 's/.*; ([0-9]+) corrupted, ([0-9]+) connections failed.*/\1 \/ \2/' <<<"$ECHO_LINE")
    MIBS=$(sed -E 's/.* ([0-9.]+) MiB\/s each way.*/\1/' <<<"$ECHO_LINE")
    RATE=$(sed -E 's/.* ([0-9]+) messages\/s.*/\1/' <<<"$ECHO_LINE")
    CPU=$(awk -v t=$((CPU1 - CPU0)) -v hz="$TICK" 'BEGIN { printf "%.2f", t / hz }')
    ROWS+=("| $MODE | $N | $BEFORE | $IDLE | **$PER_IDLE** | $ECHOED | $PER_ECHO | $MSGS | $BAD | $MIBS | $RATE | $CPU |")
done

# Backpressure, in every mode: 2 connections send 16 messages of 100 KB to 1 MiB (random
# printable bytes, which deflate hardly shrinks) without
# reading their echoes for half a second, so the server's echo writes (and, with deflate, its
# compressing writes) meet WouldBlock mid-message and are resumed; every byte is still checked.
BACK_ROWS=()
for MODE in $MODES; do
    ARGS=()
    if [ "$MODE" != plain ]; then ARGS=(--deflate "$MODE"); fi
    start_server "${ARGS[@]}"
    BACK_RC=0
    BACK=$("$BIN/load" "$ADDR" --conns 2 --messages 16 --window 16 --min 100000 --max 1048576 \
        --random --read-delay-ms 500 "${ARGS[@]}" | grep '^echoed') || BACK_RC=$?
    sleep 0.3
    kill -INT "$SERVER"
    wait "$SERVER" || true
    SERVER=""
    echo "== backpressure, $MODE" >&2
    echo "load:   $BACK" >&2
    sed 's/^/server: /' "$WORK/server.err" >&2
    if [ "$BACK_RC" -ne 0 ]; then
        echo "scale: the backpressure run failed ($BACK_RC) in mode $MODE" >&2
        STATUS=1
    fi
    MSGS=$(sed -E 's/^echoed ([0-9]+) of ([0-9]+) .*/\1 \/ \2/' <<<"$BACK")
    BAD=$(sed -E 's/.*; ([0-9]+) corrupted, ([0-9]+) connections failed.*/\1 \/ \2/' <<<"$BACK")
    WRITES=$(sed -nE 's/.*; ([0-9]+) echo writes and ([0-9]+) message reads resumed.*/\1/p' "$WORK/server.err")
    READS=$(sed -nE 's/.*; ([0-9]+) echo writes and ([0-9]+) message reads resumed.*/\2/p' "$WORK/server.err")
    BACK_ROWS+=("| $MODE | $MSGS | $BAD | $WRITES | $READS |")
done

COMMAND="scale/run.sh --conns $CONNS --messages $MESSAGES --window $WINDOW --write"
SECTION="$WORK/section.md"
{
    echo "<!-- scale:begin (generated by scale/run.sh --write; edit the script, not this) -->"
    echo "## Scale: $(sed -E ':a;s/([0-9])([0-9]{3})($|,)/\1,\2\3/;ta' <<<"$CONNS") connections on one event loop"
    echo
    echo "\`$COMMAND\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
    echo "the machine is shared, so throughput drifts between runs while memory figures repeat)."
    echo
    echo "The server is \`websockets/examples/mio_server.rs\`: one thread, one mio event loop, the same"
    echo "\`Conn\` type as the blocking examples, 4 KiB chunks (\`CHUNK_SIZE_LOW_MEMORY\`), 1 MiB read limit."
    echo "The load generator (\`websockets/examples/load.rs\`, another process) opens the connections"
    echo "(blocking handshakes, two threads), leaves them idle, then sends $MESSAGES messages of 16 B to 4 KiB on"
    echo "each (binary and text alternating, at most $WINDOW in flight, corked), all connections at once from"
    echo "one mio loop, and checks every echoed byte, its opcode and its order. Memory is the server's"
    echo "VmRSS (/proc/PID/status): before any connection, with all connections open and idle, and"
    echo "after the echo phase with all connections still open. Per connection = (RSS - RSS before) / N."
    echo
    echo "| mode | connections | RSS before (KiB) | RSS idle (KiB) | per idle connection (KiB) | RSS after echo (KiB) | per connection after echo (KiB) | messages echoed | corrupted / failed | echo MiB/s each way | messages/s | server CPU in echo (s) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for ROW in "${ROWS[@]}"; do echo "$ROW"; done
    echo
    echo "Backpressure: 2 connections each send 16 messages of 100 KB to 1 MiB (random printable bytes,"
    echo "which deflate hardly shrinks) and read nothing for 0.5 s, so the server's echo writes meet"
    echo "\`WouldBlock\` mid-message (with deflate: mid-compression) and are repeated later with the same"
    echo "arguments, as counted by the server; every echoed byte is checked."
    echo
    echo "| mode | messages echoed | corrupted / failed | echo writes resumed | message reads resumed |"
    echo "|---|---|---|---|---|"
    for ROW in "${BACK_ROWS[@]}"; do echo "$ROW"; done
    echo
    cat scale/notes.md
    echo "<!-- scale:end -->"
} >"$SECTION"

echo
cat "$SECTION"
if [ "$WRITE" = 1 ]; then
    touch BENCHMARKS.md
    if grep -q '^<!-- scale:begin' BENCHMARKS.md; then
        awk -v section="$SECTION" '
            /^<!-- scale:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
            /^<!-- scale:end/ { skip = 0; next }
            !skip { print }' BENCHMARKS.md >"$WORK/benchmarks.md"
        cat "$WORK/benchmarks.md" >BENCHMARKS.md
    else
        { [ -s BENCHMARKS.md ] && echo; cat "$SECTION"; } >>BENCHMARKS.md
    fi
    echo "scale: wrote the section into BENCHMARKS.md" >&2
fi
exit "$STATUS"
