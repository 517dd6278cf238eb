"""The state folder's files and how they vouch for each other.

``state/`` holds the address key (names every recipient by a keyed hash) and the
ledger (who got what, who unsubscribed, who was erased). The two only make sense
together: a new key makes every recipient a stranger to the ledger, an empty
ledger forgets every send and every unsubscribe, and either way the next run would
mail everyone again. So the ledger records the fingerprint of its key, and a key
without its ledger (or the reverse) stops every command with advice to restore
``state/`` from the backup, never to delete anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import exc as sa_exc

from newsletter.errors import LedgerBusy, StateError

ADDRESS_KEY = "address.key"
DB_NAME = "ledger.sqlite3"
# the state in another database than state/ledger.sqlite3 (PostgreSQL): its URL
URL_VARIABLE = "NEWSLETTER_DATABASE_URL"
MIN_KEY = 16
RESTORE = "restore the whole state/ folder from your backup (README: 'Backing up state/')"


# a password in text about a database: a URL's userinfo (scheme://user:secret@), a query
# parameter (?password=secret, &sslpassword=secret) or a libpq keyword (password='s e')
_USERINFO = re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s:]*:)[^/?#\s]*@")
_KEYS_TO_HIDE = r"\w*(?:pass|pwd)\w*"  # password, sslpassword, PASSWORD, pwd
_KEYWORD = re.compile(rf"(?P<keep>\b{_KEYS_TO_HIDE}\s*=\s*)"
                      r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,)]*)", re.I)
HIDDEN = "***"


def secret_name(name: str) -> bool:
    """Whether a URL query parameter or libpq keyword of this name holds a password."""
    return re.fullmatch(_KEYS_TO_HIDE, name, re.I | re.A) is not None


def hide_passwords(text: str) -> str:
    """``text`` with every database password in it shown as ``***``: in a URL's
    userinfo, in its query (``?password=``, ``&password=``), as a libpq keyword."""
    text = _USERINFO.sub(lambda m: m["keep"] + HIDDEN + "@", text)
    return _KEYWORD.sub(lambda m: m["keep"] + HIDDEN, text)


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: stored in the ledger, shown in errors."""
    return hmac.new(key, b"newsletter address key fingerprint", hashlib.sha256).hexdigest()[:16]


def read_key(path: Path) -> bytes | None:
    """The address key, None when the file does not exist; unusable files are errors."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StateError(f"cannot read the address key: {err.strerror}", path=path) from None
    if mode & 0o077:
        raise StateError("the address key is readable by others; run chmod 600 on it",
                         path=path)
    with state_errors(path, "read the address key"):
        key = path.read_bytes().strip()
    if len(key) < MIN_KEY:
        raise StateError(f"the address key is empty or cut short; {RESTORE}. Do not delete "
                         "it: a new key would make every recipient new to the ledger",
                         path=path)
    return key


def create_key(path: Path) -> bytes:
    """Make the address key once, race-free (see write_new_secret)."""
    write_new_secret(path)
    found = read_key(path)
    if found is None:  # pragma: no cover - linked in place above, so it exists
        raise StateError("the address key vanished while it was made", path=path)
    return found


def write_new_secret(path: Path) -> None:
    """A random secret written whole to a temporary file, then linked into place: a
    second process racing for it either wins or later reads the complete file."""
    with state_errors(path.parent, "create the state folder"):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(32).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with state_errors(path, "create the address key"):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


# PostgreSQL's answers that mean "someone else holds it, try again": lock_timeout ran
# out, a serialisation failure, a deadlock that was broken, a statement cancelled
BUSY_STATES = {"55P03", "40001", "40P01", "57014"}


@contextmanager
def state_errors(where: Path | str, doing: str) -> Iterator[None]:
    """Disk full, read-only folders, damaged files and a database that cannot be
    reached become one line naming the file, or the database (a URL, password hidden)."""
    try:
        yield
    except sa_exc.DBAPIError as err:
        if isinstance(err.orig, sqlite3.DatabaseError):
            _sqlite_error(err.orig, where, doing)
        reason = hide_passwords(str(err.orig).strip().splitlines()[0] if err.orig
                                else str(err))
        if getattr(err.orig, "sqlstate", None) in BUSY_STATES:
            raise _error(LedgerBusy, where, f"cannot {doing}: {reason} (another process is "
                                            "writing to it; try again)") from None
        raise _error(StateError, where, f"cannot {doing}: {reason}") from None
    except sa_exc.TimeoutError:  # every pooled connection of this process is in use
        raise _error(LedgerBusy, where, f"cannot {doing}: all connections to the database "
                                        "are busy; try again") from None
    except sqlite3.DatabaseError as err:
        _sqlite_error(err, where, doing)
    except OSError as err:
        raise StateError(f"cannot {doing}: {err.strerror or err}",
                         path=Path(err.filename) if err.filename else where) from None


def _error(kind: type[StateError], where: Path | str, message: str) -> StateError:
    """A file is the error's path; a database URL leads the message (not a path)."""
    if isinstance(where, Path):
        return kind(message, path=where)
    return kind(f"{where}: {message}")


def _sqlite_error(err: sqlite3.DatabaseError, where: Path | str, doing: str) -> None:
    text = str(err)
    if getattr(err, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        raise _error(LedgerBusy, where, f"cannot {doing}: {text} (another process is "
                                        "writing to it; try again)") from None
    if "not a database" in text or "malformed" in text:
        raise _error(StateError, where, f"not a readable ledger database ({text}); "
                                        f"{RESTORE}") from None
    raise _error(StateError, where, f"cannot {doing}: {text}") from None
