"""Mails to the unsubscribe address (the mailto variant of List-Unsubscribe).

The signed token comes in the subject (``unsubscribe <token>``, as our mailto link
writes it) or in the address tag (``abmelden+<token>@...``). A mail without a valid
token is never answered (a reply to an arbitrary sender is backscatter) and never
acted on by its From address, which anyone can forge: it is kept in the ledger's
``inbound_mail`` table for the communications officer, who reads the request and
suppresses by hand. Erasing a person deletes the mails they sent with their rows.

Anyone can post such mails (Inbound Parse is not signed), so keeping is limited: at
most KEEP_PER_SENDER kept mails an hour from one From address and KEEP_PER_DAY in 24
hours from everyone together; beyond that a mail is dropped (the officer loses a few
requests on a day of a flood, the disk is not filled). A valid token always counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.parser import Parser
from email.utils import getaddresses
from itertools import pairwise

from newsletter.delivery import jsonbody, subscribers
from newsletter.delivery.ledger import Ledger
from newsletter.errors import HookError
from newsletter.workspace.addresses import AddressError, normalize_address

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
KEEP_TEXT = 4000  # characters of a kept mail's text: enough to read a request
_FIELD = 1000  # characters kept of sender, recipients and subject
KEEP_PER_SENDER = 5  # kept mails an hour from one From address (forged ones too)
KEEP_PER_DAY = 100  # kept mails in 24 hours from everyone: at most ~0.7 MB a day


@dataclass(frozen=True)
class Mail:
    """What Inbound Parse posted, as plain text."""

    sender: str  # the From header
    recipients: tuple[str, ...]  # To and envelope addresses
    subject: str
    text: str


@dataclass(frozen=True)
class KeptMail:
    seq: int
    received_at: str
    sender: str
    recipients: str
    subject: str
    text: str
    why: str
    known: bool  # the sender's address is in the ledger (sent to, signed up, suppressed)
    suppressed: bool  # ... and already on the suppression list


def read_post(fields: Mapping[str, str]) -> Mail:
    """The mail from Inbound Parse's form fields, parsed (from, to, subject, text,
    envelope) or raw (a whole MIME message in ``email``)."""
    if "email" in fields and not fields.get("from"):
        return _raw(fields["email"], fields.get("envelope", ""))
    if not any(fields.get(name) for name in ("from", "to", "subject", "envelope")):
        raise HookError("not an Inbound Parse post: no from, to, subject or envelope")
    return Mail(fields.get("from", ""), _addresses(fields.get("to", ""),
                                                   fields.get("envelope", "")),
                fields.get("subject", ""), fields.get("text", ""))


def _raw(message: str, envelope: str) -> Mail:
    msg = Parser(policy=policy.default).parsestr(message)
    try:
        part = msg.get_body(("plain",))
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError, AttributeError):  # odd charsets, broken structure
        text = ""
    return Mail(str(msg.get("from", "")), _addresses(str(msg.get("to", "")), envelope),
                str(msg.get("subject", "")), text)


def _addresses(to: str, envelope: str) -> tuple[str, ...]:
    found = [addr for _, addr in getaddresses([to]) if addr]
    try:
        env = jsonbody.loads(envelope, "the envelope") if envelope else {}
    except HookError:  # the To header alone will do
        env = {}
    if isinstance(env, dict) and isinstance(env.get("to"), list):
        found += [a for a in env["to"] if isinstance(a, str)]
    return tuple(dict.fromkeys(found))


def tokens(mail: Mail, mailbox: str) -> list[str]:
    """Candidate tokens: after 'unsubscribe' in the subject, and the tags of addresses
    at ``mailbox``'s local part (``local+<token>@``). Verifying them is the caller's."""
    words = mail.subject.split()
    found = [word for before, word in pairwise(words)
             if before.casefold().rstrip(":") == "unsubscribe"]
    local = mailbox.rpartition("@")[0].casefold()
    for addr in mail.recipients:
        base, plus, tag = addr.rpartition("@")[0].partition("+")
        if plus and base.casefold() == local:
            found.append(tag)  # case kept: tokens are base64url
    return [t for t in dict.fromkeys(found) if t and set(t) <= _TOKEN_CHARS]


def sender_address(mail: Mail) -> str:
    """The From address, normalised like list addresses ('' when there is none)."""
    pairs = [addr for _, addr in getaddresses([mail.sender]) if "@" in addr]
    if not pairs:
        return ""
    try:
        return normalize_address(pairs[0])
    except AddressError:
        return pairs[0]  # still worth a keyed hash: erasure finds it by the same text


def keep(ledger: Ledger, mail: Mail, sender_key: str, why: str,
         moment: dt.datetime | None = None) -> int | None:
    """Keep a mail for the officer; its number in the list, or None when the limits
    above are reached (nothing is written)."""
    at = moment or dt.datetime.now(dt.UTC)
    hour = (at - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    day = (at - dt.timedelta(days=1)).isoformat(timespec="seconds")
    with ledger.transaction() as db:  # counted and written under the write lock
        total = db.execute("SELECT count(*) FROM inbound_mail WHERE received_at > ?",
                           (day,)).scalar() or 0
        mine = db.execute("SELECT count(*) FROM inbound_mail WHERE sender_key=? AND "
                          "received_at > ?", (sender_key, hour)).scalar() or 0
        if total >= KEEP_PER_DAY or mine >= KEEP_PER_SENDER:
            return None
        return db.execute(
            "INSERT INTO inbound_mail (received_at, sender_key, sender, recipients, subject,"
            " body, why) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (at.isoformat(timespec="seconds"), sender_key, mail.sender[:_FIELD],
             ", ".join(mail.recipients)[:_FIELD], mail.subject[:_FIELD],
             mail.text[:KEEP_TEXT], why)).scalar() or 0


def kept(ledger: Ledger) -> list[KeptMail]:
    """The kept mails, oldest first, with what the ledger knows of each sender."""
    rows = ledger.db.execute("SELECT seq, received_at, sender_key, sender, recipients,"
                             " subject, body, why FROM inbound_mail ORDER BY seq").fetchall()
    out = []
    for seq, at, key, sender, recipients, subject, body, why in rows:
        known = bool(key) and subscribers.email_of(ledger, key) is not None
        suppressed = bool(key) and bool(ledger.suppressed([key]))
        out.append(KeptMail(seq, at, sender, recipients, subject, body, why, known,
                            suppressed))
    return out


def dismiss(ledger: Ledger, seq: int) -> bool:
    """The officer has dealt with a kept mail: it goes."""
    with ledger.transaction() as db:
        return db.execute("DELETE FROM inbound_mail WHERE seq=?", (seq,)).rowcount == 1
