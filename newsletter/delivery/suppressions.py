"""Importing SendGrid's suppression lists into ours."""

from __future__ import annotations

import json

from python_http_client import exceptions as http

from newsletter.audience.tokens import address_id
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.transports.sendgrid_api import api_client
from newsletter.errors import DeliveryError
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.config import SendGrid

# SendGrid's list -> our reason
KINDS = {"bounces": "bounce", "blocks": "block", "spam_reports": "complaint",
         "unsubscribes": "unsubscribe"}
PAGE = 500


def import_sendgrid(ledger: Ledger, address_key: bytes, settings: SendGrid) -> dict[str, int]:
    api = api_client(settings, "to import SendGrid's suppressions")
    counts = {}
    for kind, reason in KINDS.items():
        added = 0
        offset = 0
        while True:
            endpoint = getattr(api.client.suppression, kind)
            try:
                response = endpoint.get(query_params={"limit": PAGE, "offset": offset})
            except http.HTTPError as err:
                raise DeliveryError(f"SendGrid refused the {kind} list "
                                    f"({getattr(err, 'status_code', '?')})") from None
            except OSError as err:
                raise DeliveryError(f"cannot reach SendGrid: {err}") from None
            entries = json.loads(response.body or b"[]")
            for entry in entries:
                try:
                    addr = normalize_address(str(entry.get("email", "")))
                except AddressError:
                    continue
                added += ledger.suppress(address_id(address_key, addr), addr, reason,
                                         f"sendgrid:{kind}")
            if len(entries) < PAGE:
                break
            offset += PAGE
        counts[kind] = added
    return counts
