"""The unsubscribe mailbox: ``newsletter mailbox poll``."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from newsletter.app import mailbox as mailbox_app
from newsletter.cli.base import cli, out, workspace_of


@cli.group()
def mailbox() -> None:
    """The mailbox behind unsubscribe_mailto ([web.mailbox] in newsletter.toml)."""


@mailbox.command("poll")
@click.pass_context
def mailbox_poll(ctx: click.Context) -> None:
    """Read the new mails once: a valid token unsubscribes its reader; any other mail is
    listed (and kept in state/) for you to answer yourself. Nothing is replied to.
    Run it from cron as often as you like; the password comes from IMAP_PASSWORD."""
    ws = workspace_of(ctx)
    result = mailbox_app.poll(ws)
    table = Table("new mails", "unsubscribed", "already unsubscribed", "for you to read")
    table.add_row(str(result.read), str(result.unsubscribed), str(result.already),
                  str(len(result.unmatched)))
    out.print(Text(result.mailbox))
    out.print(table)
    if not result.unmatched:
        return
    # sender and subject come from anyone: shown as plain text, never as markup
    senders = Table("from", "date", "subject", title="Mails without a valid token")
    for mail in result.unmatched:
        senders.add_row(Text(mail.sender or "(no sender)"), Text(mail.date), Text(mail.subject))
    out.print(senders)
    out.print(Text(f"They are kept in {ws.relative(result.notes)}. Nobody was answered; "
                   "unsubscribe a person yourself with 'newsletter suppress add ADDRESS'."))
