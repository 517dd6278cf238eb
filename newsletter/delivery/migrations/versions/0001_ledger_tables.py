"""The ledger's tables as the SQLite ledger has them (ledger_schema.SCHEMA, stamp 2).

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written out here rather than taken from state_tables.metadata, so that later changes
of the metadata come as revisions of their own; a test checks that a migrated
database and the metadata agree. The append-only rules of ``consent`` and ``audit``
are triggers on both engines, with the SQLite ledger's messages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = ("pending", "sending", "sent", "rejected", "failed", "unknown", "suppressed",
            "cancelled")
SCHEDULE_STATES = ("scheduled", "handed over", "sent", "cancelled")
APPEND_ONLY = (
    ("consent_append_only", "consent", "UPDATE", "consent records are append-only"),
    ("audit_no_update", "audit", "UPDATE", "the audit log is append-only"),
    ("audit_no_delete", "audit", "DELETE", "the audit log is append-only"),
)
ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = sa.Text().with_variant(sa.Text(collation="NOCASE"), "sqlite")
EMPTY = sa.text("''")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=name)


def _text(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, **kw)


def upgrade() -> None:
    op.create_table("meta", sa.Column("name", sa.Text, primary_key=True), _text("value"))
    op.create_table(
        "campaigns", sa.Column("id", sa.Text, primary_key=True), _text("release"),
        _text("transport"), _text("selection"), _text("created_at"),
        _text("kind", server_default=sa.text("'real'")), _text("outbox", server_default=EMPTY))
    op.create_table(
        "exports", sa.Column("path", sa.Text, primary_key=True),
        sa.Column("campaign", sa.Text, primary_key=True), _text("created_at"))
    op.create_table(
        "deliveries",
        sa.Column("campaign", sa.Text, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("recipient", sa.Text, primary_key=True), _text("email"),
        _text("name", server_default=EMPTY), _text("language"),
        _text("reason", server_default=EMPTY), _text("why", server_default=EMPTY),
        _text("message_id"), _text("status"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        _text("last_error", server_default=EMPTY), _text("provider_id", server_default=EMPTY),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("plan_mark", sa.Integer, nullable=False, server_default=sa.text("0")),
        _text("created_at"), _text("updated_at"),
        _one_of("status", STATUSES, "deliveries_status"))
    op.create_index("deliveries_order", "deliveries", ["campaign", "language", "seq"])
    op.create_index("deliveries_recipient", "deliveries", ["recipient"])
    op.create_table(
        "schedules", sa.Column("campaign", sa.Text, primary_key=True), _text("release"),
        _text("request"), _text("send_at"), _text("transport"),
        _text("batch_id", server_default=EMPTY), _text("status"), _text("created_at"),
        _text("updated_at"), _one_of("status", SCHEDULE_STATES, "schedules_status"))
    op.create_table(
        "suppressions", sa.Column("key", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=True), _text("reason"), _text("source"),
        _text("created_at"))
    op.create_table(
        "subscribers", sa.Column("key", sa.Text, primary_key=True), _text("email"),
        _text("name", server_default=EMPTY), _text("language"),
        _text("topics", server_default=EMPTY), _text("status"), _text("created_at"),
        _text("confirmed_at", server_default=EMPTY), _text("updated_at"),
        _one_of("status", ("pending", "confirmed", "unsubscribed"), "subscribers_status"))
    op.create_table(
        "preferences", sa.Column("key", sa.Text, primary_key=True),
        _text("language", server_default=EMPTY), sa.Column("topics", sa.Text, nullable=True),
        _text("updated_at"))
    op.create_table(
        "consent", sa.Column("seq", ROWID, primary_key=True, autoincrement=True),
        _text("key"), _text("event"), _text("at"), _text("ip", server_default=EMPTY),
        _text("user_agent", server_default=EMPTY),
        _text("details", server_default=sa.text("'{}'")), sqlite_autoincrement=True)
    op.create_index("consent_key", "consent", ["key", "seq"])
    op.create_table(
        "webhook_events", sa.Column("id", sa.Text, primary_key=True), _text("received_at"))
    op.create_table(
        "inbound_mail", sa.Column("seq", ROWID, primary_key=True, autoincrement=True),
        _text("received_at"), *(_text(c, server_default=EMPTY) for c in (
            "sender_key", "sender", "recipients", "subject", "body", "why")),
        sqlite_autoincrement=True)
    op.create_table(
        "users", sa.Column("name", NAME, primary_key=True), _text("role"),
        _text("languages", server_default=EMPTY), _text("password"),
        _text("ui_language", server_default=EMPTY), _text("created_at"), _text("updated_at"),
        _text("disabled_at", server_default=EMPTY),
        _one_of("role", ("officer", "reviewer"), "users_role"))
    op.create_table(
        "sessions", sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user", NAME, sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("seen", sa.BigInteger, nullable=False))
    op.create_index("sessions_user", "sessions", ["user"])
    op.create_table(
        "audit", sa.Column("seq", ROWID, primary_key=True, autoincrement=True), _text("at"),
        _text("user"), _text("action"), _text("object", server_default=EMPTY),
        _text("detail", server_default=EMPTY), sqlite_autoincrement=True)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("users_name_nocase", "users", [sa.text("lower(name)")], unique=True)
        op.execute("CREATE FUNCTION newsletter_append_only() RETURNS trigger LANGUAGE plpgsql"
                   " AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$")
        for trigger, table, event, message in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {trigger} BEFORE {event} ON {table} FOR EACH ROW"
                       f" EXECUTE FUNCTION newsletter_append_only('{message}')")
    else:
        for trigger, table, event, message in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {trigger} BEFORE {event} ON {table}"
                       f" BEGIN SELECT RAISE(ABORT, '{message}'); END")


def downgrade() -> None:
    for table in ("audit", "sessions", "users", "inbound_mail", "webhook_events", "consent",
                  "preferences", "subscribers", "suppressions", "schedules", "deliveries",
                  "exports", "campaigns", "meta"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION newsletter_append_only()")
