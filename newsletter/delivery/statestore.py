"""The state in a database named by URL: PostgreSQL (or a SQLite file), through
SQLAlchemy Core and the Alembic revisions under ``migrations/``.

``migrate`` sets up the schema by hand (every process also does so on first use, see
pgschema.py); ``copy_ledger`` moves a workspace's SQLite ledger into such a database,
after which NEWSLETTER_DATABASE_URL points every command there. The address key and
NEWSLETTER_SECRET never go into the database: only the key's fingerprint, in ``meta``,
as in the SQLite ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter.delivery.connection import safe
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.pgschema import upgrade
from newsletter.delivery.state_tables import metadata
from newsletter.errors import StateError
from newsletter.workspace.state import hide_passwords

BATCH = 2000  # rows per INSERT while copying


@dataclass(frozen=True)
class Migration:
    url: str  # without the password
    before: str | None  # the revision the database had, None when it was empty
    after: str


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@contextmanager
def _connected(url: sa.URL) -> Iterator[sa.Connection]:
    """One transaction on the database: committed at the end, rolled back on an error."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as err:  # refused, a wrong password, an unknown option
            raise _unusable(url, err) from None
        try:
            with conn, conn.begin():
                yield conn
        except sa.exc.OperationalError as err:
            raise _unusable(url, err) from None
    finally:
        engine.dispose()


def _unusable(url: sa.URL, err: sa.exc.DBAPIError) -> StateError:
    reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
    return StateError(f"cannot use the database {safe(url)}: {hide_passwords(reason)}")


def migrate(url: sa.URL) -> Migration:
    """Create the tables, or bring them to the newest revision."""
    with _connected(url) as conn:
        before, after = upgrade(conn)
    return Migration(safe(url), before, after)


def copy_ledger(ledger: Ledger, url: sa.URL) -> list[TableCount]:
    """Every row of every table of the ledger into the database at ``url``, in one
    transaction that first sets up the schema there. A target with any row already in
    one of the tables is refused; the counts of both sides must agree before it commits.
    """
    # one snapshot of the ledger for the whole copy (WAL)
    with ledger.db.snapshot() as source, _connected(url) as conn:
        upgrade(conn)
        filled = [t.name for t in metadata.sorted_tables
                  if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()]
        if filled:
            raise StateError(f"the database {safe(url)} already holds state (rows in "
                             f"{', '.join(filled)}): copy only into an empty database")
        counts = []
        for table in metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            names = ", ".join(f'"{c}"' for c in columns)
            cursor = source.execute(
                f'SELECT {names} FROM "{table.name}" ORDER BY rowid')  # noqa: S608
            while rows := cursor.fetchmany(BATCH):
                conn.execute(table.insert(), [dict(zip(columns, r, strict=True))
                                              for r in rows])
            if conn.dialect.name == "postgresql":
                _follow_sequences(conn, table)
            had = source.execute(f'SELECT COUNT(*) FROM "{table.name}"').fetchone()[0]  # noqa: S608
            has = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            counts.append(TableCount(table.name, had, int(has or 0)))
        wrong = [c.table for c in counts if c.source != c.target]
        if wrong:  # raising here rolls the whole copy back
            raise StateError(f"the copy into {safe(url)} does not have the ledger's rows "
                             f"in {', '.join(wrong)}; nothing was kept there")
    return counts


def _follow_sequences(conn: sa.Connection, table: sa.Table) -> None:
    """Numbers the copy brought (consent.seq, audit.seq...) stay taken: the next row
    gets a higher one."""
    for column in table.primary_key.columns:
        if column.autoincrement is True:
            sequence = f"pg_get_serial_sequence('{table.name}', '{column.name}')"
            statement = (f"SELECT setval({sequence}, COALESCE(MAX({column.name}), 0) + 1,"  # noqa: S608 - names of the metadata
                         f" false) FROM {table.name}")
            conn.execute(sa.text(statement))
