"""The SQLAlchemy description of the state (delivery/state_tables.py) and the SQLite
ledger's own SCHEMA describe the same tables: names, columns, keys, NULLs, indexes."""

from __future__ import annotations

import sqlite3

from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.state_tables import metadata


def sqlite_shape(path) -> dict[str, dict[str, object]]:
    """Each table of a SQLite file: its columns (name, NOT NULL, primary key) and the
    columns of its named indexes."""
    db = sqlite3.connect(path)
    try:
        tables = [n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'alembic_version'")]
        shape: dict[str, dict[str, object]] = {}
        for table in tables:
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
            indexes = {
                name: tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})"))
                for (_, name, *_rest) in db.execute(f"PRAGMA index_list({table})")
                if not name.startswith("sqlite_autoindex")}
            shape[table] = {
                "columns": [(r[1], bool(r[3]) or r[5] > 0) for r in info],
                "primary key": tuple(r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]),
                "indexes": indexes}
        return shape
    finally:
        db.close()


def metadata_shape() -> dict[str, dict[str, object]]:
    return {
        table.name: {
            "columns": [(c.name, not c.nullable) for c in table.columns],
            "primary key": tuple(c.name for c in table.primary_key.columns),
            "indexes": {i.name: tuple(c.name for c in i.columns) for i in table.indexes
                        if i.name != "users_name_nocase"}}  # PostgreSQL's NOCASE
        for table in metadata.sorted_tables}


def test_metadata_matches_the_sqlite_ledger(tmp_path):
    state = tmp_path / "state"
    open_ledger(state).close()
    ledger = sqlite_shape(state / "ledger.sqlite3")
    assert sorted(ledger) == sorted(metadata.tables)
    assert metadata_shape() == ledger
