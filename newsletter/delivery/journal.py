"""What the ledger once held, kept beside it in state/ and outside its database: an
append-only journal of suppressions, and the high-water marks of its campaigns.

A ledger emptied with SQL (``DELETE FROM deliveries; DELETE FROM suppressions; DELETE
FROM campaigns``), or restored from an old copy, would otherwise send the same campaign
to everyone again, the people who objected included. So:

* ``state/suppressions.log``: one line per suppression added or lifted, with the
  recipient id (already a keyed hash of the address: no address is written here), the
  reason and the time, each line signed with a key derived from the address key. It is
  only ever appended to (O_APPEND, fsync). The send loop asks it beside the ledger
  before every batch, so a suppression the database lost still holds. A line that
  does not verify (cut by a crash, or written by hand) is ignored and reported by
  ``newsletter db check``: it can neither lift nor add a suppression.
* ``state/ledger-marks.json``: per campaign, the number of delivery rows the ledger
  held at its last send (lowered only by an erasure, which removes rows on purpose).

``verify`` runs before every send: a ledger that lacks a campaign, rows of one, or a
suppression the journal holds refuses to send and says how to restore. Suppressions
the database has and the journal lacks (ledgers from before the journal, a crash
between the commit and the append) are copied into the journal first.

Writes to the journal follow the database: a suppression is appended after its
transaction committed, never before (a rolled-back one must not look lost). A
lift is appended after its delete committed too; the check reads the journal again
before calling anything lost, so a lift landing meanwhile is seen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import StateError
from newsletter.workspace.state import state_errors

JOURNAL = "suppressions.log"
MARKS = "ledger-marks.json"
ADD, LIFT = "+", "-"
_MAC_CHARS = 24
RECHECK_AFTER = 0.2  # seconds: a lift committed while we looked appends its line by then
# how to come back from a loss; the journal and the marks must stay: they are the record
RESTORE_LEDGER = (f"restore the ledger (state/ledger.sqlite3, or the database) from your "
                  f"backup (README: 'Backing up state/'), keeping state/{JOURNAL} and "
                  f"state/{MARKS} as they are; then 'newsletter db accept-loss' puts the "
                  f"journal's suppressions back and accepts what no backup holds as lost")


def _mac_key(address_key: bytes) -> bytes:
    return hmac.new(address_key, b"newsletter suppression journal", hashlib.sha256).digest()


@dataclass
class _Cache:
    """What was read of one journal file: the active keys and how far it was read."""

    inode: int = -1
    offset: int = 0
    active: dict[str, str] = field(default_factory=dict)  # key -> reason
    lines: int = 0
    damaged: list[int] = field(default_factory=list)  # line numbers, ignored


_caches: dict[Path, _Cache] = {}
_caches_lock = threading.Lock()


class Journal:
    """The suppression journal of one state folder."""

    def __init__(self, state_dir: Path, address_key: bytes):
        self.path = state_dir / JOURNAL
        self._key = _mac_key(address_key)

    def _line(self, op: str, key: str, reason: str, at: str) -> bytes:
        body = json.dumps([op, key, reason, at], separators=(",", ":"))
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:_MAC_CHARS]
        return f"{mac} {body}\n".encode()

    def append(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """(op, recipient id, reason) lines, written at once and on disk on return."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        data = b"".join(self._line(op, key, reason, at) for op, key, reason in entries)
        if not data:
            return
        with state_errors(self.path, "write the suppression journal"):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a line cut by a crash ends here, on its own
                os.write(fd, data)  # one write with O_APPEND: lines of two writers never mix
                os.fsync(fd)
            finally:
                os.close(fd)

    def _current(self) -> _Cache:
        """The cache, brought up to the file's end (call with _caches_lock held)."""
        cache = _caches.setdefault(self.path, _Cache())
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            cache = _caches[self.path] = _Cache()
            return cache
        except OSError as err:
            raise StateError(f"cannot read the suppression journal: {err.strerror}",
                             path=self.path) from None
        try:
            inode = os.fstat(fd).st_ino
            if inode != cache.inode:  # replaced (restored from a backup): read it all
                cache = _caches[self.path] = _Cache(inode)
            os.lseek(fd, cache.offset, os.SEEK_SET)
            with os.fdopen(os.dup(fd), "rb") as stream:
                self._read(stream, cache)
        finally:
            os.close(fd)
        return cache

    def active(self) -> dict[str, str]:
        """The suppressed recipient ids and their reasons, as the journal has them
        now. Only what was appended since the last call is read."""
        with _caches_lock:
            return dict(self._current().active)

    def holding(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` the journal holds suppressed (before every batch: no copy)."""
        with _caches_lock:
            active = self._current().active
            return {k for k in keys if k in active}

    def damaged(self) -> list[int]:
        """Numbers of lines that are damaged (a crash in the middle of a write) or not
        signed with this workspace's key (written by hand): they are ignored."""
        with _caches_lock:
            return list(self._current().damaged)

    def _read(self, stream: object, cache: _Cache) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            if not raw.endswith(b"\n"):
                break  # a line still being written (or cut by a crash): not yet
            cache.lines += 1
            cache.offset += len(raw)
            parsed = self._parse(raw)
            if parsed is None:
                cache.damaged.append(cache.lines)
                continue
            op, key, reason = parsed
            if op == ADD:
                cache.active[key] = reason
            else:
                cache.active.pop(key, None)

    def _parse(self, raw: bytes) -> tuple[str, str, str] | None:
        try:
            mac, _, body = raw.decode("ascii").rstrip("\n").partition(" ")
            expected = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
            op, key, reason, _at = json.loads(body)
        except (ValueError, UnicodeDecodeError, TypeError):
            return None
        if not hmac.compare_digest(mac, expected[:_MAC_CHARS]) or op not in (ADD, LIFT):
            return None
        return op, str(key), str(reason)


# --- the high-water marks -------------------------------------------------------------


class Marks:
    """The delivery rows each campaign had at its last send, in state/."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / MARKS

    def read(self) -> tuple[str, dict[str, int]]:
        """(the ledger id they were taken of, rows per campaign); ("", {}) before any."""
        try:
            data = json.loads(self.path.read_bytes())
            return str(data["ledger"]), {str(k): int(v) for k, v in data["campaigns"].items()}
        except FileNotFoundError:
            return "", {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StateError("not readable as the ledger's marks: restore it from your "
                             "backup, or remove it (the next send then takes the ledger as "
                             "it is as the mark)", path=self.path) from None
        except OSError as err:
            raise StateError(f"cannot read the ledger's marks: {err.strerror}",
                             path=self.path) from None

    @contextmanager
    def changing(self) -> Iterator[tuple[list[str], dict[str, int]]]:
        """([ledger id], rows per campaign) to change in place, written back atomically
        at the end, one process at a time."""
        with _flocked(self.path.with_name(f".{MARKS}.lock")):
            ledger, campaigns = self.read()
            box = [ledger]
            yield box, campaigns
            data = json.dumps({"ledger": box[0], "campaigns": campaigns}, sort_keys=True,
                              indent=0).encode()
            tmp = self.path.with_name(f".{MARKS}.{os.getpid()}.tmp")
            with state_errors(self.path, "write the ledger's marks"):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.write(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, self.path)


@contextmanager
def _flocked(path: Path) -> Iterator[None]:
    with state_errors(path, "lock the ledger's marks"):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # PostgreSQL: no file yet
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateError("another process held the ledger's marks for 30 s; "
                                     "try again", path=path) from None
                time.sleep(0.02)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


# --- the check before a send ----------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """What the ledger once held and holds no more."""

    other_ledger: str = ""  # the marks were taken of another ledger (its id)
    campaigns: tuple[tuple[str, int, int], ...] = ()  # (id, rows marked, rows now)
    suppressions: tuple[str, ...] = ()  # recipient ids the journal holds, the ledger not
    damaged_lines: tuple[int, ...] = ()  # of the journal, ignored: no loss, but worth a look

    def __bool__(self) -> bool:
        return bool(self.other_ledger or self.campaigns or self.suppressions)

    def describe(self) -> str:
        parts = []
        if self.other_ledger:
            parts.append(f"it is not the ledger state/ was kept with (that was "
                         f"{self.other_ledger})")
        gone = [c for c in self.campaigns if c[2] < 0]
        short = [c for c in self.campaigns if c[2] >= 0]
        if gone:
            parts.append(f"{len(gone)} campaign(s) are missing "
                         f"({', '.join(c[0] for c in gone[:3])}{' …' if len(gone) > 3 else ''})")
        if short:
            parts.append("delivery rows are missing (" + ", ".join(
                f"{cid}: {now} of {marked}" for cid, marked, now in short[:3])
                + (" …" if len(short) > 3 else "") + ")")
        if self.suppressions:
            parts.append(f"{len(self.suppressions)} suppression(s) of "
                         f"state/{JOURNAL} are missing")
        return "; ".join(parts)
