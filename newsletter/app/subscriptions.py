"""The reader's pages as use cases: one-click unsubscribe, re-subscribe, sign-up with
double opt-in, confirmation, preferences, and the printable consent trail.

Typed values in and out; nothing here knows HTTP. A bad token is a TokenError, a bad
form a FormError, a flood RateLimited: the web app maps them at its boundary. Every
change a reader makes is appended to the consent trail with its exact time, the
network address (as the trusted proxy reported it) and the browser's user agent.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from newsletter.app import writers
from newsletter.app.limits import RateLimits
from newsletter.app.people import address
from newsletter.audience.tokens import Signer, address_id
from newsletter.delivery import audiences, confirmations, headers, subscribers
from newsletter.delivery.keys import cached_signer, load_address_key
from newsletter.delivery.ledger import Ledger, ledger_exists, open_ledger
from newsletter.delivery.links import links_for
from newsletter.delivery.transports import Transport
from newsletter.errors import FormError, RecipientError, TokenError
from newsletter.render.webpages import MailContent, WebPages
from newsletter.workspace.config import Workspace

FORM = "web-subscribe"  # the sign-up form's name in the consent record
CONFIRM_MAX_AGE = subscribers.PENDING_DAYS * 86400  # then the pending entry is gone too
# Pages hand out preference links (after unsubscribing, after confirming); a month is
# long enough to come back to one, short enough that an old forwarded mail goes stale.
PREFERENCES_MAX_AGE = 30 * 86400
NAME_MAX = 100
UNSUBSCRIBE_WAIT = 30.0  # seconds a one-click post waits for other writers (then 503)

Sent = confirmations.Sent
ConsentEvent = subscribers.ConsentEvent
Subscriber = subscribers.Subscriber


@dataclass(frozen=True)
class Visitor:
    """Who sent a request, as the consent record keeps it."""

    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class Reader:
    """The person a valid token names."""

    recipient_id: str
    language: str  # what they read, as far as we know; "" when nothing is known
    preferences_token: str  # for the link to their preferences page


def signer(ws: Workspace) -> Signer:
    """The signer the mails were signed with: NEWSLETTER_SECRET, or the outbox's own
    secret in state/ when the outbox is the workspace's transport (rehearsals)."""
    return cached_signer(ws.state_dir,
                         allow_state_secret=ws.config.delivery.transport == "outbox")


def _check(ws: Workspace, purpose: str, token: str, now: float | None,
           max_age: float | None = None) -> tuple[Signer, str]:
    keys = signer(ws)
    rid = keys.check(purpose, token, now=now or time.time(), max_age=max_age) if token else None
    if rid is None:
        raise TokenError(f"not a valid {purpose} token")
    return keys, rid


def _reader(keys: Signer, ledger: Ledger, rid: str, now: float | None) -> Reader:
    return Reader(rid, subscribers.reader_language(ledger, rid),
                  keys.token("preferences", rid, now or time.time()))


# --- unsubscribe (RFC 8058) and re-subscribe ------------------------------------------


def unsubscribe_view(ws: Workspace, token: str, *, now: float | None = None) -> Reader:
    """The page behind a List-Unsubscribe link: is the token valid, whom does it name,
    which language do they read. Changes nothing (scanners open every link)."""
    keys, rid = _check(ws, "unsubscribe", token, now)
    with open_ledger(ws.state_dir) as ledger:
        return _reader(keys, ledger, rid, now)


@dataclass(frozen=True)
class Unsubscribed:
    reader: Reader
    new: bool  # False: done before (mail clients and people repeat the POST)


def unsubscribe(ws: Workspace, token: str, visitor: Visitor, *,
                now: float | None = None) -> Unsubscribed:
    """The one-click POST: suppress the recipient the token names. Idempotent."""
    keys, rid = _check(ws, "unsubscribe", token, now)

    def work(ledger: Ledger) -> Unsubscribed:
        new = subscribers.withdraw(ledger, rid, reason="unsubscribe", source="web",
                                   ip=visitor.ip, user_agent=visitor.user_agent)
        return Unsubscribed(_reader(keys, ledger, rid, now), new)

    # committed on return, with the other posts that came meanwhile (one disk flush)
    return writers.write(ws.state_dir, work, timeout=UNSUBSCRIBE_WAIT)


def resubscribe(ws: Workspace, token: str, visitor: Visitor, *,
                now: float | None = None) -> bool:
    """Back on purpose (a button on the preferences page): the unsubscribe is lifted
    and recorded as consent. False when another suppression stands (a bounce, a
    complaint, an entry by the office): then the office decides."""
    _, rid = _check(ws, "preferences", token, now, PREFERENCES_MAX_AGE)
    with open_ledger(ws.state_dir) as ledger:
        done = subscribers.resubscribe(ledger, rid)
        if done:
            subscribers.record_consent(ledger, rid, "resubscribe", ip=visitor.ip,
                                       user_agent=visitor.user_agent, route="preferences")
    return done


# --- sign-up (double opt-in) ---------------------------------------------------------


@dataclass(frozen=True)
class SignupForm:
    email: str
    name: str = ""
    language: str = ""  # the newsletter's language the reader chose
    topics: tuple[str, ...] = ()
    consent: bool = False  # the box, never ticked in advance
    trap: str = ""  # the field hidden from people: robots fill it in
    shown_in: str = ""  # the language the form, and so its consent text, was shown in


@dataclass(frozen=True)
class Signup:
    """What happened; the page says the same in every case, so nobody learns from it
    whether an address is known."""

    outcome: str  # "sent", "subscribed" (confirmed before: nothing sent), "ignored"
    # (the trap, or a bounce/complaint/erasure on record), "held" (mailbox limit)
    sent: Sent | None = None


@dataclass(frozen=True)
class _Checked:
    email: str
    name: str
    language: str
    topics: tuple[str, ...]


def _check_form(ws: Workspace, form: SignupForm) -> _Checked:
    """Every field checked at once (the page marks them all); FormError names them."""
    bad: list[str] = []
    try:
        email = address(form.email) if len(form.email) <= 254 else ""
    except RecipientError:
        email = ""
    if not email:
        bad.append("email")
    if not form.consent:
        bad.append("consent")
    if form.language not in ws.config.languages.all:
        bad.append("language")
    public = tuple(ws.config.web.topics)
    if any(t not in public for t in form.topics):
        bad.append("topics")
    name = " ".join(form.name.split())
    # the name goes into the confirmation mail's To: header rules (no line break, no
    # encoded-word syntax) are checked with the form, so the page can say which field
    if len(name) > NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in form.name) or \
            headers.problem(name) is not None:
        bad.append("name")
    if bad:
        raise FormError(tuple(bad), f"invalid sign-up form: {', '.join(bad)}")
    return _Checked(email, name, form.language, tuple(t for t in public if t in form.topics))


@dataclass(frozen=True)
class Accepted:
    """A sign-up whose form passed; what happens next depends on whether the address is
    known, and is done after the page has answered (``complete``)."""

    checked: _Checked
    recipient_id: str
    limit_key: str  # the per-mailbox rate limit's key (plus tags and dots removed)
    shown: str  # the language the consent text was shown in
    visitor: Visitor


def accept(ws: Workspace, form: SignupForm, visitor: Visitor, *,
           limits: RateLimits) -> Accepted | None:
    """The part of a sign-up the page waits for: the same work for every address, new,
    known, suppressed or pending, so the answer's timing tells nobody which it is.
    None for a robot (the trap); FormError and RateLimited say what is wrong with the
    form or the flood, never anything about the address."""
    if form.trap.strip():
        return None
    limits.check_ip(visitor.ip)
    checked = _check_form(ws, form)
    keys = signer(ws)
    shown = form.shown_in if form.shown_in in ws.config.languages.all else checked.language
    return Accepted(checked, keys.recipient_id(checked.email),
                    keys.recipient_id(rate_limit_address(checked.email)), shown, visitor)


def complete(ws: Workspace, accepted: Accepted, *, pages: WebPages, limits: RateLimits,
             transport: Transport | None = None, now: float | None = None) -> Signup:
    """The rest of a sign-up, after the answer: a pending entry and its consent record
    (committed before any mail leaves), then the confirmation mail in the chosen
    language, then its Message-ID in the consent trail."""
    checked, rid = accepted.checked, accepted.recipient_id
    if not limits.allow_address(accepted.limit_key):
        return Signup("held")
    keys = signer(ws)
    text, text_language = pages.consent_text(accepted.shown)
    visitor = accepted.visitor
    with open_ledger(ws.state_dir) as ledger:
        subscribers.expire_pending(ledger)
        if subscribers.suppression_reason(ledger, rid) not in (None, "unsubscribe"):
            _decoy(ws, keys, pages, rid, checked, now)
            return Signup("ignored")
        if not subscribers.add_pending(ledger, rid, checked.email, checked.name,
                                       checked.language, checked.topics):
            _decoy(ws, keys, pages, rid, checked, now)
            return Signup("subscribed")
        subscribers.record_consent(
            ledger, rid, "signup", ip=visitor.ip, user_agent=visitor.user_agent, form=FORM,
            language=checked.language, topics=list(checked.topics),
            consent_version=pages.consent_version(), consent_language=text_language,
            consent_text=text)
    sent = _send_confirmation(ws, keys, pages, rid, checked, transport, now)
    with open_ledger(ws.state_dir) as ledger:
        subscribers.record_consent(ledger, rid, "confirmation sent", message_id=sent.message_id,
                                   sent_at=sent.at, transport=sent.transport,
                                   provider_id=sent.provider_id)
    return Signup("sent", sent)


def subscribe(ws: Workspace, form: SignupForm, visitor: Visitor, *, pages: WebPages,
              limits: RateLimits, transport: Transport | None = None,
              now: float | None = None) -> Signup:
    """A whole sign-up at once (``accept``, then ``complete``): a pending entry, its
    consent record, and the confirmation mail in the chosen language. Nothing is stored
    for a robot or an invalid form."""
    accepted = accept(ws, form, visitor, limits=limits)
    if accepted is None:
        return Signup("ignored")
    return complete(ws, accepted, pages=pages, limits=limits, transport=transport, now=now)


def rate_limit_address(email: str) -> str:
    """The mailbox an address reaches, as far as a rate limit needs to know: without a
    plus tag, without dots in the local part (Gmail ignores both), lower case, so that
    name+1@, name+2@ and n.ame@ share one limit. Only for the limit's key: the address
    stored and mailed is the one typed."""
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0].replace(".", "").casefold() or local.casefold()
    domain = domain.casefold()
    if domain == "googlemail.com":
        domain = "gmail.com"
    return f"{local}@{domain}"


def _confirmation_mail(ws: Workspace, keys: Signer, pages: WebPages, rid: str,
                       checked: _Checked, now: float | None) -> MailContent:
    confirm_url = pages.absolute("confirm", t=keys.token("confirm", rid, now or time.time()))
    cancel_url = links_for(keys, ws.config.web, rid).unsubscribe_url
    return pages.confirmation_mail(checked.language, confirm_url, cancel_url)


def _send_confirmation(ws: Workspace, keys: Signer, pages: WebPages, rid: str,
                       checked: _Checked, transport: Transport | None,
                       now: float | None) -> Sent:
    mail = _confirmation_mail(ws, keys, pages, rid, checked, now)
    return confirmations.send(ws, keys, mail, rid, checked.email, checked.name,
                              transport=transport)


def _decoy(ws: Workspace, keys: Signer, pages: WebPages, rid: str, checked: _Checked,
           now: float | None) -> None:
    """The confirmation mail of a known address, rendered and built but never sent: the
    background work costs the same processor time for every address, so a request right
    after a sign-up is no slower for a new address than for a known one."""
    mail = _confirmation_mail(ws, keys, pages, rid, checked, now)
    confirmations.build(ws, mail, checked.email, checked.name, "<decoy@invalid>",
                        dt.datetime.now(dt.UTC))


# --- confirmation ---------------------------------------------------------------------


def _pending(ledger: Ledger, rid: str) -> Subscriber:
    known = subscribers.subscriber(ledger, rid)
    if known is None or known.status == "unsubscribed":  # expired, erased or cancelled
        raise TokenError("no sign-up to confirm")
    return known


def confirm_view(ws: Workspace, token: str, *, now: float | None = None) -> Reader:
    """The page the confirmation link opens: a button, nothing confirmed yet."""
    keys, rid = _check(ws, "confirm", token, now, CONFIRM_MAX_AGE)
    with open_ledger(ws.state_dir) as ledger:
        _pending(ledger, rid)
        return _reader(keys, ledger, rid, now)


@dataclass(frozen=True)
class Confirmed:
    reader: Reader
    first: bool  # False: confirmed before (pressing the button again is harmless)


def confirm(ws: Workspace, token: str, visitor: Visitor, *,
            now: float | None = None) -> Confirmed:
    """The button: the sign-up is confirmed, an earlier unsubscribe ends (this is a new
    consent), and the time, address and user agent go into the consent trail."""
    keys, rid = _check(ws, "confirm", token, now, CONFIRM_MAX_AGE)
    with open_ledger(ws.state_dir) as ledger:
        first = _pending(ledger, rid).status == "pending"
        subscribers.confirm(ledger, rid)
        if first:
            subscribers.lift_unsubscribe(ledger, rid)
        subscribers.record_consent(ledger, rid, "confirmed" if first else "confirmed again",
                                   ip=visitor.ip, user_agent=visitor.user_agent,
                                   route="confirm")
        return Confirmed(_reader(keys, ledger, rid, now), first)


# --- preferences ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    reader: Reader
    language: str  # the language they get now
    topics: tuple[str, ...]  # the public topics they get now
    unsubscribed: bool  # suppressed by their own unsubscribe: re-subscribing is offered


@dataclass(frozen=True)
class PreferenceChange:
    """What the page sent back: only fields it showed are changed."""

    language: str | None = None  # None: the language was not on the page
    shown_topics: tuple[str, ...] = ()  # the topics the page offered
    chosen_topics: tuple[str, ...] = ()  # of those, the ticked ones


def _current(ws: Workspace, keys: Signer, ledger: Ledger, rid: str,
             now: float | None) -> Preferences:
    public = tuple(ws.config.web.topics)
    chosen = subscribers.preference(ledger, rid)
    signed_up = subscribers.subscriber(ledger, rid)
    row = None
    if (chosen is None or chosen.topics is None) and signed_up is None:
        row = audiences.find_in_lists(ws, keys.address_key, rid)  # a member of a CSV list
    if chosen is not None and chosen.topics is not None:
        topics = chosen.topics
    else:
        topics = signed_up.topics if signed_up else tuple(row.tags if row else ())
    reader = _reader(keys, ledger, rid, now)
    language = ((chosen.language if chosen else "") or (signed_up.language if signed_up else "")
                or (row.language if row else "") or reader.language)
    return Preferences(reader, language, tuple(t for t in public if t in topics),
                       subscribers.suppression_reason(ledger, rid) == "unsubscribe")


def preferences_view(ws: Workspace, token: str, *, now: float | None = None) -> Preferences:
    keys, rid = _check(ws, "preferences", token, now, PREFERENCES_MAX_AGE)
    with open_ledger(ws.state_dir) as ledger:
        return _current(ws, keys, ledger, rid, now)


def save_preferences(ws: Workspace, token: str, change: PreferenceChange, visitor: Visitor,
                     *, now: float | None = None) -> Preferences:
    """Save the fields the page showed, and only those: a topic it did not offer keeps
    its state (Mautic switched off every topic missing from the form)."""
    keys, rid = _check(ws, "preferences", token, now, PREFERENCES_MAX_AGE)
    public = tuple(ws.config.web.topics)
    bad = tuple(f for f, wrong in (
        ("language", change.language is not None
         and change.language not in ws.config.languages.all),
        ("topics", any(t not in public for t in (*change.shown_topics, *change.chosen_topics))),
    ) if wrong)
    if bad:
        raise FormError(bad, f"invalid preferences form: {', '.join(bad)}")
    with open_ledger(ws.state_dir) as ledger:
        before = _current(ws, keys, ledger, rid, now)
        topics = None
        if change.shown_topics:
            kept = set(before.topics) - set(change.shown_topics)
            ticked = set(change.chosen_topics) & set(change.shown_topics)
            topics = tuple(t for t in public if t in kept | ticked)
        if change.language is None and topics is None:
            return before
        subscribers.save_preference(ledger, rid, language=change.language, topics=topics)
        details = {k: v for k, v in (("language", change.language),
                                      ("topics", None if topics is None else list(topics)))
                   if v is not None}
        subscribers.record_consent(ledger, rid, "preferences", ip=visitor.ip,
                                   user_agent=visitor.user_agent, **details)
        return _current(ws, keys, ledger, rid, now)


# --- the proof of consent -------------------------------------------------------------


@dataclass(frozen=True)
class ConsentTrail:
    email: str
    recipient_id: str
    subscriber: Subscriber | None  # the web sign-up, if any
    suppressed: str | None  # the suppression reason, if any
    events: list[ConsentEvent]


def consent(ws: Workspace, email: str) -> ConsentTrail:
    """Everything the ledger can prove about this address's consent, oldest first."""
    normalised = address(email)
    if not ledger_exists(ws.state_dir):  # nothing recorded yet: create nothing
        return ConsentTrail(normalised, "", None, None, [])
    rid = address_id(load_address_key(ws.state_dir), normalised)
    with open_ledger(ws.state_dir) as ledger:
        return ConsentTrail(normalised, rid, subscribers.subscriber(ledger, rid),
                            subscribers.suppression_reason(ledger, rid),
                            subscribers.consent_trail(ledger, rid))
