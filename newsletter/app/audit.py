"""The audit log of the admin pages and the account commands: who did what, when.

Append-only (the database refuses updates and deletes). Entries name accounts,
releases and languages; never a password, a session token or a reader's address.
"""

from __future__ import annotations

from newsletter.delivery import accounts as store
from newsletter.delivery.accounts import AuditEntry
from newsletter.delivery.ledger import open_ledger
from newsletter.workspace.config import Workspace

__all__ = ["AuditEntry", "entries", "record"]

CLI_ACTOR = "(command line)"  # account commands are run by whoever holds the server shell
WEB_BUSY_TIMEOUT = 5.0  # seconds a web request waits for the ledger's write lock
DETAIL_MAX = 300

# the actions written so far; later pages add their own (approve, send, suppress, forget)
LOGIN = "login"
LOGIN_FAILED = "login failed"
LOGOUT = "logout"
USER_ADDED = "user added"
USER_REMOVED = "user removed"
PASSWORD_CHANGED = "password changed"  # noqa: S105 - an action's name


def record(ws: Workspace, user: str, action: str, obj: str = "", detail: str = "") -> None:
    """Append one entry (its own transaction: a refused action is recorded too)."""
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        store.append_audit(ledger, user, action, obj[:DETAIL_MAX], detail[:DETAIL_MAX])


def entries(ws: Workspace, limit: int | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries, oldest first."""
    with open_ledger(ws.state_dir) as ledger:
        return store.audit_entries(ledger, limit)
