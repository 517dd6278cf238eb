"""What mail providers post to the web app: SendGrid's event batches.

Errors, for the web boundary to map: SignatureRejected (401), HookError (400),
LedgerBusy (503: the provider retries), ConfigError and StateError (500).
"""

from __future__ import annotations

import os

from newsletter.delivery import webhooks
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import ConfigError, SignatureRejected
from newsletter.workspace.config import Workspace
from newsletter.workspace.state import ADDRESS_KEY, read_key

PUBLIC_KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"
SIGNATURE_HEADER = webhooks.SIGNATURE_HEADER
TIMESTAMP_HEADER = webhooks.TIMESTAMP_HEADER
HOOK_WAIT = 5.0  # seconds a hook waits for another writer before answering "busy"

Applied = webhooks.Applied


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
    events = webhooks.parse_batch(body)
    with open_ledger(ws.state_dir, busy_timeout=busy_timeout) as ledger:
        # the ledger checked the key against its fingerprint; no key: nobody was sent to
        address_key = read_key(ws.state_dir / ADDRESS_KEY)
        return webhooks.apply_events(ledger, address_key, events)
