"""Unsubscribes by mail: read the [web.mailbox] over IMAP and act on each new mail.

A mail with a valid token (subject or address tag) unsubscribes its recipient, as
the unsubscribe page would (source "mailto"). Any other mail is noted for the
communications officer in ``state/mailbox-unmatched.jsonl`` and never answered.
Each handled mail is marked read (or moved to ``processed_folder``), so a second poll
finds nothing new; a poll that stops half-way is repeated without harm.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.app.people import unsubscribe_recipient
from newsletter.audience.tokens import Signer
from newsletter.delivery.imap import PASSWORD_ENV, ImapMailbox
from newsletter.delivery.inbox import NOTES, Mail, Notes, poll_lock, read_mail, tokens_in
from newsletter.delivery.keys import load_signer
from newsletter.errors import ConfigError
from newsletter.workspace.config import CONFIG_NAME, Mailbox, Workspace

__all__ = ["NOTES", "PASSWORD_ENV", "PollResult", "Unmatched", "poll"]


@dataclass(frozen=True)
class Unmatched:
    """A mail without a valid token: for the officer to read, never answered."""

    sender: str
    date: str
    subject: str


@dataclass(frozen=True)
class PollResult:
    mailbox: str  # imaps://user@host:port/folder, never the password
    read: int = 0  # new mails handled
    unsubscribed: int = 0  # mails whose token unsubscribed someone
    already: int = 0  # valid tokens of people already unsubscribed
    unmatched: list[Unmatched] = field(default_factory=list)
    notes: Path = Path()  # where the unmatched mails are kept


def settings(ws: Workspace) -> Mailbox:
    """The [web.mailbox] section; its absence is a clear 'not configured'."""
    box = ws.config.web.mailbox
    if box is None:
        raise ConfigError("the mailbox poll is not configured: add a [web.mailbox] section "
                          "(host, username; see README 'Unsubscribes by mail')",
                          path=ws.root / CONFIG_NAME)
    return box


def poll(ws: Workspace) -> PollResult:
    """Handle every new mail in the unsubscribe mailbox once."""
    box = settings(ws)
    password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise ConfigError(f"set {PASSWORD_ENV} to the password of the mailbox "
                          f"{box.username!r} ([web.mailbox] in {CONFIG_NAME})")
    # tokens of real mails are signed with NEWSLETTER_SECRET; only a rehearsal workspace
    # (outbox) signs with the secret in state/, as the send did
    signer = load_signer(ws.state_dir,
                         allow_state_secret=ws.config.delivery.transport == "outbox")
    read, unsubscribed, already, unmatched = 0, 0, 0, []
    with poll_lock(ws.state_dir), ImapMailbox(box, password) as mailbox:
        notes = Notes(ws.state_dir)
        for uid, headers in mailbox.unseen():
            mail = read_mail(uid, headers)
            outcome = _handle(ws, signer, mail, notes)
            mailbox.done(uid)  # only after it was handled: a crash repeats, never skips
            read += 1
            unsubscribed += outcome == "unsubscribed"
            already += outcome == "already"
            if outcome == "unmatched":
                unmatched.append(Unmatched(mail.sender, mail.date, mail.subject))
    return PollResult(box.address, read, unsubscribed, already, unmatched, notes.path)


def _handle(ws: Workspace, signer: Signer, mail: Mail, notes: Notes) -> str:
    """'unsubscribed', 'already' (valid, but nothing new) or 'unmatched' (noted)."""
    ids = {rid for token in tokens_in(mail, ws.config.web.unsubscribe_mailto)
           if (rid := signer.verify(token)) is not None}
    if not ids:
        notes.add(mail, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        return "unmatched"
    added = [unsubscribe_recipient(ws, rid, source="mailto") for rid in sorted(ids)]
    return "unsubscribed" if any(added) else "already"
