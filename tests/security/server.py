"""``newsletter serve`` in a child process on a free loopback port, as an operator runs
it: for the tests that need the real server (its access log, its memory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path  # what the server wrote (its access log among it)

    def rss_kib(self) -> int:
        """The server's resident memory now."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(ws_root: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "--workspace", str(ws_root), "serve",
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})})
    served = Served(proc, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                served.connect().close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start:\n"
                                         + log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(served: Served, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request (``head`` without the final blank line); status and body."""
    with served.connect() as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        return read_response(conn)


def read_response(conn: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, rest
