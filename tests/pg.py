"""A PostgreSQL database for the state store's tests, or a skip that says why.

.ci/run starts a throwaway cluster on loopback and exports its address as
NEWSLETTER_TEST_DATABASE_URL; without it these tests skip (no server is needed for
`make test`). Each test gets the database emptied: every table, view and function of
the public schema is dropped before and after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

URL_VARIABLE = "NEWSLETTER_TEST_DATABASE_URL"


def _reset(url: str) -> None:
    import sqlalchemy as sa

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
        pytest.skip(f"no PostgreSQL: {URL_VARIABLE} is unset (.ci/run starts a throwaway "
                    "cluster and sets it)")
    _reset(url)
    yield url
    _reset(url)
