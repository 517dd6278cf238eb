"""Signed, short unsubscribe tokens and stable recipient ids.

A token is ``base64url(version | recipient id | MAC)``: 1 + 10 + 10 bytes, 28
characters. The recipient id is a keyed hash of the address, so the address
cannot be read from a token; the MAC (keyed by NEWSLETTER_SECRET) makes a forged
or altered token fail verification.

Rotation: new tokens are always signed with the current secret; the previous secrets
(NEWSLETTER_SECRET_PREVIOUS) only verify, so links in mails that went out before a
rotation keep working for as long as the old secret is kept there.

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
PREVIOUS_ENV = "NEWSLETTER_SECRET_PREVIOUS"  # older secrets, comma-separated
_VERSION = b"\x01"  # unsubscribe links (the format every sent mail carries)
_STAMPED = b"\x02"  # other purposes: recipient id, issue time in minutes, MAC
PURPOSES = ("unsubscribe", "preferences", "confirm")
_ID_BYTES = 10
_MAC_BYTES = 10
MIN_SECRET = 16


@dataclass(frozen=True, repr=False)
class Signer:
    key: bytes  # signs tokens (NEWSLETTER_SECRET)
    address_key: bytes  # names addresses (state/address.key)
    origin: str  # "environment" or the state file; never the key itself
    previous: tuple[bytes, ...] = ()  # older secrets: they verify, they never sign

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
        if not self._genuine(mac, body, "unsubscribe"):
            return None
        return body[1:].hex()

    def _mac(self, body: bytes, purpose: str = "unsubscribe", key: bytes | None = None
             ) -> bytes:
        return hmac.new(self.key if key is None else key, purpose.encode() + b"\0" + body,
                        hashlib.sha256).digest()[:_MAC_BYTES]

    def _genuine(self, mac: bytes, body: bytes, purpose: str) -> bool:
        """Whether ``mac`` was made by the current secret or by one of the previous ones
        (every one is computed: the time taken does not say which one matched)."""
        found = False
        for key in (self.key, *self.previous):
            found |= hmac.compare_digest(mac, self._mac(body, purpose, key))
        return found

    def token(self, purpose: str, recipient_id: str, now: float) -> str:
        """A token for ``purpose`` (preferences, confirm): a page link that cannot be
        used for another purpose, and whose age can be checked."""
        if purpose not in PURPOSES or purpose == "unsubscribe":
            raise ValueError(f"unknown token purpose {purpose!r}")
        minutes = int(now // 60).to_bytes(4, "big")
        body = _STAMPED + bytes.fromhex(recipient_id) + minutes
        return base64.urlsafe_b64encode(body + self._mac(body, purpose)).decode().rstrip("=")

    def check(self, purpose: str, token: str, *, now: float, max_age: float | None = None
              ) -> str | None:
        """The recipient id of a valid ``purpose`` token not older than ``max_age``
        seconds; None for anything forged, altered, of another purpose, or expired."""
        if purpose == "unsubscribe":
            return self.verify(token)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        size = 1 + _ID_BYTES + 4
        if len(raw) != size + _MAC_BYTES or raw[:1] != _STAMPED:
            return None
        body, mac = raw[:size], raw[size:]
        if not self._genuine(mac, body, purpose):
            return None
        issued = int.from_bytes(body[-4:], "big") * 60
        if max_age is not None and not -300 <= now - issued <= max_age:
            return None
        return body[1:1 + _ID_BYTES].hex()


def address_id(address_key: bytes, email: str) -> str:
    digest = hmac.new(address_key, b"recipient\0" + email.casefold().encode(), hashlib.sha256)
    return digest.digest()[:_ID_BYTES].hex()
