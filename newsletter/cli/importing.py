"""``newsletter import``: a press release from a text, Word or HTML file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.app import importing
from newsletter.cli.base import cli, out, workspace_of


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "release_id", metavar="ID",
              help="Release id and file name (default: date and words of the title, "
                   "e.g. 2018-08-23-stadt-verbund-vertrag).")
@click.option("--kind", type=click.Choice(["press", "news"]),
              help="Press release or news item (default: guessed from the text).")
@click.option("--force", is_flag=True, help="Replace releases/<id>.md and its images if they "
              "exist.")
@click.pass_context
def import_(ctx: click.Context, file: Path, release_id: str | None, kind: str | None,
            force: bool) -> None:
    """Turn FILE (.txt, .docx or .html) into releases/<id>.md.

    Title, date, place, category, kind, press contact and photo caption are guessed
    from the text; the command prints what it guessed and what to check. Images in a
    Word file, and images next to an HTML file, are saved as releases/images/<id>-N.<ext>.
    An existing release is never replaced without --force.
    """
    ws = workspace_of(ctx)
    done = importing.import_release(ws, file, release_id=release_id, kind=kind, force=force)
    draft = done.imported.draft
    table = Table("guessed", "value", show_header=False, box=None)
    table.add_row("release", ws.relative(done.path))
    table.add_row("title", done.release.title.text)
    table.add_row("date", done.release.date.isoformat())
    table.add_row("kind", f"{done.release.kind} ({draft.kind_reason})")
    table.add_row("category", draft.category or "-")
    table.add_row("place", draft.location or "-")
    contact = draft.contact
    table.add_row("contact", ", ".join(v for v in (contact.name, contact.role, contact.phone,
                                                   contact.email) if v) if contact else "-")
    for image in done.images:
        table.add_row("image", ws.relative(image))
    out.print(f"Imported {file.name}:", markup=False)
    out.print(table, markup=False)
    if draft.checks:
        out.print("Check these:")
        for check in draft.checks:
            out.print(f"  - {check}", markup=False, soft_wrap=True)
    out.print(f"Then: newsletter extract {ws.relative(done.path)}", markup=False)
