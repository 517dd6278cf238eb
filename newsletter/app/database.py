"""The state in PostgreSQL, first step: set up the schema, copy a workspace's ledger.

``newsletter db migrate`` works on the database NEWSLETTER_DATABASE_URL names;
``newsletter db copy --to URL`` copies the workspace's SQLite ledger there. Sending,
the web app and the workers still keep their state in state/ledger.sqlite3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from newsletter.delivery import statestore
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.statestore import Migration, TableCount
from newsletter.errors import ConfigError
from newsletter.workspace.config import Workspace

__all__ = ["URL_VARIABLE", "Migration", "TableCount", "copy", "migrate"]

URL_VARIABLE = "NEWSLETTER_DATABASE_URL"


def migrate(environ: Mapping[str, str] = os.environ) -> Migration:
    """Create or upgrade the schema in the database NEWSLETTER_DATABASE_URL names."""
    text = environ.get(URL_VARIABLE, "").strip()
    if not text:
        raise ConfigError(f"{URL_VARIABLE} is unset: set it to the database to set up, "
                          f"e.g. {statestore.EXAMPLES}")
    return statestore.migrate(statestore.database_url(text, what=URL_VARIABLE))


def copy(ws: Workspace, to: str) -> list[TableCount]:
    """Copy the workspace's ledger (every table) into the empty database ``to``."""
    url = statestore.database_url(to, what="--to")
    with open_ledger(ws.state_dir) as ledger:
        return statestore.copy_ledger(ledger, url)
