"""The state store: set up its schema, move a workspace's SQLite ledger into it, and
compare it with what state/ records it held.

``newsletter db migrate`` brings the database NEWSLETTER_DATABASE_URL names to the
newest schema (every command also does so on first use); ``newsletter db copy --to
URL`` copies the workspace's SQLite ledger (state/ledger.sqlite3) there, after which
NEWSLETTER_DATABASE_URL=URL moves every command, worker and the web app to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from newsletter.app import audit
from newsletter.delivery import connection
from newsletter.delivery.connection import sqlite_url
from newsletter.delivery.journal import RESTORE_LEDGER, Loss
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.errors import ConfigError
from newsletter.workspace.config import Workspace
from newsletter.workspace.state import URL_VARIABLE

if TYPE_CHECKING:
    from newsletter.delivery.statestore import Migration, TableCount

__all__ = ["RESTORE_LEDGER", "URL_VARIABLE", "Loss", "accept_loss", "check", "copy", "migrate"]
LOSS_ACCEPTED = "ledger loss accepted"  # the audit log's action


# Alembic is imported by these two commands only (and by a first use that migrates)


def migrate(environ: Mapping[str, str] = os.environ) -> Migration:
    """Create or upgrade the schema in the database NEWSLETTER_DATABASE_URL names."""
    from newsletter.delivery import statestore

    text = environ.get(URL_VARIABLE, "").strip()
    if not text:
        raise ConfigError(f"{URL_VARIABLE} is unset: set it to the database to set up, "
                          f"e.g. {connection.EXAMPLES}")
    return statestore.migrate(connection.database_url(text, what=URL_VARIABLE))


def copy(ws: Workspace, to: str) -> list[TableCount]:
    """Copy the workspace's ledger (every table) into the empty database ``to``."""
    from newsletter.delivery import statestore

    url = connection.database_url(to, what="--to")
    with open_ledger(ws.state_dir, url=sqlite_url(ws.state_dir)) as ledger:
        return statestore.copy_ledger(ledger, url)


def check(ws: Workspace) -> Loss:
    """What state/ (the suppression journal, the campaigns' marks) says the ledger held
    and it lacks now; empty when nothing is missing. A send refuses while it is not."""
    if not ledger_exists(ws.state_dir):
        return Loss()
    with open_ledger(ws.state_dir) as ledger:
        return ledger.losses()


def accept_loss(ws: Workspace, *, actor: str = audit.CLI_ACTOR) -> tuple[Loss, int]:
    """After restoring what a backup holds: the journal's suppressions go back into the
    ledger, and what is still missing (campaigns, rows) is accepted as lost, so that
    sends work again. Returns what was missing and how many suppressions came back."""
    with open_ledger(ws.state_dir) as ledger:
        loss, restored = ledger.accept_loss()
    if loss:
        audit.record(ws, actor, LOSS_ACCEPTED, "", f"{loss.describe()}; "
                                                   f"{restored} suppression(s) put back")
    return loss, restored
