"""The ``newsletter`` command line: thin wrappers that print what the modules return."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newsletter import __version__
from newsletter.audience.lists import read_list
from newsletter.audience.selection import Selection, parse_where
from newsletter.audience.tokens import address_id
from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import DB_NAME, REASONS, Ledger
from newsletter.delivery.reports import write_report_csv
from newsletter.delivery.sending import Planned, SendRequest, plan_send, send
from newsletter.delivery.suppressions import import_sendgrid
from newsletter.errors import (
    DeliveryError,
    EngineRejected,
    EngineUnavailable,
    LanguageError,
    NewsletterError,
    RecipientError,
    ReleaseError,
)
from newsletter.publish.archive import build_archive
from newsletter.render.preview import write_previews
from newsletter.translation.catalog import extract_release
from newsletter.translation.drafting import translate_release
from newsletter.translation.editions import coverage
from newsletter.translation.engines import ENGINES, RetryPolicy, make_engine
from newsletter.translation.progress import export_tmx, release_status
from newsletter.translation.uistrings import extract_ui
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.config import Workspace, resolve_inside
from newsletter.workspace.languages import language
from newsletter.workspace.languages import language as language_info
from newsletter.workspace.loading import load_workspace

# Wide enough for paths when output goes to a file or CI log (rich assumes 80 there).
# emoji=False: "messages.po:100:" in a message must not turn into an emoji
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, emoji=False)


class _Group(click.Group):
    """Turns every NewsletterError into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            # the message is printed as it is: "file.po:100:" must not become an emoji,
            # nor "[x]" markup
            err.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True,
                      emoji=False)
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
              help="Output folder (default: build/preview in the workspace).")
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
    target = ws.operator_path(out_dir or ws.build_dir / "preview")
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


def _mailing_options(command):  # type: ignore[no-untyped-def]
    """The options send and digest share, in one place."""
    options = [
        click.option("--list", "lists", multiple=True, metavar="NAME",
                     help="Recipient list from newsletter.toml (repeatable)."),
        click.option("--tag", "tags", multiple=True, metavar="T",
                     help="Only recipients with this tag (repeatable; all must match)."),
        click.option("--lang", "langs", multiple=True, metavar="L",
                     help="Only the editions in these languages (repeatable)."),
        click.option("--dry-run", is_flag=True, help="Show who gets which language and why; "
                     "build and write nothing."),
        click.option("--transport", type=click.Choice(["outbox", "smtp", "sendgrid"]),
                     help="Override the transport of newsletter.toml."),
        click.option("--outbox", "outbox_dir",
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Outbox folder (default from newsletter.toml)."),
        click.option("--skip-invalid", is_flag=True, help="Send to the valid rows and list "
                     "the invalid ones, instead of stopping."),
        click.option("--resend-unknown", is_flag=True, help="Send again to recipients whose "
                     "message was in flight when an earlier run died (they may get it twice)."),
        click.option("--retry-rejected", is_flag=True, help="Send again to recipients a "
                     "server rejected in an earlier run (after fixing the cause it named)."),
        click.option("--sandbox", is_flag=True, help="SendGrid only: validate every request, "
                     "deliver nothing (a rehearsal, like the outbox)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command(name="send")
@click.argument("release")
@_mailing_options
@click.option("--where", "where", multiple=True, metavar="FIELD=VALUE",
              help="Only recipients whose outlet, beat or organization is VALUE "
                   "(repeatable; all must match), e.g. --where beat=Integration.")
@click.option("--at", "at", metavar="TIME", help="Schedule instead of sending now, e.g. "
              "'2026-12-01 09:00' (workspace time zone). SendGrid holds the messages (at most "
              "72 hours ahead); other transports send when 'newsletter dispatch' runs.")
@click.pass_context
def send_cmd(ctx: click.Context, release: str, lists: tuple[str, ...], tags: tuple[str, ...],
             langs: tuple[str, ...], where: tuple[str, ...], dry_run: bool, transport: str | None,
             outbox_dir: Path | None, skip_invalid: bool, resend_unknown: bool,
             retry_rejected: bool, sandbox: bool, at: str | None) -> None:
    """Send RELEASE to the recipients of the chosen lists, each in their language.

    Every recipient gets the edition of their language when it is completely
    reviewed, else the next language of its fallback chain, else the source.
    The plan is made before any message is built; --dry-run shows it.
    """
    ws = _ws(ctx)
    rel = _release(ws, release)
    request = SendRequest(
        selection=Selection(lists=lists, tags=tags,
                            langs=tuple(language_info(code).code for code in langs),
                            where=parse_where(where)),
        transport=transport or ws.config.delivery.transport,
        outbox=outbox_dir,
        skip_invalid=skip_invalid,
        resend_unknown=resend_unknown,
        retry_rejected=retry_rejected,
        sandbox=sandbox,
    )
    if at and not dry_run:
        from newsletter.delivery import scheduling

        when = scheduling.parse_at(at, ws.config.delivery.timezone)
        done = scheduling.schedule_send(ws, rel, request, when)
        stamp = when.isoformat(sep=" ", timespec="minutes")
        if done.result is not None:
            out.print(f"Campaign {done.campaign}: {done.result.delivered} message(s) handed to "
                      f"SendGrid, to be delivered at {stamp} (batch {done.batch_id}); "
                      f"'newsletter cancel {done.campaign}' stops them.", soft_wrap=True)
        else:
            out.print(f"Campaign {done.campaign} scheduled for {stamp}; 'newsletter dispatch' "
                      "(from cron) sends it when it is due.", soft_wrap=True)
        return
    planned = plan_send(ws, rel, request)
    if dry_run and rel.embargo:
        out.print(f"Embargo until {rel.embargo.isoformat()}: a real send before then is "
                  "refused.", soft_wrap=True)
    _run(ws, rel, request, planned, dry_run)


def _run(ws: Workspace, rel: Release, request: SendRequest, planned: Planned, dry_run: bool,
         prepare_all=None) -> None:  # type: ignore[no-untyped-def]
    """Print the plan, or send it and print what happened (shared by send and digest)."""
    _print_skipped(planned)
    if dry_run:
        _print_recipients(planned)
        _print_summary(planned, "Plan (dry run, nothing written)")
        out.print(_kind_line(planned, request), soft_wrap=True)
        return
    if not len(planned.plan):
        out.print("Nobody selected: nothing to send.")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task(f"Sending {planned.campaign}", total=len(planned.plan))
        result = send(ws, rel, request, planned,
                      progress=lambda done, total: bar.update(task, completed=done),
                      say=lambda message: err.print(message, markup=False),
                      prepare_all=prepare_all)
    run = result.run
    _print_summary(planned, f"Campaign {planned.campaign}: {result.delivered} message(s) "
                            "handed over in this run")
    where = result.destination
    if Path(where).is_absolute():
        where = ws.relative(Path(where))
    out.print(f"Messages written to {where}/" if request.transport == "outbox"
              else f"Messages handed to {where}", soft_wrap=True)
    out.print(_kind_line(planned, request), soft_wrap=True)
    shown = {k: v for k, v in run.counts.items() if v}
    out.print("Ledger: " + ", ".join(f"{n} {status}" for status, n in shown.items()),
              soft_wrap=True)
    if run.suppressed_now:
        out.print(f"{run.suppressed_now} recipient(s) skipped: on the suppression list")
    if run.resumed:
        out.print(f"{run.resumed} message(s) had not left when an earlier run stopped; they "
                  "were sent in this run.", soft_wrap=True)
    if run.unknown:
        out.print(f"{len(run.unknown)} message(s) of unknown fate: an earlier run died while "
                  "their request was in flight, so they may have been delivered; not sent "
                  "again unless --resend-unknown:", soft_wrap=True)
        for row in run.unknown:
            out.print(f"  {row.email} ({row.language})", markup=False)
    for rejection in run.rejected_now:
        err.print(f"rejected: {rejection.email} ({rejection.language}): {rejection.error}",
                  markup=False, soft_wrap=True)
    if run.paused:
        err.print("Paused. Run the same command again to continue.")
        sys.exit(130)
    if run.stopped:
        raise DeliveryError(f"stopped: {run.stopped}. Run the same command again to "
                            "continue; nobody will get the message twice.")
    if run.rejected_now:
        raise DeliveryError(f"{len(run.rejected_now)} message(s) rejected (see above); fix "
                            "the cause, then run the same command with --retry-rejected")


def _kind_line(planned: Planned, request: SendRequest) -> str:
    if planned.rehearsal == "outbox":
        return ("Rehearsal (outbox): files only, nobody receives anything; the real send is "
                "a campaign of its own.")
    if planned.rehearsal == "sandbox":
        return ("Rehearsal (SendGrid sandbox): validated, nobody receives anything; the real "
                "send is a campaign of its own.")
    return f"Real send through {request.transport}: every recipient above receives it."


@cli.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Send the scheduled campaigns that are due (run it from cron every few minutes)."""
    from newsletter.delivery import scheduling

    ws = _ws(ctx)
    done = scheduling.dispatch(ws)
    for campaign, result in done:
        state = result.run.stopped or ("paused" if result.run.paused else "done")
        out.print(f"{campaign}: {result.delivered} message(s) handed over ({state})",
                  soft_wrap=True)
    if not done:
        out.print("Nothing is due.")


@cli.command()
@click.argument("campaign")
@click.pass_context
def cancel(ctx: click.Context, campaign: str) -> None:
    """Cancel a scheduled campaign (on SendGrid: its batch, before it is due)."""
    from newsletter.delivery import scheduling

    out.print(scheduling.cancel(_ws(ctx), campaign), soft_wrap=True)


@cli.command()
@click.argument("month", metavar="YYYY-MM")
@_mailing_options
@click.pass_context
def digest(ctx: click.Context, month: str, lists: tuple[str, ...], tags: tuple[str, ...],
           langs: tuple[str, ...], dry_run: bool, transport: str | None,
           outbox_dir: Path | None, skip_invalid: bool, resend_unknown: bool,
           retry_rejected: bool, sandbox: bool) -> None:
    """Send all news releases of MONTH as one newsletter per language.

    The table of contents and buttons are in the reader's language; each item follows
    the reader's language and its fallback chain on its own, labelled when it is shown
    in another language. Press releases are not part of the digest.
    """
    from newsletter.publish import digest as digests

    ws = _ws(ctx)
    found = digests.collect(ws, digests.parse_month(month))
    for rid in found.embargoed:
        out.print(f"{rid}: under embargo, left out of the digest", soft_wrap=True)
    selection = Selection(lists=lists, tags=tags,
                          langs=tuple(language_info(code).code for code in langs))
    request = SendRequest(selection=selection,
                          transport=transport or ws.config.delivery.transport,
                          outbox=outbox_dir, skip_invalid=skip_invalid,
                          resend_unknown=resend_unknown, retry_rejected=retry_rejected,
                          sandbox=sandbox)
    plan, audience, items = digests.digest_plan(found, ws, selection,
                                                skip_invalid=skip_invalid)
    planned = Planned(digests.campaign_id(found, selection, request.rehearsal), audience, plan,
                      request.rehearsal)
    out.print(f"Digest {found.month:%Y-%m}: " + ", ".join(r.id for r in found.releases),
              soft_wrap=True)

    def prepare_all(renderer):  # type: ignore[no-untyped-def]
        return {lang: digests.prepare_digest(renderer, ws, edition, items[lang])
                for lang, edition in plan.editions.items()}

    _run(ws, found.releases[0], request, planned, dry_run, prepare_all)


def _print_skipped(planned: Planned) -> None:
    aud = planned.audience
    for problem in aud.skipped:
        err.print(f"skipped {problem}", soft_wrap=True, markup=False)
    for note in aud.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)


def _print_recipients(planned: Planned) -> None:
    table = Table("recipient", "lists", "reads", "gets", "why")
    for a in planned.plan:
        table.add_row(a.recipient.email, ",".join(a.recipient.lists), a.reader_lang,
                      a.edition_lang, a.reason or "own language")
    out.print(table)


def _print_summary(planned: Planned, title: str) -> None:
    out.print(title, soft_wrap=True)
    table = Table("edition", "language", "recipients", "by fallback", "why")
    total = 0
    for lang, count, fallbacks, reasons in planned.plan.summary():
        total += count
        why = "\n".join(f"{n} × {reason}" for reason, n in reasons)
        name = " + ".join(language_info(code).native_name for code in lang.split("+"))
        if planned.plan.editions[lang].machine:
            name += " (machine-translated, policy 'machine')"
        table.add_row(lang, name, str(count), str(fallbacks), why)
    table.add_row("", "total", str(total), "", "")
    out.print(table)
    if planned.plan.left_out_by_lang:
        out.print(f"{planned.plan.left_out_by_lang} recipient(s) left out by --lang")
    if planned.audience.not_tagged:
        out.print(f"{planned.audience.not_tagged} recipient(s) left out by --tag/--where")


@cli.command()
@click.argument("release")
@click.option("--engine", type=click.Choice(list(ENGINES)),
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
    ws = _ws(ctx)
    rel = _release(ws, release)
    cfg = ws.config.translation
    mt = make_engine(engine or cfg.engine, libre_url=cfg.libretranslate_url,
                     policy=RetryPolicy(timeout=cfg.timeout, retries=cfg.retries))
    chosen = tuple(language_info(code).code for code in langs) or None
    for code in chosen or ():
        if code not in ws.config.languages.targets:
            raise LanguageError(f"{code!r} is not a target language of this workspace")
    report = translate_release(rel, ws, mt, chosen, dry_run=dry_run)
    table = Table("lang", "kept", "memory (reviewed)", "memory (fuzzy)",
                  "would send" if dry_run else "machine", "failed", "characters")
    for lr in report.languages:
        table.add_row(lr.language, str(lr.kept), str(lr.memory_reviewed), str(lr.memory_fuzzy),
                      str(lr.pending if dry_run else lr.machine), str(lr.failed),
                      str(lr.characters))
    out.print(f"{rel.id} with engine {report.engine}" + (" (dry run)" if dry_run else ""))
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
        missing = [coverage(rel, ws, lang).missing
                   for lang in chosen or ws.config.languages.targets]
        raise EngineUnavailable(
            f"{sum(missing)} entries in {sum(1 for n in missing if n)} languages could "
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
    ws = _ws(ctx)
    if releases:
        rels = [_release(ws, ref) for ref in releases]
    else:
        rels = [load_release(p, ws.root) for p in sorted(ws.releases_dir.glob("*.md"))]
    not_ready = []
    for rel in rels:
        st = release_status(rel, ws)
        table = Table("lang", "policy", "reviewed", "drafts", "missing", "failing", "%",
                      "publishable", title=None)
        for cov in st.languages:
            table.add_row(cov.language, cov.policy, str(cov.reviewed), str(cov.drafts),
                          str(cov.missing), str(len(cov.failing)), f"{cov.percent}",
                          "yes" + (" (machine)" if cov.uses_drafts else "") if cov.publishable
                          else "no")
        out.print(f"{rel.id} ({st.languages[0].total if st.languages else 0} entries)",
                  soft_wrap=True)
        out.print(table)
        for cov in st.languages:
            for failing in cov.failing:
                out.print(f"  {cov.language}: {failing}", soft_wrap=True, markup=False)
            if cov.note:
                out.print(f"  {cov.language}: {cov.note}", soft_wrap=True, markup=False)
        not_ready += [f"{rel.id}:{c.language}" for c in st.languages if not c.publishable]
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
    ws = _ws(ctx)
    code = language_info(lang).code
    if code not in ws.config.languages.targets:
        raise LanguageError(f"{lang!r} is not a target language of this workspace")
    src = ws.config.languages.source
    target = ws.operator_path(out_file or ws.build_dir / "tm" / f"{src}-{code}.tmx")
    count = export_tmx(ws, code, target)
    out.print(f"{count} reviewed pair(s) written to {ws.relative(target)}", soft_wrap=True)


@cli.command()
@click.argument("campaign")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rows to this CSV file instead.")
@click.pass_context
def report(ctx: click.Context, campaign: str, csv_file: Path | None) -> None:
    """Who got which language of CAMPAIGN, and what happened to each message."""
    ws = _ws(ctx)
    with Ledger(ws.state_dir / DB_NAME) as ledger:
        if not ledger.has_campaign(campaign):
            known = ", ".join(c.id for c in ledger.campaigns()) or "none yet"
            raise DeliveryError(f"no campaign {campaign!r} in the ledger (known: {known})")
        rows = ledger.rows(campaign)
        counts = ledger.counts(campaign)
    if csv_file is not None:
        target = ws.operator_path(csv_file)
        write_report_csv(target, rows)
        with Ledger(ws.state_dir / DB_NAME) as ledger:  # so that erasure can name it
            ledger.record_export(target, campaign)
        out.print(f"{len(rows)} row(s) written to {ws.relative(target)}", soft_wrap=True)
    else:
        table = Table("recipient", "language", "status", "attempts", "last error", "updated")
        for r in rows:
            table.add_row(r.email, r.language, r.status, str(r.attempts), r.last_error,
                          r.updated_at)
        out.print(table)
    out.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no rows")


@cli.group()
def suppress() -> None:
    """The suppression list: addresses that never get a message."""


def _ledger_and_key(ws: Workspace) -> tuple[Ledger, bytes]:
    state = ws.state_dir
    return Ledger(state / DB_NAME), load_address_key(state)


@suppress.command("add")
@click.argument("emails", nargs=-1, required=True)
@click.option("--reason", type=click.Choice([r for r in REASONS if r != "erased"]),
              default="manual", show_default=True)
@click.pass_context
def suppress_add(ctx: click.Context, emails: tuple[str, ...], reason: str) -> None:
    """Put addresses on the suppression list."""
    ws = _ws(ctx)
    ledger, key = _ledger_and_key(ws)
    with ledger:
        for email in emails:
            addr = _address(email)
            added = ledger.suppress(address_id(key, addr), addr, reason, "manual")
            out.print(f"{addr}: " + ("suppressed" if added else "already suppressed"),
                      markup=False)


@suppress.command("remove")
@click.argument("emails", nargs=-1, required=True)
@click.pass_context
def suppress_remove(ctx: click.Context, emails: tuple[str, ...]) -> None:
    """Take addresses off the suppression list (not erased people)."""
    ws = _ws(ctx)
    ledger, key = _ledger_and_key(ws)
    with ledger:
        for email in emails:
            addr = _address(email)
            removed = ledger.unsuppress(address_id(key, addr))
            out.print(f"{addr}: " + ("removed" if removed else "not on the list (or erased)"),
                      markup=False)


@suppress.command("list")
@click.pass_context
def suppress_list(ctx: click.Context) -> None:
    """Show the suppression list."""
    ws = _ws(ctx)
    ledger, _ = _ledger_and_key(ws)
    with ledger:
        entries = ledger.suppressions()
    table = Table("address", "reason", "source", "since")
    for s in entries:
        table.add_row(s.email or f"(erased, key {s.key[:8]}…)", s.reason, s.source, s.created_at)
    out.print(table)


@suppress.command("import-sendgrid")
@click.pass_context
def suppress_import_sendgrid(ctx: click.Context) -> None:
    """Import bounces, blocks, spam reports and unsubscribes from SendGrid's API."""
    ws = _ws(ctx)
    ledger, key = _ledger_and_key(ws)
    with ledger:
        counts = import_sendgrid(ledger, key, ws.config.delivery.sendgrid)
    out.print(", ".join(f"{n} new from {kind}" for kind, n in counts.items()))


@cli.command()
@click.argument("email")
@click.pass_context
def forget(ctx: click.Context, email: str) -> None:
    """Erase a person: their rows leave the ledger and their files every outbox folder; a
    keyed hash stays on the suppression list so that no list can mail them again."""
    from newsletter.delivery.erasure import forget as erase

    ws = _ws(ctx)
    done = erase(ws, _address(email))
    out.print(f"Erased: {done.rows} ledger row(s), {len(done.files)} outbox file(s); the "
              "address is suppressed by its keyed hash only.")
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


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except AddressError as error:
        raise RecipientError(f"not an email address: {value!r} ({error})") from None


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ in the workspace).")
@click.pass_context
def archive(ctx: click.Context, out_dir: Path | None) -> None:
    """Build the static web archive: every release in every language, an index and an
    Atom feed per language. Releases under embargo stay out until their time."""
    ws = _ws(ctx)
    target = ws.operator_path(out_dir or ws.root / "site")
    result = build_archive(ws, target)
    out.print(f"{len(result.pages)} page(s) and {len(result.feeds)} feed(s) written to "
              f"{ws.relative(target)}/", soft_wrap=True)
    for rid in result.embargoed:
        out.print(f"  {rid}: under embargo, not published yet", soft_wrap=True)


@cli.group()
def recipients() -> None:
    """Recipient lists (CSV files named in newsletter.toml)."""


@recipients.command("check")
@click.pass_context
def recipients_check(ctx: click.Context) -> None:
    """Validate every list; print counts per list and language, and every bad row."""
    ws = _ws(ctx)
    files = [read_list(name, path) for name, path in ws.config.lists.items()]
    langs = sorted({r.language or ws.config.languages.source
                    for f in files for r in f.recipients})
    table = Table("list", "file", "valid", "invalid", *langs)
    problems = []
    for f in files:
        counts = {lang: 0 for lang in langs}
        for r in f.recipients:
            counts[r.language or ws.config.languages.source] += 1
        table.add_row(f.name, ws.relative(f.path), str(len(f.recipients)), str(len(f.problems)),
                      *(str(counts[lang]) for lang in langs))
        problems.extend(f.problems)
    out.print(table)
    for problem in problems:
        err.print(str(problem), soft_wrap=True, markup=False)
    if problems:
        raise RecipientError(f"{len(problems)} invalid row(s) in the lists above")
    out.print("All lists are valid.")


def main() -> None:
    cli(prog_name="newsletter")
