"""SendGrid's Event Webhook: checking a batch's signature and applying its events.

SendGrid posts JSON arrays of events (every 30 s, or at 768 KB), signed with ECDSA
P-256 over ``timestamp + raw body``. Every event carries the ``custom_args`` of its
message as top-level fields: ``campaign`` and ``recipient`` (our recipient id). What
each event does:

    bounce (type bounce)      row rejected; recipient suppressed (bounce)
    bounce (type blocked)     row rejected; suppressed (block) once blocked in a
                              second campaign: one block is often the receiving
                              server's passing mood, two are a pattern
    dropped                   row rejected with SendGrid's reason
    spamreport                suppressed at once (complaint)
    unsubscribe,
    group_unsubscribe         suppressed (unsubscribe)
    delivered, deferred       noted in the row's last_error; the row stays 'sent'
                              (an 'unknown' row becomes 'sent': it certainly left)
    open, click, processed,   ignored: we track nobody, and a resubscription needs
    group_resubscribe, other  our own double opt-in

A batch is applied in one transaction, each event once (``sg_event_id``; SendGrid
retries whole batches and sends duplicates anyway).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook

from newsletter.audience.tokens import address_id
from newsletter.delivery import jsonbody, subscribers
from newsletter.delivery.ledger import Ledger, now
from newsletter.delivery.records import Status
from newsletter.errors import ConfigError, HookError
from newsletter.workspace.addresses import AddressError, normalize_address

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
SOURCE = "sendgrid:webhook"  # the suppressions' source, beside import-sendgrid's
BLOCKED = "blocked: "  # last_error prefix: how repeated blocks are counted
BLOCKS_TO_SUPPRESS = 2  # campaigns a recipient must be blocked in to be suppressed
KEEP_EVENT_IDS = dt.timedelta(days=7)  # SendGrid retries for 24 hours
_RECIPIENT_ID = re.compile(r"[0-9a-f]{20}")  # audience.tokens.address_id
_NOTE = 500  # characters of a provider's reason kept in last_error


@dataclass(frozen=True)
class Applied:
    """What one batch did."""

    events: int = 0
    applied: int = 0  # events acted on
    repeated: int = 0  # applied before: SendGrid posted them again
    ignored: int = 0  # opens, clicks and other kinds we do not act on
    unknown: int = 0  # no recipient id and no readable address
    suppressed: int = 0  # recipients newly on the suppression list


@lru_cache(maxsize=4)
def verifier(public_key: str) -> EventWebhook:
    """The verifier for SendGrid's key (base64 DER, as its settings page shows it)."""
    try:
        hook = EventWebhook(public_key.strip())
    except (ValueError, TypeError) as err:
        raise ConfigError(f"the SendGrid webhook key is not a base64 DER public key ({err})"
                          ) from None
    if not isinstance(hook.public_key, ec.EllipticCurvePublicKey):
        raise ConfigError("the SendGrid webhook key is not an elliptic-curve (P-256) key")
    return hook


def signature_valid(public_key: str, body: bytes, signature: str | None,
                    timestamp: str | None) -> bool:
    """Whether SendGrid signed exactly this body at this timestamp."""
    if not signature or not timestamp:  # EventWebhook raises TypeError on None
        return False
    hook = verifier(public_key)
    try:
        return hook.verify_signature(body.decode("utf-8"), signature, timestamp)
    except ValueError:  # not UTF-8, or the signature is not base64
        return False


def fresh(timestamp: str | None, moment: float) -> bool:
    """Whether a batch was signed after the oldest event id we still remember: an older
    signed batch, posted again, could undo the officer's work (a lifted suppression)."""
    try:
        signed = int(timestamp or "")
    except ValueError:
        return False
    return moment - KEEP_EVENT_IDS.total_seconds() < signed < moment + 3600


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    events = jsonbody.loads(body, "the event batch")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise HookError("the event batch is not a JSON array of objects")
    return events


def apply_events(ledger: Ledger, address_key: bytes | None,
                 events: list[dict[str, Any]]) -> Applied:
    """Apply a verified batch in one transaction: all of it or (on an error) none."""
    tally: Counter[str] = Counter()
    cutoff = (dt.datetime.now(dt.UTC) - KEEP_EVENT_IDS).isoformat(timespec="seconds")
    with ledger.transaction() as db:
        db.execute("DELETE FROM webhook_events WHERE received_at < ?", (cutoff,))
        for event in events:
            outcome, suppressed = _apply(ledger, address_key, event)
            tally[outcome] += 1
            tally["suppressed"] += suppressed
    return Applied(events=len(events), **tally)


def _apply(ledger: Ledger, address_key: bytes | None, event: dict[str, Any]
           ) -> tuple[str, bool]:
    handler = HANDLERS.get(str(event.get("event", "")))
    if handler is None:
        return "ignored", False
    event_id = event.get("sg_event_id")
    if isinstance(event_id, str) and event_id and not subscribers.first_time(ledger, event_id):
        return "repeated", False
    rid = recipient_of(event, address_key)
    if rid is None:
        return "unknown", False
    return "applied", handler(ledger, rid, _custom(event, "campaign") or "", event)


def _custom(event: dict[str, Any], name: str) -> str | None:
    """A custom_arg: top-level in the events SendGrid posts (also read from custom_args)."""
    value = event.get(name)
    if value is None and isinstance(event.get("custom_args"), dict):
        value = event["custom_args"].get(name)
    return value if isinstance(value, str) else None


def recipient_of(event: dict[str, Any], address_key: bytes | None) -> str | None:
    """The recipient id from custom_args; else the keyed hash of the event's address."""
    rid = _custom(event, "recipient")
    if rid is not None and _RECIPIENT_ID.fullmatch(rid):
        return rid
    email = event.get("email")
    if address_key is None or not isinstance(email, str):
        return None
    try:
        return address_id(address_key, normalize_address(email))
    except AddressError:
        return None


def _why(event: dict[str, Any]) -> str:
    text = event.get("reason") or event.get("response") or event.get("status") or ""
    return " ".join(str(text).split())[:_NOTE] or "no reason given"


def _settle(ledger: Ledger, campaign: str, rid: str, status: Status, note: str, *,
            after_delivered: bool = True) -> bool:
    """Note an outcome on the row of a message that left; rows never handed over (or
    being handed over right now) are the send loop's. Whether a row was changed."""
    if not campaign:
        return False
    sql = ("UPDATE deliveries SET status=?, last_error=?, updated_at=? WHERE campaign=?"
           " AND recipient=? AND status IN (?, ?)")
    if not after_delivered:  # a late 'deferred' must not hide that it was delivered
        sql += " AND last_error NOT LIKE 'delivered%'"
    return ledger.db.execute(sql, (status, note[:_NOTE], now(), campaign, rid, Status.SENT,
                                   Status.UNKNOWN)).rowcount == 1


def _suppress(ledger: Ledger, rid: str, reason: str) -> bool:
    return subscribers.withdraw(ledger, rid, reason=reason, source=SOURCE)


def _bounce(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    if str(event.get("type", "")).lower() == "blocked":
        recorded = _settle(ledger, campaign, rid, Status.REJECTED, BLOCKED + _why(event))
        blocks = ledger.db.execute("SELECT count(DISTINCT campaign) FROM deliveries WHERE"
                                   " recipient=? AND last_error LIKE ?",
                                   (rid, BLOCKED + "%")).fetchone()[0]
        if not recorded:  # no row to note it on (another campaign's id): it counts still
            blocks += 1
        return blocks >= BLOCKS_TO_SUPPRESS and _suppress(ledger, rid, "block")
    _settle(ledger, campaign, rid, Status.REJECTED, "bounced: " + _why(event))
    return _suppress(ledger, rid, "bounce")


def _dropped(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    _settle(ledger, campaign, rid, Status.REJECTED, "dropped by SendGrid: " + _why(event))
    return False


def _spamreport(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    return _suppress(ledger, rid, "complaint")


def _unsubscribe(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    return _suppress(ledger, rid, "unsubscribe")


def _delivered(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    response = " ".join(str(event.get("response", "")).split())
    _settle(ledger, campaign, rid, Status.SENT, f"delivered: {response}" if response
            else "delivered")
    return False


def _deferred(ledger: Ledger, rid: str, campaign: str, event: dict[str, Any]) -> bool:
    attempt = event.get("attempt")
    where = f" (attempt {attempt})" if isinstance(attempt, str | int) else ""
    _settle(ledger, campaign, rid, Status.SENT, f"deferred{where}: {_why(event)}",
            after_delivered=False)
    return False


HANDLERS: dict[str, Callable[[Ledger, str, str, dict[str, Any]], bool]] = {
    "bounce": _bounce,
    "dropped": _dropped,
    "spamreport": _spamreport,
    "unsubscribe": _unsubscribe,
    "group_unsubscribe": _unsubscribe,
    "delivered": _delivered,
    "deferred": _deferred,
}
