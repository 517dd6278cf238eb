"""The ledger's tables in SQLAlchemy Core: one description for SQLite and PostgreSQL.

The same tables, columns, keys and indexes as ``ledger_schema.SCHEMA`` (how the
embedded SQLite ledger sets itself up); a test compares the two so they cannot drift.
The Alembic revisions under ``migrations/`` create them on PostgreSQL (on first use or
``newsletter db migrate``), with the append-only triggers of ``consent`` and ``audit``.

Times stay ISO text as in the SQLite ledger, so a copy moves every value unchanged.
Neither the address key nor NEWSLETTER_SECRET is ever stored here: the ``meta`` table
holds the key's fingerprint only.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.delivery.records import SCHEDULE_STATES, STATUSES

metadata = sa.MetaData()

# SQLite's rowid keys (INTEGER PRIMARY KEY AUTOINCREMENT); BIGSERIAL on PostgreSQL
ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# "Leyla" and "leyla" are one account: NOCASE on SQLite, a unique lower(name) index on
# PostgreSQL (see users_name_nocase)
NAME = sa.Text().with_variant(sa.Text(collation="NOCASE"), "sqlite")


def _empty() -> sa.TextClause:
    return sa.text("''")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=name)


meta = sa.Table(
    "meta", metadata,
    sa.Column("name", sa.Text, primary_key=True),  # ledger_id, key_fingerprint
    sa.Column("value", sa.Text, nullable=False),
)

campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("release", sa.Text, nullable=False),
    sa.Column("transport", sa.Text, nullable=False),
    sa.Column("selection", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False, server_default=sa.text("'real'")),
    sa.Column("outbox", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("request", sa.Text, nullable=False, server_default=_empty()),
)

exports = sa.Table(
    "exports", metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("campaign", sa.Text, primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("campaign", sa.Text, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("recipient", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("why", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("provider_id", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("plan_mark", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("worker", sa.Text, nullable=False, server_default=_empty()),
    _one_of("status", STATUSES, "deliveries_status"),
    sa.Index("deliveries_order", "campaign", "language", "seq"),
    sa.Index("deliveries_recipient", "recipient"),
)

schedules = sa.Table(
    "schedules", metadata,
    sa.Column("campaign", sa.Text, primary_key=True),
    sa.Column("release", sa.Text, nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("send_at", sa.Text, nullable=False),
    sa.Column("transport", sa.Text, nullable=False),
    sa.Column("batch_id", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    _one_of("status", SCHEDULE_STATES, "schedules_status"),
)

suppressions = sa.Table(
    "suppressions", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=True),  # NULL once the person was forgotten
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

subscribers = sa.Table(
    "subscribers", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("topics", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("confirmed_at", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("updated_at", sa.Text, nullable=False),
    _one_of("status", ("pending", "confirmed", "unsubscribed"), "subscribers_status"),
)

preferences = sa.Table(
    "preferences", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("language", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("topics", sa.Text, nullable=True),  # NULL: never chosen
    sa.Column("updated_at", sa.Text, nullable=False),
)

consent = sa.Table(  # append-only (a trigger refuses UPDATE)
    "consent", metadata,
    sa.Column("seq", ROWID, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("ip", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("user_agent", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("details", sa.Text, nullable=False, server_default=sa.text("'{}'")),
    sa.Index("consent_key", "key", "seq"),
    sqlite_autoincrement=True,
)

webhook_events = sa.Table(
    "webhook_events", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("received_at", sa.Text, nullable=False),
)

inbound_mail = sa.Table(
    "inbound_mail", metadata,
    sa.Column("seq", ROWID, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("sender_key", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("sender", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("recipients", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("subject", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("body", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("why", sa.Text, nullable=False, server_default=_empty()),
    sqlite_autoincrement=True,
)

users = sa.Table(
    "users", metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("languages", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("password", sa.Text, nullable=False),  # argon2id hash
    sa.Column("ui_language", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("disabled_at", sa.Text, nullable=False, server_default=_empty()),
    _one_of("role", ("officer", "reviewer"), "users_role"),
)
sa.Index("users_name_nocase", sa.func.lower(users.c.name),
         unique=True).ddl_if(dialect="postgresql")

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Text, primary_key=True),  # SHA-256 of the cookie's token
    sa.Column("user", NAME, sa.ForeignKey("users.name"), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),  # Unix seconds
    sa.Column("seen", sa.BigInteger, nullable=False),
    sa.Index("sessions_user", "user"),
)

audit = sa.Table(  # append-only (triggers refuse UPDATE and DELETE)
    "audit", metadata,
    sa.Column("seq", ROWID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("object", sa.Text, nullable=False, server_default=_empty()),
    sa.Column("detail", sa.Text, nullable=False, server_default=_empty()),
    sqlite_autoincrement=True,
)

# The append-only rules: (trigger, table, event, message), the messages of SCHEMA's
APPEND_ONLY = (
    ("consent_append_only", "consent", "UPDATE", "consent records are append-only"),
    ("audit_no_update", "audit", "UPDATE", "the audit log is append-only"),
    ("audit_no_delete", "audit", "DELETE", "the audit log is append-only"),
)
