"""Sending releases and digests, schedules, and campaign reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.app.workers import starter
from newsletter.app.workspace import find_release, target_codes
from newsletter.audience.selection import Selection, parse_where
from newsletter.content.release import Release
from newsletter.delivery import scheduling
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.loop import Progress
from newsletter.delivery.records import Row
from newsletter.delivery.reports import write_report_csv
from newsletter.delivery.sending import Planned, PrepareAll, SendRequest, SendResult, plan_send
from newsletter.delivery.sending import send as send_planned
from newsletter.delivery.transports import Transport
from newsletter.errors import DeliveryError
from newsletter.publish import digest as digests
from newsletter.workspace.config import Workspace

Say = Callable[[str], None]


@dataclass(frozen=True)
class MailingOptions:
    """What the user chose for a send or a digest (the command line's options)."""

    lists: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    where: tuple[str, ...] = ()  # "field=value"
    transport: str | None = None  # default from newsletter.toml
    outbox: Path | None = None
    skip_invalid: bool = False
    resend_unknown: bool = False
    retry_rejected: bool = False
    sandbox: bool = False

    def request(self, ws: Workspace) -> SendRequest:
        selection = Selection(lists=self.lists, tags=self.tags,
                              langs=target_codes(ws, self.langs), where=parse_where(self.where))
        return SendRequest(selection=selection,
                           transport=self.transport or ws.config.delivery.transport,
                           outbox=self.outbox, skip_invalid=self.skip_invalid,
                           resend_unknown=self.resend_unknown,
                           retry_rejected=self.retry_rejected, sandbox=self.sandbox)


@dataclass(frozen=True)
class Mailing:
    """A planned mailing: what --dry-run shows, and what ``send`` sends."""

    release: Release  # for a digest: its first news item (embargo, campaign record)
    request: SendRequest
    planned: Planned
    prepare_all: PrepareAll | None = None  # renders a digest instead of one release
    title: str = ""  # "Digest 2018-08: ..." for digests
    notes: list[str] = field(default_factory=list)


def plan_release(ws: Workspace, ref: str, options: MailingOptions) -> Mailing:
    rel = find_release(ws, ref)
    request = options.request(ws)
    return Mailing(rel, request, plan_send(ws, rel, request))


def plan_digest(ws: Workspace, month: str, options: MailingOptions) -> Mailing:
    """All news of ``month`` as one newsletter per reader language."""
    found = digests.collect(ws, digests.parse_month(month))
    request = options.request(ws)
    plan, audience, items = digests.digest_plan(found, ws, request.selection,
                                                skip_invalid=request.skip_invalid)
    planned = Planned(digests.digest_campaign_id(found, request.selection, request.rehearsal),
                      audience, plan, request.rehearsal)

    def prepare_all(renderer):  # type: ignore[no-untyped-def]
        return {lang: digests.prepare_digest(renderer, ws, edition, items[lang])
                for lang, edition in plan.editions.items()}

    notes = [f"{rid}: under embargo, left out of the digest" for rid in found.embargoed]
    title = f"Digest {found.month:%Y-%m}: " + ", ".join(r.id for r in found.releases)
    return Mailing(found.releases[0], request, planned, prepare_all, title, notes)


def send(ws: Workspace, mailing: Mailing, *, progress: Progress | None = None,
         say: Say = lambda message: None, transport: Transport | None = None,
         workers: int | None = None) -> SendResult:
    """Send a planned mailing; ``transport`` replaces the one the options name.
    ``workers``: that many worker processes send it (app/workers.py), not this one."""
    start = None
    if workers:
        if mailing.prepare_all is not None:
            raise DeliveryError("a digest is sent by one process; --workers is for releases")
        start = starter(ws, mailing.planned.campaign, workers)
    return send_planned(ws, mailing.release, mailing.request, mailing.planned,
                        progress=progress, say=say, prepare_all=mailing.prepare_all,
                        transport=transport, workers=start)


def schedule(ws: Workspace, mailing: Mailing, at: str) -> scheduling.Scheduled:
    """Hold a release until ``at`` (the workspace's time zone unless it has an offset)."""
    when = scheduling.parse_at(at, ws.config.delivery.timezone)
    return scheduling.schedule_send(ws, mailing.release, mailing.request, when)


def dispatch(ws: Workspace, now: dt.datetime | None = None) -> list[tuple[str, SendResult]]:
    return scheduling.dispatch(ws, now)


def cancel(ws: Workspace, campaign: str) -> str:
    return scheduling.cancel(ws, campaign)


@dataclass(frozen=True)
class Report:
    campaign: str
    rows: list[Row]
    counts: dict[str, int]
    csv: Path | None = None


def report(ws: Workspace, campaign: str, csv: Path | None = None) -> Report:
    """Who got which language of ``campaign``; with ``csv``, written there (recorded, so
    that erasure can name the file later)."""
    with open_ledger(ws.state_dir) as ledger:
        if not ledger.has_campaign(campaign):
            known = ", ".join(c.id for c in ledger.campaigns()) or "none yet"
            raise DeliveryError(f"no campaign {campaign!r} in the ledger (known: {known})")
        rows = ledger.rows(campaign)
        counts = ledger.counts(campaign)
        target = None
        if csv is not None:
            target = ws.operator_path(csv)
            write_report_csv(target, rows)
            ledger.record_export(target, campaign)
    return Report(campaign, rows, counts, target)
