"""What mail providers post to the web app: SendGrid's event batches, and the mails
readers send to the unsubscribe address (Inbound Parse); the mails kept for the officer.

Errors, for the web boundary to map: SignatureRejected (401), HookError (400),
LedgerBusy (503: the provider retries), ConfigError and StateError (500).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.app import writers
from newsletter.app.people import unsubscribe_recipient
from newsletter.delivery import inbound, webhooks
from newsletter.delivery.keys import cached_signer
from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.errors import ConfigError, SignatureRejected
from newsletter.workspace.config import Workspace
from newsletter.workspace.state import ADDRESS_KEY, read_key

PUBLIC_KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"
SIGNATURE_HEADER = webhooks.SIGNATURE_HEADER
TIMESTAMP_HEADER = webhooks.TIMESTAMP_HEADER
HOOK_WAIT = 5.0  # seconds a hook waits for another writer before answering "busy"

Applied = webhooks.Applied
KeptMail = inbound.KeptMail


def sendgrid_events(ws: Workspace, body: bytes, signature: str | None,
                    timestamp: str | None, *, busy_timeout: float = HOOK_WAIT) -> Applied:
    """Verify a posted event batch against SendGrid's key, then apply it whole."""
    public_key = os.environ.get(PUBLIC_KEY_ENV, "").strip()
    if not public_key:
        raise ConfigError(f"{PUBLIC_KEY_ENV} is not set: copy the verification key from "
                          "SendGrid (Settings > Mail Settings > Signed Event Webhook) into it; "
                          "until then no event is applied and SendGrid keeps retrying")
    if not webhooks.signature_valid(public_key, body, signature, timestamp):
        missing = [h for h, v in ((SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp))
                   if not v]
        raise SignatureRejected(f"missing header {', '.join(missing)}" if missing else
                                "the signature does not match SendGrid's key")
    if not webhooks.fresh(timestamp, time.time()):
        raise SignatureRejected(f"the batch was signed at {timestamp}, more than "
                                f"{webhooks.KEEP_EVENT_IDS.days} days ago (or in the future)")
    events = webhooks.parse_batch(body)

    def work(ledger: Ledger) -> Applied:
        # the ledger checked the key against its fingerprint; no key: nobody was sent to
        return webhooks.apply_events(ledger, read_key(ws.state_dir / ADDRESS_KEY), events)

    # the batch whole in a savepoint, committed with the writes that came meanwhile
    return writers.write(ws.state_dir, work, timeout=busy_timeout)


KEEP_PER_SENDER = inbound.KEEP_PER_SENDER
KEEP_PER_DAY = inbound.KEEP_PER_DAY


@dataclass(frozen=True)
class InboundResult:
    outcome: str  # "unsubscribed", "already suppressed", "kept", or "dropped" (a limit)
    kept: int = 0  # the kept mail's number, for the officer's list


def receive_mail(ws: Workspace, fields: Mapping[str, str], *,
                 busy_timeout: float = HOOK_WAIT) -> InboundResult:
    """A mail to the unsubscribe address: a valid token suppresses its recipient (source
    'mailto'); any other mail is kept for the officer. Nobody is ever answered."""
    mail = inbound.read_post(fields)
    signer = cached_signer(ws.state_dir, allow_state_secret=True, busy_timeout=busy_timeout)
    candidates = inbound.tokens(mail, ws.config.web.unsubscribe_mailto)
    for token in candidates:
        rid = signer.verify(token)
        if rid is not None:
            added = unsubscribe_recipient(ws, rid, source="mailto", busy_timeout=busy_timeout)
            return InboundResult("unsubscribed" if added else "already suppressed")
    why = ("a token that does not verify (altered, or signed with another secret)"
           if candidates else "no unsubscribe token")
    sender = inbound.sender_address(mail)
    sender_key = signer.recipient_id(sender) if sender else ""

    def keep(ledger: Ledger) -> int | None:
        return inbound.keep(ledger, mail, sender_key, why)

    number = writers.write(ws.state_dir, keep, timeout=busy_timeout)
    # over a limit: answered like a kept mail (a provider would only post it again)
    return InboundResult("dropped", 0) if number is None else InboundResult("kept", number)


def kept_mail(ws: Workspace) -> list[KeptMail]:
    """Mails to the unsubscribe address that no token explained, oldest first."""
    with open_ledger(ws.state_dir) as ledger:
        return inbound.kept(ledger)


def dismiss_mail(ws: Workspace, number: int) -> bool:
    """The officer has dealt with kept mail ``number``: it goes (personal data)."""
    with open_ledger(ws.state_dir) as ledger:
        return inbound.dismiss(ledger, number)
