"""Commands about people: list checks, the suppression list, erasure."""

from __future__ import annotations

import click
from rich.table import Table

from newsletter.app import people
from newsletter.cli.base import cli, err, out, workspace_of
from newsletter.errors import DeliveryError, RecipientError


@cli.group()
def suppress() -> None:
    """The suppression list: addresses that never get a message."""


@suppress.command("add")
@click.argument("emails", nargs=-1, required=True)
@click.option("--reason", type=click.Choice(list(people.MANUAL_REASONS)),
              default="manual", show_default=True)
@click.pass_context
def suppress_add(ctx: click.Context, emails: tuple[str, ...], reason: str) -> None:
    """Put addresses on the suppression list."""
    for addr, added in people.suppress(workspace_of(ctx), emails, reason):
        out.print(f"{addr}: " + ("suppressed" if added else "already suppressed"), markup=False)


@suppress.command("remove")
@click.argument("emails", nargs=-1, required=True)
@click.pass_context
def suppress_remove(ctx: click.Context, emails: tuple[str, ...]) -> None:
    """Take addresses off the suppression list (not erased people)."""
    for addr, removed in people.unsuppress(workspace_of(ctx), emails):
        out.print(f"{addr}: " + ("removed" if removed else "not on the list (or erased)"),
                  markup=False)


@suppress.command("list")
@click.pass_context
def suppress_list(ctx: click.Context) -> None:
    """Show the suppression list."""
    table = Table("address", "reason", "source", "since")
    for s in people.suppressions(workspace_of(ctx)):
        table.add_row(s.email or f"(erased, key {s.key[:8]}…)", s.reason, s.source, s.created_at)
    out.print(table)


@suppress.command("import-sendgrid")
@click.pass_context
def suppress_import_sendgrid(ctx: click.Context) -> None:
    """Import bounces, blocks, spam reports and unsubscribes from SendGrid's API."""
    counts = people.import_sendgrid(workspace_of(ctx))
    out.print(", ".join(f"{n} new from {kind}" for kind, n in counts.items()))


@cli.command()
@click.argument("email")
@click.pass_context
def forget(ctx: click.Context, email: str) -> None:
    """Erase a person: their rows leave the ledger and their files every outbox folder; a
    keyed hash stays on the suppression list so that no list can mail them again."""
    done = people.forget(workspace_of(ctx), email)
    out.print(f"Erased: {done.rows} ledger row(s), {len(done.files)} outbox file(s); the "
              "address is suppressed by its keyed hash only.")
    if done.notes:
        out.print(f"Removed {done.notes} note(s) about their mails to the unsubscribe mailbox.")
    if done.redacted:
        out.print(f"Removed the address from {len(done.redacted)} record(s) of sends "
                  "started from the admin pages (an error message had quoted it).")
    if done.orphans:
        out.print(f"Removed {len(done.orphans)} temporary file(s) a stopped run left in the "
                  "outbox.")
    for problem in done.unreachable:
        err.print(f"could not clean {problem}", markup=False, soft_wrap=True)
    for path in done.exports:
        out.print(f"Report {path} was written before and may hold the address — delete or "
                  "edit it.", soft_wrap=True, markup=False)
    for where in done.in_lists:
        out.print(f"Still in {where} — remove the row there too.", soft_wrap=True,
                  markup=False)
    if done.unreachable:
        raise DeliveryError("the erasure is incomplete: see the folders above")


@cli.group()
def recipients() -> None:
    """Recipient lists (CSV files named in newsletter.toml)."""


@recipients.command("check")
@click.pass_context
def recipients_check(ctx: click.Context) -> None:
    """Validate every list; print counts per list and language, and every bad row."""
    ws = workspace_of(ctx)
    summary = people.list_summary(ws)
    table = Table("list", "file", "valid", "invalid", *summary.languages)
    for f in summary.lists:
        table.add_row(f.name, ws.relative(f.path), str(f.valid), str(f.invalid),
                      *(str(f.by_language.get(lang, 0)) for lang in summary.languages))
    out.print(table)
    for note in summary.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    for warning in summary.warnings:
        err.print(f"warning: {warning}", soft_wrap=True, markup=False)
    for problem in summary.problems:
        err.print(problem, soft_wrap=True, markup=False)
    if summary.problems:
        raise RecipientError(f"{len(summary.problems)} invalid row(s) in the lists above")
    out.print("All lists are valid.")
