#!/usr/bin/env python3
"""A peer nobody here wrote: the Python `websockets` client against our echo server.

    python_peer.py ws://127.0.0.1:PORT [path/to/echo_client]

Uses the sync API (`websockets.sync.client.connect`) with its default permessage-deflate offer.
Checks the echo of text (multibyte UTF-8), binary, a fragmented message, 1 MiB text and binary;
a ping answered by a pong; a close with 1000 answered with 1000 and the TCP connection closed
by the server. With an `echo_client` path, also the client role: our echo_client against a
`websockets` echo server. Prints one line per check and `N passed, M failed`; exits 1 on any
failure.
"""

import os
import subprocess
import sys
import threading
import time

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect
from websockets.sync.server import serve

TIMEOUT = 10.0  # seconds, for each receive, the ping and the opening handshake
CLOSE_TIMEOUT = 5.0


def client_role(echo_client):
    """Our echo_client sends lines to a `websockets` echo server and prints the replies."""

    def echo(ws):
        for message in ws:
            ws.send(message)

    lines = "one\ntwo, ünïcode ✓\n" + "x" * 100_000 + "\n"
    with serve(echo, "127.0.0.1", 0, max_size=None) as server:
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            run = subprocess.run([echo_client, f"ws://127.0.0.1:{port}/path?q=1"],
                                 input=lines.encode(), capture_output=True, timeout=60)
        finally:
            server.shutdown()
            thread.join()
    same = run.returncode == 0 and run.stdout.decode() == lines
    return same, "" if same else run.stderr.decode(errors="replace")[-300:]


def main():
    if len(sys.argv) not in (2, 3) or not sys.argv[1].startswith("ws://"):
        print("usage: python_peer.py ws://127.0.0.1:PORT [echo_client]", file=sys.stderr)
        return 2
    url = sys.argv[1]
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    def echo(ws, name, message):
        ws.send(message)
        got = ws.recv(timeout=TIMEOUT)
        size = len(message.encode() if isinstance(message, str) else message)
        same = type(got) is type(message) and got == message
        check(name, same, f"{type(message).__name__} {size} B" + ("" if same else " echoed differently"))

    started = time.monotonic()
    try:
        with connect(
            url,
            open_timeout=TIMEOUT,
            close_timeout=CLOSE_TIMEOUT,
            max_size=4 << 20,
            ping_interval=None,
        ) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
            print(f"negotiated extensions: {extensions!r}", flush=True)
            echo(ws, "text", "hello, lowbit")
            echo(ws, "multibyte text", "h\u00e9llo \u20ac \U0001f600 \u65e5\u672c\u8a9e" * 10)
            echo(ws, "empty text", "")
            echo(ws, "binary", bytes(range(256)))
            echo(ws, "empty binary", b"")
            ws.send(["fragmented ", "text \u00e9", " in three frames"])
            got = ws.recv(timeout=TIMEOUT)
            check("fragmented text", got == "fragmented text \u00e9 in three frames")
            # exactly 1 MiB of UTF-8, ending in 2-, 3- and 4-byte characters
            echo(ws, "1 MiB text", "x" * ((1 << 20) - 9) + "\u00e9\u20ac\U0001f600")
            echo(ws, "1 MiB binary", os.urandom(1 << 20))
            pong = ws.ping(b"lowbit ping")
            check("ping answered by a pong", pong.wait(TIMEOUT))
            echo(ws, "text after ping", "still here")
            close_started = time.monotonic()
            ws.close(1000, "done")
            took = time.monotonic() - close_started
            rcvd = ws.protocol.close_rcvd
            check(
                "close 1000",
                rcvd is not None and rcvd.code == 1000,
                f"server answered {rcvd.code if rcvd else 'nothing'}",
            )
            check(
                "server closed the TCP connection after the closing handshake",
                took < CLOSE_TIMEOUT - 0.5,
                f"in {took:.3f} s",
            )
    except (OSError, TimeoutError, WebSocketException) as err:
        check("connection", False, f"{type(err).__name__}: {err}")

    if len(sys.argv) == 3:
        ok, detail = client_role(sys.argv[2])
        check("client role: echo_client against a websockets echo server", ok, detail)

    passed = sum(results)
    failed = len(results) - passed
    print(f"python websockets peer took {time.monotonic() - started:.1f} s", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
