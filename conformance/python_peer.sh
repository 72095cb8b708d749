#!/usr/bin/env bash
# Runs python_peer.py (the Python `websockets` client, a peer nobody here wrote) against echo_server.
#
#   conformance/python_peer.sh
#
# Installs `websockets` into conformance/.cache/py3 when missing, builds and starts the echo_server
# example on a free port of 127.0.0.1, runs the peer, stops the server by PID, exits non-zero on any
# failure. ECHO_SERVER_CMD replaces the echo server command (run as `CMD 127.0.0.1:PORT`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIMEOUT=${PYTHON_PEER_TIMEOUT:-120}
LOGDIR=$HERE/reports/python_peer

"$HERE/setup.sh" py3
build_echo_server
if [[ -z ${ECHO_CLIENT_CMD:-} ]]; then
    (cd "$ROOT" && "${BUILD[@]}" --example echo_client)
fi
ECHO_CLIENT=${ECHO_CLIENT_CMD:-$EXAMPLES_DIR/echo_client}
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
start_echo_server "$LOGDIR/echo_server.log"
log "echo server ${ECHO_SERVER[0]##*/} on 127.0.0.1:$ECHO_PORT"

rc=0
timeout "$TIMEOUT" "$HERE/.cache/py3/bin/python" "$HERE/python_peer.py" "ws://127.0.0.1:$ECHO_PORT" "$ECHO_CLIENT" </dev/null &
PIDS+=("$!")
wait "$!" || rc=$?
if ((rc == 124)); then
    log "stopped after $TIMEOUT s"
fi
if ! kill -0 "$ECHO_PID" 2>/dev/null; then
    log "the echo server exited during the test; see $LOGDIR/echo_server.log"
    rc=1
fi
exit "$rc"
