"""Several workers on one campaign: each claims pages of the ledger for itself.

A claimed row carries its worker's id and stays ``pending`` until the worker has
built the message and marks it ``sending``; settled rows keep the id (who sent it),
rows put back in line (deferred, not attempted) lose it. On PostgreSQL the claim
skips rows another worker is claiming at that moment (``FOR UPDATE SKIP LOCKED``), so
workers never wait for each other; on SQLite one writer at a time makes the same
statement safe. A worker that dies leaves its claims behind; ``Ledger.recover`` hands
them back (its ``sending`` rows become ``unknown``) once its presence lock is gone.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.delivery.ledger import ROW_COLUMNS, Ledger
from newsletter.delivery.locks import hold, holder
from newsletter.delivery.records import Row


def new_worker_id() -> str:
    """Unique across machines, readable in the ledger: host, pid and a random part."""
    host = "".join(c if c.isalnum() or c in "-." else "-" for c in socket.gethostname())
    return f"{host[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


@contextmanager
def presence(state_dir: Path, worker: str) -> Iterator[None]:
    """Held while the worker runs: its claims belong to a live worker."""
    with hold(state_dir, f"worker {worker}"):
        yield


def alive(state_dir: Path, worker: str) -> bool:
    return holder(state_dir, f"worker {worker}") is not None


def claim(ledger: Ledger, campaign: str, worker: str, *, statuses: tuple[str, ...],
          after: tuple[str, int], limit: int) -> list[tuple[Row, int]]:
    """Up to ``limit`` free rows after ``after`` (language, seq) in plan order, now the
    worker's: (row, seq) sorted by edition and plan order."""
    marks = ",".join("?" * len(statuses))
    skip = " FOR UPDATE SKIP LOCKED" if ledger.db.postgres else ""
    # campaign=? AND (language, seq) > (...): both engines read the index deliveries_order
    # from where the last claim ended, so a million rows are never scanned again and again
    sql = ("UPDATE deliveries SET worker=? WHERE (campaign, recipient) IN ("  # noqa: S608 - "?" marks and a fixed clause only
           "SELECT campaign, recipient FROM deliveries WHERE campaign=? AND worker=''"
           " AND status IN (" + marks + ") AND (language, seq) > (?, ?)"
           " ORDER BY language, seq LIMIT ?" + skip + ") RETURNING " + ROW_COLUMNS + ", seq")
    # A claim lost to a power cut is harmless (the rows are still free), and a later
    # 'sending' commit, which does wait for the disk, makes it durable anyway.
    ledger.db.pragma("synchronous=NORMAL")
    try:
        with ledger.transaction(shared=True) as db:
            if db.postgres:
                db.execute("SET LOCAL synchronous_commit TO OFF")
            rows = db.execute(sql, (worker, campaign, *statuses, *after, limit)).all()
    finally:
        ledger.db.pragma("synchronous=FULL")
    rows.sort(key=lambda r: (r[4], r[-1]))
    return [(Row(*r[:-1]), r[-1]) for r in rows]


def release(ledger: Ledger, campaign: str, worker: str) -> int:
    """Claims the worker did not get to (it paused or stopped) go back in line."""
    with ledger.transaction(shared=True) as db:
        return db.execute("UPDATE deliveries SET worker='' WHERE campaign=? AND worker=?"
                          " AND status IN ('pending', 'failed')", (campaign, worker)).rowcount


def has_free(ledger: Ledger, campaign: str, statuses: tuple[str, ...]) -> bool:
    """Whether any row of these statuses waits for a worker."""
    marks = ",".join("?" * len(statuses))
    return ledger.db.execute(
        "SELECT 1 FROM deliveries WHERE campaign=? AND worker='' AND status IN ("  # noqa: S608 - "?" marks only
        + marks + ") LIMIT 1", (campaign, *statuses)).first() is not None


def request_of(ledger: Ledger, campaign: str) -> str:
    """The JSON a joining worker prepares the campaign from ('' for older campaigns)."""
    found = ledger.db.execute("SELECT request FROM campaigns WHERE id=?", (campaign,)).first()
    return found[0] if found else ""


def open_campaigns(ledger: Ledger) -> list[str]:
    """Campaigns a worker could join: prepared by a request, rows waiting."""
    return [c for (c,) in ledger.db.execute(
        "SELECT id FROM campaigns c WHERE request != '' AND EXISTS (SELECT 1 FROM"
        " deliveries d WHERE d.campaign = c.id AND d.worker = '' AND d.status = 'pending')"
        " ORDER BY created_at")]
