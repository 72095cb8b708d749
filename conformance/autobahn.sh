#!/usr/bin/env bash
# Runs the Autobahn TestSuite against lowbit websockets and judges the reports.
#
#   conformance/autobahn.sh [server|client|all]     (default: all; the two roles run side by side)
#
# server: `wstest -m fuzzingclient` tests the echo_server example (fuzzingclient.json).
# client: the autobahn_client example runs every case of `wstest -m fuzzingserver` (fuzzingserver.json).
# Reports land in conformance/reports/{server,client}/ (index.json, HTML, logs).
# Prints one line per case that is not OK, `ROLE: N passed, M failed` per role and, last,
# `N passed, M failed` overall; exits non-zero on any failure. Cases listed in
# expected-pending.txt are reported as pending and do not fail the run.
#
# Environment:
#   ECHO_SERVER_CMD      command run as `$ECHO_SERVER_CMD 127.0.0.1:PORT`
#                        (default: the echo_server example, built here)
#   AUTOBAHN_CLIENT_CMD  command run as `$AUTOBAHN_CLIENT_CMD ws://127.0.0.1:PORT`
#                        (default: the autobahn_client example, built here)
#   AUTOBAHN_TIMEOUT     seconds one role may take before it is stopped (default 1500)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPORTS=$HERE/reports
WSTEST=$HERE/.cache/py2/bin/wstest
PY2=$HERE/.cache/py2/bin/python
ROLE=${1:-all}
TIMEOUT=${AUTOBAHN_TIMEOUT:-1500}

case $ROLE in
    server | client | all) ;;
    *) echo "usage: $0 [server|client|all]" >&2; exit 2 ;;
esac

read -r -a AUTOBAHN_CLIENT <<<"${AUTOBAHN_CLIENT_CMD:-$EXAMPLES_DIR/autobahn_client}"

cd "$HERE"

# write_spec TEMPLATE OUT OUTDIR KEY URL: a copy of a spec file with the URL and outdir filled in.
write_spec() {
    python3 - "$@" <<'PY'
import json, sys
template, out, outdir, key, url = sys.argv[1:]
with open(template) as f:
    spec = json.load(f)
spec["outdir"] = outdir
if key == "servers":
    for server in spec["servers"]:
        server["url"] = url
else:
    spec["url"] = url
with open(out, "w") as f:
    json.dump(spec, f, indent=2)
PY
}

# Installs wstest, builds the examples, writes the list of every case id.
prepare() {
    "$HERE/setup.sh" wstest
    local examples=()
    if [[ -z ${ECHO_SERVER_CMD:-} && $ROLE != client ]]; then
        examples+=(--example echo_server)
    fi
    if [[ -z ${AUTOBAHN_CLIENT_CMD:-} && $ROLE != server ]]; then
        examples+=(--example autobahn_client)
    fi
    if ((${#examples[@]})); then
        log "${BUILD[*]} ${examples[*]}"
        (cd "$ROOT" && "${BUILD[@]}" "${examples[@]}")
    fi
    mkdir -p "$REPORTS"
    "$PY2" -c '
from autobahntestsuite.case import Cases, CaseBasename
for c in Cases:
    print(".".join(c.__name__[len(CaseBasename):].split("_")))
' >"$REPORTS/cases.txt"
}

run_server_role() {
    local dir=$REPORTS/server port rc=0 start
    rm -rf "$dir"
    mkdir -p "$dir"
    start_echo_server "$dir/echo_server.log"
    port=$ECHO_PORT
    write_spec fuzzingclient.json "$dir/spec.json" "$dir" servers "ws://127.0.0.1:$port"
    log "server: wstest -m fuzzingclient against ${ECHO_SERVER[0]##*/} on 127.0.0.1:$port"
    start=$SECONDS
    timeout "$TIMEOUT" "$WSTEST" -m fuzzingclient -s "$dir/spec.json" >"$dir/wstest.log" 2>&1 </dev/null &
    PIDS+=("$!")
    wait "$!" || rc=$?
    echo "server: the run took $((SECONDS - start)) s (wstest exit code $rc)"
    if ((rc == 124)); then
        log "server: wstest was stopped after $TIMEOUT s"
    elif ((rc != 0)); then
        tail -n 20 "$dir/wstest.log" >&2
    fi
    if ! kill -0 "$ECHO_PID" 2>/dev/null; then
        log "server: ${ECHO_SERVER[0]##*/} exited during the run; see $dir/echo_server.log"
        tail -n 20 "$dir/echo_server.log" >&2
    fi
    cleanup
}

run_client_role() {
    local dir=$REPORTS/client port pid rc=0 start
    rm -rf "$dir"
    mkdir -p "$dir"
    port=$(free_port)
    write_spec fuzzingserver.json "$dir/spec.json" "$dir" url "ws://127.0.0.1:$port"
    timeout "$TIMEOUT" "$WSTEST" -m fuzzingserver -s "$dir/spec.json" --webport 0 \
        >"$dir/wstest.log" 2>&1 </dev/null &
    pid=$!
    PIDS+=("$pid")
    wait_port "$port" "$pid" 60 || { tail -n 20 "$dir/wstest.log" >&2; return 1; }
    log "client: ${AUTOBAHN_CLIENT[0]##*/} against wstest -m fuzzingserver on 127.0.0.1:$port"
    start=$SECONDS
    timeout "$TIMEOUT" "${AUTOBAHN_CLIENT[@]}" "ws://127.0.0.1:$port" >"$dir/autobahn_client.log" 2>&1 </dev/null &
    PIDS+=("$!")
    wait "$!" || rc=$?
    echo "client: the run took $((SECONDS - start)) s (autobahn_client exit code $rc)"
    if ((rc != 0)); then
        tail -n 20 "$dir/autobahn_client.log" >&2
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        log "client: wstest exited during the run; see $dir/wstest.log"
        tail -n 20 "$dir/wstest.log" >&2
    fi
    cleanup
}

judge() {
    local args=() role
    for role in "$@"; do
        args+=("$role=$REPORTS/$role/index.json")
    done
    python3 "$HERE/judge.py" --cases "$REPORTS/cases.txt" --pending "$HERE/expected-pending.txt" "${args[@]}"
}

total_start=$SECONDS
if [[ -z ${_AUTOBAHN_PREPARED:-} ]]; then
    prepare
fi

case $ROLE in
    server | client)
        "run_${ROLE}_role"
        if [[ -z ${_AUTOBAHN_PREPARED:-} ]]; then
            judge "$ROLE"
        fi
        ;;
    all)
        # Both roles side by side, each in its own copy of this script (its own cleanup trap).
        _AUTOBAHN_PREPARED=1 "$HERE/autobahn.sh" server &
        PIDS+=("$!")
        server_pid=$!
        _AUTOBAHN_PREPARED=1 "$HERE/autobahn.sh" client &
        PIDS+=("$!")
        client_pid=$!
        wait "$server_pid" || log "the server role exited with code $?"
        wait "$client_pid" || log "the client role exited with code $?"
        PIDS=()
        echo "both roles took $((SECONDS - total_start)) s including setup and build"
        judge server client
        ;;
esac
