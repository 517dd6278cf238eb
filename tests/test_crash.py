"""Exactly once across crashes: a send in a subprocess is killed, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from newsletter.audience.lists import read_list
from newsletter.delivery.ledger import Ledger
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_smtp import Recorder, SmtpServer
from tests.test_smtp import configure

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

SECRET = "crash-test-secret-" + "z" * 30


def _send(ws_root, *extra):
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    env.pop("SMTP_PASSWORD", None)
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--workspace", str(ws_root), "send",
         EXAMPLE_RELEASE, "--list", "members", "--transport", "smtp", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _interrupt_at(n: int, proc_holder: dict, sig: int):
    """A recorder that, while holding the reply to message n, signals the sender."""
    reached = threading.Event()

    def on_message(recorder):
        if recorder.data_count == n:
            os.kill(proc_holder["proc"].pid, sig)
            reached.set()
            time.sleep(0.5)  # the sender is waiting for our reply to DATA

    return Recorder(on_message=on_message), reached


def _members(ws_root):
    return [r.email.lower() for r in read_list("members", ws_root / "recipients" /
                                               "members.csv").recipients]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_rerun_after_a_crash_or_pause_delivers_exactly_once(ws_root, sig):
    holder: dict = {}
    rec, reached = _interrupt_at(8, holder, sig)
    with SmtpServer(rec) as server:
        configure(ws_root, server.port, rate=50)
        holder["proc"] = _send(ws_root)
        out, _ = holder["proc"].communicate(timeout=60)
        assert reached.is_set(), out
        if sig == signal.SIGKILL:
            assert holder["proc"].returncode == -signal.SIGKILL
        else:  # Ctrl-C, systemd's SIGTERM, a closed terminal's SIGHUP: the message in
            # flight is finished and recorded, then a pause
            assert holder["proc"].returncode == 130, out
            assert "Paused. Run the same command again to continue." in out
        first = dict(rec.received)
        assert 8 <= sum(first.values()) < 25
        rerun = _send(ws_root)
        out2, _ = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, out2
    members = _members(ws_root)
    campaign = next(line.split()[1].rstrip(":") for line in out2.splitlines()
                    if line.startswith("Campaign "))
    ledger = Ledger(ws_root / "state" / "ledger.sqlite3")
    unknown = {r.email.lower() for r in ledger.rows(campaign, "unknown")}
    if sig == signal.SIGKILL:
        # the message held at the moment of the kill reached the server, but the
        # sender never heard back: it is listed as unknown and not sent again
        assert len(unknown) == 1 and "message(s) of unknown fate" in out2
        assert next(iter(unknown)) in out2
    else:
        assert unknown == set()
    for addr in members:
        assert rec.received[addr] == 1, addr  # nobody twice, nobody left out
    counts = ledger.counts(campaign)
    assert counts["sent"] + counts["unknown"] == len(members)


def test_a_second_concurrent_run_is_refused(ws_root):
    holder: dict = {}
    release_reply = threading.Event()

    def hold(recorder):
        if recorder.data_count == 1:
            holder["second"] = _send(ws_root)
            holder["second_out"] = holder["second"].communicate(timeout=60)[0]
            release_reply.set()

    rec = Recorder(on_message=hold)
    with SmtpServer(rec) as server:
        configure(ws_root, server.port, rate=50)
        first = _send(ws_root)
        first.communicate(timeout=90)
    assert release_reply.is_set()
    assert holder["second"].returncode == 1
    assert "is being sent by another process" in holder["second_out"]
    assert first.returncode == 0
    assert set(rec.received.values()) == {1}


KILL_AFTER_BUILD = """
import os, signal, sys
from newsletter.delivery.transports.smtp import SmtpTransport
built = []
original = SmtpTransport.build
def build(self, batch):
    payload = original(self, batch)
    built.append(1)
    if len(built) == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)  # built, not yet marked sending nor posted
    return payload
SmtpTransport.build = build
from newsletter.cli import main
sys.argv = ["newsletter", *sys.argv[1:]]
main()
"""


def test_a_kill_between_building_and_posting_leaves_nothing_unknown(ws_root):
    rec = Recorder()
    with SmtpServer(rec) as server:
        configure(ws_root, server.port, rate=50)
        env = {**os.environ, "NEWSLETTER_SECRET": SECRET, "KILL_AT": "5"}
        env.pop("SMTP_PASSWORD", None)
        killed = subprocess.run(
            [sys.executable, "-c", KILL_AFTER_BUILD, "--workspace", str(ws_root), "send",
             EXAMPLE_RELEASE, "--list", "members", "--transport", "smtp"],
            capture_output=True, text=True, env=env, timeout=60)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        assert sum(rec.received.values()) == 4
        rerun = _send(ws_root)
        out, _ = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, out
    assert "unknown fate" not in out  # what never left is simply sent now
    for addr in _members(ws_root):
        assert rec.received[addr] == 1, addr
