"""The schema on PostgreSQL: brought to the newest Alembic revision on first use.

A PostgreSQL ledger is set up by the revisions under ``migrations/`` (``newsletter db
migrate`` runs them by hand); every process checks the revision once when it first
opens the ledger and upgrades it when it is behind, under an advisory lock, so that
two first commands never migrate at once. The check is one query: Alembic itself is
imported only when there is something to do.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from newsletter.delivery.connection import Store, engine, lock_key

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0002"  # the newest revision under migrations/versions (a test keeps it so)

_READY: set[str] = set()
_READY_LOCK = threading.Lock()


def revision(conn: sa.Connection) -> str | None:
    """The database's revision; None when Alembic never ran there."""
    exists = conn.execute(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
    if not exists:
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(conn: sa.Connection) -> tuple[str | None, str]:
    """Every revision up to the newest, inside the caller's transaction."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(conn).get_current_revision()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return before, after


def ensure(db: Store, busy_timeout: float) -> None:
    """Wait at most ``busy_timeout`` for locks, and have the newest schema."""
    db.conn.exec_driver_sql(f"SET lock_timeout = {max(1, int(busy_timeout * 1000)):d}")
    key = db.url.render_as_string(hide_password=False)
    if key in _READY:
        return
    if revision(db.conn) != HEAD:
        # a transaction of its own: a migration is all or nothing
        migrating = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
        try:
            with migrating.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": lock_key("migrate")})
                if revision(conn) != HEAD:  # nobody else did it meanwhile
                    upgrade(conn)
        finally:
            migrating.dispose()
    with _READY_LOCK:
        _READY.add(key)


def forget() -> None:
    """Check the revision again on the next open (a test dropped the schema)."""
    with _READY_LOCK:
        _READY.clear()


def has_ledger(url: sa.URL) -> bool:
    """Whether the database holds a ledger (a ledger id in ``meta``)."""
    try:
        with engine(url).connect() as conn:
            if not conn.execute(sa.text("SELECT to_regclass('meta') IS NOT NULL")).scalar():
                return False
            return conn.execute(sa.text(
                "SELECT 1 FROM meta WHERE name='ledger_id'")).first() is not None
    except sa_exc.DBAPIError:  # refused, or an option psycopg does not know (?PASSWORD=)
        return True  # unusable: the open that follows says why, with the URL
