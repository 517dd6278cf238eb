"""Several workers on one campaign (send --workers N, newsletter work), on SQLite and on
PostgreSQL: every member exactly once, and a worker killed mid-request leaves its
message unknown (listed, not resent) while its other claims go back in line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.delivery.ledger import open_ledger
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_smtp import Recorder, SmtpServer
from tests.test_crash import _members
from tests.test_smtp import configure

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

SECRET = "workers-test-secret-" + "w" * 30


def _env() -> dict[str, str]:
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    env.pop("SMTP_PASSWORD", None)
    return env


def _newsletter(ws_root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "newsletter", "--workspace", str(ws_root),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=_env())


def _send(ws_root: Path, *extra: str) -> subprocess.Popen[str]:
    return _newsletter(ws_root, "send", EXAMPLE_RELEASE, "--list", "members", "--transport",
                       "smtp", *extra)


def _campaign(out: str) -> str:
    return next(line.split()[1].rstrip(":") for line in out.splitlines()
                if line.startswith("Campaign "))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _slow(seconds: float) -> Recorder:
    """A server that takes its time with every message, so that all workers get some."""
    return Recorder(on_message=lambda recorder: time.sleep(seconds))


@dataclass
class TwoRuns:
    first: subprocess.Popen[str]  # the run that was interrupted
    out: str
    received: int  # messages the server had when it ended
    out2: str  # the next run's output (it ended well)


def _interrupted_then_again(ws_root: Path, recorder: Recorder, holder: dict,
                            between: Callable[[], None] = lambda: None) -> TwoRuns:
    """'send --workers 2' until ``recorder`` (or what the workers were given) stops it,
    ``between``, then the same command again, which must end well."""
    with SmtpServer(recorder) as server:
        configure(ws_root, server.port)
        holder["proc"] = _send(ws_root, "--workers", "2")
        out, _ = holder["proc"].communicate(timeout=120)
        received = sum(recorder.received.values())
        between()
        rerun = _send(ws_root, "--workers", "2")
        out2, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out2
    return TwoRuns(holder["proc"], out, received, out2)


def test_three_workers_deliver_every_member_exactly_once(ws_root):
    rec = _slow(0.08)
    with SmtpServer(rec) as server:
        configure(ws_root, server.port)
        proc = _send(ws_root, "--workers", "3")
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    members = _members(ws_root)
    assert sorted(rec.received) == sorted(members)
    assert set(rec.received.values()) == {1}  # nobody twice, nobody left out
    with open_ledger(ws_root / "state") as ledger:
        campaign = _campaign(out)
        assert ledger.counts(campaign)["sent"] == len(members)
        workers = {w for (w,) in ledger.db.execute(
            "SELECT DISTINCT worker FROM deliveries WHERE campaign=?", (campaign,))}
    assert len(workers) >= 2 and "" not in workers, workers  # shared, each row claimed
    assert f"{len(members)} message(s) handed over in this run" in out


def test_a_worker_killed_mid_request_leaves_its_message_unknown(ws_root):
    """SIGKILL of every worker while one waits for the server's answer to message 6:
    that message is 'unknown' (listed, not resent); the rows they had claimed but not
    begun go back in line and the next run sends them, each exactly once."""
    holder: dict = {}
    killed = threading.Event()

    def kill_workers(recorder):
        if recorder.data_count == 6 and not killed.is_set():
            for pid in _children(holder["proc"].pid):
                os.kill(pid, signal.SIGKILL)
            killed.set()
            time.sleep(0.3)  # the sender of this message is gone before it hears back

    rec = Recorder(on_message=kill_workers)
    runs = _interrupted_then_again(ws_root, rec, holder)
    assert killed.is_set(), runs.out
    assert runs.first.returncode == 1, runs.out  # the dispatcher says the workers died
    assert "worker 1 ended with status -9" in runs.out
    first, out2 = runs.received, runs.out2
    campaign = _campaign(out2)
    with open_ledger(ws_root / "state") as ledger:
        unknown = {r.email.lower() for r in ledger.rows(campaign, "unknown")}
        counts = ledger.counts(campaign)
    members = _members(ws_root)
    assert 6 <= first < len(members)
    # the message held by the server, and perhaps the other worker's, queued behind it
    assert 1 <= len(unknown) <= 2 and all(addr in out2 for addr in unknown)
    assert "message(s) of unknown fate" in out2
    for addr in members:
        # an unknown message reached the server or not; never twice, and the rest once
        assert rec.received[addr] <= 1 if addr in unknown else rec.received[addr] == 1, addr
    assert counts["sent"] + counts["unknown"] == len(members)


def _claimants(ws_root: Path) -> set[str]:
    """The workers that have claimed rows of the (only) campaign so far."""
    with open_ledger(ws_root / "state") as ledger:
        return {w for (w,) in ledger.db.execute(
            "SELECT DISTINCT worker FROM deliveries WHERE worker <> ''")}


def test_newsletter_work_joins_a_running_send(ws_root):
    """A send in one process (no --workers) and 'newsletter work' beside it, as on a
    second machine: both take rows, nobody gets two messages."""
    joined = threading.Event()

    def pace(recorder: Recorder) -> None:
        time.sleep(0.1)
        if recorder.data_count >= 2:  # on a busy machine the joiner starts late:
            joined.wait(timeout=60)   # the send waits for it rather than finishing alone

    rec = Recorder(on_message=pace)
    with SmtpServer(rec) as server:
        configure(ws_root, server.port)
        sender = _send(ws_root)
        deadline = time.monotonic() + 30
        while rec.data_count < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the send is under way: its campaign is running
        joiner = _newsletter(ws_root, "work", "--once")
        deadline = time.monotonic() + 60
        while len(_claimants(ws_root)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the joiner has claimed a row of its own
        joined.set()
        out_join, _ = joiner.communicate(timeout=120)
        out, _ = sender.communicate(timeout=120)
    assert sender.returncode == 0, out
    assert joiner.returncode == 0, out_join
    assert "joining " in out_join and "handed over by this worker" in out_join
    assert set(rec.received.values()) == {1}
    assert sorted(rec.received) == sorted(_members(ws_root))
    with open_ledger(ws_root / "state") as ledger:
        workers = {w for (w,) in ledger.db.execute(
            "SELECT DISTINCT worker FROM deliveries WHERE campaign=?", (_campaign(out),))}
    assert len(workers) == 2


def test_work_refuses_a_campaign_nobody_is_sending(ws_root):
    proc = _newsletter(ws_root, "work", "--campaign", "no-such-campaign")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "campaign no-such-campaign is not being sent now" in out


KILL_AT_BUILD = '''
import os, signal, sys

from newsletter.delivery.transports.smtp import SmtpTransport

_original, _built = SmtpTransport.build, []


def _build(self, batch):
    payload = _original(self, batch)
    _built.append(1)
    if "--campaign" in sys.argv and len(_built) == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)  # built, not yet marked sending nor posted
    return payload


SmtpTransport.build = _build
'''


def test_workers_killed_between_requests_leave_nothing_unknown(ws_root, tmp_path,
                                                               monkeypatch):
    """Each worker dies after building its third message, before marking it: what it
    had claimed goes back in line, nothing is unknown, the next run sends the rest."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_AT_BUILD, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(hook), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("KILL_AT", "3")
    rec = _slow(0.02)

    def unhook() -> None:
        monkeypatch.delenv("KILL_AT")
        monkeypatch.delenv("PYTHONPATH")

    runs = _interrupted_then_again(ws_root, rec, {}, between=unhook)
    assert runs.first.returncode == 1 and "ended with status -9" in runs.out, runs.out
    out2 = runs.out2
    assert runs.received == 4  # two each, the third of each never left
    assert "unknown" not in out2
    members = _members(ws_root)
    assert sorted(rec.received) == sorted(members) and set(rec.received.values()) == {1}
    with open_ledger(ws_root / "state") as ledger:
        counts = ledger.counts(_campaign(out2))
    assert counts["sent"] == len(members) and counts["unknown"] == 0


def test_ctrl_c_on_the_dispatcher_pauses_its_workers_after_their_batch(ws_root):
    """SIGINT to 'send --workers 2' while messages go out: each worker finishes the
    message in flight and stops; nothing is unknown, and the next run sends the rest."""
    holder: dict = {}

    def interrupt(recorder):
        time.sleep(0.05)
        if recorder.data_count == 5:
            os.kill(holder["proc"].pid, signal.SIGINT)

    rec = Recorder(on_message=interrupt)
    runs = _interrupted_then_again(ws_root, rec, holder)
    assert runs.first.returncode == 130, runs.out
    assert "Paused. Run the same command again to continue." in runs.out
    members = _members(ws_root)
    assert 5 <= runs.received < len(members)
    assert "unknown" not in runs.out2
    assert sorted(rec.received) == sorted(members) and set(rec.received.values()) == {1}
