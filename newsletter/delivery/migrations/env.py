"""Alembic runs this for every command: migrations on the connection it was given.

SQLite gets batch mode (its ALTER TABLE cannot drop or change a column).
"""

from __future__ import annotations

from alembic import context

from newsletter.delivery.state_tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite",
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
