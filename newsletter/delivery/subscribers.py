"""The web's people in the ledger database: sign-ups (the built-in list 'web'), readers'
preferences, the append-only consent record, and the webhook events already applied.

Everything is keyed by the keyed hash of the address (the recipient id), like the
deliveries and suppressions, so erasing a person is one key everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from newsletter.delivery.ledger import Ledger, now

PENDING_DAYS = 7  # unconfirmed sign-ups are deleted after this (and confirm links expire)


@dataclass(frozen=True)
class Subscriber:
    key: str
    email: str
    name: str
    language: str
    topics: tuple[str, ...]
    status: str  # pending, confirmed, unsubscribed
    created_at: str
    confirmed_at: str


@dataclass(frozen=True)
class Preference:
    language: str  # "" keeps the list's language
    topics: tuple[str, ...] | None  # None: never chosen


@dataclass(frozen=True)
class ConsentEvent:
    seq: int
    event: str
    at: str
    ip: str
    user_agent: str
    details: dict[str, Any]


def _topics(text: str | None) -> tuple[str, ...]:
    return tuple(t for t in (text or "").split(",") if t)


def subscriber(ledger: Ledger, key: str) -> Subscriber | None:
    row = ledger.db.execute("SELECT key, email, name, language, topics, status, created_at,"
                            " confirmed_at FROM subscribers WHERE key=?", (key,)).fetchone()
    if row is None:
        return None
    return Subscriber(row[0], row[1], row[2], row[3], _topics(row[4]), *row[5:])


def add_pending(ledger: Ledger, key: str, email: str, name: str, language: str,
                topics: tuple[str, ...]) -> bool:
    """A sign-up waiting for confirmation; a confirmed subscriber stays as they are.
    Returns whether a confirmation mail should go out."""
    stamp = now()
    with ledger.transaction() as db:
        row = db.execute("SELECT status FROM subscribers WHERE key=?", (key,)).fetchone()
        if row and row[0] == "confirmed":
            return False
        db.execute("INSERT INTO subscribers (key, email, name, language, topics, status,"
                   " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"
                   " ON CONFLICT(key) DO UPDATE SET email=excluded.email, name=excluded.name,"
                   " language=excluded.language, topics=excluded.topics, status='pending',"
                   " updated_at=excluded.updated_at",
                   (key, email, name, language, ",".join(topics), stamp, stamp))
    return True


def confirm(ledger: Ledger, key: str) -> Subscriber | None:
    """Pending becomes confirmed (repeatable: confirmed stays confirmed)."""
    stamp = now()
    with ledger.transaction() as db:
        db.execute("UPDATE subscribers SET status='confirmed', confirmed_at=?, updated_at=?"
                   " WHERE key=? AND status='pending'", (stamp, stamp, key))
    return subscriber(ledger, key)


def set_status(ledger: Ledger, key: str, status: str) -> None:
    with ledger.transaction() as db:
        db.execute("UPDATE subscribers SET status=?, updated_at=? WHERE key=?",
                   (status, now(), key))


def withdraw(ledger: Ledger, key: str, *, reason: str, source: str, ip: str = "",
             user_agent: str = "") -> bool:
    """Suppress a recipient known only by id: their sign-up ends and the consent trail
    records how, all in one transaction. Whether this was new; repeating it changes
    nothing."""
    with ledger.transaction():
        added = ledger.suppress(key, email_of(ledger, key), reason, source)
        if added:
            set_status(ledger, key, "unsubscribed")
            record_consent(ledger, key, "unsubscribe", ip=ip, user_agent=user_agent,
                           route=source, reason=reason)
    return added


def expire_pending(ledger: Ledger, moment: dt.datetime | None = None) -> int:
    """Delete sign-ups never confirmed within PENDING_DAYS; their consent trail goes too."""
    cutoff = ((moment or dt.datetime.now(dt.UTC)) - dt.timedelta(days=PENDING_DAYS)
              ).isoformat(timespec="seconds")
    with ledger.transaction() as db:
        keys = [k for (k,) in db.execute("SELECT key FROM subscribers WHERE status='pending'"
                                         " AND updated_at < ?", (cutoff,))]
        for key in keys:
            db.execute("DELETE FROM subscribers WHERE key=?", (key,))
            db.execute("DELETE FROM consent WHERE key=?", (key,))
    return len(keys)


def confirmed(ledger: Ledger) -> list[Subscriber]:
    """The list 'web': confirmed and not unsubscribed, oldest first."""
    keys = [k for (k,) in ledger.db.execute("SELECT key FROM subscribers WHERE"
                                            " status='confirmed' ORDER BY confirmed_at, key")]
    return [s for s in (subscriber(ledger, k) for k in keys) if s is not None]


def preference(ledger: Ledger, key: str) -> Preference | None:
    row = ledger.db.execute("SELECT language, topics FROM preferences WHERE key=?",
                            (key,)).fetchone()
    if row is None:
        return None
    return Preference(row[0], None if row[1] is None else _topics(row[1]))


def preferences(ledger: Ledger) -> dict[str, Preference]:
    return {k: Preference(lang, None if topics is None else _topics(topics))
            for k, lang, topics in ledger.db.execute(
                "SELECT key, language, topics FROM preferences")}


def save_preference(ledger: Ledger, key: str, *, language: str | None = None,
                    topics: tuple[str, ...] | None = None) -> Preference:
    """Save only what was given: a field the page did not show is left as it was."""
    old = preference(ledger, key) or Preference("", None)
    new = Preference(old.language if language is None else language,
                     old.topics if topics is None else topics)
    with ledger.transaction() as db:
        db.execute("INSERT INTO preferences VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE"
                   " SET language=excluded.language, topics=excluded.topics,"
                   " updated_at=excluded.updated_at",
                   (key, new.language, None if new.topics is None else ",".join(new.topics),
                    now()))
        if language is not None:
            db.execute("UPDATE subscribers SET language=? WHERE key=?", (language, key))
        if topics is not None:
            db.execute("UPDATE subscribers SET topics=? WHERE key=?", (",".join(topics), key))
    return new


def suppression_reason(ledger: Ledger, key: str) -> str | None:
    """Why ``key`` is suppressed: the ledger's reason, else the journal's (a suppression
    the database lost still counts), None when neither has one."""
    row = ledger.db.execute("SELECT reason FROM suppressions WHERE key=?", (key,)).fetchone()
    return row[0] if row else ledger.journaled_reason(key)


def lift_unsubscribe(ledger: Ledger, key: str) -> bool:
    """A new, explicit consent ends an earlier unsubscribe, and only that: bounces,
    complaints, manual entries and erasures stay on the suppression list."""
    return ledger.lift(key, "unsubscribe")


def resubscribe(ledger: Ledger, key: str) -> bool:
    """Back on purpose: the unsubscribe is lifted and an ended sign-up is confirmed again.
    False when another kind of suppression stands (the office has to decide)."""
    stamp = now()
    with ledger.transaction() as db:
        row = db.execute("SELECT reason FROM suppressions WHERE key=?", (key,)).fetchone()
        if row and row[0] != "unsubscribe":
            return False
        ledger.lift(key, "unsubscribe")
        db.execute("UPDATE subscribers SET status='confirmed', updated_at=?, confirmed_at="
                   "CASE WHEN confirmed_at='' THEN ? ELSE confirmed_at END"
                   " WHERE key=? AND status='unsubscribed'", (stamp, stamp, key))
    return True


def reader_language(ledger: Ledger, key: str) -> str:
    """The language a reader reads, as far as the ledger knows: their choice, their
    sign-up, else the edition they were sent last ("" when nothing is known)."""
    chosen = preference(ledger, key)
    if chosen and chosen.language:
        return chosen.language
    known = subscriber(ledger, key)
    if known and known.language:
        return known.language
    row = ledger.db.execute("SELECT language FROM deliveries WHERE recipient=?"
                            " ORDER BY updated_at DESC LIMIT 1", (key,)).fetchone()
    return row[0].split("+")[0] if row else ""  # "en+de": English with the original


def record_consent(ledger: Ledger, key: str, event: str, *, ip: str = "",
                   user_agent: str = "", **details: Any) -> None:
    with ledger.transaction() as db:
        db.execute("INSERT INTO consent (key, event, at, ip, user_agent, details)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   (key, event, dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                    ip, user_agent[:500], json.dumps(details, ensure_ascii=False,
                                                     sort_keys=True)))


def consent_trail(ledger: Ledger, key: str) -> list[ConsentEvent]:
    return [ConsentEvent(seq, event, at, ip, ua, json.loads(details))
            for seq, event, at, ip, ua, details in ledger.db.execute(
                "SELECT seq, event, at, ip, user_agent, details FROM consent WHERE key=?"
                " ORDER BY seq", (key,))]


def email_of(ledger: Ledger, key: str) -> str | None:
    """The address behind a recipient id, where the tool still knows it."""
    for sql in ("SELECT email FROM subscribers WHERE key=?",
                "SELECT email FROM suppressions WHERE key=? AND email IS NOT NULL",
                "SELECT email FROM deliveries WHERE recipient=? AND email != ''"
                " ORDER BY updated_at DESC LIMIT 1"):
        row = ledger.db.execute(sql, (key,)).fetchone()
        if row:
            return row[0]
    return None


def first_time(ledger: Ledger, event_id: str) -> bool:
    """Remember a webhook event id; False when it was applied before (a retry)."""
    with ledger.transaction() as db:
        return db.execute("INSERT INTO webhook_events VALUES (?, ?) ON CONFLICT DO NOTHING",
                          (event_id, now())).rowcount == 1


def forget_person(ledger: Ledger, key: str, *, keep_consent: bool) -> None:
    """Erasure: the sign-up and preferences go; the consent trail only when allowed."""
    with ledger.transaction() as db:
        db.execute("DELETE FROM subscribers WHERE key=?", (key,))
        db.execute("DELETE FROM preferences WHERE key=?", (key,))
        if not keep_consent:
            db.execute("DELETE FROM consent WHERE key=?", (key,))
