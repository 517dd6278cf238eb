"""Sending a release: audience, plan, one rendering per edition, one message per recipient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience import Audience, Plan, Selection, load_audience, make_plan
from newsletter.campaign import campaign_id
from newsletter.config import Workspace
from newsletter.messages import MessageBuilder, Prepared, prepare
from newsletter.release import Release
from newsletter.render import Renderer
from newsletter.tokens import load_signer
from newsletter.transports import make_transport

STATE_DIR = "state"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SendRequest:
    selection: Selection
    transport: str
    outbox: Path | None = None
    skip_invalid: bool = False


@dataclass(frozen=True)
class Planned:
    campaign: str
    audience: Audience
    plan: Plan


@dataclass(frozen=True)
class SendResult:
    planned: Planned
    delivered: int
    destination: str  # where the messages went (the outbox folder, a server)


def plan_send(ws: Workspace, release: Release, request: SendRequest) -> Planned:
    """Everything up to the first message: what --dry-run shows. Writes nothing."""
    audience = load_audience(ws, request.selection, skip_invalid=request.skip_invalid)
    plan = make_plan(release, ws, audience.recipients, request.selection.langs)
    return Planned(campaign_id(release, request.selection), audience, plan)


def send(ws: Workspace, release: Release, request: SendRequest, planned: Planned,
         progress: Progress | None = None) -> SendResult:
    transport = make_transport(ws, request.transport, planned.campaign, request.outbox)
    signer = load_signer(ws.root / STATE_DIR, allow_state_secret=not transport.needs_env_secret)
    # Render and inline each edition once; per recipient there is only substitution.
    renderer = Renderer(ws, lambda path: _asset_url(ws, path))
    prepared: dict[str, Prepared] = {
        lang: prepare(renderer, edition, ws) for lang, edition in planned.plan.editions.items()
    }
    builder = MessageBuilder(ws, signer, planned.campaign)
    total = len(planned.plan.assignments)
    done = 0
    with transport:
        for assignment in planned.plan.assignments:
            envelope = builder.build(prepared[assignment.edition_lang], assignment.recipient)
            transport.deliver(envelope)
            done += 1
            if progress:
                progress(done, total)
    return SendResult(planned, done, transport.destination)


def _asset_url(ws: Workspace, path: Path) -> str:
    """Images in mails must be absolute URLs: they are published beside the archive."""
    rel = ws.relative(path)
    return f"{ws.config.web.archive_url}{rel}"
