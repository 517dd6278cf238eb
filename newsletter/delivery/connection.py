"""One connection to the state database, SQLite or PostgreSQL, through SQLAlchemy Core.

Every statement of the ledger is written once, in SQL that both engines speak
(``ON CONFLICT``, row values, ``RETURNING``), with ``?`` marks as in the SQLite days,
and runs through SQLAlchemy's Connection (engine, pool, results, errors) with its
parameters in the driver's form: the marks stay ``?`` for sqlite3 and become ``%s``
for psycopg. Only what is not a query differs per dialect: how a write transaction
takes its lock, the pragmas, VACUUM. The tables themselves are described in Core
(state_tables.py) for Alembic and the copy.

Transactions are opened by us, not by SQLAlchemy's autobegin (the connection runs in
AUTOCOMMIT): a read outside a transaction holds no snapshot or lock, and a write
transaction starts with its lock taken, so two writers queue instead of failing
halfway. On SQLite that is ``BEGIN IMMEDIATE``; on PostgreSQL a transaction-scoped
advisory lock serialises the ledger's writes the same way, except those marked
``shared`` (claiming and settling rows of a campaign), which several workers run at
once and which lock only their own rows.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult

from newsletter.errors import ConfigError
from newsletter.workspace.state import DB_NAME, HIDDEN, URL_VARIABLE, hide_passwords, secret_name

PAGE = 2000  # rows per executemany round trip: a plan of a million never sits in memory
_MARK = re.compile(r"\?")

EXAMPLES = "postgresql+psycopg://user:password@host:5432/database or sqlite:///path/to/file"

# the PostgreSQL advisory lock every serialised write transaction takes
WRITE_LOCK = "ledger writes"


def lock_key(*names: str) -> int:
    """A 64-bit advisory lock key for a name (a campaign, a worker, the ledger's writes)."""
    digest = hashlib.sha256("\x00".join(("newsletter", *names)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def database_url(text: str, *, what: str = "the database URL") -> sa.URL:
    """A PostgreSQL (psycopg 3) or SQLite URL; anything else is a ConfigError that
    never repeats a password."""
    try:
        url = sa.make_url(text.strip())
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"{what} is not a database URL; expected {EXAMPLES}") from None
    backend, shown = url.get_backend_name(), safe(url)
    if backend == "postgresql":
        if url.drivername == "postgresql":  # the default driver would be psycopg2
            url = url.set(drivername="postgresql+psycopg")
        elif url.drivername != "postgresql+psycopg":
            raise ConfigError(f"{what} {shown} names the driver {url.get_driver_name()!r}; "
                              "PostgreSQL is reached through psycopg 3: postgresql+psycopg://…")
        if not url.database:
            raise ConfigError(f"{what} {shown} names no database; expected {EXAMPLES}")
    elif backend == "sqlite":
        if url.drivername != "sqlite" or not url.database or url.database == ":memory:":
            raise ConfigError(f"{what} {shown} names no SQLite file; expected {EXAMPLES}")
    else:
        raise ConfigError(f"{what} {shown} is neither PostgreSQL nor SQLite; expected {EXAMPLES}")
    return url


def safe(url: sa.URL) -> str:
    """The URL to show: a password, in the userinfo or as a query parameter (libpq
    takes ``?password=`` too), is ``***``."""
    query = {key: HIDDEN if secret_name(key) else value for key, value in url.query.items()}
    return hide_passwords(url.set(query=query).render_as_string(hide_password=True))


def state_url(state_dir: Path) -> sa.URL:
    """Where the workspace keeps its state: NEWSLETTER_DATABASE_URL, else its SQLite file."""
    text = os.environ.get(URL_VARIABLE, "").strip()
    if text:
        return database_url(text, what=URL_VARIABLE)
    return sqlite_url(state_dir)


def sqlite_url(state_dir: Path) -> sa.URL:
    return sa.URL.create("sqlite", database=str(state_dir / DB_NAME))


@lru_cache(maxsize=4096)
def for_psycopg(sql: str) -> str:
    """psycopg's marks: "?" becomes "%s", and a literal "%" (LIKE 'x%') is doubled."""
    return _MARK.sub("%s", sql.replace("%", "%%"))


_ENGINES: dict[str, sa.Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _forget_engines_in_child() -> None:
    # a forked worker must never share the parent's pooled PostgreSQL sockets
    for engine in _ENGINES.values():
        engine.dispose(close=False)
    _ENGINES.clear()


os.register_at_fork(after_in_child=_forget_engines_in_child)


def engine(url: sa.URL) -> sa.Engine:
    """One engine per database and process. SQLite files get no pool: each open sees
    the file as it is now (a state/ restored from the backup, never a deleted inode)."""
    key = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        found = _ENGINES.get(key)
        if found is None:
            if url.get_backend_name() == "sqlite":
                found = sa.create_engine(url, isolation_level="AUTOCOMMIT",
                                         poolclass=sa.pool.NullPool,
                                         connect_args={"check_same_thread": False})
            else:
                # psycopg prepares a statement after its fifth run, and PostgreSQL then
                # soon plans it once for any values: "recipient IN (500 values) AND
                # campaign=?" became a scan of the whole campaign per batch (130 ms instead
                # of 8). Plans made for the values at hand keep the key lookups.
                found = sa.create_engine(
                    url, isolation_level="AUTOCOMMIT", pool_size=4, max_overflow=16,
                    pool_pre_ping=True,
                    connect_args={"options": "-c plan_cache_mode=force_custom_plan"})
            _ENGINES[key] = found
        return found


def dispose_all() -> None:
    """Close every pooled connection (tests that drop and re-create a database)."""
    with _ENGINES_LOCK:
        for found in _ENGINES.values():
            found.dispose()
        _ENGINES.clear()


class Store:
    """A connection, the statements it runs, and the transactions we open on it."""

    def __init__(self, url: sa.URL):
        self.url = url
        self.dialect = url.get_backend_name()
        self.postgres = self.dialect == "postgresql"
        self.conn = engine(url).connect()
        self._depth = 0
        self._savepoints = 0

    def close(self) -> None:
        try:
            if self._depth:  # an error escaped a transaction: undo it before the pool resets
                self._depth = 0
                self.conn.exec_driver_sql("ROLLBACK")
        except sa.exc.DBAPIError:
            self.conn.invalidate()  # a broken connection never goes back to the pool
        finally:
            self.conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> CursorResult[Any]:
        """One statement with its parameters in the driver's own form (exec_driver_sql):
        the ledger's statements are plain SQL, and a web request runs a dozen of them,
        so SQLAlchemy's compiling and binding of each would only cost time."""
        return self.conn.exec_driver_sql(for_psycopg(sql) if self.postgres else sql,
                                         tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Rows go in pages, so a generator of a million is never a list of a million.

        Straight to the driver's executemany (SQLAlchemy's exec_driver_sql): a plan of
        100,000 rows would otherwise spend a second turning each row into bound
        parameters one by one. Only the marks differ: "?" for sqlite3, "%s" for psycopg.
        """
        driver_sql = for_psycopg(sql) if self.postgres else sql
        it = iter(rows)
        while page := [tuple(r) for r in itertools.islice(it, PAGE)]:
            self.conn.exec_driver_sql(driver_sql, page)

    def pragma(self, text: str) -> Any:
        """A SQLite setting (its value); PostgreSQL has its own, set per server.

        Straight on the driver's connection: a settings statement needs no result
        processing, and the web app opens the ledger (six pragmas) for every post."""
        if self.postgres:
            return None
        row = self.conn.connection.dbapi_connection.execute(f"PRAGMA {text}").fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self, *, shared: bool = False) -> Iterator[Store]:
        """A write transaction, or a savepoint inside the one already open."""
        if self._depth:
            with self._savepoint():
                yield self
            return
        self.conn.exec_driver_sql("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        self._depth = 1
        try:
            if self.postgres and not shared:  # waits at most lock_timeout: LedgerBusy
                self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(WRITE_LOCK),))
            yield self
        except BaseException:
            self._depth = 0
            self.conn.exec_driver_sql("ROLLBACK")
            raise
        self._depth = 0
        self.conn.exec_driver_sql("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """One consistent view for several reads (a copy, a report), writing nothing."""
        self.conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                  if self.postgres else "BEGIN")
        self._depth = 1
        try:
            yield self
        finally:
            self._depth = 0
            self.conn.exec_driver_sql("ROLLBACK")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"step{self._savepoints}"
        self.conn.exec_driver_sql(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self.conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
            self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self._depth -= 1
        self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
