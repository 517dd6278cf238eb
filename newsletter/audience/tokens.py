"""Signed, short unsubscribe tokens and stable recipient ids.

A token is ``base64url(version | recipient id | MAC)``: 1 + 10 + 10 bytes, 28
characters. The recipient id is a keyed hash of the address, so the address
cannot be read from a token; the MAC (keyed by NEWSLETTER_SECRET) makes a forged
or altered token fail verification.

The recipient id uses a second key, the *address key*, kept in
``state/address.key`` and never rotated: ledger rows, suppressions and outbox
file names are keyed by it, so rotating NEWSLETTER_SECRET can neither resend a
campaign nor forget an unsubscribe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import SecretError
from newsletter.workspace.state import (
    ADDRESS_KEY,
    create_key,
    read_key,
    state_errors,
    write_new_secret,
)

SECRET_ENV = "NEWSLETTER_SECRET"  # noqa: S105 - the variable's name, not a secret
STATE_SECRET = "secret"  # noqa: S105 - a file name
_VERSION = b"\x01"
_ID_BYTES = 10
_MAC_BYTES = 10
_MIN_SECRET = 16


@dataclass(frozen=True, repr=False)
class Signer:
    key: bytes  # signs tokens (NEWSLETTER_SECRET)
    address_key: bytes  # names addresses (state/address.key)
    origin: str  # "environment" or the state file; never the key itself

    def __repr__(self) -> str:  # keep the keys out of logs and tracebacks
        return f"Signer(origin={self.origin!r})"

    def recipient_id(self, email: str) -> str:
        """A stable, opaque id of an address: hex, 20 characters."""
        return address_id(self.address_key, email)

    def unsubscribe_token(self, email: str) -> str:
        return self.token_for_id(self.recipient_id(email))

    def token_for_id(self, recipient_id: str) -> str:
        body = _VERSION + bytes.fromhex(recipient_id)
        return base64.urlsafe_b64encode(body + self._mac(body)).decode().rstrip("=")

    def verify(self, token: str) -> str | None:
        """The recipient id inside a valid token, or None for anything forged or altered."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 1 + _ID_BYTES + _MAC_BYTES or raw[:1] != _VERSION:
            return None
        body, mac = raw[: 1 + _ID_BYTES], raw[1 + _ID_BYTES :]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        return body[1:].hex()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.key, b"unsubscribe\0" + body, hashlib.sha256).digest()[:_MAC_BYTES]


def address_id(address_key: bytes, email: str) -> str:
    digest = hmac.new(address_key, b"recipient\0" + email.casefold().encode(), hashlib.sha256)
    return digest.digest()[:_ID_BYTES].hex()


def load_address_key(state_dir: Path) -> bytes:
    """The never-rotated key that names addresses; created on first use, owner-only.

    The ledger is opened first: it refuses a missing key when it was kept with one,
    and records the fingerprint of a new key, so key and ledger vouch for each other.
    """
    from newsletter.delivery.ledger import open_ledger

    with open_ledger(state_dir):
        pass
    key = read_key(state_dir / ADDRESS_KEY)
    if key is None:
        key = create_key(state_dir / ADDRESS_KEY)
        with open_ledger(state_dir):  # records the new key's fingerprint
            pass
    return key


def load_signer(state_dir: Path, *, allow_state_secret: bool) -> Signer:
    """The signer from ``NEWSLETTER_SECRET``; for outbox runs a random secret in state/.

    Real transports refuse to start without the variable: links in mails that went out
    must stay valid, so their secret cannot be an accident of one machine's state/.
    """
    value = os.environ.get(SECRET_ENV, "")
    if value:
        if len(value) < _MIN_SECRET:
            raise SecretError(f"{SECRET_ENV} is too short: use at least {_MIN_SECRET} random "
                              "characters (e.g. python -c 'import secrets; "
                              "print(secrets.token_urlsafe(32))')")
        return Signer(value.encode(), load_address_key(state_dir), "environment")
    if not allow_state_secret:
        raise SecretError(f"set {SECRET_ENV} to a long random value before sending through "
                          "this transport; it signs the unsubscribe links")
    return Signer(_state_secret(state_dir / STATE_SECRET), load_address_key(state_dir),
                  str(state_dir / STATE_SECRET))


def _state_secret(path: Path) -> bytes:
    """The outbox's own signing secret; it only signs links in rehearsal files."""
    if not path.exists():
        write_new_secret(path)
    with state_errors(path, "read the outbox secret"):
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    if mode & 0o077:
        raise SecretError(f"{path} is readable by others; run chmod 600 on it")
    if len(key) < _MIN_SECRET:
        raise SecretError(f"{path} holds no usable secret; set {SECRET_ENV} instead, or "
                          "restore state/ from the backup")
    return key
