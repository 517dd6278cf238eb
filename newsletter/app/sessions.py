"""Sessions of the admin pages: login, the account behind a cookie, logout.

The cookie holds a random token and its HMAC (keyed from NEWSLETTER_SECRET, or the
outbox's own secret in state/, like the readers' links): a forged cookie is refused
before the database is asked. The ledger keeps the SHA-256 of the token with the
login time and the last request's time, so a session can end on the server: at
logout, after ``admin_idle_minutes`` without a request, ``admin_session_hours`` after
the login, and at once when the account is removed or its password changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.app import audit
from newsletter.app.accounts import Account, account_of, needs_rehash, new_hash, verify_password
from newsletter.app.limits import LoginLimits
from newsletter.app.subscriptions import signer
from newsletter.delivery import accounts as store
from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.errors import LoginFailed, NotSignedIn, RateLimited
from newsletter.workspace.config import Workspace

TOUCH_EVERY = 60  # seconds: the last-seen time is written at most this often
NAME_MAX = 64
# an address the account signed in from this recently is its owner's: never slowed down
KNOWN_DAYS = 90
_MAC_CHARS = 32


@dataclass(frozen=True)
class Login:
    account: Account
    cookie: str  # the value of the session cookie; never logged


@dataclass
class Sessions:
    """The admin sessions of one workspace; one per web app, shared by its threads."""

    ws: Workspace
    clock: Callable[[], float] = time.time
    limits: LoginLimits = field(default_factory=LoginLimits)
    _key: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def idle_seconds(self) -> int:
        return int(self.ws.config.web.admin_idle_minutes * 60)

    @property
    def lifetime_seconds(self) -> int:
        return int(self.ws.config.web.admin_session_hours * 3600)

    def _mac(self, token: str) -> str:
        with self._lock:
            if self._key is None:  # a purpose of its own: no reader's token opens a session
                self._key = hmac.new(signer(self.ws).key, b"admin session cookie",
                                     hashlib.sha256).digest()
        digest = hmac.new(self._key, token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]

    def link_token(self, purpose: str) -> str:
        """A signature for a link that must work without the cookie: the preview frame
        is sandboxed (an origin of its own), so its image requests carry no cookie."""
        return self._mac("link\0" + purpose)

    def check_link(self, purpose: str, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.link_token(purpose).encode())

    def _session_id(self, cookie: str) -> str:
        """The stored id of a genuine cookie; NotSignedIn for anything else."""
        token, _, mac = cookie.partition(".")
        if not token or not hmac.compare_digest(mac.encode(), self._mac(token).encode()):
            raise NotSignedIn("no session cookie, or a forged one")
        return hashlib.sha256(token.encode()).hexdigest()

    # --- login and logout -----------------------------------------------------------------

    def login(self, name: str, password: str, ip: str) -> Login:
        """A new session for a right name and password. Wrong name and wrong password fail
        alike (LoginFailed, after the same argon2 work). RateLimited before any password
        is checked: too many attempts from ``ip``, too many failures for ``name`` from
        ``ip``, or failures for ``name`` from elsewhere while ``ip`` never signed in to
        it (a wait of seconds, see limits.Slowdown)."""
        name = name.strip()[:NAME_MAX]
        wait = self.limits.check(name.casefold(), ip)
        with open_ledger(self.ws.state_dir, busy_timeout=audit.WEB_BUSY_TIMEOUT) as ledger:
            if wait and not self._known_source(ledger, name, ip):
                raise RateLimited(f"failed logins for {name!r}: from an address that never "
                                  f"signed in to it, try again in {math.ceil(wait)} s")
            rec = store.get_user(ledger, name) if name else None
            if not verify_password(rec, password):
                self.limits.failed(name.casefold(), ip)
                # a typed name that is no account may be a password typed in the wrong box
                shown = rec.name if rec is not None else "(unknown name)"
                store.append_audit(ledger, shown, audit.LOGIN_FAILED, "", f"from {ip}")
                raise LoginFailed("wrong name or password")
            assert rec is not None
            if needs_rehash(rec):
                store.set_password(ledger, rec.name, new_hash(password))
            token = secrets.token_urlsafe(32)
            at = int(self.clock())
            store.prune_sessions(ledger, seen_before=at - self.idle_seconds,
                                 created_before=at - self.lifetime_seconds)
            store.add_session(ledger, hashlib.sha256(token.encode()).hexdigest(), rec.name, at)
            store.append_audit(ledger, rec.name, audit.LOGIN, "", f"from {ip}")
        return Login(account_of(rec), f"{token}.{self._mac(token)}")

    def _known_source(self, ledger: Ledger, name: str, ip: str) -> bool:
        """Whether ``name`` signed in from ``ip`` within KNOWN_DAYS (the audit log says)."""
        if not ip or not name:
            return False
        # the log's times are the wall clock's (self.clock may be a test's)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=KNOWN_DAYS)
        return store.has_audit(ledger, name, audit.LOGIN, f"from {ip}",
                               since.isoformat(timespec="seconds"))

    def logout(self, cookie: str, ip: str) -> None:
        """End the session of ``cookie`` (nothing to do for an invalid one)."""
        try:
            session_id = self._session_id(cookie)
        except NotSignedIn:
            return
        with open_ledger(self.ws.state_dir, busy_timeout=audit.WEB_BUSY_TIMEOUT) as ledger:
            found = store.get_session(ledger, session_id)
            store.drop_session(ledger, session_id)
            if found is not None:
                store.append_audit(ledger, found.user, audit.LOGOUT, "", f"from {ip}")

    # --- the account behind a request -----------------------------------------------------

    def account(self, cookie: str) -> Account:
        """The account of a live session; NotSignedIn (saying why, for the log) else.
        Each use counts as activity for the idle timeout."""
        session_id = self._session_id(cookie)
        at = int(self.clock())
        with open_ledger(self.ws.state_dir, busy_timeout=audit.WEB_BUSY_TIMEOUT) as ledger:
            found = store.get_session(ledger, session_id)
            if found is None:
                raise NotSignedIn("the session has ended (logout, new password, removal)")
            rec = store.get_user(ledger, found.user)
            why = ("the account was removed" if rec is None or not rec.active
                   else "the session was idle too long" if at - found.seen > self.idle_seconds
                   else "the session is too old" if at - found.created > self.lifetime_seconds
                   else "")
            if why:
                store.drop_session(ledger, session_id)
                raise NotSignedIn(why)
            assert rec is not None
            if at - found.seen >= TOUCH_EVERY:
                store.touch_session(ledger, session_id, at)
        return account_of(rec)
