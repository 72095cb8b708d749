# Helpers shared by the conformance scripts (sourced, not run).
# Sets HERE (conformance/), ROOT (the repository), PIDS and an EXIT trap that stops,
# by PID, every background process the script recorded in PIDS.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOG_NAME=${LOG_NAME:-$(basename "$0")}

log() { echo "$LOG_NAME: $*" >&2; }

# Everything the script starts in the background, stopped on exit.
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID SECONDS: waits until 127.0.0.1:PORT accepts, failing if PID exits first.
wait_port() {
    local port=$1 pid=$2 deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "process $pid exited before listening on port $port"
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "nothing listening on 127.0.0.1:$port after $3 s"
    return 1
}

# The cargo profile the examples are built with: `release` by default; CI sets
# CONFORMANCE_PROFILE=dev to reuse what `cargo test --all-features` already built (the crate is
# optimised in the dev profile too, see the root Cargo.toml).
PROFILE=${CONFORMANCE_PROFILE:-release}
if [[ $PROFILE == dev ]]; then PROFILE_DIR=debug; else PROFILE_DIR=$PROFILE; fi
BUILD=(cargo build --profile "$PROFILE" --all-features)
EXAMPLES_DIR=$ROOT/target/$PROFILE_DIR/examples

# The echo server command, as an array: $ECHO_SERVER_CMD or the example.
read -r -a ECHO_SERVER <<<"${ECHO_SERVER_CMD:-$EXAMPLES_DIR/echo_server}"

# Builds the echo_server example unless ECHO_SERVER_CMD names another command.
build_echo_server() {
    if [[ -z ${ECHO_SERVER_CMD:-} ]]; then
        log "${BUILD[*]} --example echo_server"
        (cd "$ROOT" && "${BUILD[@]}" --example echo_server)
    fi
}

# start_echo_server LOGFILE: starts the echo server on a free port, sets ECHO_PORT, waits for it.
start_echo_server() {
    local logfile=$1 pid
    ECHO_PORT=$(free_port)
    "${ECHO_SERVER[@]}" "127.0.0.1:$ECHO_PORT" >"$logfile" 2>&1 </dev/null &
    pid=$!
    PIDS+=("$pid")
    ECHO_PID=$pid
    if ! wait_port "$ECHO_PORT" "$pid" 30; then
        tail -n 20 "$logfile" >&2
        return 1
    fi
}
