"""The state in a database server (PostgreSQL): newsletter db migrate, db copy; and the
ledger against what state/ records it held: db check, db accept-loss."""

from __future__ import annotations

import click
from rich.table import Table

from newsletter.app import database
from newsletter.cli.base import cli, out, workspace_of
from newsletter.errors import LedgerLost


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


@db.command("check")
@click.pass_context
def db_check(ctx: click.Context) -> None:
    """Compare the ledger with what state/ records it held (the suppression journal and
    every campaign's rows): a ledger that lost any of it refuses to send."""
    loss = database.check(workspace_of(ctx))
    if loss.damaged_lines:
        lines = ", ".join(str(n) for n in loss.damaged_lines[:10])
        out.print(f"note: line(s) {lines} of state/suppressions.log are damaged or not "
                  "signed with this workspace's key; they are ignored", markup=False,
                  soft_wrap=True)
    if loss:
        raise LedgerLost(f"the ledger has lost what it once held: {loss.describe()}; "
                         f"to restore: {database.RESTORE_LEDGER}")
    out.print("the ledger holds every campaign, delivery row and suppression state/ "
              "records", markup=False, soft_wrap=True)


@db.command("accept-loss")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_context
def db_accept_loss(ctx: click.Context, yes: bool) -> None:
    """After restoring the ledger from a backup: put the suppressions of
    state/suppressions.log back into it, and accept the campaigns and rows it still
    lacks as lost (their recipients may get those mailings again)."""
    ws = workspace_of(ctx)
    loss = database.check(ws)
    if not loss:
        out.print("nothing is missing: nothing to accept", markup=False)
        return
    out.print(f"missing: {loss.describe()}", markup=False, soft_wrap=True)
    if not yes:
        click.confirm("Put the journal's suppressions back and accept the rest as lost?",
                      abort=True)
    _, restored = database.accept_loss(ws)
    out.print(f"{restored} suppression(s) put back; the campaigns' marks now follow the "
              "ledger", markup=False, soft_wrap=True)
