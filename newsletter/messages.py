"""MIME messages: one per recipient, built from an edition rendered once per language.

Headers that carry non-ASCII text or links are encoded here, not by the email
package's folder: Python's folding of long encoded words drops or inserts spaces
(an Arabic subject loses the space between two words; a long display name gains
one inside a word), and a ``List-Unsubscribe`` longer than a line becomes an
encoded word that Gmail and Outlook ignore. ``MAIL_POLICY`` stores those
headers verbatim, already encoded by ``email.header.Header`` (which splits at
character boundaries and keeps spaces inside the encoded text).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from urllib.parse import quote

from newsletter.config import Workspace
from newsletter.edition import Edition
from newsletter.errors import DeliveryError
from newsletter.recipients import Recipient
from newsletter.render import Rendered, Renderer, personalize
from newsletter.tokens import Signer

# Headers we encode and fold ourselves; everything else goes through the policy.
VERBATIM = frozenset({"subject", "from", "to", "reply-to", "list-id", "list-unsubscribe",
                      "list-unsubscribe-post"})
_LINE = 76


class _VerbatimPolicy(EmailPolicy):
    """EmailPolicy that keeps our pre-encoded headers exactly as given."""

    def header_store_parse(self, name, value):  # type: ignore[override]
        if name.lower() in VERBATIM and isinstance(value, str):
            if not value.isascii() or "\r" in value:
                raise DeliveryError(f"header {name} must be pre-encoded ASCII")
            return (name, value)
        return super().header_store_parse(name, value)


# refold_source="none": raw header strings are never refolded into encoded words
MAIL_POLICY = _VerbatimPolicy(linesep="\r\n", refold_source="none")


def _single_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value or any(ord(c) < 32 and c != "\t" for c in value):
        raise DeliveryError(f"{what} contains a line break or control character: {value!r}")
    return value


def encode_text(value: str, header: str) -> str:
    """An unstructured header value (Subject): folded ASCII, or RFC 2047 words."""
    _single_line(value, header)
    if value.isascii():
        return "\n ".join(textwrap.wrap(value, _LINE - len(header) - 2, break_long_words=False,
                                        break_on_hyphens=False)) or value
    return Header(value, "utf-8", header_name=header).encode(linesep="\n", maxlinelen=_LINE)


def encode_address(name: str, addr: str, header: str) -> str:
    """``Name <addr>`` with the name quoted (ASCII) or encoded (anything else)."""
    _single_line(name, f"{header} name")
    _single_line(addr, f"{header} address")
    try:
        address = Address(display_name=name if name.isascii() else "", addr_spec=addr)
    except (ValueError, IndexError) as err:  # headerregistry's own checks
        raise DeliveryError(f"{header}: invalid address {addr!r}: {err}") from err
    if not name or name.isascii():
        return str(address)  # headerregistry quotes "Verband e.V." correctly
    words = Header(name, "utf-8", header_name=header).encode(linesep="\n", maxlinelen=_LINE)
    return f"{words}\n <{address.addr_spec}>"


@dataclass(frozen=True)
class Prepared:
    """An edition rendered and CSS-inlined once, ready for per-recipient substitution."""

    edition: Edition
    rendered: Rendered
    subject: str
    view_online_url: str


def prepare(renderer: Renderer, edition: Edition, ws: Workspace) -> Prepared:
    original = ws.config.web.view_online(edition.release.id, ws.config.languages.source)
    rendered = renderer.render(edition, original_url=original)
    return Prepared(
        edition=edition,
        rendered=rendered,
        subject=edition.release.title.plain,
        view_online_url=ws.config.web.view_online(edition.release.id, edition.language.code),
    )


@dataclass(frozen=True)
class Envelope:
    """One message ready for a transport, with what the ledger and reports need."""

    recipient: Recipient
    recipient_id: str
    message_id: str
    language: str
    message: EmailMessage

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=MAIL_POLICY)


class MessageBuilder:
    """Builds the message of one campaign for one recipient: substitution only."""

    def __init__(self, ws: Workspace, signer: Signer, campaign_id: str,
                 now: dt.datetime | None = None):
        cfg = ws.config
        self.signer = signer
        self.campaign_id = campaign_id
        self.web = cfg.web
        self.sender_config = cfg.sender
        self.domain = cfg.sender.from_address.rpartition("@")[2]
        moment = now or dt.datetime.now(dt.UTC)
        if moment.tzinfo is None:
            raise ValueError("the Date header needs an aware datetime")
        self.date = format_datetime(moment)
        self.from_header = encode_address(cfg.sender.from_name, cfg.sender.from_address, "From")
        self.reply_to = encode_address("", cfg.sender.reply_to, "Reply-To")

    def message_id(self, rid: str) -> str:
        return f"<{self.campaign_id}.{rid}@{self.domain}>"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.web.unsubscribe_url}?t={token}"

    def build(self, prepared: Prepared, recipient: Recipient) -> Envelope:
        rid = self.signer.recipient_id(recipient.email)
        token = self.signer.unsubscribe_token(recipient.email)
        unsubscribe = self.unsubscribe_url(token)
        greetings = prepared.rendered.greetings
        values = {"view_online_url": prepared.view_online_url, "unsubscribe_url": unsubscribe}
        text = personalize(prepared.rendered.text,
                           {**values, "greeting": greetings.text(recipient.name)}, html=False)
        html = personalize(prepared.rendered.html,
                           {**values, "greeting": greetings.html(recipient.name)}, html=True)
        kind = prepared.edition.release.kind
        message_id = self.message_id(rid)
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"] = self.from_header
        msg["To"] = encode_address(recipient.name, recipient.email, "To")
        msg["Reply-To"] = self.reply_to
        msg["Subject"] = encode_text(prepared.subject, "Subject")
        msg["Date"] = self.date
        msg["Message-ID"] = message_id
        msg["List-Id"] = f"<{kind}.{self.domain}>"
        mailto = f"mailto:{self.web.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}"
        msg["List-Unsubscribe"] = f"<{unsubscribe}>,\n <{mailto}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["X-Newsletter-Campaign"] = self.campaign_id
        msg.set_content(text, subtype="plain", charset="utf-8")
        msg.add_alternative(html, subtype="html", charset="utf-8")
        # after set_content, which clears every Content-* header it finds
        msg["Content-Language"] = prepared.edition.language.html_lang
        return Envelope(recipient, rid, message_id, prepared.edition.language.code, msg)
