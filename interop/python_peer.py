"""Drives a running echo server with the Python `websockets` client, a peer nobody here wrote.

Usage: python python_peer.py ws://127.0.0.1:PORT/
Checks text, binary, a 1 MiB message, a ping and a 1000 close; prints one line per check and
'N passed, M failed'; exits non-zero on any failure.
"""

import os
import sys

from websockets.sync.client import connect


def main(url: str) -> int:
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

    for name, error in results:
        print(f"python websockets peer: {name}: {'ok' if error is None else error}")
    failed = sum(1 for _, e in results if e is not None)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
