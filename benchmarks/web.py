"""The web app under load, over real HTTP on loopback. Asserts nothing.

``measure_route(app, make_request)``: uvicorn in a child process on 127.0.0.1 (a free
port), 50 clients (keep-alive connections of one event loop) here posting for 10 s;
latency p50 and p99, requests per second, the server's CPU time per request (other
load on the machine moves it far less than latency), answers by status. A trivial
route measured the same way in the same run, with the same requests, is the baseline;
the real routes are printed as ratios to it.

(a) the one-click unsubscribe (RFC 8058: ``List-Unsubscribe=One-Click``, urlencoded,
    to ``<public_url>unsubscribe?t=TOKEN``) served by ``create_app(ws)``, on a fresh
    workspace whose campaign went to enough people that every request carries another
    recipient's token, so every request suppresses one person. Checked afterwards in
    the ledger: every answer was 200, and the people suppressed (source 'web') and
    their consent-trail entries are exactly the requested ones, once each.
    Target: p99 under 50 ms at 50 clients. Measured twice: each client posting again
    as soon as it has its answer (the server's limit: there, by Little's law, the
    latency is 50 clients / the server's rate, for the trivial route too), and the
    same clients at a steady ``--rate`` together, below that limit, with latency
    counted from when each post was due.
(b) the Event Webhook with small signed batches (10 events each, as SendGrid posts in
    quiet times), through ``create_app(ws)`` too.
(c) one signed batch of 1,000 events applied: in the application function alone and
    as one HTTP post (target: under 1 s).

    .venv/bin/python benchmarks/web.py [--clients 50] [--seconds 10] [--recipients 10000]
                                       [--unsubscribers 40000] [--rate 200]
                                       [--only one-click|webhook]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.app import hooks as app_hooks  # noqa: E402 - after the path is set
from newsletter.audience.tokens import address_id  # noqa: E402
from newsletter.delivery.keys import load_address_key, load_signer  # noqa: E402
from newsletter.delivery.ledger import open_ledger  # noqa: E402
from newsletter.web import create_app  # noqa: E402
from newsletter.workspace.config import Workspace  # noqa: E402
from newsletter.workspace.loading import load_workspace  # noqa: E402

# (method, path, body, headers) of one request; made per client and request number.
# None: nothing left to send, this client stops.
Request = tuple[str, str, bytes, dict[str, str]]
MakeRequest = Callable[[int, int], Request | None]
MAX_PER_CLIENT = 1_000_000  # a bound on every loop, whatever the clock does


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    server_cpu: float = 0.0  # seconds of CPU the server process used (user + system)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The server's CPU per request: unlike latency, barely moved by other load."""
        return self.server_cpu / self.requests * 1000 if self.requests else 0.0


class Served:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) in a child process, as
    ``newsletter serve`` runs it: the clients' threads do not share its interpreter
    lock (in one process, 50 client threads took half the server's CPU, and a trivial
    route's p50 was already 44 ms). Forked, so the app needs no pickling; fork before
    any thread of this process runs (the clients' threads end before the next fork)."""

    def __init__(self, app: object):
        self.app = app
        # IPPROTO_TCP named, as uvicorn's own socket has it: only then does asyncio turn
        # Nagle off on the connections (it checks sock.proto), and without that every
        # answer written in two pieces (head, body) waited for the client's delayed ACK:
        # 40 ms each, the trivial route's "p50 44 ms" of earlier runs
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(2048)
        self.port = self.sock.getsockname()[1]
        self.pid = 0
        self.cpu = 0.0  # the child's CPU seconds, once it has exited

    def _serve(self) -> None:
        config = uvicorn.Config(self.app, log_level="error", access_log=False,
                                lifespan="off", backlog=2048)
        uvicorn.Server(config).run(sockets=[self.sock])

    def __enter__(self) -> Served:
        self.pid = os.fork()
        if self.pid == 0:  # the child: serve until SIGTERM
            code = 0
            try:
                self._serve()
            except BaseException:  # say it, and never return into the parent's code
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        self.sock.close()  # the child's now
        for _ in range(200):  # up to 10 s: the listening socket queues, so wait for answers
            try:
                conn = Connection(self.port, timeout=1)
                conn.request("GET", "/", b"", {})
                conn.close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc: object) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGTERM)  # uvicorn finishes what it has, then exits
            _, _, usage = os.wait4(self.pid, 0)
            self.cpu = usage.ru_utime + usage.ru_stime
            self.pid = 0


class Connection:
    """A keep-alive HTTP/1.1 client on a bare socket. http.client parses every answer's
    headers with the email package: at 50 threads that alone kept a core busy and
    capped even the trivial route; this reads the status line and Content-Length."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]
                ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        length = next((int(v) for k, _, v in (f.partition(":") for f in fields)
                       if k.strip().lower() == "content-length"), None)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {status_line}")
        while len(self.buffer) < length:
            self._fill()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), answer

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def _encode(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _answer(reader: asyncio.StreamReader) -> int:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *fields = head.split("\r\n")
    length = next((int(v) for k, _, v in (f.partition(":") for f in fields)
                   if k.strip().lower() == "content-length"), None)
    if length is None:
        raise RuntimeError(f"an answer without Content-Length: {status_line}")
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _client(port: int, index: int, make: MakeRequest, deadline: float,
                  latencies: list[float], statuses: Counter[int], pace: float | None,
                  offset: float) -> None:
    """One keep-alive connection sending ``make``'s requests one after another until
    ``deadline``; with ``pace`` (seconds), the n-th is due at a fixed time and its
    latency counts from then, so that a slow answer also counts against the requests
    it delays."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    first = time.perf_counter() + offset  # paced clients start spread over one pace
    try:
        for n in range(MAX_PER_CLIENT):
            due = first + n * pace if pace else time.perf_counter()
            if due >= deadline:
                break
            request = make(index, n)
            if request is None:
                break
            if pace:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                writer.write(_encode(*request))
                status = await _answer(reader)
            except (OSError, asyncio.IncompleteReadError):  # no answer: status 0, reconnect
                status = 0
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            latencies.append(time.perf_counter() - due)
            statuses[status] += 1
    finally:
        writer.close()


def measure_route(app: object, make: MakeRequest, *, clients: int = 50,
                  seconds: float = 10.0, rate: float | None = None) -> Figures:
    """Serve ``app`` on loopback and let ``clients`` connections send ``make``'s
    requests for ``seconds``: latency p50/p99 and answers by status (0: no answer). Each
    client sends its next request as soon as it has the answer, or, with ``rate``
    (requests a second, all clients together), at fixed times. The clients are
    coroutines of one event loop in this process: 50 threads here capped even the
    trivial route at about 1,100 a second (their interpreter lock, not the server)."""
    per_client: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter[int]] = [Counter() for _ in range(clients)]
    pace = clients / rate if rate else None

    async def run_all(port: int) -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(
            _client(port, i, make, deadline, per_client[i], statuses[i], pace,
                    pace * i / clients if pace else 0.0) for i in range(clients)))

    with Served(app) as served:
        start = time.perf_counter()
        asyncio.run(run_all(served.port))
        elapsed = time.perf_counter() - start
    latencies = sorted(x for lst in per_client for x in lst)
    answers = dict(sum(statuses, Counter()))
    if not latencies:
        return Figures(0, elapsed, 0.0, 0.0, answers, served.cpu)
    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return Figures(len(latencies), elapsed, pick(0.50), pick(0.99), answers, served.cpu)


class OneClick:
    """RFC 8058 one-click posts to ``path`` (``<public_url path>unsubscribe``), each with
    the next unused token of ``tokens``, so that each request suppresses another person;
    ``used`` lists the tokens handed out, in order. When they run out the clients stop
    (``exhausted``). ``distinct=False`` goes round the list (for the baseline route)."""

    def __init__(self, path: str, tokens: list[str], *, distinct: bool = True):
        self.path, self.tokens, self.distinct = path, tokens, distinct
        self.used: list[str] = []
        self.exhausted = False
        self._lock = threading.Lock()

    def __call__(self, index: int, n: int) -> Request | None:
        with self._lock:
            if self.distinct and len(self.used) >= len(self.tokens):
                self.exhausted = True
                return None
            token = self.tokens[len(self.used) % len(self.tokens)]
            self.used.append(token)
        return ("POST", f"{self.path}?t={token}", b"List-Unsubscribe=One-Click",
                {"Content-Type": "application/x-www-form-urlencoded"})


def one_click_request(path: str, tokens: list[str]) -> OneClick:
    """``measure_route(create_app(ws), one_click_request(path, tokens))``."""
    return OneClick(path, tokens)


# --- the workspace and the signed batches ------------------------------------------------


def make_workspace(root: Path, recipients: int) -> tuple[Workspace, list[str]]:
    """A copy of the example workspace with one campaign sent to ``recipients`` people."""
    root.mkdir(parents=True)
    for part in ("newsletter.toml", "releases", "locales", "recipients"):
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / part)
    ws = load_workspace(root)
    key = load_address_key(ws.state_dir)
    rids = [address_id(key, f"member{i}@bench.example.org") for i in range(recipients)]
    rows = [(rid, f"member{i}@bench.example.org", "", "de", "", f"<{i}@bench.example.org>")
            for i, rid in enumerate(rids)]
    with open_ledger(ws.state_dir) as led:
        led.add_campaign("bench", "rel", "sendgrid", "members", rows)
        led.mark_sending("bench", rids)
        led.mark("bench", [(rid, "sent", "", "sg-bench") for rid in rids])
    return ws, rids


# the kinds of a busy day's batch: mostly deliveries
MIX = (["delivered"] * 70 + ["deferred"] * 10 + ["bounce"] * 8 + ["dropped"] * 5
       + ["spamreport"] * 3 + ["unsubscribe"] * 2 + ["open"] * 2)


def batch(rids: list[str], size: int, rng: random.Random) -> bytes:
    events = []
    for _ in range(size):
        rid, kind = rng.choice(rids), rng.choice(MIX)
        events.append({"email": "member@bench.example.org", "event": kind,
                       "timestamp": int(time.time()), "sg_event_id": uuid.uuid4().hex,
                       "campaign": "bench", "recipient": rid, "response": "250 OK",
                       "type": "blocked" if kind == "bounce" and rng.random() < 0.3
                       else "bounce"})
    return json.dumps(events).encode()


class Signing:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public = base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {app_hooks.SIGNATURE_HEADER: base64.b64encode(signature).decode(),
                app_hooks.TIMESTAMP_HEADER: stamp, "Content-Type": "application/json"}


def app_path(ws: Workspace, page: str) -> str:
    """Where ``create_app(ws)`` serves ``page`` (below public_url's path)."""
    return urlsplit(ws.config.web.public_url).path.rstrip("/") + "/" + page


def baseline_app(path: str) -> Starlette:
    """The trivial route: reads nothing, answers "ok"."""
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")
    return Starlette(routes=[Route(path, ok, methods=["POST"])])


def report(title: str, name: str, base: Figures, real: Figures) -> None:
    print(title)
    for label, f in (("baseline (trivial route, same requests)", base), (name, real)):
        print(f"    {label:42} {f.per_second:6.0f} req/s  p50 {f.p50_ms:6.1f} ms  "
              f"p99 {f.p99_ms:6.1f} ms  server CPU {f.cpu_ms:5.2f} ms/req  "
              f"answers {f.statuses}")
    if base.p50_ms and base.per_second and real.requests:
        print(f"    {name} / baseline: p50 x {real.p50_ms / base.p50_ms:.1f}, "
              f"p99 x {real.p99_ms / max(base.p99_ms, 1e-9):.1f}, "
              f"throughput x {real.per_second / base.per_second:.2f}")


# --- the runs ------------------------------------------------------------------------------


def run_one_click(root: Path, people: int, clients: int, seconds: float,
                  rate: float) -> None:
    ws, rids = make_workspace(root, people)
    signer = load_signer(ws.state_dir, allow_state_secret=False)
    tokens = [signer.token_for_id(rid) for rid in rids]
    path = app_path(ws, "unsubscribe")
    posts = one_click_request(path, tokens)  # one person per post, over both runs
    runs = []
    for paced in (None, rate):
        base = measure_route(baseline_app(path), OneClick(path, tokens, distinct=False),
                             clients=clients, seconds=seconds, rate=paced)
        real = measure_route(create_app(ws), posts, clients=clients, seconds=seconds,
                             rate=paced)
        how = ("each sends again on the answer" if paced is None else
               f"together {paced:g} posts/s at fixed times, latency from then")
        report(f"(a) one-click unsubscribe: {clients} clients for {seconds:g} s on loopback, "
               f"{how}; each post another person's token (of {people:,}); "
               f"target p99 < 50 ms", "POST unsubscribe", base, real)
        runs.append(real)
    if posts.exhausted:
        print(f"    (all {people:,} tokens used before the time was up: raise --unsubscribers)")
    # exactly once: the people suppressed and their consent entries are the requested ones
    requests = sum(f.requests for f in runs)
    wanted = {signer.verify(t) for t in posts.used}
    with open_ledger(ws.state_dir) as led:
        suppressed = [k for (k,) in led.db.execute(
            "SELECT key FROM suppressions WHERE source='web' AND reason='unsubscribe'")]
        others = led.db.execute("SELECT count(*) FROM suppressions WHERE source != 'web'"
                                " OR reason != 'unsubscribe'").fetchone()[0]
        trail = Counter(k for (k,) in led.db.execute(
            "SELECT key FROM consent WHERE event='unsubscribe'"))
    checks = {
        "every answer 200": all(f.statuses == {200: f.requests} for f in runs),
        "every post another person": len(wanted) == len(posts.used) == requests,
        "suppressed = requested, once each": (len(suppressed) == len(set(suppressed))
                                              and set(suppressed) == wanted and not others),
        "consent trail: one 'unsubscribe' each": (set(trail) == wanted
                                                  and set(trail.values()) <= {1}),
    }
    print(f"    both runs: {requests:,} posts, {len(suppressed):,} suppressions, "
          f"{sum(trail.values()):,} consent entries: "
          + ", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in checks.items()))


def run_load(ws: Workspace, rids: list[str], signing: Signing, clients: int,
             seconds: float) -> None:
    rng = random.Random(1)
    # signed beforehand, so that the clients' signing does not take the server's CPU;
    # a repeated body is a retry, which the hook answers like a new one
    signed = [(body, signing.headers(body)) for body in (batch(rids, 10, rng)
                                                          for _ in range(2000))]
    path = app_path(ws, "hooks/sendgrid")

    def make(index: int, n: int) -> Request:
        body, headers = signed[(index * 997 + n) % len(signed)]
        return ("POST", path, body, headers)

    base = measure_route(baseline_app(path), make, clients=clients, seconds=seconds)
    hook = measure_route(create_app(ws), make, clients=clients, seconds=seconds)
    report(f"(b) Event Webhook: {clients} clients for {seconds:g} s on loopback, "
           "batches of 10 events", "hooks/sendgrid", base, hook)


def run_big_batch(ws: Workspace, rids: list[str], signing: Signing, rounds: int = 3) -> None:
    rng = random.Random(2)
    direct, over_http = [], []
    for _ in range(rounds):
        body = batch(rids, 1000, rng)
        h = signing.headers(body)
        start = time.perf_counter()
        applied = app_hooks.sendgrid_events(ws, body, h[app_hooks.SIGNATURE_HEADER],
                                            h[app_hooks.TIMESTAMP_HEADER])
        direct.append(time.perf_counter() - start)
    path = app_path(ws, "hooks/sendgrid")
    with Served(create_app(ws)) as served:
        conn = Connection(served.port, timeout=60)
        for _ in range(rounds):
            body = batch(rids, 1000, rng)
            start = time.perf_counter()
            status, _ = conn.request("POST", path, body, signing.headers(body))
            over_http.append(time.perf_counter() - start)
        conn.close()
    print(f"(c) one signed batch of 1,000 events ({len(body) // 1024} KiB), "
          f"ledger of {len(rids):,} rows; target under 1 s")
    print(f"    application function: best {min(direct):.3f} s, worst {max(direct):.3f} s "
          f"(last: {applied})")
    print(f"    one HTTP post:        best {min(over_http):.3f} s, worst {max(over_http):.3f} s"
          f" (status {status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--recipients", type=int, default=10_000,
                        help="the ledger the webhook runs work on")
    parser.add_argument("--unsubscribers", type=int, default=40_000,
                        help="people with a token for the one-click run (one per post)")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="posts a second of the paced one-click run")
    parser.add_argument("--only", choices=["one-click", "webhook"])
    args = parser.parse_args()
    signing = Signing()
    os.environ["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signing.public
    os.environ.setdefault("NEWSLETTER_SECRET", "bench-secret-" + "b" * 30)
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine lengthens every latency)")
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        if args.only != "webhook":
            run_one_click(Path(tmp) / "one-click", args.unsubscribers, args.clients,
                          args.seconds, args.rate)
        if args.only != "one-click":
            ws, rids = make_workspace(Path(tmp) / "ws", args.recipients)
            run_load(ws, rids, signing, args.clients, args.seconds)
            run_big_batch(ws, rids, signing)


if __name__ == "__main__":
    main()
