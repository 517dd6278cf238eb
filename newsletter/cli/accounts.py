"""Commands for the admin pages' accounts and their audit log."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from newsletter.app import accounts, audit, serving
from newsletter.cli.base import cli, out, workspace_of
from newsletter.errors import AccountError


def _read_password() -> str:
    """The new password, twice: hidden at a terminal; two lines when piped in (a script,
    or a test), so that nothing ever appears on a command line or in the shell history."""
    if sys.stdin is not None and sys.stdin.isatty():
        return click.prompt("New password", hide_input=True, confirmation_prompt="Again")
    first, second = sys.stdin.readline().rstrip("\r\n"), sys.stdin.readline().rstrip("\r\n")
    if first != second:
        raise AccountError("the two passwords differ")
    return first


@cli.group()
def users() -> None:
    """Accounts of the admin pages (<public_url>admin/): the officer and the reviewers."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["officer", "reviewer"]), required=True,
              help="officer: everything; reviewer: only the languages given with --lang.")
@click.option("--lang", "langs", multiple=True, metavar="L",
              help="A language the reviewer works on (repeat for several).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, langs: tuple[str, ...]) -> None:
    """Create the account NAME. The password is asked twice (hidden), or read as two lines
    from standard input; it is stored as an argon2 hash and never shown."""
    ws = workspace_of(ctx)
    password = _read_password()
    account = accounts.add_user(ws, name, role, langs, password)
    where = f" for {', '.join(account.languages)}" if account.languages else ""
    out.print(f"Added {account.role} {account.name}{where}. They sign in at "
              f"{ws.config.web.page(serving.ADMIN_LOGIN) or serving.ADMIN_LOGIN}.",
              markup=False, soft_wrap=True)
    if ws.config.web.public_url:  # the same account works in a trial on this machine
        out.print("Trying it on this machine ('newsletter serve --local'): "
                  f"{serving.local_url(ws, serving.ADMIN_LOGIN)} (with --port N, that port).",
                  markup=False, soft_wrap=True)


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Show every account, removed ones too."""
    table = Table("name", "role", "languages", "created", "removed")
    for info in accounts.list_users(workspace_of(ctx)):
        a = info.account
        table.add_row(a.name, a.role, ", ".join(a.languages) or "(all)", info.created_at,
                      info.removed_at or "")
    out.print(table)


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Remove the account NAME: it can no longer sign in and its sessions end now. The
    audit log keeps its entries."""
    ended = accounts.remove_user(workspace_of(ctx), name)
    out.print(f"Removed {name}; {ended} session(s) ended.", markup=False)


@users.command("passwd")
@click.argument("name")
@click.pass_context
def users_passwd(ctx: click.Context, name: str) -> None:
    """Set a new password for NAME (asked twice, hidden); their sessions end now."""
    ws = workspace_of(ctx)
    password = _read_password()
    ended = accounts.change_password(ws, name, password)
    out.print(f"New password set for {name}; {ended} session(s) ended.", markup=False)


@cli.command("audit")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many of the newest entries to show.")
@click.pass_context
def audit_log(ctx: click.Context, limit: int) -> None:
    """Print the audit log: logins, failed logins, logouts and account changes (later
    also approvals, sends, suppressions and erasures), oldest of the shown first."""
    entries = audit.entries(workspace_of(ctx), limit)
    if not entries:
        out.print("The audit log is empty.")
        return
    table = Table("time (UTC)", "user", "action", "object", "detail")
    for e in entries:
        table.add_row(e.at, e.user, e.action, e.object, e.detail)
    out.print(table)
