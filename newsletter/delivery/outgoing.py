"""What a transport is handed: plain data, nothing to render and no keys.

The send loop turns ledger rows into ``Item``s (address, name, links, greeting, the
line saying why they receive it, and
the finished MIME message when the transport wants one) and an edition into
``EditionParts`` (subject, the rendered HTML and text with their %%placeholders%%,
attachments, sender). Transports import this module and the error tree only.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.workspace.config import Sender


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


# Links and Item are made once per recipient: slots and no frozen __setattr__ keep
# that cheap (100,000 recipients a run).
@dataclass(slots=True)
class Links:
    """Per-recipient links, made in one place (delivery/links.py)."""

    token: str
    unsubscribe_url: str  # https, RFC 8058 one-click target
    mailto: str  # mailto:...?subject=unsubscribe <token>

    @property
    def list_unsubscribe(self) -> str:
        """The List-Unsubscribe value: https first, then mailto (Outlook)."""
        return f"<{self.unsubscribe_url}>, <{self.mailto}>"


@dataclass(frozen=True)
class EditionParts:
    """One edition, rendered and inlined once; per-recipient values are placeholders."""

    key: str  # "tr", or "en+de" for journalists who get the original appended
    content_languages: str  # the Content-Language header
    subject: str
    html: str  # contains %%greeting%%, %%why%%, %%unsubscribe_url%%, %%view_online_url%%
    text: str
    view_online_url: str
    sender: Sender
    attachments: tuple[Attachment, ...] = ()
    list_id: str = ""  # the List-Id header: one per kind of mailing


@dataclass(slots=True)
class Item:
    """One recipient of a batch."""

    recipient_id: str
    email: str
    name: str
    message_id: str
    links: Links
    greeting_html: str  # escaped, ready for the HTML part
    greeting_text: str
    why_html: str = ""  # why they receive it, ready for the HTML part
    why_text: str = ""
    mime: bytes = b""  # the whole message, for transports that want MIME


@dataclass(frozen=True)
class Batch:
    """Recipients of one edition, at most ``Transport.batch_size`` of them."""

    campaign: str
    edition: EditionParts
    items: tuple[Item, ...]
