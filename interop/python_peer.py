"""Interop with the Python `websockets` library, a peer nobody here wrote, in both roles.

Usage: python python_peer.py ws://127.0.0.1:PORT/ path/to/echo_client
Server role: its client drives the running echo_server with text, binary, a 1 MiB message, a
ping and a 1000 close. Client role: its server echoes the lines that echo_client sends.
Prints one line per check and 'N passed, M failed'; exits non-zero on any failure.
"""

import os
import subprocess
import sys
import threading

from websockets.sync.client import connect
from websockets.sync.server import serve


def client_role(echo_client: str) -> None:
    """echo_client connects to a websockets echo server and prints the replies to its lines."""

    def echo(ws):
        for message in ws:
            ws.send(message)

    lines = "one\ntwo, ünïcode ✓\n" + "x" * 100_000 + "\n"
    with serve(echo, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            run = subprocess.run([echo_client, f"ws://127.0.0.1:{port}/path?q=1"],
                                 input=lines.encode(), capture_output=True, timeout=60)
        finally:
            server.shutdown()
            thread.join()
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert run.stdout.decode() == lines, run.stdout[:200]


def main(url: str, echo_client: str) -> int:
    results = []

    def check(name, fn):
        try:
            fn()
            results.append((name, None))
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            results.append((name, f"{type(e).__name__}: {e}"))

    with connect(url, max_size=None, compression=None, open_timeout=10, close_timeout=10) as ws:

        def text():
            msg = "hello, ünïcode ✓"
            ws.send(msg)
            got = ws.recv(timeout=10)
            assert got == msg, got

        def binary():
            msg = bytes(range(256))
            ws.send(msg)
            got = ws.recv(timeout=10)
            assert got == msg, got[:16]

        def one_mib():
            msg = os.urandom(1 << 20)
            ws.send(msg)
            got = ws.recv(timeout=30)
            assert got == msg, len(got)

        def ping():
            assert ws.ping(b"lowbit").wait(10), "no pong within 10 s"

        def close_1000():
            ws.close(1000, "bye")
            assert ws.close_code == 1000, ws.close_code

        for name, fn in [("text", text), ("binary", binary), ("1 MiB", one_mib),
                         ("ping", ping), ("close 1000", close_1000)]:
            check(name, fn)

    check("client role: echo_client against a websockets server",
          lambda: client_role(echo_client))

    for name, error in results:
        print(f"python websockets peer: {name}: {'ok' if error is None else error}")
    failed = sum(1 for _, e in results if e is not None)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
