"""Commands for catalogs, drafts, status, previews and the web archive."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.app import publishing, translation
from newsletter.cli.base import cli, err, out, workspace_of
from newsletter.errors import EngineRejected, EngineUnavailable, LanguageError


@cli.command()
@click.argument("releases", nargs=-1)
@click.option("--ui", is_flag=True, help="Also the UI strings of the templates (mails and "
              "archive: messages, web app: web, admin pages: admin) where the workspace "
              "needs catalogs of its own (a language the package has none for, its own "
              "templates or translations; the package's serve the rest), and the About-us "
              "text of newsletter.toml (locales/about.pot, <lang>/LC_MESSAGES/about.po).")
@click.option("--package", is_flag=True, help="For developers, in a source checkout: "
              "rewrite the UI catalogs the package ships (newsletter/defaults/locales) "
              "from its own templates. Needs no workspace.")
@click.pass_context
def extract(ctx: click.Context, releases: tuple[str, ...], ui: bool, package: bool) -> None:
    """Write the catalogs of RELEASES: locales/<id>.pot and one PO file per target language.

    Translations of unchanged entries are kept; entries that left the source are kept
    as obsolete (#~) so no reviewed work is lost. Files that did not change are not
    touched.
    """
    if not releases and not ui and not package:
        raise click.UsageError("name at least one release, or pass --ui")
    table = Table("language", "action", "entries", "reviewed", "obsolete", "catalog")
    results = translation.extract_package() if package else []
    shown = str
    if releases or ui:
        ws = workspace_of(ctx)
        results += translation.extract(ws, releases, ui=ui)
        shown = ws.relative
    for r in results:
        table.add_row(r.language or "(template)", r.action, str(r.entries),
                      "" if r.language is None else str(r.translated), str(r.obsolete),
                      shown(r.path))
    out.print(table)


@cli.command()
@click.argument("release")
@click.option("--lang", "langs", multiple=True, metavar="L",
              help="Only this reader language (repeatable). Default: all languages.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: build/preview in the workspace).")
@click.pass_context
def preview(ctx: click.Context, release: str, langs: tuple[str, ...], out_dir: Path | None
            ) -> None:
    """Write one HTML and one plain-text edition per language of RELEASE.

    The files go to build/preview/<release-id>/<lang>.html and .txt. A language whose
    catalog is not completely reviewed gets the next language of its fallback chain,
    ending with the source; the table says which and why.
    """
    ws = workspace_of(ctx)
    done = translation.preview(ws, release, langs, out_dir)
    table = Table("lang", "language", "dir", "edition", "html", "text")
    for f in done.files:
        ed = f.edition
        status = {"source": "source", "translated": "translated"}.get(
            ed.status, f"fallback → {ed.language.code} ({ed.language.native_name})")
        table.add_row(ed.requested.code, ed.requested.native_name, ed.requested.direction,
                      status, f.html_path.name, f.text_path.name)
    out.print(f"Editions of {done.release.id} written to "
              f"{ws.relative(done.folder / done.release.id)}/", soft_wrap=True)
    out.print(table)
    for f in done.files:
        for reason in f.edition.reasons:
            out.print(f"  {f.edition.requested.code}: passed over {reason}", markup=False)


@cli.command()
@click.argument("release")
@click.option("--engine", type=click.Choice(list(translation.ENGINE_NAMES)),
              help="Machine translation engine (default from newsletter.toml).")
@click.option("--lang", "langs", multiple=True, metavar="L",
              help="Only these target languages (repeatable).")
@click.option("--dry-run", is_flag=True, help="Say how many segments and characters would "
              "go to the engine; change nothing.")
@click.pass_context
def translate(ctx: click.Context, release: str, engine: str | None, langs: tuple[str, ...],
              dry_run: bool) -> None:
    """Draft every empty entry of RELEASE's catalogs: translation memory, then the engine.

    Drafts are marked fuzzy with a comment naming their origin; a reviewer approves
    an entry by clearing 'fuzzy'. Reviewed entries are never touched.
    """
    done = translation.translate(workspace_of(ctx), release, engine=engine, langs=langs,
                                 dry_run=dry_run)
    report = done.report
    table = Table("lang", "kept", "memory (reviewed)", "memory (fuzzy)",
                  "would send" if dry_run else "machine", "failed", "characters")
    for lr in report.languages:
        table.add_row(lr.language, str(lr.kept), str(lr.memory_reviewed), str(lr.memory_fuzzy),
                      str(lr.pending if dry_run else lr.machine), str(lr.failed),
                      str(lr.characters))
    out.print(f"{done.release.id} with engine {report.engine}" + (" (dry run)" if dry_run else ""))
    out.print(table)
    if dry_run:
        pending = sum(lr.pending for lr in report.languages)
        chars = sum(lr.characters for lr in report.languages)
        out.print(f"{pending} segment(s), {chars} character(s) would go to {report.engine}.")
        return
    for lr in report.languages:
        for failure in lr.failures:
            err.print(f"failed: {failure}", soft_wrap=True, markup=False)
    if report.stopped:
        raise EngineUnavailable(
            f"{done.missing} entries in {done.missing_languages} languages could "
            f"not be translated: {report.stopped}; run again later")
    if report.failed:
        raise EngineRejected(f"{report.failed} entries could not be drafted (see above); "
                             "they stay empty for human translators or a later run")


@cli.command()
@click.argument("releases", nargs=-1)
@click.option("--check", is_flag=True, help="Exit 1 when any target language of the named "
              "release(s) is not publishable.")
@click.pass_context
def status(ctx: click.Context, releases: tuple[str, ...], check: bool) -> None:
    """Translation status per release and language: reviewed, drafts, missing, failing
    checks, and whether the edition may be sent under the language's policy."""
    not_ready = []
    for st in translation.status(workspace_of(ctx), releases):
        table = Table("lang", "policy", "reviewed", "drafts", "missing", "failing", "%",
                      "publishable", title=None)
        for cov in st.languages:
            table.add_row(cov.language, cov.policy, str(cov.reviewed), str(cov.drafts),
                          str(cov.missing), str(len(cov.failing)), f"{cov.percent}",
                          "yes" + (" (machine)" if cov.uses_drafts else "") if cov.publishable
                          else "no")
        out.print(f"{st.release.id} ({st.languages[0].total if st.languages else 0} entries)",
                  soft_wrap=True)
        out.print(table)
        for cov in st.languages:
            for failing in cov.failing:
                out.print(f"  {cov.language}: {failing}", soft_wrap=True, markup=False)
            if cov.note:
                out.print(f"  {cov.language}: {cov.note}", soft_wrap=True, markup=False)
        not_ready += [f"{st.release.id}:{c.language}" for c in st.languages if not c.publishable]
    if check and not_ready:
        raise LanguageError(f"not publishable: {', '.join(not_ready)}")


@cli.group()
def tm() -> None:
    """Translation memory: the reviewed pairs of every catalog."""


@tm.command("export")
@click.option("--lang", "lang", required=True, metavar="L", help="Target language.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TMX file (default: build/tm/<source>-<lang>.tmx in the workspace).")
@click.pass_context
def tm_export(ctx: click.Context, lang: str, out_file: Path | None) -> None:
    """Write a TMX 1.4 file of the reviewed pairs, for translators' CAT tools."""
    ws = workspace_of(ctx)
    count, target = translation.tm_export(ws, lang, out_file)
    out.print(f"{count} reviewed pair(s) written to {ws.relative(target)}", soft_wrap=True)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ in the workspace).")
@click.pass_context
def archive(ctx: click.Context, out_dir: Path | None) -> None:
    """Build the static web archive: every release in every language, an index and an
    Atom feed per language. Releases under embargo stay out until their time."""
    ws = workspace_of(ctx)
    result, target = publishing.archive(ws, out_dir)
    out.print(f"{len(result.pages)} page(s) and {len(result.feeds)} feed(s) written to "
              f"{ws.relative(target)}/", soft_wrap=True)
    for rid in result.embargoed:
        out.print(f"  {rid}: under embargo, not published yet", soft_wrap=True)
