"""Delivery throughput and memory: outbox, SendGrid (local fake API) and a naive baseline.

Builds a synthetic workspace of N recipients in nine languages (10,000 and
100,000 by default) and measures, each in a fresh child process so that peak
memory is its own:

  (a) the outbox transport building and writing every message (CSV to files,
      ledger included),
  (b) the SendGrid transport posting to a local fake API server,
  (c) the naive baseline that renders and inlines CSS for every recipient
      (on a sample; its rate does not depend on N).

Prints messages per second, peak memory and the ratios, next to the targets:
(a) >= 25 x (c); (b) 100,000 recipients in under 10 s; peak memory at
100,000 <= 1.5 x that at 10,000. Asserts nothing.

    .venv/bin/python benchmarks/throughput.py [--sizes 10000 100000] [--baseline 150]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RELEASE = "2018-08-23-kooperationsvertrag"
LANGS = ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")
NAMES = ("Ayşe Korkmaz", "Karim Haddad", "Olga Petrenko", "Katarzyna Nowak", "Reza Ahmadi",
         "Rojda Aydın", "Jana Becker", "John Smith", "")


def make_workspace(root: Path, n: int, sendgrid_url: str = "") -> None:
    for part in ("newsletter.toml", "releases", "locales", "templates"):
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / part)
    (root / "recipients").mkdir()
    write_members(root / "recipients" / "members.csv", n)
    for name in ("press", "subscribers"):
        (root / "recipients" / f"{name}.csv").write_text("email,name,language\n")
    if sendgrid_url:
        cfg = root / "newsletter.toml"
        text = cfg.read_text(encoding="utf-8").replace(
            'host = "https://api.sendgrid.com"', f'host = "{sendgrid_url}"')
        cfg.write_text(text, encoding="utf-8")


def write_members(path: Path, n: int, chunk: int = 10_000) -> None:
    """member<i>@bench.example.org for i < n, written in chunks: a million rows take
    a second or so, and nothing per row outlives its chunk."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("email,name,language,tags\n")
        for start in range(0, n, chunk):
            fh.write("".join(f"member{i}@bench.example.org,{NAMES[i % 9]},{LANGS[i % 9]},\n"
                             for i in range(start, min(n, start + chunk))))


def child(mode: str, n: int, url: str, baseline: int) -> dict:
    """Runs in a fresh process: one measurement, printed as JSON."""
    from newsletter.audience.selection import Selection
    from newsletter.content.parser import load_release
    from newsletter.delivery.sending import SendRequest, plan_send, send
    from newsletter.workspace.loading import load_workspace

    os.environ["NEWSLETTER_SECRET"] = "benchmark-secret-" + "b" * 32
    os.environ["SENDGRID_API_KEY"] = "SG.benchmark"
    with tempfile.TemporaryDirectory(dir=REPO / "build") as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        make_workspace(root, n if mode != "baseline" else baseline, url)
        ws = load_workspace(root)
        release = load_release(ws.releases_dir / f"{RELEASE}.md", ws.root)
        start = time.perf_counter()
        if mode == "baseline":
            count = naive(ws, release)
        else:
            request = SendRequest(Selection(lists=("members",)), mode)
            planned = plan_send(ws, release, request)
            result = send(ws, release, request, planned)
            count = result.run.counts["sent"]
        seconds = time.perf_counter() - start
        # read the high-water mark before the temporary folder is removed: deleting
        # 100,000 files lists them all in memory, which is not the send's doing
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mode": mode, "n": count, "seconds": seconds, "peak_mib": peak_kib / 1024}


def naive(ws, release) -> int:
    """Render and inline per recipient, then build the message: what we avoid."""
    from newsletter.audience.selection import Selection, load_audience, make_plan
    from newsletter.delivery.keys import load_signer
    from newsletter.delivery.mime import MessageBuilder, prepare
    from newsletter.render.renderer import Renderer

    audience = load_audience(ws, Selection(lists=("members",)), skip_invalid=False)
    plan = make_plan(release, ws, audience.recipients)
    signer = load_signer(ws.root / "state", allow_state_secret=False)
    builder = MessageBuilder(ws, signer, "baseline")
    for a in plan.assignments:
        renderer = Renderer(ws, lambda p: f"https://verbund.example.org/{p.name}")
        builder.build(prepare(renderer, a.edition, ws), a.recipient).as_bytes()
    return len(plan.assignments)


class Tally:
    """What the fake API received for member<i>@bench.example.org, i < n: how many
    messages each address got (so a lost and a doubled one do not cancel out), and when
    the first and the last post came. Counts only once armed with ``expect(n)``, so
    the other modes pay nothing for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.expect(0)

    def expect(self, n: int) -> None:
        with self.lock:
            self.n, self.armed = n, n > 0
            self.per_address = bytearray(n)  # a byte per address: 1 MB for a million
            self.messages = self.requests = self.foreign = 0
            self.first = self.last = 0.0

    def add(self, body: bytes) -> None:
        if not self.armed:
            return
        # parsed outside the lock, so that concurrent posts are parsed concurrently
        indices = [_member_index(p) for p in json.loads(body).get("personalizations", [])]
        now = time.perf_counter()
        with self.lock:
            self.requests += 1
            self.messages += len(indices)
            self.first, self.last = self.first or now, now
            for i in indices:
                if 0 <= i < self.n:
                    self.per_address[i] = min(255, self.per_address[i] + 1)
                else:
                    self.foreign += 1

    def missing(self) -> int:
        return self.per_address.count(0)

    def doubled(self) -> int:
        """Addresses that got more than one message."""
        return self.n - self.per_address.count(0) - self.per_address.count(1)


def _member_index(personalization: dict) -> int:
    """i of member<i>@bench.example.org, -1 for any other address."""
    email = personalization["to"][0]["email"]
    number = email.removeprefix("member").partition("@")[0]
    return int(number) if email.startswith("member") and number.isdigit() else -1


class _FakeSendGrid(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):  # read the body (as SendGrid would), count it and accept it
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.tally.add(body)
        self.send_response(202)
        self.send_header("X-Message-Id", "bench")
        self.send_header("Content-Length", "0")
        self.end_headers()


class FakeSendGridServer(ThreadingHTTPServer):
    """A thread per connection; several workers post at once."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 is short for a burst of worker connections

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeSendGrid)
        self.tally = Tally()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


def measure(mode: str, n: int, url: str, baseline: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--n", str(n), "--url", url,
                          "--baseline", str(baseline)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--baseline", type=int, default=150)
    parser.add_argument("--modes", nargs="+", default=["outbox", "sendgrid"],
                        choices=["outbox", "sendgrid"])
    parser.add_argument("--child")
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.url, args.baseline)))
        return
    (REPO / "build").mkdir(exist_ok=True)
    server = FakeSendGridServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = server.url
    base = measure("baseline", args.baseline, url, args.baseline)
    base_rate = base["n"] / base["seconds"]
    rows = [("naive baseline", base)]
    for n in args.sizes:
        for mode in args.modes:
            rows.append((f"{mode} {n:,}", measure(mode, n, url, args.baseline)))
    server.shutdown()
    print(f"{'run':<18}{'messages':>10}{'seconds':>10}{'msg/s':>10}{'x baseline':>12}"
          f"{'peak MiB':>10}")
    for label, r in rows:
        rate = r["n"] / r["seconds"]
        print(f"{label:<18}{r['n']:>10,}{r['seconds']:>10.2f}{rate:>10.0f}"
              f"{rate / base_rate:>12.1f}{r['peak_mib']:>10.0f}")
    by = {label: r for label, r in rows}
    small, large = min(args.sizes), max(args.sizes)
    for mode in args.modes:
        a, b = by[f"{mode} {small:,}"], by[f"{mode} {large:,}"]
        print(f"{mode}: peak memory at {large:,} is {b['peak_mib'] / a['peak_mib']:.2f} x "
              f"that at {small:,} (target <= 1.5)")
    if large >= 100_000 and "sendgrid" in args.modes:
        print(f"sendgrid: {large:,} recipients in {by[f'sendgrid {large:,}']['seconds']:.1f} s "
              "(target < 10 s)")
    if "outbox" in args.modes:
        o = by[f"outbox {small:,}"]
        print(f"outbox: {o['n'] / o['seconds'] / base_rate:.1f} x the baseline (target >= 25)")


if __name__ == "__main__":
    main()
