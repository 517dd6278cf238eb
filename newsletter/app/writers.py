"""The web app's writes to the ledger: one writer per process, and one commit for every
write that waited meanwhile (group commit).

The web app runs its use cases in a thread pool. When many threads begin a write
transaction at once, SQLite lets one in and the others wait in its busy handler,
which polls with growing sleeps (up to 100 ms each): throughput falls and the slowest
answers take seconds. And every commit waits for the disk (synchronous=FULL), a few
milliseconds on a busy one. So writes of this process (one-click unsubscribes, event
batches, mails to the unsubscribe address) queue here, first come first served: the
first in line becomes the leader, opens the ledger, and applies everything queued by
then in one transaction, each write in a savepoint of its own (a write that fails is
undone alone and its caller gets the error), and commits once. Nobody is answered
before the commit: a crash loses only writes nobody was told about. SQLite's busy
handler is left for other processes (a send, a command).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.errors import LedgerBusy
from newsletter.workspace.state import state_errors

T = TypeVar("T")
BATCH = 500  # writes per commit at most


class _Write:
    __slots__ = ("done", "error", "result", "taken", "timeout", "work")

    def __init__(self, work: Callable[[Ledger], Any], timeout: float):
        self.work = work
        self.timeout = timeout
        self.taken = False  # in a leader's batch: its outcome will come
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """The writes of one ledger (one state folder) in this process."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._cond = threading.Condition()
        self._line: deque[_Write] = deque()
        self._leading = False

    def run(self, work: Callable[[Ledger], T], timeout: float) -> T:
        """``work(ledger)`` inside a write transaction, committed when this returns.
        LedgerBusy when it could not start within ``timeout`` seconds."""
        write = _Write(work, timeout)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._line.append(write)
            while not write.done:
                if not self._leading and not write.taken:
                    self._leading = True
                    break
                left = deadline - time.monotonic()
                if not write.taken and left <= 0:
                    self._line.remove(write)
                    raise LedgerBusy(f"other writes of this process kept the ledger busy "
                                     f"for {timeout:g} s; try again")
                self._cond.wait(None if write.taken else left)
        if not write.done:
            self._lead(write)
        if write.error is not None:
            raise write.error
        return write.result  # type: ignore[no-any-return]

    def _lead(self, own: _Write) -> None:
        """Commit batches, oldest writes first, until our own is done; then the next
        in line leads."""
        try:
            while not own.done:
                with self._cond:
                    batch = [self._line.popleft() for _ in range(min(BATCH, len(self._line)))]
                    for write in batch:
                        write.taken = True
                try:
                    self._commit(batch)
                finally:
                    with self._cond:
                        for write in batch:
                            write.done = True
                        self._cond.notify_all()
        finally:
            with self._cond:
                self._leading = False
                self._cond.notify_all()

    def _commit(self, batch: list[_Write]) -> None:
        # another process's write: wait as long as the most patient write of the batch
        timeout = max(write.timeout for write in batch)
        try:
            with open_ledger(self.state_dir, busy_timeout=timeout) as ledger, \
                    ledger.transaction():
                for write in batch:
                    try:  # a savepoint: a failure undoes only this write
                        with state_errors(ledger.path, "write the ledger"), \
                                ledger.transaction():
                            write.result = write.work(ledger)
                    except Exception as err:  # its caller gets it
                        write.error = err
        except BaseException as err:  # nothing was committed: every write of it failed
            for write in batch:
                write.result, write.error = None, err
            if not isinstance(err, Exception):
                raise


_LEDGERS: dict[Path, GroupCommit] = {}
_LEDGERS_LOCK = threading.Lock()


def write(state_dir: Path, work: Callable[[Ledger], T], *, timeout: float) -> T:
    """``work(ledger)`` committed, together with the other writes waiting meanwhile;
    ``work`` must only use the ledger it is given, and may run in another thread."""
    with _LEDGERS_LOCK:
        group = _LEDGERS.get(state_dir)
        if group is None:
            group = _LEDGERS[state_dir] = GroupCommit(state_dir)
    return group.run(work, timeout)
