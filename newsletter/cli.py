"""The ``newsletter`` command line: thin wrappers that print what the modules return."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from newsletter import __version__
from newsletter.catalog import extract_release
from newsletter.config import Workspace, load_workspace, resolve_inside
from newsletter.errors import NewsletterError, ReleaseError
from newsletter.languages import language
from newsletter.preview import write_previews
from newsletter.release import Release, load_release
from newsletter.ui import extract_ui

# Wide enough for paths when output goes to a file or CI log (rich assumes 80 there).
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False)


class _Group(click.Group):
    """Turns every NewsletterError into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              envvar="NEWSLETTER_WORKSPACE",
              help="Workspace folder with newsletter.toml (default: the current folder; "
                   "or set NEWSLETTER_WORKSPACE).")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """Turn a German press release into reviewed email editions in every community language.

    Start with 'newsletter extract RELEASE', translate the catalogs under locales/,
    then look at the result with 'newsletter preview RELEASE'.
    """
    ctx.obj = workspace


def _ws(ctx: click.Context) -> Workspace:
    return load_workspace(ctx.obj)


def _release(ws: Workspace, ref: str) -> Release:
    """A release given as a path (releases/x.md) or as its id (x)."""
    tries = [Path(ref), ws.root / ref, ws.releases_dir / ref, ws.releases_dir / f"{ref}.md"]
    found = [p.resolve() for p in tries if p.is_file()]
    inside = [p for p in found if p.is_relative_to(ws.root)]
    if not inside:
        if found:  # only a file outside the workspace matches: refuse it by name
            resolve_inside(ws.root, found[0], what="release")
        raise ReleaseError(f"no release {ref!r}: give a file such as "
                           f"releases/<id>.md or an id from {ws.relative(ws.releases_dir)}/")
    path = resolve_inside(ws.root, inside[0], what="release")
    return load_release(path, ws.root)


@cli.command()
@click.argument("releases", nargs=-1)
@click.option("--ui", is_flag=True, help="Also extract the templates' UI strings into "
              "locales/messages.pot and update every language's messages.po.")
@click.pass_context
def extract(ctx: click.Context, releases: tuple[str, ...], ui: bool) -> None:
    """Write the catalogs of RELEASES: locales/<id>.pot and one PO file per target language.

    Translations of unchanged entries are kept; entries that left the source are kept
    as obsolete (#~) so no reviewed work is lost. Files that did not change are not
    touched.
    """
    if not releases and not ui:
        raise click.UsageError("name at least one release, or pass --ui")
    ws = _ws(ctx)
    table = Table("language", "action", "entries", "reviewed", "obsolete", "catalog")
    results = []
    for ref in releases:
        results += extract_release(_release(ws, ref), ws)
    if ui:
        results += extract_ui(ws)
    for r in results:
        table.add_row(r.language or "(template)", r.action, str(r.entries),
                      "" if r.language is None else str(r.translated), str(r.obsolete),
                      ws.relative(r.path))
    out.print(table)


@cli.command()
@click.argument("release")
@click.option("--lang", "langs", multiple=True, metavar="L",
              help="Only this reader language (repeatable). Default: all languages.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder inside the workspace (default: build/preview).")
@click.pass_context
def preview(ctx: click.Context, release: str, langs: tuple[str, ...], out_dir: Path | None
            ) -> None:
    """Write one HTML and one plain-text edition per language of RELEASE.

    The files go to build/preview/<release-id>/<lang>.html and .txt. A language whose
    catalog is not completely reviewed gets the next language of its fallback chain,
    ending with the source; the table says which and why.
    """
    ws = _ws(ctx)
    rel = _release(ws, release)
    chosen = tuple(language(code).code for code in langs) or ws.config.languages.all
    target = resolve_inside(ws.root, out_dir or ws.build_dir / "preview", what="--out folder")
    files = write_previews(rel, ws, chosen, target)
    table = Table("lang", "language", "dir", "edition", "html", "text")
    for f in files:
        ed = f.edition
        status = {"source": "source", "translated": "translated"}.get(
            ed.status, f"fallback → {ed.language.code} ({ed.language.native_name})")
        table.add_row(ed.requested.code, ed.requested.native_name, ed.requested.direction,
                      status, f.html_path.name, f.text_path.name)
    out.print(f"Editions of {rel.id} written to {ws.relative(target / rel.id)}/", soft_wrap=True)
    out.print(table)
    for f in files:
        for reason in f.edition.reasons:
            out.print(f"  {f.edition.requested.code}: passed over {reason}")


def main() -> None:
    cli(prog_name="newsletter")
