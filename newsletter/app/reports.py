"""Campaign reports for the admin pages: what ``newsletter report`` shows, per language
and status; the suppression list counted by reason and route; the report's CSV.

The numbers come from ``mailing.report`` (the command's use case), so a page and the
command can never disagree. A downloaded CSV is written the way ``report --csv`` writes
it, into ``state/exports/``, and recorded in the ledger: erasure then names the file
as one that may still hold the person's address, as it does for the command's files.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from newsletter.app import audit, mailing, people
from newsletter.app.workspace import Language, language_info
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.delivery.records import REASONS, STATUSES
from newsletter.workspace.config import Workspace

EXPORTS = "exports"  # below state/: the CSVs the admin pages hand out
REPORT_DOWNLOADED = "report downloaded"  # the audit log's action
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CampaignLine:
    id: str
    release: str
    transport: str
    kind: str  # "real" or "rehearsal"
    created_at: str
    total: int


def campaigns(ws: Workspace) -> list[CampaignLine]:
    """Every campaign of the ledger, newest first, with its number of rows."""
    if not ledger_exists(ws.state_dir):  # nothing sent yet: create nothing
        return []
    with open_ledger(ws.state_dir) as ledger:
        found = ledger.campaigns()
        totals = {c.id: sum(ledger.counts(c.id).values()) for c in found}
    return [CampaignLine(c.id, c.release, c.transport, c.kind, c.created_at, totals[c.id])
            for c in reversed(found)]


@dataclass(frozen=True)
class CampaignReport:
    campaign: str
    counts: dict[str, int]  # status -> rows, as 'newsletter report' prints them
    languages: list[Language]  # the editions that occur, by code
    by_language: dict[str, dict[str, int]]  # edition -> status -> rows
    statuses: list[str]  # the statuses that occur, in the ledger's order

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def campaign_report(ws: Workspace, campaign: str) -> CampaignReport:
    """The command's report, counted per edition language (DeliveryError when unknown)."""
    done = mailing.report(ws, campaign)
    by_language: dict[str, Counter[str]] = {}
    for row in done.rows:
        by_language.setdefault(row.language, Counter())[row.status] += 1
    statuses = [s for s in STATUSES if done.counts.get(s)]
    return CampaignReport(campaign, done.counts, [language_info(c) for c in sorted(by_language)],
                          {lang: {s: n[s] for s in statuses} for lang, n in by_language.items()},
                          statuses)


@dataclass(frozen=True)
class RouteSummary:
    """The suppression list counted: reason (bounce, complaint, unsubscribe...) by the
    route it came by (web, mailto, sendgrid:webhook, manual...)."""

    reasons: list[str]
    routes: list[str]
    counts: dict[tuple[str, str], int]  # (reason, route) -> entries

    def count(self, reason: str, route: str) -> int:
        return self.counts.get((reason, route), 0)

    def by_reason(self, reason: str) -> int:
        return sum(n for (r, _), n in self.counts.items() if r == reason)


def suppressions_by_route(ws: Workspace) -> RouteSummary:
    entries = people.suppressions(ws) if ledger_exists(ws.state_dir) else []
    counts = Counter((s.reason, s.source) for s in entries)
    reasons = [r for r in REASONS if any(reason == r for reason, _ in counts)]
    routes = sorted({route for _, route in counts})
    return RouteSummary(reasons, routes, dict(counts))


@dataclass(frozen=True)
class Download:
    filename: str  # for Content-Disposition: letters, digits, '.', '_' and '-' only
    data: bytes
    rows: int


def download_csv(ws: Workspace, campaign: str, account: str) -> Download:
    """The campaign's report CSV (the command's writer: formula cells neutralised, UTF-8
    with BOM), kept as state/exports/<campaign>.csv and recorded for erasure. The audit
    log names the campaign, not a recipient."""
    safe = _UNSAFE.sub("-", campaign).strip("-.") or "campaign"
    target = ws.state_dir / EXPORTS / f"{safe}.csv"
    target.parent.mkdir(mode=0o700, exist_ok=True)
    done = mailing.report(ws, campaign, target)
    audit.record(ws, account, REPORT_DOWNLOADED, campaign, f"{len(done.rows)} rows")
    return Download(f"report-{safe}.csv", target.read_bytes(), len(done.rows))
