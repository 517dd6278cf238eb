"""The web app's writes to the ledger (app/writers.py): one writer per process, and
the writes that queued meanwhile committed together. Many threads unsubscribing at
once lose nothing and record nothing twice; a failing write is undone alone. Not
timed."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

import pytest

from newsletter.app import subscriptions, writers
from newsletter.app.subscriptions import Visitor
from newsletter.delivery.keys import load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import LedgerBusy

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own


def _run_all(targets) -> list[BaseException]:
    """Start every target at once (a barrier), join them, return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def run(target):
        start.wait()
        try:
            target()
        except BaseException as err:  # reported by the test
            errors.append(err)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_threads_unsubscribing_at_once_suppress_everyone_exactly_once(ws):
    signer = load_signer(ws.state_dir, allow_state_secret=True)
    emails = [f"person{i}@example.org" for i in range(12)]
    tokens = {e: signer.unsubscribe_token(e) for e in emails}
    # 12 people by one post each, and the first three by four posts each at the same time
    posts = emails + [e for e in emails[:3] for _ in range(3)]
    news: Counter[str] = Counter()
    counting = threading.Lock()

    def post(email):
        def go():
            done = subscriptions.unsubscribe(ws, tokens[email], Visitor("192.0.2.1", "t"))
            with counting:
                news[email] += done.new
        return go

    assert _run_all([post(e) for e in posts]) == []
    assert news == Counter(emails)  # new exactly once per person, repeats answered too
    rids = {signer.recipient_id(e) for e in emails}
    with open_ledger(ws.state_dir) as led:
        kept = [(s.key, s.reason, s.source) for s in led.suppressions()]
        trail = Counter(k for (k,) in led.db.execute(
            "SELECT key FROM consent WHERE event='unsubscribe'"))
    assert sorted(kept) == sorted((r, "unsubscribe", "web") for r in rids)
    assert trail == Counter(rids)


def _queued(state_dir, n):
    """Wait until n writes stand in line behind the leader."""
    for _ in range(5000):
        group = writers._LEDGERS.get(state_dir)
        if group is not None and len(group._line) >= n:
            return
        time.sleep(0.001)
    raise AssertionError(f"{n} writes never queued")


def _suppress(key):
    return lambda ledger: ledger.suppress(key, None, "bounce", "test")


def test_writes_that_queued_commit_together_and_a_failing_one_is_undone_alone(ws):
    load_signer(ws.state_dir, allow_state_secret=True)  # the ledger and its key
    state, holding, release = ws.state_dir, threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first(ledger):  # the leader, busy until the others stand in line
        ledger.suppress("k0", None, "bounce", "test")
        holding.set()
        release.wait(10)
        return "first"

    def broken(ledger):
        ledger.suppress("k2", None, "bounce", "test")
        raise RuntimeError("a bug in one write")

    def run(name, work, timeout=10.0):
        def go():
            try:
                outcomes[name] = writers.write(state, work, timeout=timeout)
            except Exception as err:  # the test looks at it
                outcomes[name] = err
        return threading.Thread(target=go)

    leader = run("first", first)
    leader.start()
    holding.wait(10)
    others = [run("k1", _suppress("k1")), run("k2", broken), run("k3", _suppress("k3")),
              run("late", _suppress("k4"), timeout=0.05)]
    for t in others:
        t.start()
    others[-1].join(10)  # it gave up while the leader was busy
    _queued(state, 3)
    release.set()
    for t in (leader, *others):
        t.join(10)
    assert outcomes["first"] == "first" and outcomes["k1"] is True and outcomes["k3"] is True
    assert isinstance(outcomes["k2"], RuntimeError)
    assert isinstance(outcomes["late"], LedgerBusy)
    with open_ledger(state) as led:
        assert sorted(s.key for s in led.suppressions()) == ["k0", "k1", "k3"]
    assert writers.write(state, _suppress("k4"), timeout=1) is True  # the line is free again


@pytest.mark.sqlite_file
def test_a_ledger_held_by_another_process_fails_the_whole_batch_with_ledger_busy(ws):
    load_signer(ws.state_dir, allow_state_secret=True)
    other = sqlite3.connect(ws.state_dir / "ledger.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LedgerBusy):
            writers.write(ws.state_dir, _suppress("k1"), timeout=0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert writers.write(ws.state_dir, _suppress("k1"), timeout=1) is True
