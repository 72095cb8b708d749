#!/usr/bin/env bash
# Real-browser test: Debian's chromium, headless, driven by playwright-core, against echo_server.
#
#   conformance/browser.sh
#
# Installs chromium (apt) and playwright-core (npm, no browser download) when missing, builds and
# starts the echo_server example on a free port of 127.0.0.1, runs browser/test.mjs (text with
# multibyte UTF-8 and binary messages of 0 B to 1 MiB, checked byte for byte; 8 connections at
# once; the negotiated extensions printed; close 1000), stops the server, exits non-zero on any
# mismatch. ECHO_SERVER_CMD replaces the echo server command (run as `CMD 127.0.0.1:PORT`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIMEOUT=${BROWSER_TIMEOUT:-300}
LOGDIR=$HERE/reports/browser

start=$SECONDS
"$HERE/setup.sh" browser
build_echo_server
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
start_echo_server "$LOGDIR/echo_server.log"
log "echo server ${ECHO_SERVER[0]##*/} on 127.0.0.1:$ECHO_PORT"

rc=0
timeout "$TIMEOUT" node "$HERE/browser/test.mjs" "ws://127.0.0.1:$ECHO_PORT" </dev/null &
PIDS+=("$!")
wait "$!" || rc=$?
if ((rc == 124)); then
    log "stopped after $TIMEOUT s"
fi
if ! kill -0 "$ECHO_PID" 2>/dev/null; then
    log "the echo server exited during the test; see $LOGDIR/echo_server.log"
    rc=1
fi
log "took $((SECONDS - start)) s, exit code $rc"
exit "$rc"
