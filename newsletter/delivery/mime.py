"""MIME messages: one per recipient, built from an edition rendered once per language.

Each message is ``multipart/alternative`` (text/plain first, text/html last),
both parts UTF-8 in base64, assembled here from parts prepared once per edition:
per recipient only the To, Message-ID and List-Unsubscribe headers and the two
substituted bodies are new. That keeps building a message a fraction of a
millisecond; the tests parse every header and part back with ``email.parser``.

Headers with user text (names, subjects, the List-Id phrase) are encoded by
headers.py, never by the email package's folder: Python's folding of long encoded
words drops or inserts spaces (an Arabic subject loses the space between two words;
a long display name gains one inside a word), loses the quotes of a long name, and
before 3.11.10 writes a decoded CR/LF raw (CVE-2024-6923). A ``List-Unsubscribe``
longer than a line would become an encoded word that Gmail and Outlook ignore: it is
never encoded at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
from dataclasses import dataclass, replace
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from newsletter.audience.tokens import Signer
from newsletter.delivery import headers
from newsletter.delivery.links import links_for
from newsletter.delivery.outgoing import Attachment, EditionParts, Item, Links
from newsletter.errors import DeliveryError
from newsletter.render.calendar import CONTENT_TYPE as ICS_TYPE
from newsletter.render.calendar import event_ics
from newsletter.render.renderer import Rendered, Renderer, personalize
from newsletter.translation.editions import Edition
from newsletter.workspace.config import Workspace


def mime_part(attachment: Attachment) -> bytes:
    """The part, file name per RFC 2231 when it is not plain ASCII."""
    name = attachment.filename
    if name.isascii() and not any(c in name for c in '"\\\r\n'):
        param = f'="{name}"'
    else:  # RFC 2231, as the email package itself writes it
        param = f"*=utf-8''{quote(name, safe='')}"
    head = (f"Content-Type: {attachment.content_type};\r\n name{param}\r\n"
            f"Content-Disposition: attachment;\r\n filename{param}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    return head.encode("ascii") + base64.encodebytes(attachment.data).replace(b"\n", b"\r\n")


def load_attachments(paths: tuple[Path, ...], budget_mb: float) -> tuple[Attachment, ...]:
    """Read the files once per campaign; more than the budget is refused with advice."""
    total = sum(p.stat().st_size for p in paths)
    if total > budget_mb * 1_000_000:
        raise DeliveryError(
            f"the attachments add up to {total / 1_000_000:.1f} MB, over the budget of "
            f"{budget_mb:g} MB: link large files instead (they are published with the web "
            "archive), attach fewer, or raise delivery.attachment_budget_mb")
    out = []
    for path in paths:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        out.append(Attachment(path.name, ctype, path.read_bytes()))
    return tuple(out)


@dataclass(frozen=True)
class Prepared:
    """An edition rendered and CSS-inlined once, ready for per-recipient substitution."""

    edition: Edition
    rendered: Rendered
    subject: str
    view_online_url: str
    attachments: tuple[Attachment, ...] = ()
    list_id: str = ""  # the List-Id header, the same for every message of this kind


def prepare(renderer: Renderer, edition: Edition, ws: Workspace,
            attachments: tuple[Attachment, ...] = (), now: dt.datetime | None = None
            ) -> Prepared:
    """Render an edition once; a release with an event gets its .ics file attached (in
    the edition's language) and linked from the event box."""
    release, code = edition.release, edition.language.code
    original = ws.config.web.view_online(release.id, ws.config.languages.source)
    view_online = ws.config.web.view_online(release.id, code)
    calendar = ""
    if release.event:
        calendar = ws.config.web.calendar(release.id, code)
        ics = event_ics(release, domain=ws.config.sender.from_address.rpartition("@")[2],
                        lang=edition.language.html_lang, url=view_online,
                        stamp=now or dt.datetime.now(dt.UTC))
        attachments = (*attachments, Attachment(f"{release.id}.ics", ICS_TYPE, ics))
    rendered = renderer.render(edition, original_url=original, calendar_url=calendar)
    return Prepared(
        edition=edition,
        rendered=rendered,
        subject=release.title.plain,
        view_online_url=view_online,
        attachments=attachments,
        list_id=list_id(renderer, ws, release.kind),
    )


def list_id(renderer: Renderer, ws: Workspace, mailing: str) -> str:
    """``List-Id`` (RFC 2919) of a kind of mailing ("press", "news", "digest"): the same for
    every message of that kind, whatever the reader, language or release, so that
    filters keep working; its phrase names the association and the kind of mailing in
    the source language. ``<press.verbund.example.org>`` for the press releases."""
    domain = ws.config.sender.from_address.rpartition("@")[2]
    name = f"{ws.config.organization.full_name}: {renderer.mailing_name(mailing)}"
    # on one line: SendGrid takes header values without folds
    return f"{headers.phrase(name, 'List-Id', room=998, linesep=' ')} <{mailing}.{domain}>"


class Addressee(Protocol):
    """Whom a message is for: a recipient of a list, or an outgoing item."""

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Envelope:
    """One message ready for a transport, with what the ledger and reports need."""

    recipient: Addressee
    recipient_id: str
    message_id: str
    language: str
    data: bytes  # the whole message, CRLF line ends

    def as_bytes(self) -> bytes:
        return self.data


def text_part(subtype: str, body: str) -> bytes:
    """A text part in canonical form (CRLF line breaks), base64 in 76-character lines."""
    canonical = body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    encoded = base64.encodebytes(canonical).replace(b"\n", b"\r\n")
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + encoded


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
        self.from_header = headers.address(cfg.sender.from_name, cfg.sender.from_address, "From")
        self.reply_to = headers.address("", cfg.sender.reply_to, "Reply-To")
        self._heads: dict[int, tuple[bytes, bytes]] = {}
        self._tails: dict[int, bytes] = {}  # attachment parts, encoded once
        self._parts: dict[int, EditionParts] = {}

    def message_id(self, rid: str) -> str:
        return f"<{self.campaign_id}.{rid}@{self.domain}>"

    def links(self, rid: str) -> Links:
        return links_for(self.signer, self.web, rid)

    def parts(self, prepared: Prepared) -> EditionParts:
        """The edition as plain data for transports, made once per edition."""
        key = id(prepared)
        if key not in self._parts:
            self._parts[key] = EditionParts(
                key=prepared.edition.key, content_languages=prepared.edition.content_languages,
                subject=prepared.subject, html=prepared.rendered.html,
                text=prepared.rendered.text, view_online_url=prepared.view_online_url,
                sender=self.sender_config,
                attachments=prepared.attachments, list_id=prepared.list_id)
        return self._parts[key]

    def item(self, prepared: Prepared, rid: str, email: str, name: str, message_id: str, *,
             mime: bool, why: str = "") -> Item:
        """One recipient as a transport gets it; ``mime`` adds the finished message.
        ``why``: why they receive it (a ``Why.key``; empty: the mailing's usual reason)."""
        # a transport that builds the message itself (SendGrid) gets only checked names
        headers.checked(name, "To name")
        greetings = prepared.rendered.greetings
        whys = prepared.rendered.whys
        item = Item(rid, email, name, message_id, self.links(rid),
                    str(greetings.html(name)), greetings.text(name),
                    str(whys.html(why)), whys.text(why))
        if not mime:
            return item
        return replace(item, mime=self.build(prepared, item, rid, why).data)

    def _edition_head(self, prepared: Prepared) -> tuple[bytes, bytes]:
        """Headers shared by every message of an edition, and its MIME boundary."""
        key = id(prepared)
        if key not in self._heads:
            lang = prepared.edition.content_languages
            seed = f"{self.campaign_id}/{prepared.edition.key}".encode()
            boundary = "==newsletter-" + hashlib.sha256(seed).hexdigest()[:24] + "=="
            outer = "mixed" if prepared.attachments else "alternative"
            head = headers.section([
                ("From", self.from_header),
                ("Reply-To", self.reply_to),
                ("Subject", headers.text(prepared.subject, "Subject")),
                ("Date", self.date),
                ("Content-Language", lang),
                ("List-Id", prepared.list_id or f"<{prepared.edition.release.kind}.{self.domain}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ("X-Newsletter-Campaign", self.campaign_id),
                ("MIME-Version", "1.0"),
                ("Content-Type", f'multipart/{outer};\n boundary="{boundary}"'),
            ])
            self._heads[key] = (head, boundary.encode())
            if prepared.attachments:
                self._tails[key] = b"".join(
                    b"\r\n--" + boundary.encode() + b"\r\n" + mime_part(a)
                    for a in prepared.attachments)
        return self._heads[key]

    def build(self, prepared: Prepared, recipient: Addressee, rid: str = "", why: str = ""
              ) -> Envelope:
        """The message for one recipient; ``why`` is why they receive it (``Why.key``)."""
        rid = rid or self.signer.recipient_id(recipient.email)
        links = self.links(rid)
        unsubscribe = links.unsubscribe_url
        greetings, whys = prepared.rendered.greetings, prepared.rendered.whys
        values = {"view_online_url": prepared.view_online_url, "unsubscribe_url": unsubscribe}
        text = personalize(prepared.rendered.text, {
            **values, "greeting": greetings.text(recipient.name), "why": whys.text(why)},
            html=False)
        html = personalize(prepared.rendered.html, {
            **values, "greeting": greetings.html(recipient.name), "why": whys.html(why)},
            html=True)
        message_id = self.message_id(rid)
        head, boundary = self._edition_head(prepared)
        own = headers.section([
            ("To", headers.address(recipient.name, recipient.email, "To")),
            ("Message-ID", message_id),
            ("List-Unsubscribe", f"<{unsubscribe}>,\n <{links.mailto}>"),
        ])
        inner = boundary + b"-alt" if prepared.attachments else boundary
        alternative = b"".join((
            b"\r\n--", inner, b"\r\n", text_part("plain", text),
            b"\r\n--", inner, b"\r\n", text_part("html", html),
            b"\r\n--", inner, b"--\r\n",
        ))
        if prepared.attachments:  # multipart/mixed around the alternative part
            alternative = b"".join((
                b"\r\n--", boundary, b"\r\nContent-Type: multipart/alternative;\r\n"
                b' boundary="', inner, b'"\r\n', alternative,
                self._tails[id(prepared)], b"\r\n--", boundary, b"--\r\n"))
        data = own + head + alternative
        return Envelope(recipient, rid, message_id, prepared.edition.key, data)
