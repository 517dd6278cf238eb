"""Accounts of the admin pages: the officer and the volunteer reviewers.

An officer sees and does everything; a reviewer sees and changes only the languages
of their account. Passwords are stored as argon2id hashes and never printed or
logged. Removing an account or changing its password ends its sessions at once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from newsletter.app import audit
from newsletter.app.workspace import target_codes
from newsletter.delivery import accounts as store
from newsletter.delivery.accounts import ROLES, UserRecord
from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.errors import AccountError, Forbidden, RateLimited
from newsletter.workspace.config import Workspace

OFFICER, REVIEWER = ROLES
MIN_PASSWORD = 12  # characters; a passphrase of a few words is the advice
MAX_PASSWORD = 1024  # argon2 takes anything, but a megabyte "password" is an attack
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

# argon2id with the library's defaults (RFC 9106's low-memory profile: 64 MiB, t=3):
# about 50 ms a login here, too slow to guess many passwords from a stolen ledger.
_hasher = PasswordHasher()
_dummy_hash: str | None = None
# Each hash or check takes 64 MiB for its duration: 20 logins at once were +1.3 GiB.
# At most ARGON2_AT_ONCE run together; another waits up to ARGON2_WAIT seconds for a
# turn, then is refused (429) instead of taking more memory.
ARGON2_AT_ONCE = 2
ARGON2_WAIT = 5.0
_argon2_turns = threading.BoundedSemaphore(ARGON2_AT_ONCE)


@contextmanager
def _argon2_turn() -> Iterator[None]:
    if not _argon2_turns.acquire(timeout=ARGON2_WAIT):
        raise RateLimited("too many logins are being checked at once; try again in a moment")
    try:
        yield
    finally:
        _argon2_turns.release()


@dataclass(frozen=True)
class Account:
    """A signed-in (or listed) user, as the pages and commands see it."""

    name: str
    role: str  # "officer" or "reviewer"
    languages: tuple[str, ...]  # a reviewer's languages; () for an officer (all)
    ui_language: str = ""  # the admin pages' language they chose; "" = the browser's

    @property
    def is_officer(self) -> bool:
        return self.role == OFFICER

    def may_read(self, lang: str) -> bool:
        """Whether this account may see and change language ``lang``."""
        return self.is_officer or lang in self.languages


@dataclass(frozen=True)
class UserInfo:
    """One line of ``users list``."""

    account: Account
    created_at: str
    removed_at: str  # "" while active


def account_of(rec: UserRecord) -> Account:
    return Account(rec.name, rec.role, rec.languages, rec.ui_language)


def require_officer(account: Account) -> None:
    if not account.is_officer:
        raise Forbidden(f"{account.name} is a reviewer; this needs an officer")


def require_language(account: Account, lang: str) -> None:
    if not account.may_read(lang):
        raise Forbidden(f"{account.name} works on {', '.join(account.languages)}, not {lang}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} "
                           "characters (a few words make a good one)")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is longer than {MAX_PASSWORD} characters")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AccountError(f"{name!r} is not a usable account name: letters, digits and "
                           ". _ @ - only, at most 64, starting with a letter or digit")
    return name


def _languages(ws: Workspace, role: str, langs: tuple[str, ...]) -> tuple[str, ...]:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    if role == OFFICER and langs:
        raise AccountError("an officer sees every language: --lang is for reviewers")
    if role == REVIEWER and not langs:
        raise AccountError("a reviewer needs at least one --lang (a target language)")
    return tuple(dict.fromkeys(target_codes(ws, langs, targets_only=True)))


def add_user(ws: Workspace, name: str, role: str, langs: tuple[str, ...], password: str,
             *, actor: str = audit.CLI_ACTOR) -> Account:
    """Create an account (or bring back a removed one under its name)."""
    _check_name(name)
    codes = _languages(ws, role, langs)
    check_password(password)
    with open_ledger(ws.state_dir) as ledger, ledger.transaction():
        old = store.get_user(ledger, name)
        if old is not None and old.active:
            raise AccountError(f"there is already an account {old.name!r}; change its "
                               f"password with 'newsletter users passwd {old.name}'")
        store.put_user(ledger, name, role, codes, new_hash(password))
        store.drop_sessions(ledger, name)
        rec = store.get_user(ledger, name)
        assert rec is not None
        store.append_audit(ledger, actor, audit.USER_ADDED, rec.name,
                           f"role {role}" + (f", languages {','.join(codes)}" if codes else ""))
    return account_of(rec)


def list_users(ws: Workspace) -> list[UserInfo]:
    with open_ledger(ws.state_dir) as ledger:
        return [UserInfo(account_of(r), r.created_at, r.disabled_at)
                for r in store.all_users(ledger)]


def _active(ledger: Ledger, name: str) -> UserRecord:
    rec = store.get_user(ledger, name)
    if rec is None or not rec.active:
        raise AccountError(f"no account {name!r} (see 'newsletter users list')")
    return rec


def remove_user(ws: Workspace, name: str, *, actor: str = audit.CLI_ACTOR) -> int:
    """Disable an account and end its sessions; returns how many were ended. The row
    stays (disabled), so the audit log keeps naming a known account."""
    with open_ledger(ws.state_dir) as ledger, ledger.transaction():
        rec = _active(ledger, name)
        store.disable_user(ledger, rec.name)
        ended = store.drop_sessions(ledger, rec.name)
        store.append_audit(ledger, actor, audit.USER_REMOVED, rec.name,
                           f"{ended} session(s) ended")
    return ended


def change_password(ws: Workspace, name: str, password: str, *,
                    actor: str = audit.CLI_ACTOR) -> int:
    """Set a new password and end every session of the account (a stolen session dies
    with the old password); returns how many were ended."""
    check_password(password)
    hashed = new_hash(password)
    with open_ledger(ws.state_dir) as ledger, ledger.transaction():
        rec = _active(ledger, name)
        store.set_password(ledger, rec.name, hashed)
        ended = store.drop_sessions(ledger, rec.name)
        store.append_audit(ledger, actor, audit.PASSWORD_CHANGED, rec.name,
                           f"{ended} session(s) ended")
    return ended


def set_ui_language(ws: Workspace, account: Account, code: str) -> Account:
    """Remember the admin pages' language an account chose."""
    with open_ledger(ws.state_dir, busy_timeout=audit.WEB_BUSY_TIMEOUT) as ledger:
        store.set_ui_language(ledger, account.name, code)
    return Account(account.name, account.role, account.languages, code)


def verify_password(rec: UserRecord | None, password: str) -> bool:
    """Whether ``password`` is the account's. Without an account (unknown or removed) a
    dummy hash is verified all the same, so that the answer takes as long either way."""
    global _dummy_hash
    with _argon2_turn():
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not a password of anyone")
        candidate = rec.password_hash if rec is not None and rec.active else _dummy_hash
        try:
            ok = _hasher.verify(candidate, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            ok = False
    return ok and rec is not None and rec.active


def needs_rehash(rec: UserRecord) -> bool:
    """Whether the stored hash used weaker parameters than today's (re-hash at login)."""
    return _hasher.check_needs_rehash(rec.password_hash)


def new_hash(password: str) -> str:
    with _argon2_turn():
        return _hasher.hash(password)
