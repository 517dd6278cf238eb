"""One writer of the ledger at a time per process, in the order they came.

The web app runs its use cases in a thread pool. When many threads begin a write
transaction at once, SQLite lets one in and the others wait in its busy handler, which
polls with growing sleeps (up to 100 ms each): throughput falls and the slowest
answers take seconds. Writers of this process (one-click unsubscribes, event batches,
mails to the unsubscribe address) queue here instead, first come first served, and
reach SQLite one at a time; SQLite's busy handler is left for other processes (a send,
a command). Nothing is answered before its transaction has committed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from newsletter.errors import LedgerBusy


class OrderedLock:
    """A lock handed to its waiters in the order they asked (threading.Lock lets any
    waiter, or a newcomer, win), with a timeout."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append(gate)
        if gate.acquire(timeout=max(timeout, 0.0)):
            return True  # handed over by release(): still held, now by us
        with self._mutex:
            if gate in self._waiting:
                self._waiting.remove(gate)
                return False
        return True  # release() handed it to us just as we gave up

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an OrderedLock that is not held")
            if self._waiting:
                self._waiting.popleft().release()  # the next in line; stays held
            else:
                self._held = False


_WRITERS = OrderedLock()


@contextmanager
def ledger_writer(timeout: float) -> Iterator[None]:
    """Wait up to ``timeout`` seconds for this process's other writers of the ledger,
    then LedgerBusy (the web answers 503, a provider posts again)."""
    if not _WRITERS.acquire(timeout):
        raise LedgerBusy(f"other requests of this process kept the ledger busy for "
                         f"{timeout:g} s; try again")
    try:
        yield
    finally:
        _WRITERS.release()
