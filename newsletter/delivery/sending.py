"""Sending a release: audience, plan, one rendering per edition, the ledgered send loop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.selection import Audience, Plan, Selection, make_plan
from newsletter.content.release import Release
from newsletter.delivery import audiences
from newsletter.delivery.campaigns import rehearsal_of, release_campaign_id
from newsletter.delivery.keys import load_signer
from newsletter.delivery.loop import Progress, RunResult, run_campaign
from newsletter.delivery.mime import MessageBuilder, Prepared, load_attachments, prepare
from newsletter.delivery.transports import Transport, make_transport
from newsletter.errors import EmbargoError
from newsletter.render.renderer import Renderer
from newsletter.workspace.config import Workspace


@dataclass(frozen=True)
class SendRequest:
    selection: Selection
    transport: str
    outbox: Path | None = None
    skip_invalid: bool = False
    resend_unknown: bool = False
    retry_rejected: bool = False
    sandbox: bool = False
    send_at: int | None = None  # SendGrid only: hold until this Unix time
    batch_id: str = ""  # SendGrid only: the batch a scheduled send belongs to


    @property
    def rehearsal(self) -> str:
        """"outbox" or "sandbox" for a rehearsal, "" for a real send."""
        return rehearsal_of(self.transport, self.sandbox)


@dataclass(frozen=True)
class Planned:
    campaign: str
    audience: Audience
    plan: Plan
    rehearsal: str = ""  # "outbox" or "sandbox": nobody receives anything


@dataclass(frozen=True)
class SendResult:
    planned: Planned
    run: RunResult
    destination: str  # where the messages went (the outbox folder, a server)

    @property
    def delivered(self) -> int:
        return self.run.handed_over


def check_embargo(release: Release, now: dt.datetime) -> None:
    """A release under embargo may not leave before its time."""
    if release.embargo and now < release.embargo:
        raise EmbargoError(f"{release.id} is under embargo until "
                           f"{release.embargo.isoformat(sep=' ', timespec='minutes')}; "
                           "it cannot be sent before then")


def plan_send(ws: Workspace, release: Release, request: SendRequest) -> Planned:
    """Everything up to the first message: what --dry-run shows. Writes nothing (the
    ledger's sign-ups and preferences are read only when it exists)."""
    audience = audiences.load(ws, request.selection, skip_invalid=request.skip_invalid)
    plan = make_plan(release, ws, audience.recipients, request.selection.langs)
    campaign = release_campaign_id(release, request.selection, request.rehearsal)
    return Planned(campaign, audience, plan, request.rehearsal)


PrepareAll = Callable[[Renderer], dict[str, Prepared]]


def send(ws: Workspace, release: Release, request: SendRequest, planned: Planned,
         progress: Progress | None = None, say: Callable[[str], None] = lambda m: None,
         now: dt.datetime | None = None, prepare_all: PrepareAll | None = None,
         transport: Transport | None = None) -> SendResult:
    """Send a planned campaign. ``prepare_all`` renders other mailings than one release
    (the digest); by default every edition of ``release`` is prepared. ``transport``
    replaces the one the request names (an in-memory transport in tests)."""
    check_embargo(release, now or dt.datetime.now(dt.UTC))
    if transport is None:
        transport = make_transport(ws, request.transport, planned.campaign,
                                   outbox=request.outbox, sandbox=request.sandbox, say=say,
                                   send_at=request.send_at, batch_id=request.batch_id)
    state = ws.state_dir
    signer = load_signer(state, allow_state_secret=not transport.needs_env_secret)
    # Render and inline each edition once; per recipient there is only substitution.
    renderer = Renderer(ws, lambda path: _asset_url(ws, path))
    if prepare_all is not None:
        prepared = prepare_all(renderer)
    else:
        files = load_attachments(release.attachments, ws.config.delivery.attachment_budget_mb)
        prepared = {key: prepare(renderer, edition, ws, files)
                    for key, edition in planned.plan.editions.items()}
    builder = MessageBuilder(ws, signer, planned.campaign)
    run = run_campaign(
        state_dir=state, campaign=planned.campaign, release_id=release.id,
        selection=request.selection.key(), assignments=planned.plan,
        prepared=prepared, builder=builder, transport=transport,
        resend_unknown=request.resend_unknown, retry_rejected=request.retry_rejected,
        progress=progress,
        retry_after=ws.config.delivery.smtp.retry_after if request.transport == "smtp" else 0,
    )
    return SendResult(planned, run, transport.destination)


def _asset_url(ws: Workspace, path: Path) -> str:
    """Images in mails must be absolute URLs: they are published beside the archive."""
    return f"{ws.config.web.archive_url}{ws.relative(path)}"
