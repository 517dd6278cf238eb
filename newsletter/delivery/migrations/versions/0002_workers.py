"""Several workers per campaign: the worker that claimed a row, and the request a
joining worker prepares a campaign from.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("worker", sa.Text, nullable=False,
                                   server_default=sa.text("''")))
    if op.get_bind().dialect.name == "postgresql":
        # a row changes three times per send (claimed, sending, sent) and its indexed
        # columns never: room on the page lets PostgreSQL rewrite it there without
        # touching the indexes (a HOT update)
        op.execute("ALTER TABLE deliveries SET (fillfactor = 70)")
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("request", sa.Text, nullable=False,
                                   server_default=sa.text("''")))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("request")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("worker")
