"""The audience with the ledger's people: the built-in list 'web' (confirmed sign-ups)
and every reader's preferences, read from state/ when the workspace has a ledger.

A dry run on a fresh workspace must not create state/, so nothing is opened when
there is no ledger yet: the list 'web' is then empty and nobody has preferences.
"""

from __future__ import annotations

from newsletter.audience.lists import ListFile, Recipient, read_list
from newsletter.audience.selection import Audience, Selection, Wish, Wishes, load_audience
from newsletter.audience.tokens import address_id
from newsletter.delivery import subscribers
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.workspace.config import Workspace
from newsletter.workspace.state import ADDRESS_KEY, DB_NAME, read_key

WEB_LIST = "web"
WEB_CONSENT = "web double opt-in"


def _recipient(s: subscribers.Subscriber) -> Recipient:
    return Recipient(email=s.email, name=s.name, language=s.language,
                     tags=frozenset(s.topics), consent_source=WEB_CONSENT,
                     consent_at=s.confirmed_at, lists=(WEB_LIST,))


def ledger_extras(ws: Workspace) -> tuple[dict[str, ListFile], Wishes | None]:
    """The list 'web' and the readers' wishes; empty without a ledger."""
    path = ws.state_dir / DB_NAME  # where list 'web' lives, as errors name it
    if not ledger_exists(ws.state_dir):
        return {WEB_LIST: ListFile(WEB_LIST, path, (), ())}, None
    with open_ledger(ws.state_dir) as ledger:
        people = subscribers.confirmed(ledger)
        chosen = subscribers.preferences(ledger)
    web = ListFile(WEB_LIST, path, tuple(_recipient(s) for s in people), ())
    key = read_key(ws.state_dir / ADDRESS_KEY)
    if not chosen or key is None:  # preferences are keyed by the address key's ids
        return {WEB_LIST: web}, None
    wishes = Wishes({rid: Wish(p.language, p.topics) for rid, p in chosen.items()}, key,
                    frozenset(ws.config.web.topics))
    return {WEB_LIST: web}, wishes


def load(ws: Workspace, selection: Selection, *, skip_invalid: bool) -> Audience:
    """``load_audience`` with the list 'web' and the readers' preferences."""
    extra, wishes = ledger_extras(ws)
    return load_audience(ws, selection, skip_invalid=skip_invalid, extra=extra, wishes=wishes)


def find_in_lists(ws: Workspace, address_key: bytes, recipient_id: str) -> Recipient | None:
    """The first row of the workspace's lists whose address has this id (for a preferences
    page of a reader known only by a token). Reads every list: fine for a page view of an
    association's lists, not meant for a send loop."""
    for name, path in ws.config.lists.items():
        for r in read_list(name, path).recipients:
            if address_id(address_key, r.email) == recipient_id:
                return r
    return None
