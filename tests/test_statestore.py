"""newsletter db migrate and db copy: the schema on PostgreSQL (skipped without a
server, see tests/pg.py) and on a SQLite file, the append-only rules there, and a copy
of a workspace's ledger after a real (outbox) send."""

from __future__ import annotations

import sqlite3
import warnings

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.pgschema import HEAD, MIGRATIONS
from newsletter.delivery.state_tables import metadata
from newsletter.errors import LedgerBusy
from newsletter.workspace.state import ADDRESS_KEY
from tests.conftest import EXAMPLE_RELEASE

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)


@pytest.fixture(params=ENGINES)
def url(request, tmp_path) -> str:
    """An empty database of each engine: a new SQLite file, the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state-copy.sqlite3'}"
    return request.getfixturevalue("pg_url")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def migrated(url: str) -> sa.Engine:
    result = run("db", "migrate", env={"NEWSLETTER_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert f"(none) → {HEAD}" in result.output
    assert "password" not in result.output
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def ledger_columns(tmp_path) -> dict[str, list[str]]:
    open_ledger(tmp_path / "fresh").close()
    db = sqlite3.connect(tmp_path / "fresh" / "ledger.sqlite3")
    tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                       " AND name NOT LIKE 'sqlite_%'")]
    columns = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}
    db.close()
    return columns


def count_rows(conn: sa.Connection) -> dict[str, int]:
    return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in metadata.sorted_tables}


def test_migrate_creates_every_table_of_the_ledger(url, tmp_path):
    engine = migrated(url)
    inspector = sa.inspect(engine)
    found = {t: [c["name"] for c in inspector.get_columns(t)]
             for t in inspector.get_table_names() if t != "alembic_version"}
    assert found == ledger_columns(tmp_path)
    again = run("db", "migrate", env={"NEWSLETTER_DATABASE_URL": url})
    assert again.exit_code == 0 and f"up to date (revision {HEAD})" in again.output
    engine.dispose()


def test_migrated_schema_matches_the_metadata(url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = migrated(url)
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect PostgreSQL's lower(name) index, which it does not have
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_consent_and_audit_are_append_only(url):
    engine = migrated(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO consent (key, event, at) VALUES ('k', 'signup', 't')"))
        conn.execute(sa.text('INSERT INTO audit (at, "user", action) VALUES (\'t\', \'u\', \'a\')'))
    refused = {
        "UPDATE consent SET event='confirmed'": "consent records are append-only",
        "UPDATE audit SET action='x'": "the audit log is append-only",
        "DELETE FROM audit": "the audit log is append-only",
    }
    for statement, message in refused.items():
        with pytest.raises(sa.exc.DatabaseError, match=message), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.begin() as conn:  # consent trails of unconfirmed sign-ups are deleted
        assert conn.execute(sa.text("DELETE FROM consent")).rowcount == 1
        assert conn.execute(sa.text("SELECT COUNT(*) FROM audit")).scalar() == 1
    engine.dispose()


def test_copy_after_a_send(url, ws_root):
    sent = run("--workspace", str(ws_root), "send", EXAMPLE_RELEASE,
               "--list", "members", "--list", "press")
    assert sent.exit_code == 0, sent.output
    added = CliRunner().invoke(cli, ["--workspace", str(ws_root), "users", "add", "Leyla",
                                     "--role", "officer"], input="a long passphrase 1\n" * 2)
    assert added.exit_code == 0, added.output  # a users row and an audit row
    ledger = sa.create_engine(f"sqlite:///{ws_root / 'state' / 'ledger.sqlite3'}",
                              poolclass=sa.pool.NullPool)
    with ledger.connect() as conn:
        counts = count_rows(conn)
        rows = [tuple(r) for r in conn.execute(
            sa.text("SELECT * FROM deliveries ORDER BY campaign, seq"))]
    ledger.dispose()
    assert counts["deliveries"] > 0 and counts["campaigns"] == 1
    assert counts["users"] == 1 and counts["audit"] >= 1

    copied = run("--workspace", str(ws_root), "db", "copy", "--to", url)
    assert copied.exit_code == 0, copied.output
    assert "every table's count matches" in copied.output
    for table in counts:
        assert f"│ {table}" in copied.output
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        assert count_rows(conn) == counts
        assert [tuple(r) for r in conn.execute(
            sa.text("SELECT * FROM deliveries ORDER BY campaign, seq"))] == rows
        meta = dict(conn.execute(sa.text("SELECT name, value FROM meta")).all())
        assert set(meta) == {"ledger_id", "key_fingerprint"}
        key = (ws_root / "state" / ADDRESS_KEY).read_bytes()
        assert key.strip().decode(errors="replace") not in meta.values()
        # the numbers the copy brought stay taken
        conn.execute(sa.text('INSERT INTO audit (at, "user", action) VALUES (\'t\', \'u\', \'a\')'))
        assert conn.execute(sa.text("SELECT MAX(seq) FROM audit")).scalar() == \
            counts["audit"] + 1

    again = run("--workspace", str(ws_root), "db", "copy", "--to", url)
    assert again.exit_code == 1
    assert "already holds state (rows in" in again.output
    assert "copy only into an empty database" in again.output
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM deliveries")).scalar() == \
            counts["deliveries"]
    engine.dispose()


@pytest.mark.parametrize(("address", "message"), [
    ("mysql://u:hunter22@db/x", "is neither PostgreSQL nor SQLite"),
    ("postgresql+asyncpg://u:hunter22@db/x", "names the driver 'asyncpg'"),
    ("postgresql+psycopg://u:hunter22@db", "names no database"),
    ("sqlite://", "names no SQLite file"),
    ("not a url", "is not a database URL"),
])
def test_bad_urls_are_refused(ws_root, address, message):
    result = run("--workspace", str(ws_root), "db", "copy", "--to", address)
    assert result.exit_code == 1
    assert "error: --to " in result.output
    assert message in result.output and "hunter22" not in result.output
    migrate = run("db", "migrate", env={"NEWSLETTER_DATABASE_URL": address})
    assert migrate.exit_code == 1 and "NEWSLETTER_DATABASE_URL" in migrate.output
    assert message in migrate.output and "hunter22" not in migrate.output


def test_migrate_without_a_url():
    result = run("db", "migrate")
    assert result.exit_code == 1
    assert "NEWSLETTER_DATABASE_URL is unset" in result.output


def test_unreachable_server_is_a_clear_error(ws_root):
    result = run("--workspace", str(ws_root), "db", "copy", "--to",
                 "postgresql+psycopg://u:hunter22@127.0.0.1:1/x")
    assert result.exit_code == 1
    assert "cannot use the database postgresql+psycopg://u:***@127.0.0.1:1/x" in result.output
    assert "hunter22" not in result.output


def test_every_command_names_an_unreachable_state_database_without_its_password(ws_root):
    for args in (["send", EXAMPLE_RELEASE, "--list", "members"], ["report", "x"],
                 ["users", "list"], ["work", "--once"]):
        result = run("--workspace", str(ws_root), *args, env={
            "NEWSLETTER_DATABASE_URL": "postgresql+psycopg://u:hunter22@127.0.0.1:1/x"})
        assert result.exit_code == 1, (args, result.output)
        assert "error: postgresql+psycopg://u:***@127.0.0.1:1/x: " in result.output, args
        assert "hunter22" not in result.output


def test_head_is_the_newest_revision_under_migrations():
    """Every open of a PostgreSQL ledger compares its revision with HEAD, without
    loading Alembic: HEAD must name the newest revision there."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_a_postgresql_write_lock_held_too_long_is_ledger_busy(pg_url, tmp_path, monkeypatch):
    """Another session holding the ledger's write lock: LedgerBusy after the caller's
    wait, and the same ledger writes normally once the lock is free."""
    from newsletter.delivery.connection import WRITE_LOCK, lock_key

    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", pg_url)
    other = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with open_ledger(tmp_path / "state", busy_timeout=0.2) as led, other.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(WRITE_LOCK)})
        with pytest.raises(LedgerBusy, match="another process is writing"):
            led.suppress("k1", None, "bounce", "test")
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(WRITE_LOCK)})
        assert led.suppress("k1", None, "bounce", "test")
        assert led.suppressed(["k1"]) == {"k1"}
    other.dispose()
