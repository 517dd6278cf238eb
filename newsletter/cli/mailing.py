"""Commands that mail: send, digest, dispatch, cancel, and the campaign report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from newsletter.app import mailing, workers
from newsletter.app.workspace import language_info
from newsletter.cli.base import cli, err, out, say, workspace_of
from newsletter.errors import DeliveryError


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
        click.option("--outbox", "outbox", type=click.Path(file_okay=False, path_type=Path),
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
@click.option("--workers", "workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes that send it (claiming pages of the ledger) while "
                   "this one plans and reports; without it, this process sends. "
                   "'newsletter work' on another machine can join either way.")
@click.option("--at", "at", metavar="TIME", help="Schedule instead of sending now, e.g. "
              "'2026-12-01 09:00' (workspace time zone). SendGrid holds the messages (at most "
              "72 hours ahead); other transports send when 'newsletter dispatch' runs.")
@click.pass_context
def send_cmd(ctx: click.Context, release: str, dry_run: bool, at: str | None,
             workers: int | None, **options: object) -> None:
    """Send RELEASE to the recipients of the chosen lists, each in their language.

    Every recipient gets the edition of their language when it is completely
    reviewed, else the next language of its fallback chain, else the source.
    The plan is made before any message is built; --dry-run shows it.
    """
    ws = workspace_of(ctx)
    planned = mailing.plan_release(ws, release, mailing.MailingOptions(**options))  # type: ignore[arg-type]
    if at and not dry_run:
        if workers:
            raise click.UsageError("--workers is for sending now; a scheduled send is "
                                   "dispatched by 'newsletter dispatch'")
        done = mailing.schedule(ws, planned, at)
        stamp = done.at.isoformat(sep=" ", timespec="minutes")
        if done.result is not None:
            out.print(f"Campaign {done.campaign}: {done.result.delivered} message(s) handed to "
                      f"SendGrid, to be delivered at {stamp} (batch {done.batch_id}); "
                      f"'newsletter cancel {done.campaign}' stops them.", soft_wrap=True)
        else:
            out.print(f"Campaign {done.campaign} scheduled for {stamp}; 'newsletter dispatch' "
                      "(from cron) sends it when it is due.", soft_wrap=True)
        return
    embargo = planned.release.embargo
    if dry_run and embargo:
        out.print(f"Embargo until {embargo.isoformat()}: a real send before then is "
                  "refused.", soft_wrap=True)
    _run(ws, planned, dry_run, workers)


@cli.command()
@click.argument("month", metavar="YYYY-MM")
@_mailing_options
@click.pass_context
def digest(ctx: click.Context, month: str, dry_run: bool, **options: object) -> None:
    """Send all news releases of MONTH as one newsletter per language.

    The table of contents and buttons are in the reader's language; each item follows
    the reader's language and its fallback chain on its own, labelled when it is shown
    in another language. Press releases are not part of the digest.
    """
    ws = workspace_of(ctx)
    planned = mailing.plan_digest(ws, month, mailing.MailingOptions(**options))  # type: ignore[arg-type]
    for note in planned.notes:
        out.print(note, soft_wrap=True)
    out.print(planned.title, soft_wrap=True)
    _run(ws, planned, dry_run)


@cli.command()
@click.option("--campaign", metavar="ID", help="Join this campaign only, and end when it has "
                                                "nothing left to claim.")
@click.option("--once", is_flag=True, help="End when no running campaign has work left, "
                                           "instead of waiting for the next one.")
@click.option("--quiet", is_flag=True, help="Print errors only (workers started by send).")
@click.pass_context
def work(ctx: click.Context, campaign: str | None, once: bool, quiet: bool) -> None:
    """Join the campaigns a 'newsletter send' is sending right now, on this or another
    machine with the same workspace and state database: claim pages of recipients and
    send them, through the same ledger (nobody gets a message twice)."""
    ws = workspace_of(ctx)
    results = workers.work(ws, campaign=campaign, once=once,
                           say=(lambda message: None) if quiet else say)
    for run in results:
        if not quiet:
            out.print(f"Campaign {run.campaign}: {run.handed_over} message(s) handed over by "
                      "this worker", soft_wrap=True)
        if run.paused:
            sys.exit(130)
        if run.stopped:
            raise DeliveryError(f"stopped: {run.stopped}")


def _run(ws, planned: mailing.Mailing, dry_run: bool,  # type: ignore[no-untyped-def]
         workers: int | None = None) -> None:
    """Print the plan, or send it and print what happened (shared by send and digest)."""
    plan = planned.planned
    _print_skipped(plan)
    if dry_run:
        _print_recipients(plan)
        _print_summary(plan, "Plan (dry run, nothing written)")
        out.print(_kind_line(planned), soft_wrap=True)
        return
    if not len(plan.plan):
        out.print("Nobody selected: nothing to send.")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task(f"Sending {plan.campaign}", total=len(plan.plan))
        result = mailing.send(ws, planned, say=say, workers=workers,
                              progress=lambda done, total: bar.update(task, completed=done))
    _print_result(ws, planned, result)


def _print_result(ws, planned: mailing.Mailing, result) -> None:  # type: ignore[no-untyped-def]
    run = result.run
    _print_summary(planned.planned, f"Campaign {planned.planned.campaign}: {result.delivered} "
                                    "message(s) handed over in this run")
    where = result.destination
    if Path(where).is_absolute():
        where = ws.relative(Path(where))
    out.print(f"Messages written to {where}/" if planned.request.transport == "outbox"
              else f"Messages handed to {where}", soft_wrap=True)
    out.print(_kind_line(planned), soft_wrap=True)
    shown = {k: v for k, v in run.counts.items() if v}
    out.print("Ledger: " + ", ".join(f"{n} {status}" for status, n in shown.items()),
              soft_wrap=True)
    if run.finished and not run.handed_over and not run.rejected_now:
        out.print(f"Campaign {run.campaign} is finished: nothing was left to send, and "
                  "nobody got it twice.", soft_wrap=True)
    for note in run.notes:
        out.print(note, soft_wrap=True)
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


def _kind_line(planned: mailing.Mailing) -> str:
    if planned.planned.rehearsal == "outbox":
        return ("Rehearsal (outbox): files only, nobody receives anything; the real send is "
                "a campaign of its own.")
    if planned.planned.rehearsal == "sandbox":
        return ("Rehearsal (SendGrid sandbox): validated, nobody receives anything; the real "
                "send is a campaign of its own.")
    return f"Real send through {planned.request.transport}: every recipient above receives it."


def _print_skipped(planned) -> None:  # type: ignore[no-untyped-def]
    aud = planned.audience
    for problem in aud.skipped:
        err.print(f"skipped {problem}", soft_wrap=True, markup=False)
    for note in aud.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)


def _print_recipients(planned) -> None:  # type: ignore[no-untyped-def]
    table = Table("recipient", "lists", "reads", "gets", "why")
    for a in planned.plan:
        table.add_row(a.recipient.email, ",".join(a.recipient.lists), a.reader_lang,
                      a.edition_lang, a.reason or "own language")
    out.print(table)


def _print_summary(planned, title: str) -> None:  # type: ignore[no-untyped-def]
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
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Send the scheduled campaigns that are due (run it from cron every few minutes)."""
    done = mailing.dispatch(workspace_of(ctx))
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
    out.print(mailing.cancel(workspace_of(ctx), campaign), soft_wrap=True)


@cli.command()
@click.argument("campaign")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rows to this CSV file instead.")
@click.pass_context
def report(ctx: click.Context, campaign: str, csv_file: Path | None) -> None:
    """Who got which language of CAMPAIGN, and what happened to each message."""
    ws = workspace_of(ctx)
    done = mailing.report(ws, campaign, csv_file)
    if done.csv is not None:
        out.print(f"{len(done.rows)} row(s) written to {ws.relative(done.csv)}", soft_wrap=True)
    else:
        table = Table("recipient", "language", "status", "attempts", "last error", "updated")
        for r in done.rows:
            table.add_row(r.email, r.language, r.status, str(r.attempts), r.last_error,
                          r.updated_at)
        out.print(table)
    out.print(", ".join(f"{n} {s}" for s, n in done.counts.items() if n) or "no rows")
