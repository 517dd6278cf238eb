"""The double opt-in confirmation mail: one message, its headers from our own encoder
(headers.py: the name a visitor typed never meets the email package's folder), handed
to the workspace's transport like a one-person batch.

The outbox writes it to ``<outbox>/confirmations/<recipient-id>.eml`` (atomically,
owner-only); SMTP sends the same MIME message; SendGrid gets the plain parts. No
ledger row is written for it: it is not a campaign, and the consent trail records
its Message-ID and time instead.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from email.utils import format_datetime

from newsletter.audience.tokens import Signer
from newsletter.delivery import headers
from newsletter.delivery.links import links_for
from newsletter.delivery.mime import text_part
from newsletter.delivery.outgoing import Batch, EditionParts, Item, Sender
from newsletter.delivery.transports import Transport, make_transport
from newsletter.delivery.transports.base import SENT
from newsletter.errors import DeliveryError
from newsletter.render.webpages import MailContent
from newsletter.workspace.config import Workspace

CAMPAIGN = "confirmations"  # the outbox folder, and the campaign SendGrid's events name


@dataclass(frozen=True)
class Sent:
    message_id: str
    at: str  # ISO time, UTC, when the transport accepted it
    transport: str
    provider_id: str  # the outbox file name, the SMTP reply, SendGrid's message id


def build(ws: Workspace, mail: MailContent, email: str, name: str, message_id: str,
          moment: dt.datetime) -> bytes:
    """The MIME message: text and HTML alternatives; a name or subject no header may
    carry (a line break, encoded-word syntax) is a DeliveryError."""
    sender = ws.config.sender
    boundary = f"==newsletter-confirm-{secrets.token_hex(12)}=="
    head = headers.section([
        ("From", headers.address(sender.from_name, sender.from_address, "From")),
        ("To", headers.address(name, email, "To")),
        ("Reply-To", headers.address("", sender.reply_to, "Reply-To")),
        ("Subject", headers.text(mail.subject, "Subject")),
        ("Date", format_datetime(moment)),
        ("Message-ID", message_id),
        # a request answered by machine: vacation responders must not answer it
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", headers.text(mail.language, "Content-Language")),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative;\n boundary="{boundary}"'),
    ])
    mark = boundary.encode()
    return b"".join((head, b"\r\n--", mark, b"\r\n", text_part("plain", mail.text),
                     b"\r\n--", mark, b"\r\n", text_part("html", mail.html),
                     b"\r\n--", mark, b"--\r\n"))


def send(ws: Workspace, signer: Signer, mail: MailContent, recipient_id: str, email: str,
         name: str, *, transport: Transport | None = None,
         now: dt.datetime | None = None) -> Sent:
    """Hand the confirmation mail (rendered in the reader's language) to ``transport``
    (default: the workspace's)."""
    moment = now or dt.datetime.now(dt.UTC)
    headers.checked(name, "To name")  # SendGrid builds the header from it: checked here
    if transport is None:
        transport = make_transport(ws, ws.config.delivery.transport, CAMPAIGN)
    domain = ws.config.sender.from_address.rpartition("@")[2]
    # short enough for one header line: a folded Message-ID comes back with a space
    message_id = f"<confirm.{secrets.token_hex(10)}@{domain}>"
    data = build(ws, mail, email, name, message_id, moment) if transport.wants_mime else b""
    sender = ws.config.sender
    parts = EditionParts(key=mail.language, content_languages=mail.language,
                         subject=mail.subject, html=mail.html, text=mail.text,
                         view_online_url="", sender=Sender(sender.from_name,
                                                           sender.from_address,
                                                           sender.reply_to))
    # the cancel link is the unsubscribe link: SendGrid puts it in List-Unsubscribe
    item = Item(recipient_id, email, name, message_id,
                links_for(signer, ws.config.web, recipient_id), "", "", mime=data)
    with transport:
        (outcome,) = transport.send(Batch(CAMPAIGN, parts, (item,)))
    if outcome.status != SENT:
        raise DeliveryError(f"the confirmation mail was not accepted ({outcome.status}): "
                            f"{outcome.error}")
    accepted = now or dt.datetime.now(dt.UTC)
    return Sent(message_id, accepted.isoformat(timespec="seconds"), transport.name,
                outcome.provider_id)
