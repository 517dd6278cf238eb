"""The web hooks under load, over real HTTP on loopback. Asserts nothing.

(a) ``measure_route(app, make_request)``: uvicorn in a thread on 127.0.0.1 (a free
    port), 50 client threads (http.client, keep-alive) posting for 10 s; latency p50
    and p99, requests per second, answers by status. A trivial route measured the
    same way in the same process is the baseline; the hooks are printed as ratios to
    it. Measured here: the Event Webhook with small signed batches (10 events each,
    as SendGrid posts in quiet times). The one-click unsubscribe POST
    (``unsubscribe?t=``) is built with the reader pages; once merged, measure it with
    the same function (see ``one_click_request`` below).
(b) one signed batch of 1,000 events applied: in the application function alone and
    as one HTTP post (target: under 1 s).

    .venv/bin/python benchmarks/web.py [--clients 50] [--seconds 10] [--recipients 10000]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
from newsletter.delivery.keys import load_address_key  # noqa: E402
from newsletter.delivery.ledger import open_ledger  # noqa: E402
from newsletter.web import hooks  # noqa: E402
from newsletter.workspace.loading import load_workspace  # noqa: E402

# (method, path, body, headers) of one request; made per client and request number
Request = tuple[str, str, bytes, dict[str, str]]
MakeRequest = Callable[[int, int], Request]
MAX_PER_CLIENT = 1_000_000  # a bound on every loop, whatever the clock does


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Served:
    """An ASGI app served by uvicorn in a thread on 127.0.0.1, on a free port."""

    def __init__(self, app: object):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", access_log=False, lifespan="off",
                                backlog=2048)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        for _ in range(200):  # up to 10 s
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def _client(port: int, index: int, make: MakeRequest, deadline: float,
            latencies: list[float], statuses: Counter[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for n in range(MAX_PER_CLIENT):
            if time.perf_counter() >= deadline:
                break
            method, path, body, headers = make(index, n)
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            statuses[response.status] += 1
    finally:
        conn.close()


def measure_route(app: object, make: MakeRequest, *, clients: int = 50,
                  seconds: float = 10.0) -> Figures:
    """Serve ``app`` on loopback and let ``clients`` threads send ``make``'s requests for
    ``seconds``: latency p50/p99 and answers by status."""
    per_client: list[list[float]] = [[] for _ in range(clients)]
    statuses: Counter[int] = Counter()
    with Served(app) as served:
        deadline = time.perf_counter() + seconds
        threads = [threading.Thread(target=_client, args=(served.port, i, make, deadline,
                                                          per_client[i], statuses))
                   for i in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 60)
        elapsed = time.perf_counter() - start
    latencies = sorted(x for lst in per_client for x in lst)
    if not latencies:
        return Figures(0, elapsed, 0.0, 0.0, dict(statuses))
    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return Figures(len(latencies), elapsed, pick(0.50), pick(0.99), dict(statuses))


def one_click_request(tokens: list[str]) -> MakeRequest:
    """RFC 8058 one-click posts, for ``measure_route(create_app(ws), ...)`` after the
    merge with the reader pages (the route is theirs: ``unsubscribe?t=<token>``)."""
    def make(index: int, n: int) -> Request:
        token = tokens[(index * 7919 + n) % len(tokens)]
        return ("POST", f"/unsubscribe?t={token}", b"List-Unsubscribe=One-Click",
                {"Content-Type": "application/x-www-form-urlencoded"})
    return make


# --- the workspace and the signed batches ------------------------------------------------


def make_workspace(root: Path, recipients: int) -> tuple[object, list[str]]:
    """A copy of the example workspace with one campaign sent to ``recipients`` people."""
    root.mkdir(parents=True)
    for part in ("newsletter.toml", "releases", "locales", "templates", "recipients"):
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


def hooks_app(ws: object) -> Starlette:
    app = Starlette(routes=hooks.routes)
    app.state.ws = ws
    return app


def baseline_app() -> Starlette:
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")
    return Starlette(routes=[Route("/hooks/sendgrid", ok, methods=["POST"])])


# --- the runs ------------------------------------------------------------------------------


def run_load(ws: object, rids: list[str], signing: Signing, clients: int,
             seconds: float) -> None:
    rng = random.Random(1)
    # signed beforehand, so that the clients' signing does not take the server's CPU;
    # a repeated body is a retry, which the hook answers like a new one
    signed = [(body, signing.headers(body)) for body in (batch(rids, 10, rng)
                                                          for _ in range(2000))]

    def make(index: int, n: int) -> Request:
        body, headers = signed[(index * 997 + n) % len(signed)]
        return ("POST", "/hooks/sendgrid", body, headers)

    base = measure_route(baseline_app(), make, clients=clients, seconds=seconds)
    hook = measure_route(hooks_app(ws), make, clients=clients, seconds=seconds)
    print(f"(a) {clients} clients for {seconds:g} s on loopback, batches of 10 events")
    for name, f in (("baseline (trivial route, same requests)", base),
                    ("hooks/sendgrid", hook)):
        print(f"    {name:42} {f.per_second:8.0f} req/s  p50 {f.p50_ms:7.1f} ms  "
              f"p99 {f.p99_ms:7.1f} ms  answers {f.statuses}")
    if base.p50_ms and base.per_second:
        print(f"    hooks/sendgrid / baseline: p50 x {hook.p50_ms / base.p50_ms:.1f}, "
              f"p99 x {hook.p99_ms / max(base.p99_ms, 1e-9):.1f}, "
              f"throughput x {hook.per_second / base.per_second:.2f}")
    print("    one-click unsubscribe: measure_route(create_app(ws), one_click_request(tokens))"
          " once the reader pages are merged")


def run_big_batch(ws: object, rids: list[str], signing: Signing, rounds: int = 3) -> None:
    rng = random.Random(2)
    direct, over_http = [], []
    for _ in range(rounds):
        body = batch(rids, 1000, rng)
        h = signing.headers(body)
        start = time.perf_counter()
        applied = app_hooks.sendgrid_events(ws, body, h[app_hooks.SIGNATURE_HEADER],
                                            h[app_hooks.TIMESTAMP_HEADER])
        direct.append(time.perf_counter() - start)
    with Served(hooks_app(ws)) as served:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        for _ in range(rounds):
            body = batch(rids, 1000, rng)
            start = time.perf_counter()
            conn.request("POST", "/hooks/sendgrid", body=body, headers=signing.headers(body))
            answer = conn.getresponse()
            answer.read()
            over_http.append(time.perf_counter() - start)
        conn.close()
    print(f"(b) one signed batch of 1,000 events ({len(body) // 1024} KiB), "
          f"ledger of {len(rids):,} rows; target under 1 s")
    print(f"    application function: best {min(direct):.3f} s, worst {max(direct):.3f} s "
          f"(last: {applied})")
    print(f"    one HTTP post:        best {min(over_http):.3f} s, worst {max(over_http):.3f} s"
          f" (status {answer.status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--recipients", type=int, default=10_000)
    args = parser.parse_args()
    signing = Signing()
    os.environ["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signing.public
    os.environ.setdefault("NEWSLETTER_SECRET", "bench-secret-" + "b" * 30)
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        ws, rids = make_workspace(Path(tmp) / "ws", args.recipients)
        run_big_batch(ws, rids, signing)
        run_load(ws, rids, signing, args.clients, args.seconds)


if __name__ == "__main__":
    main()
