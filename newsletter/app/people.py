"""Recipients and their wishes: list checks, the suppression list, erasure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.app import writers
from newsletter.audience.lists import ListFile, read_list
from newsletter.audience.selection import reader_language
from newsletter.audience.tokens import address_id
from newsletter.delivery import audiences, erasure, subscribers
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.records import REASONS, Suppression
from newsletter.delivery.suppressions import import_sendgrid as import_from_sendgrid
from newsletter.errors import RecipientError
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.config import Workspace

Erasure = erasure.Erasure
MANUAL_REASONS = tuple(r for r in REASONS if r != "erased")


def address(value: str) -> str:
    """A normalised address; anything else is a RecipientError naming the value."""
    try:
        return normalize_address(value)
    except AddressError as error:
        raise RecipientError(f"not an email address: {value!r} ({error})") from None


def suppress(ws: Workspace, emails: tuple[str, ...], reason: str = "manual"
             ) -> list[tuple[str, bool]]:
    """Put addresses on the suppression list: (address, newly added) each."""
    addrs = [address(e) for e in emails]  # all checked before anything is written
    key = load_address_key(ws.state_dir)
    with open_ledger(ws.state_dir) as ledger:
        return [(a, ledger.suppress(address_id(key, a), a, reason, "manual")) for a in addrs]


def unsuppress(ws: Workspace, emails: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Take addresses off the list (never erased people): (address, removed) each."""
    addrs = [address(e) for e in emails]
    key = load_address_key(ws.state_dir)
    with open_ledger(ws.state_dir) as ledger:
        return [(a, ledger.unsuppress(address_id(key, a))) for a in addrs]


def suppressions(ws: Workspace) -> list[Suppression]:
    with open_ledger(ws.state_dir) as ledger:
        return ledger.suppressions()


def import_sendgrid(ws: Workspace) -> dict[str, int]:
    """SendGrid's bounces, blocks, spam reports and unsubscribes: new entries per kind."""
    key = load_address_key(ws.state_dir)
    with open_ledger(ws.state_dir) as ledger:
        return import_from_sendgrid(ledger, key, ws.config.delivery.sendgrid)


def forget(ws: Workspace, email: str) -> Erasure:
    """Erase a person everywhere the tool wrote them; says what it could not reach."""
    return erasure.forget(ws, address(email))


@dataclass(frozen=True)
class ListCount:
    name: str
    path: Path
    valid: int
    invalid: int
    by_language: dict[str, int]


@dataclass(frozen=True)
class ListSummary:
    lists: list[ListCount]
    languages: list[str]  # every language that occurs, sorted
    problems: list[str] = field(default_factory=list)  # "file:line: reason"
    warnings: list[str] = field(default_factory=list)  # "file:line: ...": valid, but look
    notes: list[str] = field(default_factory=list)  # how a file was read (its encoding)


def list_summary(ws: Workspace) -> ListSummary:
    """Every list of newsletter.toml, and the web sign-ups (the list 'web'): valid and
    invalid rows, people per language."""
    source = ws.config.languages.source
    counts, problems, warnings, notes = [], [], [], []
    files = [read_list(name, path) for name, path in ws.config.lists.items()]
    files += audiences.ledger_extras(ws)[0].values()
    for f in files:
        langs = Counter(r.language or source for r in f.recipients)
        counts.append(ListCount(f.name, f.path, len(f.recipients), len(f.problems),
                                dict(langs)))
        problems += [str(p) for p in f.problems]
        warnings += _not_offered(ws, f)
        notes += f.notes
    languages = sorted({lang for c in counts for lang in c.by_language})
    return ListSummary(counts, languages, problems, warnings, notes)


def _not_offered(ws: Workspace, f: ListFile) -> list[str]:
    """Languages nobody translates into here: those people get the source language."""
    lines: dict[str, list[int]] = {}
    for r in f.recipients:
        if r.language and reader_language(r, ws)[1]:
            lines.setdefault(r.language, []).append(r.line)
    out = []
    for lang, found in lines.items():
        shown = ", ".join(map(str, found[:5])) + (", …" if len(found) > 5 else "")
        who = ("1 person (line {}) gets" if len(found) == 1
               else f"{len(found)} people (lines {{}}) get").format(shown)
        out.append(f"{f.path}:{found[0]}: language {lang!r} is not a workspace language: "
                   f"{who} the source language, {ws.config.languages.source}")
    return out


def unsubscribe_recipient(ws: Workspace, recipient_id: str, *, source: str,
                          reason: str = "unsubscribe", ip: str = "", user_agent: str = "",
                          busy_timeout: float = 30.0) -> bool:
    """Suppress a recipient known only by id (a token, a webhook, a mailbox): their
    sign-up ends and the consent trail records how. Returns whether this was new;
    repeating it changes nothing. ``busy_timeout``: seconds to wait for another writer
    before LedgerBusy (a web request waits less than a command). Committed on return,
    together with the other writes of this process waiting meanwhile (app/writers.py)."""
    return writers.write(ws.state_dir, lambda ledger: subscribers.withdraw(
        ledger, recipient_id, reason=reason, source=source, ip=ip, user_agent=user_agent),
        timeout=busy_timeout)
