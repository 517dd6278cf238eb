"""Per-recipient links: the signed token, the one-click URL, the mailto address."""

from __future__ import annotations

from urllib.parse import quote

from newsletter.audience.tokens import Signer
from newsletter.delivery.outgoing import Links
from newsletter.workspace.config import Web


def links_for(signer: Signer, web: Web, recipient_id: str) -> Links:
    """The links every message to this recipient carries (headers and footer)."""
    token = signer.token_for_id(recipient_id)
    return Links(token=token, unsubscribe_url=f"{web.unsubscribe_url}?t={token}",
                 mailto=f"mailto:{web.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}")
