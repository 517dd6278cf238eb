"""The ledger's tables, the migrations of older ledgers, and how a plan becomes rows."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from newsletter.delivery.records import SCHEDULE_STATES, STATUSES

if TYPE_CHECKING:
    from newsletter.delivery.connection import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,            -- ledger_id, key_fingerprint
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    release TEXT NOT NULL,
    transport TEXT NOT NULL,
    selection TEXT NOT NULL,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'real',  -- 'real' or 'rehearsal' (outbox, sandbox)
    outbox TEXT NOT NULL DEFAULT '',    -- the folder an outbox rehearsal wrote to
    request TEXT NOT NULL DEFAULT ''    -- JSON: what a joining worker needs to prepare it
);
CREATE TABLE IF NOT EXISTS exports (
    path TEXT NOT NULL,               -- a report CSV written with addresses in it
    campaign TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (path, campaign)
);
CREATE TABLE IF NOT EXISTS deliveries (
    campaign TEXT NOT NULL REFERENCES campaigns(id),
    recipient TEXT NOT NULL,          -- keyed hash of the address (recipient id)
    email TEXT NOT NULL,              -- where to send, erased by 'forget'
    name TEXT NOT NULL DEFAULT '',    -- for the greeting and the To header, erased too
    language TEXT NOT NULL,           -- the edition the recipient gets
    reason TEXT NOT NULL DEFAULT '',  -- why that edition (fallbacks)
    why TEXT NOT NULL DEFAULT '',     -- why they get the mailing at all (reasons.Why.key)
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN (@STATUSES@)),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    provider_id TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,             -- order of the plan, so a rerun keeps it
    plan_mark INTEGER NOT NULL DEFAULT 0,  -- the run whose plan last named this row
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    worker TEXT NOT NULL DEFAULT '',  -- the worker that claimed the row ('' = nobody)
    PRIMARY KEY (campaign, recipient)
);
-- status is not in the index: a status change then rewrites the row, not the index
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (campaign, language, seq);
-- one person across campaigns: webhook events and unsubscribes (email_of, repeated
-- blocks) and erasure; never rewritten by a status change either
CREATE INDEX IF NOT EXISTS deliveries_recipient ON deliveries (recipient);
CREATE TABLE IF NOT EXISTS schedules (
    campaign TEXT PRIMARY KEY,
    release TEXT NOT NULL,            -- the release file, relative to the workspace
    request TEXT NOT NULL,            -- the send request as JSON (lists, tags, transport...)
    send_at TEXT NOT NULL,            -- ISO time with offset
    transport TEXT NOT NULL,
    batch_id TEXT NOT NULL DEFAULT '',  -- SendGrid's, for cancelling
    status TEXT NOT NULL CHECK (status IN (@SCHEDULE_STATES@)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    key TEXT PRIMARY KEY,             -- keyed hash of the address
    email TEXT,                       -- NULL once the person asked to be forgotten
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscribers (  -- the built-in list 'web' (double opt-in)
    key TEXT PRIMARY KEY,             -- keyed hash of the address
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '',  -- comma-separated public topics
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    created_at TEXT NOT NULL,
    confirmed_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS preferences (  -- what a reader chose, members of CSV lists too
    key TEXT PRIMARY KEY,
    language TEXT NOT NULL DEFAULT '',  -- '' keeps the list's language
    topics TEXT,                        -- NULL: never chosen, keep the list's tags
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consent (  -- append-only proof of consent (BGH I ZR 164/09)
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    event TEXT NOT NULL,              -- signup, confirmation sent, confirmed, preferences...
    at TEXT NOT NULL,                 -- exact time, UTC
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'  -- JSON: language, topics, consent text, route...
);
CREATE INDEX IF NOT EXISTS consent_key ON consent (key, seq);
CREATE TRIGGER IF NOT EXISTS consent_append_only BEFORE UPDATE ON consent
BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TABLE IF NOT EXISTS webhook_events (  -- SendGrid retries: each event once
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbound_mail (  -- mails to the unsubscribe address without a
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- valid token: kept for the officer, never answered
    received_at TEXT NOT NULL,
    sender_key TEXT NOT NULL DEFAULT '',  -- keyed hash of the From address ('' if none): erasure
    sender TEXT NOT NULL DEFAULT '',      -- the From header as it came
    recipients TEXT NOT NULL DEFAULT '',  -- To and envelope addresses
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',        -- the plain text, cut short
    why TEXT NOT NULL DEFAULT ''          -- why it was not acted on
);
-- The admin pages (delivery/accounts.py). Older ledgers get these tables on their next
-- open (IF NOT EXISTS), like every table above; nothing in them is needed to send.
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,  -- "Leyla" and "leyla" are one person
    role TEXT NOT NULL CHECK (role IN ('officer', 'reviewer')),
    languages TEXT NOT NULL DEFAULT '',    -- comma-separated codes a reviewer works on
    password TEXT NOT NULL,                -- argon2id hash, never the password
    ui_language TEXT NOT NULL DEFAULT '',  -- the admin pages' language; '' = the browser's
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    disabled_at TEXT NOT NULL DEFAULT ''   -- 'users remove': kept, so the audit log still
);                                         -- names a known account
CREATE TABLE IF NOT EXISTS sessions (      -- one row per signed-in browser
    id TEXT PRIMARY KEY,                   -- SHA-256 of the cookie's token, not the token
    user TEXT NOT NULL COLLATE NOCASE REFERENCES users(name),
    created INTEGER NOT NULL,              -- Unix seconds: the absolute lifetime
    seen INTEGER NOT NULL                  -- Unix seconds: the idle timeout
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
CREATE TABLE IF NOT EXISTS audit (         -- append-only: who did what, never a secret
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,                      -- UTC, seconds
    user TEXT NOT NULL,                    -- the account, or '(command line)'
    action TEXT NOT NULL,                  -- login, login failed, logout, user added...
    object TEXT NOT NULL DEFAULT '',       -- what it was done to (a user, a release/lang)
    detail TEXT NOT NULL DEFAULT ''        -- e.g. the network address; no passwords, tokens
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
""".replace(
    "@STATUSES@", ", ".join(f"'{s}'" for s in STATUSES)).replace(  # one list of each
    "@SCHEDULE_STATES@", ", ".join(f"'{s}'" for s in SCHEDULE_STATES))

# A ledger set up by this SCHEMA and these migrations keeps this number as its
# user_version, and later opens skip the setup (no write lock for every request of the
# web app). It follows the text of SCHEMA by itself; a migration that changes no
# statement of SCHEMA must raise MIGRATIONS, or ledgers set up before it never get it.
MIGRATIONS = 3  # migrate_campaigns, migrate_deliveries, migrate_workers
SCHEMA_STAMP = zlib.crc32(f"{MIGRATIONS}\n{SCHEMA}".encode()) & 0x7FFFFFFF


def plan_values(campaign: str, rows: Iterable[tuple[str, ...]],
                 erased: set[str], mark: int, stamp: str) -> Iterator[tuple[object, ...]]:
    """Rows of the plan: (recipient id, email, name, language, reason, message id[, why])."""
    for seq, (rid, email, name, lang, reason, mid, *rest) in enumerate(rows):
        why = rest[0] if rest else ""
        if rid in erased:  # the list still has their row: keep no address, send nothing
            yield (campaign, rid, "", "", lang, "", "", mid, "suppressed", "erased", seq, mark,
                   stamp, stamp)
        else:
            yield (campaign, rid, email, name, lang, reason, why, mid, "pending", "", seq,
                   mark, stamp, stamp)


def migrate_deliveries(db: Store) -> None:
    """Ledgers from before the footer said why each reader gets a mailing: their rows
    get an empty reason, which the messages read as the mailing's usual one."""
    db.execute("ALTER TABLE deliveries ADD COLUMN why TEXT NOT NULL DEFAULT ''")


def migrate_workers(db: Store) -> None:
    """Ledgers from before several workers could share a campaign: no row is claimed,
    and older campaigns have no request a joining worker could prepare them from."""
    if "worker" not in _columns(db, "deliveries"):
        db.execute("ALTER TABLE deliveries ADD COLUMN worker TEXT NOT NULL DEFAULT ''")
    if "request" not in _columns(db, "campaigns"):
        db.execute("ALTER TABLE campaigns ADD COLUMN request TEXT NOT NULL DEFAULT ''")


def _columns(db: Store, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def migrate_campaigns(db: Store) -> None:
    """Ledgers from before rehearsals had campaigns of their own.

    Such a ledger named an outbox run exactly like the real send of the same release
    and audience, so the real send found everyone 'sent'. A campaign that only the
    outbox ever touched (every file name ends in .eml) becomes the rehearsal
    ``<id>-outbox``; one a real transport continued stays real.
    """
    db.execute("ALTER TABLE campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'real'")
    db.execute("ALTER TABLE campaigns ADD COLUMN outbox TEXT NOT NULL DEFAULT ''")
    legacy = [cid for (cid,) in db.execute(
        "SELECT id FROM campaigns c WHERE transport='outbox' AND NOT EXISTS (SELECT 1 FROM"
        " deliveries d WHERE d.campaign=c.id AND d.provider_id != ''"
        " AND d.provider_id NOT LIKE '%.eml')")]
    for cid in legacy:
        new = f"{cid}-outbox"
        db.execute("INSERT INTO campaigns (id, release, transport, selection, created_at, kind)"
                   " SELECT ?, release, transport, selection, created_at, 'rehearsal'"
                   " FROM campaigns WHERE id=?", (new, cid))
        db.execute("UPDATE deliveries SET campaign=? WHERE campaign=?", (new, cid))
        db.execute("UPDATE schedules SET campaign=? WHERE campaign=?", (new, cid))
        db.execute("DELETE FROM campaigns WHERE id=?", (cid,))


def statements(script: str) -> Iterator[str]:
    """The statements of a script one by one (a trigger body holds ';' of its own), so
    that they run inside one transaction, unlike executescript, which commits first."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""
