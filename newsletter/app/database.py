"""The state in PostgreSQL, first step: set up the schema, copy a workspace's ledger.

``newsletter db migrate`` works on the database NEWSLETTER_DATABASE_URL names;
``newsletter db copy --to URL`` copies the workspace's SQLite ledger there. Sending,
the web app and the workers still keep their state in state/ledger.sqlite3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from newsletter.delivery.ledger import open_ledger
from newsletter.errors import ConfigError
from newsletter.workspace.config import Workspace

if TYPE_CHECKING:
    from newsletter.delivery.statestore import Migration, TableCount

__all__ = ["URL_VARIABLE", "copy", "migrate"]

URL_VARIABLE = "NEWSLETTER_DATABASE_URL"

# SQLAlchemy and Alembic are imported by these two commands only (a third of a
# second that every other command and the web app's start would pay)


def migrate(environ: Mapping[str, str] = os.environ) -> Migration:
    """Create or upgrade the schema in the database NEWSLETTER_DATABASE_URL names."""
    from newsletter.delivery import statestore

    text = environ.get(URL_VARIABLE, "").strip()
    if not text:
        raise ConfigError(f"{URL_VARIABLE} is unset: set it to the database to set up, "
                          f"e.g. {statestore.EXAMPLES}")
    return statestore.migrate(statestore.database_url(text, what=URL_VARIABLE))


def copy(ws: Workspace, to: str) -> list[TableCount]:
    """Copy the workspace's ledger (every table) into the empty database ``to``."""
    from newsletter.delivery import statestore

    url = statestore.database_url(to, what="--to")
    with open_ledger(ws.state_dir) as ledger:
        return statestore.copy_ledger(ledger, url)
