"""The admin pages' accounts in the ledger database: users, their sessions, the audit log.

Plain storage: no hashing, no policy. The application layer (app/accounts, app/sessions,
app/audit) decides who may do what; this module only reads and writes rows. Sessions
are stored by the SHA-256 of their token, so a copy of the database opens no session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.delivery.ledger import Ledger, now

ROLES = ("officer", "reviewer")


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    languages: tuple[str, ...]
    password_hash: str = field(repr=False)
    ui_language: str
    created_at: str
    disabled_at: str  # '' while the account is active

    @property
    def active(self) -> bool:
        return not self.disabled_at


@dataclass(frozen=True)
class SessionRecord:
    user: str
    created: int  # Unix seconds
    seen: int


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    user: str
    action: str
    object: str
    detail: str


_USER_COLUMNS = "name, role, languages, password, ui_language, created_at, disabled_at"


def _user(row: tuple) -> UserRecord:
    name, role, langs, password, ui, created, disabled = row
    return UserRecord(name, role, tuple(c for c in langs.split(",") if c), password, ui,
                      created, disabled)


def get_user(ledger: Ledger, name: str) -> UserRecord | None:
    row = ledger.db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE lower(name)=lower(?)",  # noqa: S608
                            (name,)).fetchone()
    return _user(row) if row else None


def all_users(ledger: Ledger) -> list[UserRecord]:
    return [_user(r) for r in ledger.db.execute(
        f"SELECT {_USER_COLUMNS} FROM users ORDER BY name")]  # noqa: S608


def put_user(ledger: Ledger, name: str, role: str, languages: tuple[str, ...],
             password_hash: str) -> None:
    """Add an account, or bring back a removed one under the same name (a new password,
    role and languages; the old sessions were ended when it was removed)."""
    stamp = now()
    with ledger.transaction() as db:
        db.execute("INSERT INTO users (name, role, languages, password, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                   " role=excluded.role, languages=excluded.languages,"
                   " password=excluded.password, updated_at=excluded.updated_at,"
                   " disabled_at=''", (name, role, ",".join(languages), password_hash,
                                       stamp, stamp))


def set_password(ledger: Ledger, name: str, password_hash: str) -> None:
    with ledger.transaction() as db:
        db.execute("UPDATE users SET password=?, updated_at=? WHERE lower(name)=lower(?)",
                   (password_hash, now(), name))


def set_ui_language(ledger: Ledger, name: str, code: str) -> None:
    with ledger.transaction() as db:
        db.execute("UPDATE users SET ui_language=?, updated_at=? WHERE lower(name)=lower(?)",
                   (code, now(), name))


def disable_user(ledger: Ledger, name: str) -> None:
    with ledger.transaction() as db:
        db.execute("UPDATE users SET disabled_at=?, updated_at=? WHERE lower(name)=lower(?)",
                   (now(), now(), name))


# --- sessions ---------------------------------------------------------------------------

def add_session(ledger: Ledger, session_id: str, user: str, at: int) -> None:
    with ledger.transaction() as db:
        db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, user, at, at))


def get_session(ledger: Ledger, session_id: str) -> SessionRecord | None:
    row = ledger.db.execute('SELECT "user", created, seen FROM sessions WHERE id=?',
                            (session_id,)).fetchone()
    return SessionRecord(*row) if row else None


def touch_session(ledger: Ledger, session_id: str, at: int) -> None:
    with ledger.transaction() as db:
        db.execute("UPDATE sessions SET seen=? WHERE id=?", (at, session_id))


def drop_session(ledger: Ledger, session_id: str) -> None:
    with ledger.transaction() as db:
        db.execute("DELETE FROM sessions WHERE id=?", (session_id,))


def drop_sessions(ledger: Ledger, user: str) -> int:
    """End every session of ``user``; returns how many there were."""
    with ledger.transaction() as db:
        return db.execute('DELETE FROM sessions WHERE lower("user")=lower(?)', (user,)).rowcount


def prune_sessions(ledger: Ledger, *, seen_before: int, created_before: int) -> int:
    """Forget sessions past their idle or absolute limit (they could not be used anyway)."""
    with ledger.transaction() as db:
        return db.execute("DELETE FROM sessions WHERE seen < ? OR created < ?",
                          (seen_before, created_before)).rowcount


# --- audit log --------------------------------------------------------------------------

def append_audit(ledger: Ledger, user: str, action: str, obj: str = "", detail: str = ""
                 ) -> None:
    with ledger.transaction() as db:
        db.execute('INSERT INTO audit (at, "user", action, object, detail) VALUES (?, ?, ?, ?, ?)',
                   (now(), user, action, obj, detail))


def has_audit(ledger: Ledger, user: str, action: str, detail: str, since: str) -> bool:
    """Whether the log holds ``action`` by ``user`` with this detail at ``since`` or later."""
    return ledger.db.execute('SELECT 1 FROM audit WHERE lower("user")=lower(?) AND action=?'
                             " AND detail=? AND at >= ? LIMIT 1",
                             (user, action, detail, since)).fetchone() is not None


def audit_entries(ledger: Ledger, limit: int | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries (all without), oldest first."""
    sql = 'SELECT seq, at, "user", action, object, detail FROM audit ORDER BY seq DESC'
    rows = (ledger.db.execute(sql) if limit is None
            else ledger.db.execute(sql + " LIMIT ?", (limit,)))
    return [AuditEntry(*r) for r in reversed(rows.fetchall())]
