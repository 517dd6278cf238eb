"""A send that the database fails in the middle of: one line saying how to go on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from newsletter.delivery.connection import safe, state_url
from newsletter.errors import StateError
from newsletter.workspace.state import state_errors

# a driver's error, a pool with no free connection, and a connection SQLAlchemy found
# dead earlier (PendingRollbackError: "Can't reconnect until invalid transaction is
# rolled back")
DATABASE_ERRORS = (sa.exc.DBAPIError, sa.exc.TimeoutError, sa.exc.PendingRollbackError)


@contextmanager
def resumable(state_dir: Path, campaign: str) -> Iterator[None]:
    """A database that fails in the middle of a send (PostgreSQL restarted, the network
    gone, the disk full) ends it with one line that says how to go on, never a
    traceback: what left is recorded, so the same command continues the campaign."""
    try:
        yield
        return
    except StateError as err:
        # a write said it in one line already (state_errors keeps the driver's error as
        # the context); other state errors (a lost ledger, a missing key) are no failure
        # of the database and go on as they are
        if not isinstance(err.__context__, DATABASE_ERRORS):
            raise
        first = err
    except DATABASE_ERRORS as err:  # a read: nothing has said it yet
        url = state_url(state_dir)
        where: Path | str = Path(str(url.database)) if url.get_backend_name() == "sqlite" \
            else safe(url)
        doing = f"go on with campaign {campaign}"
        try:
            with state_errors(where, doing):
                raise err from None
        except StateError as one_line:
            first = one_line
        except DATABASE_ERRORS:  # no driver's words: the connection was lost before
            first = StateError(f"cannot {doing}: the connection to the database was lost",
                               path=where if isinstance(where, Path) else None)
    raise type(first)(
        f"{first.message}; what was sent is recorded: once the database answers again, "
        "run the same command to continue (messages in flight at that moment are listed "
        "as unknown, never sent twice)", path=first.path) from None
