#!/usr/bin/env bash
# Interop check with the Python `websockets` library (PyPI, installed here into interop/.venv):
# its client talks to the echo_server example (text, binary, 1 MiB, ping, close 1000), and its
# server answers the echo_client example. Prints 'N passed, M failed'.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=interop/.venv
if ! "$venv/bin/python" -c "import websockets.sync.client" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "websockets>=13,<18"
fi

cargo build --quiet --example echo_server --example echo_client
log=$(mktemp)
target/debug/examples/echo_server 127.0.0.1:0 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/.*listening on \(ws:\/\/[^ ]*\).*/\1/p' "$log")
    [ -n "$url" ] && break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "echo_server did not start:" >&2
    cat "$log" >&2
    exit 1
fi

status=0
timeout 120 "$venv/bin/python" interop/python_peer.py "$url/" target/debug/examples/echo_client || status=$?
echo "echo_server log:" >&2
cat "$log" >&2
exit "$status"
