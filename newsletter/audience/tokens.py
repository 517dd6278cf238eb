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
from dataclasses import dataclass

SECRET_ENV = "NEWSLETTER_SECRET"  # noqa: S105 - the variable's name, not a secret
_VERSION = b"\x01"
_ID_BYTES = 10
_MAC_BYTES = 10
MIN_SECRET = 16


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
