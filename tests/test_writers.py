"""Writers of the ledger in one process take turns, in order (app/writers.py): many
threads unsubscribing at once lose nothing and record nothing twice. Not timed."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from newsletter.app import subscriptions
from newsletter.app.subscriptions import Visitor
from newsletter.app.writers import OrderedLock, ledger_writer
from newsletter.delivery.keys import load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import LedgerBusy


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


def test_the_lock_goes_to_its_waiters_in_order():
    lock = OrderedLock()
    assert lock.acquire(timeout=1)
    order: list[int] = []
    waiting: list[threading.Thread] = []
    for i in range(5):
        def wait(i=i):
            assert lock.acquire(timeout=10)
            order.append(i)
            lock.release()
        waiting.append(threading.Thread(target=wait))
        waiting[-1].start()
        while len(lock._waiting) < i + 1:  # each in line before the next comes
            time.sleep(0.001)
    lock.release()
    for t in waiting:
        t.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert lock.acquire(timeout=0)  # free again
    lock.release()


def test_a_writer_waiting_too_long_is_ledger_busy_and_leaves_the_line():
    started, done = threading.Event(), threading.Event()

    def hold():
        with ledger_writer(1):
            started.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(10)
    try:
        with pytest.raises(LedgerBusy), ledger_writer(0.05):
            pass
    finally:
        done.set()
        holder.join(10)
    with ledger_writer(0.05):  # nobody left in line
        pass
