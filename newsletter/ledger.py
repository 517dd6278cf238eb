"""The send ledger and the suppression list: one SQLite database (WAL) under state/.

One row per campaign x recipient. A row is marked ``sending`` and committed before
its message leaves, and ``sent`` only after the server accepted it; a crash leaves
``sending`` rows, which the next run turns into ``unknown`` and lists instead of
guessing. Suppressions are keyed by a keyed hash of the address, so an erased
person stays suppressed without their address being stored.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import DeliveryError, NewsletterError

STATUSES = ("pending", "sending", "sent", "rejected", "failed", "unknown", "suppressed",
            "cancelled")
DONE = ("sent", "rejected", "suppressed")  # never sent again
REASONS = ("unsubscribe", "bounce", "complaint", "block", "manual", "erased")
DB_NAME = "ledger.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    release TEXT NOT NULL,
    transport TEXT NOT NULL,
    selection TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    campaign TEXT NOT NULL REFERENCES campaigns(id),
    recipient TEXT NOT NULL,          -- keyed hash of the address (recipient id)
    email TEXT NOT NULL,              -- where to send; erased by 'forget'
    name TEXT NOT NULL DEFAULT '',    -- for the greeting and the To header; erased too
    language TEXT NOT NULL,           -- the edition the recipient gets
    reason TEXT NOT NULL DEFAULT '',  -- why that edition (fallbacks)
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'rejected',
                                           'failed', 'unknown', 'suppressed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    provider_id TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,             -- order of the plan, so a rerun keeps it
    plan_mark INTEGER NOT NULL DEFAULT 0,  -- the run whose plan last named this row
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (campaign, recipient)
);
-- status is not in the index: a status change then rewrites the row, not the index
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (campaign, language, seq);
CREATE TABLE IF NOT EXISTS schedules (
    campaign TEXT PRIMARY KEY,
    release TEXT NOT NULL,            -- the release file, relative to the workspace
    request TEXT NOT NULL,            -- the send request as JSON (lists, tags, transport...)
    send_at TEXT NOT NULL,            -- ISO time with offset
    transport TEXT NOT NULL,
    batch_id TEXT NOT NULL DEFAULT '',  -- SendGrid's, for cancelling
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'handed over', 'sent', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    key TEXT PRIMARY KEY,             -- keyed hash of the address
    email TEXT,                       -- NULL once the person asked to be forgotten
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


class CampaignLocked(NewsletterError):
    """Another process is sending the same campaign."""


@dataclass(frozen=True, slots=True)
class Row:
    campaign: str
    recipient: str
    email: str
    name: str
    language: str
    reason: str
    message_id: str
    status: str
    attempts: int
    last_error: str
    provider_id: str
    updated_at: str


@dataclass(frozen=True)
class Suppression:
    key: str
    email: str | None
    reason: str
    source: str
    created_at: str


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not path.exists()
        self.path = path
        # isolation_level=None: we open transactions ourselves, so a commit is explicit
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        if fresh:
            os.chmod(path, 0o600)  # addresses and delivery history are personal data
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed 'sending' survives power loss
        self.db.execute("PRAGMA foreign_keys=ON")
        # checkpoint in larger steps: a campaign rewrites every row twice
        self.db.execute("PRAGMA wal_autocheckpoint=16384")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- campaigns and deliveries -----------------------------------------------------

    def add_campaign(self, campaign: str, release: str, transport: str, selection: str,
                     rows: Iterable[tuple[str, str, str, str, str, str]]) -> int:
        """Record the plan: (recipient id, email, name, language, reason, message id).

        Rows already settled are left as they are (a rerun must not reset 'sent');
        rows still to send take the current plan's edition (a translation may have been
        approved since), and people who left the lists are marked rejected. The plan
        goes straight into SQLite: the send loop reads it back page by page.
        Returns how many rows are new.
        """
        stamp = now()
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO campaigns VALUES (?, ?, ?, ?, ?)",
                       (campaign, release, transport, selection, stamp))
            before = db.execute("SELECT count(*) FROM deliveries WHERE campaign=?",
                                (campaign,)).fetchone()[0]
            mark = db.execute("SELECT coalesce(max(plan_mark), 0) + 1 FROM deliveries"
                              " WHERE campaign=?", (campaign,)).fetchone()[0]
            db.executemany(
                "INSERT INTO deliveries (campaign, recipient, email, name, language, reason,"
                " message_id, status, seq, plan_mark, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"
                " ON CONFLICT(campaign, recipient) DO UPDATE SET name=excluded.name,"
                " language=excluded.language, reason=excluded.reason,"
                " plan_mark=excluded.plan_mark WHERE deliveries.status IN ('pending', 'failed')",
                ((campaign, rid, email, name, lang, reason, mid, seq, mark, stamp, stamp)
                 for seq, (rid, email, name, lang, reason, mid) in enumerate(rows)))
            # still to send, but not in this run's plan: they left the selected lists
            db.execute("UPDATE deliveries SET status='rejected', updated_at=?,"
                       " last_error='no longer in the selected lists'"
                       " WHERE campaign=? AND status IN ('pending', 'failed') AND plan_mark != ?",
                       (stamp, campaign, mark))
            after = db.execute("SELECT count(*) FROM deliveries WHERE campaign=?",
                               (campaign,)).fetchone()[0]
            return after - before

    def recover(self, campaign: str, *, resend_unknown: bool) -> list[Row]:
        """Rows a crash left in 'sending' become 'unknown' (or 'pending' when asked)."""
        with self.transaction() as db:
            db.execute("UPDATE deliveries SET status='unknown', updated_at=?,"
                       " last_error='the run stopped while this message was being handed over'"
                       " WHERE campaign=? AND status='sending'", (now(), campaign))
            if resend_unknown:
                db.execute("UPDATE deliveries SET status='pending', updated_at=?"
                           " WHERE campaign=? AND status='unknown'", (now(), campaign))
        return self.rows(campaign, status="unknown")

    def pending(self, campaign: str, *, retry_failed: bool = True) -> Iterator[Row]:
        """Rows still to send, in plan order (read in pages: never the whole list)."""
        statuses = ("pending", "failed") if retry_failed else ("pending",)
        marks = ",".join("?" * len(statuses))  # placeholders only: values stay parameters
        # Edition by edition (large batches), in plan order within an edition, paged by
        # (language, seq), so rows changing status meanwhile never shift the pages.
        sql = ("SELECT campaign, recipient, email, name, language, reason, message_id, status,"  # noqa: S608 - only "?" marks are joined in
               " attempts, last_error, provider_id, updated_at, seq FROM deliveries"
               " WHERE campaign=? AND status IN (" + marks + ") AND (language, seq) > (?, ?)"
               " ORDER BY language, seq LIMIT 2000")
        last: tuple[str, int] = ("", -1)
        while True:
            page = self.db.execute(sql, (campaign, *statuses, *last)).fetchall()
            if not page:
                return
            for rec in page:
                last = (rec[4], rec[-1])
                yield Row(*rec[:-1])

    def mark_sending(self, campaign: str, recipients: list[str]) -> None:
        """Committed before the message leaves: a crash after this point is 'unknown'."""
        stamp = now()
        self.db.execute("PRAGMA synchronous=FULL")  # on disk before the message leaves
        with self.transaction() as db:
            for chunk in _chunks(recipients):
                db.execute("UPDATE deliveries SET status='sending', attempts=attempts+1,"  # noqa: S608 - "?" marks only
                           " updated_at=? WHERE campaign=? AND recipient IN ("
                           + ",".join("?" * len(chunk)) + ")", (stamp, campaign, *chunk))

    def mark(self, campaign: str, results: Iterable[tuple[str, str, str, str]]) -> None:
        """(recipient id, status, error, provider id) after the server answered.

        A batch mostly ends one way (1000 recipients 'sent' with one provider id), so
        rows are updated per outcome, not per recipient.
        """
        stamp = now()
        groups: dict[tuple[str, str, str], list[str]] = {}
        for rid, status, error, provider in results:
            if status not in STATUSES:
                raise DeliveryError(f"unknown delivery status {status!r}")
            groups.setdefault((status, error[:500], provider), []).append(rid)
        # Losing this commit to a power cut leaves the rows 'sending', which the next run
        # reports as unknown and does not resend: safe, so no fsync is spent on it.
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._mark_groups(campaign, groups, stamp)
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def _mark_groups(self, campaign: str, groups: dict[tuple[str, str, str], list[str]],
                     stamp: str) -> None:
        with self.transaction() as db:
            for (status, error, provider), rids in groups.items():
                for chunk in _chunks(rids):
                    db.execute("UPDATE deliveries SET status=?, last_error=?, provider_id=?,"  # noqa: S608 - "?" marks only
                               " updated_at=? WHERE campaign=? AND recipient IN ("
                               + ",".join("?" * len(chunk)) + ")",
                               (status, error, provider, stamp, campaign, *chunk))

    def count_pending(self, campaign: str) -> int:
        return self.db.execute("SELECT count(*) FROM deliveries WHERE campaign=? AND status IN"
                               " ('pending', 'failed')", (campaign,)).fetchone()[0]

    def counts(self, campaign: str) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self.db.execute("SELECT status, count(*) FROM deliveries"
                                         " WHERE campaign=? GROUP BY status", (campaign,)):
            out[status] = n
        return out

    def rows(self, campaign: str, status: str | None = None) -> list[Row]:
        sql = ("SELECT campaign, recipient, email, name, language, reason, message_id, status,"
               " attempts, last_error, provider_id, updated_at FROM deliveries WHERE campaign=?")
        args: tuple[str, ...] = (campaign,)
        if status:
            sql += " AND status=?"
            args += (status,)
        return [Row(*r) for r in self.db.execute(sql + " ORDER BY seq", args)]

    def campaigns(self) -> list[tuple[str, str, str]]:
        return list(self.db.execute("SELECT id, release, created_at FROM campaigns"
                                    " ORDER BY created_at"))

    def has_campaign(self, campaign: str) -> bool:
        return self.db.execute("SELECT 1 FROM campaigns WHERE id=?",
                               (campaign,)).fetchone() is not None

    # --- schedules ------------------------------------------------------------------------

    def schedule(self, campaign: str, release: str, request: str, send_at: str,
                 transport: str, batch_id: str, status: str) -> None:
        stamp = now()
        with self.transaction() as db:
            existing = db.execute("SELECT status FROM schedules WHERE campaign=?",
                                  (campaign,)).fetchone()
            if existing and existing[0] in ("scheduled", "handed over"):
                raise DeliveryError(f"campaign {campaign} is already scheduled; cancel it first "
                                    f"with 'newsletter cancel {campaign}'")
            db.execute("INSERT OR REPLACE INTO schedules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (campaign, release, request, send_at, transport, batch_id, status,
                        stamp, stamp))

    def schedules(self, status: str | None = None) -> list[tuple[str, ...]]:
        sql = ("SELECT campaign, release, request, send_at, transport, batch_id, status"
               " FROM schedules")
        args: tuple[str, ...] = ()
        if status:
            sql += " WHERE status=?"
            args = (status,)
        return list(self.db.execute(sql + " ORDER BY send_at", args))

    def set_schedule(self, campaign: str, status: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE schedules SET status=?, updated_at=? WHERE campaign=?",
                       (status, now(), campaign))
            if status == "cancelled":
                db.execute("UPDATE deliveries SET status='cancelled', updated_at=?,"
                           " last_error='the scheduled send was cancelled'"
                           " WHERE campaign=? AND status IN ('pending', 'sent')",
                           (now(), campaign))

    # --- suppressions -------------------------------------------------------------------

    def suppress(self, key: str, email: str | None, reason: str, source: str) -> bool:
        if reason not in REASONS:
            raise DeliveryError(f"unknown suppression reason {reason!r} "
                                f"(one of {', '.join(REASONS)})")
        with self.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, ?, ?)",
                             (key, email, reason, source, now()))
            return cur.rowcount == 1

    def unsuppress(self, key: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM suppressions WHERE key=? AND reason != 'erased'",
                              (key,)).rowcount == 1

    def suppressed(self, keys: list[str]) -> set[str]:
        """Which of these recipient ids are suppressed, asked right before sending."""
        out: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            out.update(k for (k,) in self.db.execute(
                "SELECT key FROM suppressions WHERE key IN (" + ",".join("?" * len(chunk)) + ")",  # noqa: S608
                chunk))
        return out

    def suppressions(self) -> list[Suppression]:
        return [Suppression(*r) for r in self.db.execute(
            "SELECT key, email, reason, source, created_at FROM suppressions"
            " ORDER BY created_at, key")]

    def forget(self, key: str, source: str) -> int:
        """Erase a person: their rows go, a bare key stays suppressed. Returns rows removed."""
        with self.transaction() as db:
            removed = db.execute("DELETE FROM deliveries WHERE recipient=?", (key,)).rowcount
            db.execute("INSERT INTO suppressions VALUES (?, NULL, 'erased', ?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET email=NULL, reason='erased'",
                       (key, source, now()))
        # erased data must not linger in free pages or in the write-ahead log
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@contextmanager
def campaign_lock(state_dir: Path, campaign: str) -> Iterator[None]:
    """An exclusive OS lock per campaign: released by the kernel if the process dies."""
    folder = state_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{campaign}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise CampaignLocked(f"campaign {campaign} is being sent by another process "
                                 f"(pid {holder}); wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
