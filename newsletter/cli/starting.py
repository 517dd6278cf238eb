"""``newsletter init``: a new association's workspace in one command."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.app import starting
from newsletter.cli.base import cli, out


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="", help="The association's name (Impressum and sender).")
@click.option("--address", default="", metavar="'STREET, POSTCODE CITY'",
              help="The postal address for the Impressum, e.g. 'Karl-Denkhaus-Straße 11, "
                   "45329 Essen' (a building or centre may come first).")
@click.option("--sender", default="", metavar="EMAIL",
              help="The address mails come from (and replies go to).")
@click.option("--source", default="de", show_default=True, metavar="L",
              help="The language releases are written in.")
@click.option("--target", "targets", multiple=True, metavar="L",
              help="A language editions are translated into (repeatable; default: en).")
@click.option("--list", "lists", multiple=True, metavar="NAME[:REASON]",
              help="A recipient list and why its people get mail: member, press or "
                   "subscriber (repeatable; default: members:member and press:press).")
@click.option("--force", is_flag=True, help="Write newsletter.toml, the note and the sample "
              "release again in an existing workspace (recipient lists are kept).")
def init(folder: Path, name: str, address: str, sender: str, source: str,
         targets: tuple[str, ...], lists: tuple[str, ...], force: bool) -> None:
    """Create a workspace for a new association in FOLDER.

    Writes newsletter.toml (what is not given stays a TODO placeholder: no real mail
    goes out while one is left), empty recipient lists, a short sample release and
    NEXT-STEPS.md. Templates and interface strings come with the package.
    """
    done = starting.init_workspace(
        folder, starting.Options(name=name, address=address, sender=sender, source=source,
                                 targets=targets or ("en",), lists=lists or starting.DEFAULT_LISTS),
        force=force)
    ws = done.workspace
    out.print(f"Workspace created in {ws.root}", soft_wrap=True, markup=False)
    table = Table("file", "action", box=None, show_header=False)
    for written in done.files:
        table.add_row(ws.relative(written.path), written.action)
    out.print(table, markup=False)
    if done.placeholders:
        out.print(f"Still to fill in (TODO) in newsletter.toml: {', '.join(done.placeholders)}",
                  soft_wrap=True, markup=False)
    for code in done.no_ui_strings:
        out.print(f"{code}: the package has no interface strings in this language: have "
                  f"locales/{code}/LC_MESSAGES/messages.po and web.po translated (see "
                  f"{starting.NOTE})", soft_wrap=True, markup=False)
    if done.sample:
        out.print(f"Try it: cd {ws.root} && {done.try_it}", soft_wrap=True, markup=False)
    out.print(f"Next steps: {ws.relative(ws.root / starting.NOTE)}", markup=False)
