"""Locks a process holds while it works, released by the system when it dies.

Two kinds: a campaign's dispatch lock (one ``send`` plans and oversees a campaign at a
time) and a worker's presence (rows claimed by a worker whose lock nobody holds were
left by a dead one). With the SQLite ledger they are ``flock``s on files under
state/locks/ (one machine shares that ledger); with PostgreSQL they are session
advisory locks on a connection of their own, which the server drops with the
connection, whichever machine the holder runs on. Either way the holder's process id
can be read back for messages ("being sent by pid 4711").
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from newsletter.delivery.connection import engine, lock_key, state_url
from newsletter.errors import DeliveryError
from newsletter.workspace.state import state_errors


class CampaignLocked(DeliveryError):
    """Another process is sending the same campaign."""


class LockHeld(Exception):
    """Somebody else holds the lock (the pid, 0 when not known yet)."""

    def __init__(self, pid: int):
        super().__init__(pid)
        self.pid = pid


@contextmanager
def hold(state_dir: Path, name: str) -> Iterator[None]:
    """Hold the lock ``name`` until the block ends; LockHeld when another holds it."""
    url = state_url(state_dir)
    if url.get_backend_name() == "postgresql":
        with _advisory(url, name):
            yield
    else:
        with _flock(state_dir, name):
            yield


def holder(state_dir: Path, name: str) -> int | None:
    """The process id holding ``name`` now (0: held, pid not known), None when free."""
    url = state_url(state_dir)
    if url.get_backend_name() == "postgresql":
        return _advisory_holder(url, name)
    return _flock_holder(state_dir, name)


@contextmanager
def campaign_lock(state_dir: Path, campaign: str) -> Iterator[None]:
    """The dispatch lock of a campaign: released by the system if the process dies."""
    try:
        with hold(state_dir, f"campaign {campaign}"):
            yield
    except LockHeld as held:
        raise CampaignLocked(f"campaign {campaign} is being sent by another process "
                             f"(pid {held.pid or '?'}); wait for it to finish") from None


def lock_holder(state_dir: Path, campaign: str) -> int | None:
    """The process id sending ``campaign`` now, or None when nobody holds its lock.

    Asks the kernel or the database server, so a pid left behind by a process that
    died is never taken for a running sender."""
    return holder(state_dir, f"campaign {campaign}")


def _file(state_dir: Path, name: str) -> Path:
    # campaign ids and worker ids are [A-Za-z0-9._-]; the name's space becomes '-'
    return state_dir / "locks" / f"{name.replace(' ', '-').removeprefix('campaign-')}.lock"


@contextmanager
def _flock(state_dir: Path, name: str) -> Iterator[None]:
    path = _file(state_dir, name)
    with state_errors(path.parent, "create the lock folder"):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # a full disk or a read-only state/ is one line naming the file, not a traceback
    with state_errors(path, "take the lock"):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with state_errors(path, "take the lock"):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 32, 0).decode(errors="replace").strip()
                raise LockHeld(int(text) if text.isdigit() else 0) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _flock_holder(state_dir: Path, name: str) -> int | None:
    try:
        fd = os.open(_file(state_dir, name), os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0  # held, the pid not written yet
        return None
    finally:
        os.close(fd)


_APP = "newsletter pid "


@contextmanager
def _advisory(url: sa.URL, name: str) -> Iterator[None]:
    key = lock_key(name)
    with engine(url).connect() as conn:
        # the holder names itself, so that others can say who it is
        conn.execute(sa.text("SELECT set_config('application_name', :a, false)"),
                     {"a": f"{_APP}{os.getpid()} on {socket.gethostname()}"[:63]})
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            conn.exec_driver_sql("RESET application_name")
            raise LockHeld(_advisory_holder(url, name) or 0)
        try:
            yield
        finally:
            try:  # the connection goes back to the pool: nothing of ours may stay on it
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.exec_driver_sql("RESET application_name")
            except sa.exc.DBAPIError:
                conn.invalidate()  # a broken connection: the server released the lock


def _advisory_holder(url: sa.URL, name: str) -> int | None:
    unsigned = lock_key(name) & 0xFFFFFFFFFFFFFFFF
    with engine(url).connect() as conn:
        found = conn.execute(sa.text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
            " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND CAST(l.classid AS bigint) = :hi AND CAST(l.objid AS bigint) = :lo"
            " AND l.objsubid = 1"),
            {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
    if found is None:
        return None
    text = (found[0] or "").removeprefix(_APP).split(" ")[0]
    return int(text) if text.isdigit() else 0
