"""The admin dashboard: every release against every language an account may see.

The numbers are the ones ``newsletter status`` prints (translation/progress), the
edition a reader gets is the one ``preview`` and ``send`` would choose (the same walk
along the fallback chain as editions.build_edition), and the campaigns come from the
ledger. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePosixPath

from newsletter.app.accounts import Account
from newsletter.app.audit import WEB_BUSY_TIMEOUT
from newsletter.app.workspace import list_releases
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.records import Campaign, Schedule, ScheduleState
from newsletter.translation.editions import FALLBACK, SOURCE, TRANSLATED, Coverage
from newsletter.translation.progress import release_status
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language

WAITING = (ScheduleState.SCHEDULED, ScheduleState.HANDED_OVER)


@dataclass(frozen=True)
class Cell:
    """One release in one language."""

    language: Language
    policy: str  # "reviewed" or "machine"
    total: int
    approved: int
    to_review: int  # drafts waiting for a reviewer (fuzzy)
    missing: int  # not translated at all
    failing: int  # translations that fail a check (never sent)
    publishable: bool
    edition: Language  # what its readers get now
    status: str  # "translated" or "fallback" (or "source" for the source column)
    note: str = ""  # e.g. the catalog does not exist


@dataclass(frozen=True)
class CampaignSummary:
    id: str
    kind: str  # "real" or "rehearsal"
    transport: str
    created_at: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ReleaseRow:
    id: str
    title: str  # in the source language
    kind: str  # "news" or "press"
    date: dt.date
    entries: int  # translatable entries of the source
    embargo: dt.datetime | None
    under_embargo: bool
    schedules: tuple[Schedule, ...]  # sends waiting for their time
    campaign: CampaignSummary | None  # the latest, if any
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Dashboard:
    source: Language
    languages: tuple[Language, ...]  # the columns this account sees
    releases: tuple[ReleaseRow, ...]
    show_campaigns: bool  # officers only: reviewers have no business with sends


def _cells(ws: Workspace, covs: dict[str, Coverage], langs: tuple[str, ...]
           ) -> tuple[Cell, ...]:
    cfg = ws.config.languages
    out = []
    for code in langs:
        cov = covs[code]
        # the first publishable language of the chain, as build_edition walks it
        gets = next(c for c in cfg.chain(code) if c == cfg.source or covs[c].publishable)
        out.append(Cell(language(code), cov.policy, cov.total, cov.reviewed, cov.drafts,
                        cov.missing, len(cov.failing), cov.publishable, language(gets),
                        TRANSLATED if gets == code else FALLBACK, cov.note))
    return tuple(out)


def _latest(campaigns: list[Campaign], release_id: str) -> Campaign | None:
    mine = [c for c in campaigns if c.release == release_id]
    return max(mine, key=lambda c: c.created_at) if mine else None


def dashboard(ws: Workspace, account: Account, now: dt.datetime | None = None) -> Dashboard:
    cfg = ws.config.languages
    moment = now or dt.datetime.now(dt.UTC)
    visible = tuple(c for c in cfg.targets if account.may_read(c))
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        campaigns = ledger.campaigns()
        schedules = [s for s in ledger.schedules() if s.status in WAITING]
        rows = []
        for status in (release_status(rel, ws) for rel in list_releases(ws)):
            rel = status.release
            covs = {cov.language: cov for cov in status.languages}
            last = _latest(campaigns, rel.id) if account.is_officer else None
            summary = (CampaignSummary(last.id, last.kind, last.transport, last.created_at,
                                       ledger.counts(last.id)) if last else None)
            rows.append(ReleaseRow(
                rel.id, rel.title.plain, rel.kind, rel.date,
                len({(u.context, u.segment.text) for u in rel.units()}), rel.embargo,
                bool(rel.embargo and moment < rel.embargo),
                tuple(s for s in schedules if PurePosixPath(s.release).stem == rel.id),
                summary, _cells(ws, covs, visible)))
    return Dashboard(language(cfg.source), tuple(language(c) for c in visible), tuple(rows),
                     account.is_officer)


__all__ = ["FALLBACK", "SOURCE", "TRANSLATED", "Cell", "Dashboard", "ReleaseRow", "dashboard"]
