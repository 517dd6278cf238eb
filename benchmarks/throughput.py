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

With --database (issue 14), the command instead: ``newsletter send RELEASE --list
members --transport sendgrid [--workers N]`` as a subprocess against the fake API, each
run on a fresh workspace and an empty database. Measured from outside: wall time and
messages per second (the fake API counts what every address received, and a lost or
doubled message is a PROBLEM, as is a failed command or state that did not land in the
database asked for; then the exit status is 1), the peak memory of the parent and of
each worker process (/proc, every 50 ms), and the database's size after the run.

    --database postgresql: PostgreSQL at 1,000,000 with 1, 2 and 4 workers, at 100,000
      with 1 worker (worker peak at 1,000,000 <= 1.5 x that at 100,000), and SQLite at
      100,000 with 1 worker. The URL from --database-url or $NEWSLETTER_BENCH_DATABASE_URL:
      a database of the benchmark's own, its public schema is dropped before each run.
    --database sqlite: SQLite at the largest size with each of --workers (default 1),
      and at the smallest with 1.
    --sizes SMALL LARGE and --workers N [N ...] change the cases.

    NEWSLETTER_BENCH_DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1:5432/bench \\
        .venv/bin/python benchmarks/throughput.py --database postgresql
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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from probes import Database, Peak, TreeMonitor  # beside this file (benchmarks/)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RELEASE = "2018-08-23-kooperationsvertrag"
LANGS = ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")
MIB = 1024 * 1024
NAMES = ("Ayşe Korkmaz", "Karim Haddad", "Olga Petrenko", "Katarzyna Nowak", "Reza Ahmadi",
         "Rojda Aydın", "Jana Becker", "John Smith", "")


def make_workspace(root: Path, n: int, sendgrid_url: str = "") -> None:
    for part in ("newsletter.toml", "releases", "locales"):
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


# --- newsletter send as a command, on SQLite or PostgreSQL, with several workers ---------

BENCH_URL_ENV = "NEWSLETTER_BENCH_DATABASE_URL"
MEMORY_TARGET = 1.5  # worker peak at the largest size / at the smallest, at most


@dataclass(frozen=True)
class Case:
    database: Database
    n: int
    workers: int

    @property
    def label(self) -> str:
        return f"{self.database.kind} {self.n:,} x {self.workers}"


@dataclass
class SendRun:
    """One 'newsletter send' as measured from outside."""

    case: Case
    seconds: float  # from starting the command to its exit: planning included
    messages: int  # as the fake API counted them
    requests: int
    first_post: float  # seconds from the start to the first post (start-up and planning)
    parent: Peak | None
    workers: list[Peak]
    helpers: list[Peak]
    database_bytes: int
    empty_bytes: int  # the database before the run (PostgreSQL's catalogue; 0 on SQLite)
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def sending_rate(self) -> float:
        """From the first post on: the workers' own pace, without the planning."""
        took = self.seconds - self.first_post
        return self.messages / took if took > 0 else 0.0

    @property
    def parent_mib(self) -> float:
        return self.parent.peak_mib if self.parent else 0.0

    @property
    def in_process(self) -> bool:
        """No worker process: the parent sent itself (one worker, as before --workers)."""
        return not self.workers

    @property
    def worker_mib(self) -> float:
        return max((w.peak_mib for w in self.workers), default=self.parent_mib)


def plan_cases(args: argparse.Namespace) -> list[Case]:
    """The largest size at every worker count, the smallest at one worker (the memory
    comparison), and with PostgreSQL the smallest on SQLite too. Small runs first: a
    broken set-up shows in a minute, not after the million."""
    sizes = args.sizes or [100_000, 1_000_000]
    small, large = min(sizes), max(sizes)
    tested = Database(args.database, args.database_url if args.database == "postgresql"
                      else "")
    workers = args.workers or ([1, 2, 4] if args.database == "postgresql" else [1])
    cases = [Case(tested, small, 1)]
    if tested.kind == "postgresql":
        cases.append(Case(Database("sqlite"), small, 1))
    cases += [Case(tested, large, w) for w in workers]
    return list(dict.fromkeys(cases))


def run_send(case: Case, server: FakeSendGridServer) -> SendRun:
    """A fresh workspace of ``case.n`` members, an empty database, then the command."""
    case.database.reset()
    with tempfile.TemporaryDirectory(dir=REPO / "build") as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        make_workspace(root, case.n, server.url)
        state = root / "state"
        empty = case.database.size_bytes(state) if case.database.kind == "postgresql" else 0
        server.tally.expect(case.n)
        log = Path(tmp) / "send.log"
        start = time.perf_counter()
        code, monitor = _run_command(send_command(root, case.workers),
                                     send_environment(case.database, server.url), log)
        seconds = time.perf_counter() - start
        descendants = monitor.descendants()
        run = SendRun(case, seconds, server.tally.messages, server.tally.requests,
                      server.tally.first - start if server.tally.first else 0.0,
                      monitor.parent(), [p for p in descendants if not p.is_helper],
                      [p for p in descendants if p.is_helper],
                      case.database.size_bytes(state), empty)
        run.problems = _run_problems(run, server.tally, code, log, state)
    server.tally.expect(0)
    return run


def send_command(root: Path, workers: int) -> list[str]:
    newsletter = Path(sys.executable).parent / "newsletter"
    command = [str(newsletter), "--workspace", str(root), "send", RELEASE,
               "--list", "members", "--transport", "sendgrid"]
    return [*command, "--workers", str(workers)]  # 1: one worker process beside the parent


def send_environment(database: Database, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEWSLETTER_DATABASE_URL", "NEWSLETTER_WORKSPACE")}
    env.update(NEWSLETTER_SECRET="benchmark-secret-" + "b" * 32,
               SENDGRID_API_KEY="SG.benchmark", SENDGRID_API_HOST=url)
    env.update(database.environment())
    return env


def _run_command(command: list[str], env: dict[str, str],
                 log: Path) -> tuple[int, TreeMonitor]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        with TreeMonitor(process.pid) as monitor:
            code = process.wait()
    return code, monitor


def _run_problems(run: SendRun, tally: Tally, code: int, log: Path, state: Path) -> list[str]:
    """Everything that makes the run's figures wrong, each said once."""
    problems = []
    if code:
        tail = "\n    ".join(log.read_text(errors="replace").splitlines()[-15:])
        problems.append(f"newsletter send exited with {code}:\n    {tail}")
    if tally.messages != run.case.n or tally.missing() or tally.doubled() or tally.foreign:
        problems.append(f"MESSAGES LOST OR DOUBLED: {tally.messages:,} received for "
                        f"{run.case.n:,} recipients; {tally.missing():,} never got one, "
                        f"{tally.doubled():,} got more than one, {tally.foreign:,} went to "
                        "addresses not on the list")
    where = run.case.database.problem(state)
    if where:
        problems.append(where)
    # fewer is a send that was not parallel; more (a pool's manager, say) is listed in
    # the details line and harms no figure
    if len(run.workers) < run.case.workers:
        problems.append(f"asked for {run.case.workers} workers, saw only {len(run.workers)} "
                        "worker processes")
    return problems


def run_databases(args: argparse.Namespace, server: FakeSendGridServer) -> list[str]:
    """Every case in turn, a line each as it ends, then the table and the ratios;
    returns the problems (also printed)."""
    cases = plan_cases(args)
    tested = cases[0].database
    print(_header(cases, server), flush=True)
    runs = []
    for case in cases:
        runs.append(run_send(case, server))
        print(_details(runs[-1]), flush=True)
    print()
    print(_table(runs))
    print(_ratios(runs, tested))
    problems = [f"{run.case.label}: {p}" for run in runs for p in run.problems]
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return problems


def _header(cases: list[Case], server: FakeSendGridServer) -> str:
    databases = dict.fromkeys(case.database for case in cases)
    lines = [f"newsletter send {RELEASE} --list members --transport sendgrid "
             f"(fake API at {server.url}) on {len(os.sched_getaffinity(0))} CPUs"]
    lines += [f"  {database.describe()}" for database in databases]
    lines += [f"  runs: {', '.join(case.label for case in cases)} (recipients x workers)"]
    return "\n".join(lines)


def _details(run: SendRun) -> str:
    workers = ", ".join(f"{w.peak_mib:.0f}" for w in run.workers) or "none (in-process)"
    helpers = f"; {len(run.helpers)} helper process(es)" if run.helpers else ""
    return (f"{run.case.label}: {run.seconds:.1f} s, {run.messages:,} messages in "
            f"{run.requests:,} requests, first post after {run.first_post:.1f} s; peak MiB: "
            f"parent {run.parent_mib:.0f}, workers {workers}{helpers}; database "
            f"{run.database_bytes / MIB:.1f} MiB (empty {run.empty_bytes / MIB:.1f})"
            + ("" if not run.problems else f"; {len(run.problems)} PROBLEM(S)"))


def _table(runs: list[SendRun]) -> str:
    head = (f"{'database':<11}{'recipients':>11}{'workers':>8}{'seconds':>9}{'msg/s':>8}"
            f"{'sending':>9}{'parent MiB':>11}{'worker MiB':>11}{'db MiB':>9}")
    lines = [head]
    for run in runs:
        mark = "*" if run.in_process else " "
        lines.append(f"{run.case.database.kind:<11}{run.case.n:>11,}{run.case.workers:>8}"
                     f"{run.seconds:>9.1f}{run.rate:>8.0f}{run.sending_rate:>9.0f}"
                     f"{run.parent_mib:>11.0f}"
                     f"{run.worker_mib:>10.0f}{mark}{run.database_bytes / MIB:>9.1f}"
                     + ("  PROBLEM" if run.problems else ""))
    lines.append("msg/s: from the command's start (planning included); sending: from "
                 "the first post on")
    if any(run.in_process for run in runs):
        lines.append("* no worker process: the parent sent the messages itself")
    return "\n".join(lines)


def _ratios(runs: list[SendRun], tested: Database) -> str:
    one = {run.case.n: run for run in runs
           if run.case.database == tested and run.case.workers == 1}
    small, large = min(one, default=0), max(one, default=0)
    lines = []
    if small != large:
        ratio = _ratio(one[large].worker_mib, one[small].worker_mib)
        lines.append(f"{tested.kind}, 1 worker: worker peak at {large:,} is {ratio} x that "
                     f"at {small:,} (target <= {MEMORY_TARGET})")
    for run in runs:
        if run.case.database == tested and run.case.n == large and run.case.workers > 1:
            lines.append(f"{tested.kind}, {large:,}: {run.case.workers} workers send "
                         f"{_ratio(run.rate, one[large].rate)} x the messages per second "
                         f"of 1 ({_ratio(run.sending_rate, one[large].sending_rate)} x "
                         "from the first post on)")
    sqlite = [r for r in runs if r.case.database.kind == "sqlite" and r.case.workers == 1]
    if tested.kind == "postgresql" and small in one and sqlite:
        lines.append(f"{small:,}, 1 worker: PostgreSQL sends "
                     f"{_ratio(one[small].rate, sqlite[0].rate)} x the messages per second "
                     "of SQLite")
    return "\n".join(lines)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _option_problem(args: argparse.Namespace) -> str:
    if args.workers and not args.database:
        return "--workers needs --database"
    if args.workers and min(args.workers) < 1:
        return "--workers: at least 1"
    if args.database == "postgresql" and not args.database_url:
        return f"--database postgresql needs --database-url or ${BENCH_URL_ENV}"
    if args.database == "postgresql" and not args.database_url.startswith("postgresql"):
        return "--database-url: a postgresql+psycopg://… URL"
    return ""


def run_modes(args: argparse.Namespace, server: FakeSendGridServer) -> None:
    """The default: outbox and SendGrid in a child process each, against the baseline."""
    url = server.url
    sizes = args.sizes or [10_000, 100_000]
    base = measure("baseline", args.baseline, url, args.baseline)
    base_rate = base["n"] / base["seconds"]
    rows = [("naive baseline", base)]
    for n in sizes:
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
    small, large = min(sizes), max(sizes)
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+",
                        help="recipients (default 10,000 and 100,000; with --database the "
                             "smallest and the largest count: 100,000 and 1,000,000)")
    parser.add_argument("--baseline", type=int, default=150)
    parser.add_argument("--modes", nargs="+", default=["outbox", "sendgrid"],
                        choices=["outbox", "sendgrid"])
    parser.add_argument("--database", choices=["sqlite", "postgresql"],
                        help="instead of the modes: 'newsletter send --transport sendgrid' "
                             "as a command, with its state in this database")
    parser.add_argument("--workers", type=int, nargs="+",
                        help="with --database: worker counts for the largest size "
                             "(default 1 2 4 on PostgreSQL, 1 on SQLite)")
    parser.add_argument("--database-url", default=os.environ.get(BENCH_URL_ENV, ""),
                        help=f"with --database postgresql (default ${BENCH_URL_ENV}): a "
                             "database of the benchmark's own: everything in it is dropped "
                             "before each run")
    parser.add_argument("--child")
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    problem = _option_problem(args)
    if problem:
        parser.error(problem)
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.url, args.baseline)))
        return
    (REPO / "build").mkdir(exist_ok=True)
    server = FakeSendGridServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if not args.database:
        run_modes(args, server)
        return
    try:
        problems = run_databases(args, server)
    finally:
        server.shutdown()
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
