"""The state in a database server (PostgreSQL): newsletter db migrate, db copy."""

from __future__ import annotations

import click
from rich.table import Table

from newsletter.app import database
from newsletter.cli.base import cli, out, workspace_of


@cli.group()
def db() -> None:
    """The state database: NEWSLETTER_DATABASE_URL (PostgreSQL), else
    state/ledger.sqlite3."""


@db.command("migrate")
def db_migrate() -> None:
    """Create or upgrade the tables in the database NEWSLETTER_DATABASE_URL names."""
    done = database.migrate()
    if done.before == done.after:
        said = f"{done.url}: schema is up to date (revision {done.after})"
    else:
        said = f"{done.url}: schema {done.before or '(none)'} → {done.after}"
    out.print(said, markup=False, soft_wrap=True)


@db.command("copy")
@click.option("--to", "to", required=True, metavar="URL",
              help="The empty database: postgresql+psycopg://user:password@host/database")
@click.pass_context
def db_copy(ctx: click.Context, to: str) -> None:
    """Copy this workspace's ledger (every table) into an empty database and compare
    the row counts. The address key stays in state/: copy it yourself (README)."""
    counts = database.copy(workspace_of(ctx), to)
    table = Table("table", "ledger rows", "copied rows")
    for c in counts:
        table.add_row(c.table, str(c.source), str(c.target))
    out.print(table)
    out.print(f"{sum(c.target for c in counts)} rows copied, every table's count matches")
