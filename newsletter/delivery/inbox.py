"""Mails to the unsubscribe address: the tokens they carry, and the officer's notes.

A token travels in the subject (``unsubscribe <token>``, what the mailto link
fills in; a "Re:" or "AW:" in front does no harm) or in the address tag
(``abmelden+<token>@…``, in To, Cc, Delivered-To or X-Original-To). Every
candidate is only a candidate: the caller verifies it.

A mail without a valid token is never answered (it may come from anyone). Its
sender, date and subject go to ``state/mailbox-unmatched.jsonl``, one JSON object a
line, owner-only, for the communications officer to read; each mail is noted
once (by Message-ID). ``forget`` removes a person's lines from it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from newsletter.errors import MailboxError
from newsletter.workspace.state import state_errors

NOTES = "mailbox-unmatched.jsonl"
LOCK = "mailbox-poll.lock"
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{20,64}(?![\w-])")
_MAX_TOKENS = 10  # a subject full of long words costs no more than this many checks
_INVISIBLE = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings, overrides
              "\u2066", "\u2067", "\u2068", "\u2069"}  # and isolates


@dataclass(frozen=True)
class Mail:
    uid: str
    sender: str  # the From address, "" when there is none
    subject: str  # decoded, one line, without control characters
    date: str  # the Date header as written
    message_id: str
    recipients: tuple[str, ...]  # addresses in To, Cc, Delivered-To, X-Original-To


def read_mail(uid: str, headers: bytes) -> Mail:
    """A mail from its raw header block; broken headers give empty fields, not errors."""
    try:  # raw 8-bit headers: UTF-8 from today's clients, else Latin-1 from old ones
        text = headers.decode("utf-8")
    except UnicodeDecodeError:
        text = headers.decode("latin-1")
    msg = HeaderParser(policy=policy.compat32).parsestr(text)
    raw = [str(v) for name in RECIPIENT_HEADERS for v in msg.get_all(name) or []]
    return Mail(
        uid=uid,
        sender=_clean(parseaddr(str(msg.get("From", "")))[1], 320),
        subject=_decoded(msg.get("Subject", "")),
        date=_clean(str(msg.get("Date", "")), 80),
        message_id=_clean(str(msg.get("Message-ID", "")), 250),
        recipients=tuple(a for _, a in getaddresses(raw) if "@" in a),
    )


def tokens_in(mail: Mail, mailto: str) -> list[str]:
    """Candidate tokens, subject first, then tags of ``mailto``'s own address."""
    found = _TOKEN.findall(mail.subject)[:_MAX_TOKENS]
    local, _, domain = mailto.rpartition("@")
    for address in mail.recipients:
        box, _, host = address.rpartition("@")
        base, plus, tag = box.partition("+")
        if plus and tag and (base.casefold(), host.casefold()) == (local.casefold(),
                                                                    domain.casefold()):
            found.append(tag)
    return list(dict.fromkeys(found))


def _decoded(value: object) -> str:
    text = str(value)
    with contextlib.suppress(HeaderParseError, LookupError, UnicodeError, ValueError):
        text = str(make_header(decode_header(text)))  # =?utf-8?...?= words
    return _clean(text, 200)


def _clean(text: str, limit: int) -> str:
    """One line without control characters: what a terminal table can show safely."""
    kept = "".join(" " if unicodedata.category(c) == "Cc" else c
                   for c in text if c not in _INVISIBLE)
    return " ".join(kept.split())[:limit]


# --- the officer's notes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    key: str  # the Message-ID, else a hash of sender, date and subject
    noted_at: str
    sender: str
    date: str
    subject: str


class Notes:
    """``state/mailbox-unmatched.jsonl``: appended to, each mail once."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / NOTES
        self.keys = {n.key for n in read_notes(self.path)}

    def add(self, mail: Mail, noted_at: str) -> bool:
        """Note a mail for the officer; False when it was noted before."""
        key = mail.message_id or hashlib.sha256(
            f"{mail.sender}\0{mail.date}\0{mail.subject}".encode()).hexdigest()[:32]
        if key in self.keys:
            return False
        note = Note(key, noted_at, mail.sender, mail.date, mail.subject)
        line = json.dumps(asdict(note), ensure_ascii=False, sort_keys=True) + "\n"
        with state_errors(self.path, "write the mailbox notes"):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
        self.keys.add(key)
        return True


def read_notes(path: Path) -> list[Note]:
    """Every readable note, oldest first (a damaged line is skipped, not fatal)."""
    if not path.exists():
        return []
    with state_errors(path, "read the mailbox notes"):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    notes = []
    for line in lines:
        with contextlib.suppress(ValueError, TypeError):
            notes.append(Note(**json.loads(line)))
    return notes


def forget_sender(state_dir: Path, address: str) -> int:
    """Erasure: drop every note about mails from ``address``; how many there were."""
    path = state_dir / NOTES
    if not path.exists():
        return 0
    with state_errors(path, "clean the mailbox notes"):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        kept = [line for line in lines if not _from(line, address)]
        if len(kept) < len(lines):
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(kept)
            os.replace(tmp, path)
    return len(lines) - len(kept)


def _from(line: str, address: str) -> bool:
    try:
        sender = json.loads(line).get("sender", "")
    except (ValueError, AttributeError):
        return address.casefold() in line.casefold()  # a damaged line: err on erasing
    return isinstance(sender, str) and sender.casefold() == address.casefold()


@contextlib.contextmanager
def poll_lock(state_dir: Path) -> Iterator[None]:
    """One poll at a time (a slow one may overlap the next from cron)."""
    folder = state_dir / "locks"
    with state_errors(folder, "create the lock folder"):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MailboxError("another 'newsletter mailbox poll' is running; "
                               "wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # releases the lock
