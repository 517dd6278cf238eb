"""A PostgreSQL database for the state store's tests, or a skip that says why.

`make test` (scripts/run-tests.sh) starts a throwaway cluster on loopback and exports
its address as NEWSLETTER_TEST_DATABASE_URL; without it these tests skip (pytest run by
hand needs no server). Each test gets the database emptied: every table, view and function of
the public schema is dropped before and after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

URL_VARIABLE = "NEWSLETTER_TEST_DATABASE_URL"


def _reset(url: str) -> None:
    import sqlalchemy as sa

    from newsletter.delivery import connection, pgschema

    # this process's pooled connections and its "schema is up to date" would outlive
    # the schema dropped here
    connection.dispose_all()
    pgschema.forget()

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The address of an empty PostgreSQL database (postgresql+psycopg://…)."""
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        pytest.skip(f"no PostgreSQL: {URL_VARIABLE} is unset (make test starts a "
                    "throwaway cluster and sets it)")
    _reset(url)
    yield url
    _reset(url)


ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def state_db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once on the SQLite ledger under state/ and once with every state in
    PostgreSQL (NEWSLETTER_DATABASE_URL, seen by subprocesses too). A test marked
    ``sqlite_file`` handles the SQLite file itself and runs on SQLite only."""
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)
    if request.param == "postgresql":
        monkeypatch.setenv("NEWSLETTER_DATABASE_URL", request.getfixturevalue("pg_url"))
    return request.param


def sqlite_only(items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): a ``sqlite_file`` test has no PostgreSQL case at all."""
    kept, dropped = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_pg = spec is not None and spec.params.get("state_db") == "postgresql"
        (dropped if on_pg and item.get_closest_marker("sqlite_file") else kept).append(item)
    return kept, dropped
