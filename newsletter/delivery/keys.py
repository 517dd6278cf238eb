"""The keys of a workspace: the address key (in state/) and the token signer.

The address key names every recipient and is checked against the ledger on every
load (see workspace/state.py); the signer's secret comes from NEWSLETTER_SECRET,
or, for outbox rehearsals only, from a random file in state/. Older secrets, after a
rotation, come from NEWSLETTER_SECRET_PREVIOUS (comma-separated): they verify tokens
and never sign one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from newsletter.audience.tokens import MIN_SECRET, PREVIOUS_ENV, SECRET_ENV, Signer
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import SecretError
from newsletter.workspace.state import (
    ADDRESS_KEY,
    create_key,
    read_key,
    state_errors,
    write_new_secret,
)

STATE_SECRET = "secret"  # noqa: S105 - a file name


def load_address_key(state_dir: Path, *, busy_timeout: float = 30.0) -> bytes:
    """The never-rotated key that names addresses; created on first use, owner-only.

    The ledger is opened first: it refuses a missing key when it was kept with one,
    and records the fingerprint of a new key, so key and ledger vouch for each other.
    """
    with open_ledger(state_dir, busy_timeout=busy_timeout):
        pass
    key = read_key(state_dir / ADDRESS_KEY)
    if key is None:
        key = create_key(state_dir / ADDRESS_KEY)
        with open_ledger(state_dir, busy_timeout=busy_timeout):  # records its fingerprint
            pass
    return key


def load_signer(state_dir: Path, *, allow_state_secret: bool, busy_timeout: float = 30.0
                ) -> Signer:
    """The signer from ``NEWSLETTER_SECRET``; for outbox runs a random secret in state/.

    Real transports refuse to start without the variable: links in mails that went out
    must stay valid, so their secret cannot be an accident of one machine's state/.
    """
    value = os.environ.get(SECRET_ENV, "")
    previous = previous_secrets()
    if value:
        if len(value) < MIN_SECRET:
            raise SecretError(f"{SECRET_ENV} is too short: use at least {MIN_SECRET} random "
                              "characters (e.g. python -c 'import secrets; "
                              "print(secrets.token_urlsafe(32))')")
        return Signer(value.encode(), load_address_key(state_dir, busy_timeout=busy_timeout),
                      "environment", previous)
    if not allow_state_secret:
        raise SecretError(f"set {SECRET_ENV} to a long random value before sending through "
                          "this transport; it signs the unsubscribe links")
    return Signer(_state_secret(state_dir / STATE_SECRET),
                  load_address_key(state_dir, busy_timeout=busy_timeout),
                  str(state_dir / STATE_SECRET), previous)


def previous_secrets() -> tuple[bytes, ...]:
    """The secrets of NEWSLETTER_SECRET_PREVIOUS (comma-separated; spaces around each are
    ignored), each as long as a current secret must be. Errors name a secret by its
    position, never by its value."""
    found: list[bytes] = []
    for number, part in enumerate(os.environ.get(PREVIOUS_ENV, "").split(","), start=1):
        value = part.strip()
        if not value:
            continue
        if len(value) < MIN_SECRET:
            raise SecretError(f"{PREVIOUS_ENV}: secret number {number} is too short (at "
                              f"least {MIN_SECRET} characters; secrets are separated by "
                              "commas)")
        if value.encode() not in found:
            found.append(value.encode())
    return tuple(found)


def unlisted_state_secret(state_dir: Path) -> bool:
    """Whether state/secret exists but is neither NEWSLETTER_SECRET nor one of the
    previous secrets while NEWSLETTER_SECRET is set: links in the mails it signed (outbox
    rehearsals, 'make demo', a start without the variable) are then refused."""
    current = os.environ.get(SECRET_ENV, "")
    if not current:  # without the variable, state/secret is the secret in use
        return False
    try:
        kept = (state_dir / STATE_SECRET).read_bytes().strip()
    except OSError:  # none, or unreadable: nothing signed with it can be checked anyway
        return False
    return bool(kept) and kept != current.encode() and kept not in previous_secrets()


_SIGNERS: dict[tuple[object, ...], Signer] = {}
_SIGNERS_LOCK = threading.Lock()


def cached_signer(state_dir: Path, *, allow_state_secret: bool, busy_timeout: float = 30.0
                  ) -> Signer:
    """load_signer for a long-running process (the web app, every request): loaded again
    only when what it is made of changed (the variables, the key file, the outbox's secret
    file: replaced, rewritten or chmod-ed). In between, the key is not checked against
    the ledger here: open the ledger before relying on it (every open checks it)."""
    ident = (str(state_dir), allow_state_secret, os.environ.get(SECRET_ENV, ""),
             os.environ.get(PREVIOUS_ENV, ""), _file_id(state_dir / ADDRESS_KEY),
             _file_id(state_dir / STATE_SECRET))
    with _SIGNERS_LOCK:
        found = _SIGNERS.get(ident)
    if found is not None:
        return found
    signer = load_signer(state_dir, allow_state_secret=allow_state_secret,
                         busy_timeout=busy_timeout)
    # kept under the files as they were before loading: had one changed meanwhile (a key
    # made just now), the next call sees another id and loads again
    with _SIGNERS_LOCK:
        if len(_SIGNERS) >= 16:  # one workspace per process, except in tests
            _SIGNERS.clear()
        _SIGNERS[ident] = signer
    return signer


def _file_id(path: Path) -> tuple[int, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)


def _state_secret(path: Path) -> bytes:
    """The outbox's own signing secret; it only signs links in rehearsal files."""
    if not path.exists():
        write_new_secret(path)
    with state_errors(path, "read the outbox secret"):
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    if mode & 0o077:
        raise SecretError(f"{path} is readable by others; run chmod 600 on it")
    if len(key) < MIN_SECRET:
        raise SecretError(f"{path} holds no usable secret; set {SECRET_ENV} instead, or "
                          "restore state/ from the backup")
    return key
