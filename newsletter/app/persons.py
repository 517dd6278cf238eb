"""One person, for the officer's admin pages: where an address occurs, and the changes
the office makes to it (suppress, unsuppress, forget) with an audit entry each.

An address is looked up exactly (after normalising: case of the domain, spaces), never
by a fragment: the page is for a person who wrote in, not for browsing the lists. The
audit log names the person by recipient id (the keyed hash), never by address.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.app import audit, people
from newsletter.audience.lists import read_list
from newsletter.audience.tokens import address_id
from newsletter.delivery import subscribers
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.delivery.records import Row, Suppression
from newsletter.errors import RecipientError
from newsletter.workspace.config import Workspace

SUPPRESSED = "suppressed"
UNSUPPRESSED = "unsuppressed"
FORGOTTEN = "forgotten"


@dataclass(frozen=True)
class ListRow:
    list: str
    file: str  # relative to the workspace
    line: int
    language: str  # "" means the source language
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    email: str  # normalised
    recipient_id: str
    rows: list[ListRow]  # every CSV list row with this address
    subscriber: subscribers.Subscriber | None  # the web sign-up (list 'web')
    preference: subscribers.Preference | None  # what they chose on the preferences page
    suppression: Suppression | None
    deliveries: list[Row]  # every campaign that planned a message to them

    @property
    def known(self) -> bool:
        return bool(self.rows or self.subscriber or self.preference or self.suppression
                    or self.deliveries)

    @property
    def erased(self) -> bool:
        return self.suppression is not None and self.suppression.reason == "erased"


def _recipient_id(ws: Workspace, email: str) -> str:
    return address_id(load_address_key(ws.state_dir), email)


def find(ws: Workspace, email: str) -> Person:
    """Everything the workspace holds about ``email`` (RecipientError unless an address)."""
    normalised = people.address(email)
    rows = [ListRow(name, ws.relative(path), r.line, r.language, tuple(sorted(r.tags)))
            for name, path in ws.config.lists.items()
            for r in read_list(name, path).recipients if r.key == normalised.casefold()]
    if not ledger_exists(ws.state_dir):  # nothing recorded yet: create nothing
        return Person(normalised, "", rows, None, None, None, [])
    rid = _recipient_id(ws, normalised)
    with open_ledger(ws.state_dir) as ledger:
        return Person(normalised, rid, rows, subscribers.subscriber(ledger, rid),
                      subscribers.preference(ledger, rid), ledger.suppression(rid),
                      ledger.deliveries_of(rid))


def suppress(ws: Workspace, email: str, reason: str, account: str) -> bool:
    """Put one address on the suppression list; whether it was new."""
    if reason not in people.MANUAL_REASONS:
        raise RecipientError(f"unknown reason {reason!r} "
                             f"(one of {', '.join(people.MANUAL_REASONS)})")
    [(normalised, added)] = people.suppress(ws, (email,), reason)
    if added:
        audit.record(ws, account, SUPPRESSED, _recipient_id(ws, normalised), reason)
    return added


def unsuppress(ws: Workspace, email: str, account: str) -> bool:
    """Take one address off the list (never an erased person); whether it was on it."""
    [(normalised, removed)] = people.unsuppress(ws, (email,))
    if removed:
        audit.record(ws, account, UNSUPPRESSED, _recipient_id(ws, normalised))
    return removed


def forget(ws: Workspace, email: str, typed: str, account: str) -> people.Erasure:
    """Erase a person, once the officer has typed their address again (``typed``): a
    click alone must not erase anyone. The audit entry comes after the erasure, so a
    refused or failed one is not logged as done."""
    normalised = people.address(email)
    try:
        confirmed = people.address(typed).casefold() == normalised.casefold()
    except RecipientError:
        confirmed = False
    if not confirmed:
        raise RecipientError("type the address exactly as shown to confirm the erasure")
    done = people.forget(ws, normalised)
    audit.record(ws, account, FORGOTTEN, _recipient_id(ws, normalised),
                 f"{done.rows} rows, {len(done.files)} outbox files"
                 + (", incomplete" if done.unreachable else ""))
    return done
