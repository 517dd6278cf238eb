"""Sending a release: audience, plan, one rendering per edition, the ledgered send loop."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.selection import Audience, Plan, Selection, editions_for, make_plan
from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.delivery import audiences
from newsletter.delivery.campaigns import rehearsal_of, release_campaign_id
from newsletter.delivery.keys import load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.loop import (
    Progress,
    RunResult,
    StartWorkers,
    run_campaign,
    work_campaign,
)
from newsletter.delivery.mime import MessageBuilder, Prepared, load_attachments, prepare
from newsletter.delivery.resuming import resumable
from newsletter.delivery.transports import Transport, make_transport
from newsletter.errors import DeliveryError, EmbargoError
from newsletter.render.renderer import Renderer
from newsletter.translation.editions import Edition
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
         transport: Transport | None = None, workers: StartWorkers | None = None) -> SendResult:
    """Send a planned campaign. ``prepare_all`` renders other mailings than one release
    (the digest); by default every edition of ``release`` is prepared. ``transport``
    replaces the one the request names (an in-memory transport in tests). ``workers``
    starts the processes that send it (``join``), this one only plans and oversees."""
    check_embargo(release, now or dt.datetime.now(dt.UTC))
    if transport is None:
        transport = make_transport(ws, request.transport, planned.campaign,
                                   outbox=request.outbox, sandbox=request.sandbox, say=say,
                                   send_at=request.send_at, batch_id=request.batch_id)
    state = ws.state_dir
    signer = load_signer(state, allow_state_secret=not transport.needs_env_secret)
    if workers is not None:
        prepared = {}  # each worker prepares the editions itself
    elif prepare_all is not None:
        prepared = prepare_all(_renderer(ws))
    else:
        prepared = _prepare(ws, release, planned.plan.editions)
    builder = MessageBuilder(ws, signer, planned.campaign)
    run = run_campaign(
        state_dir=state, campaign=planned.campaign, release_id=release.id,
        selection=request.selection.key(), assignments=planned.plan,
        prepared=prepared, builder=builder, transport=transport,
        resend_unknown=request.resend_unknown, retry_rejected=request.retry_rejected,
        progress=progress, retry_after=_retry_after(ws, request.transport),
        request="" if prepare_all is not None else job_request(ws, release, request),
        workers=workers,
    )
    return SendResult(planned, run, transport.destination)


def _retry_after(ws: Workspace, transport: str) -> float:
    return ws.config.delivery.smtp.retry_after if transport == "smtp" else 0


def job_request(ws: Workspace, release: Release, request: SendRequest) -> str:
    """What a worker joining the campaign needs besides the workspace (claims.py); the
    release file's digest, so that nobody sends an edited file under this campaign."""
    return json.dumps({"release": ws.relative(release.path), "digest": _digest(release.path),
                       "transport": request.transport,
                       "outbox": str(request.outbox) if request.outbox else "",
                       "sandbox": request.sandbox, "send_at": request.send_at,
                       "batch_id": request.batch_id}, sort_keys=True)


def join(ws: Workspace, campaign: str, job: str, *, progress: Progress | None = None,
         say: Callable[[str], None] = lambda m: None,
         now: dt.datetime | None = None) -> RunResult:
    """Work on a campaign another process dispatched: prepare the editions its rows name
    from ``job`` (``job_request``), then claim and send pages until none is left."""
    try:
        spec = json.loads(job)
        path = ws.inside(spec["release"], what="release")
        digest = spec["digest"]
    except (ValueError, KeyError, TypeError) as err:
        raise DeliveryError(f"campaign {campaign} cannot be joined: its request in the "
                            f"ledger is unreadable ({err})") from None
    if not path.is_file() or _digest(path) != digest:
        raise DeliveryError(f"{spec['release']} is not the file campaign {campaign} was "
                            "planned from (missing or edited since): this worker sends "
                            "nothing; use the same workspace as the sending machine")
    release = load_release(path, ws.root, timezone=ws.config.delivery.timezone)
    check_embargo(release, now or dt.datetime.now(dt.UTC))
    transport = make_transport(ws, spec["transport"], campaign,
                               outbox=Path(spec["outbox"]) if spec["outbox"] else None,
                               sandbox=bool(spec["sandbox"]), say=say,
                               send_at=spec["send_at"], batch_id=spec["batch_id"])
    signer = load_signer(ws.state_dir, allow_state_secret=not transport.needs_env_secret)
    with resumable(ws.state_dir, campaign), open_ledger(ws.state_dir) as ledger:
        ledger.verify()
        prepared = _prepare(ws, release, editions_for(release, ws, ledger.languages(campaign)))
        result = RunResult(campaign, {}, [])
        work_campaign(ledger, state_dir=ws.state_dir, campaign=campaign, prepared=prepared,
                      builder=MessageBuilder(ws, signer, campaign), transport=transport,
                      result=result, progress=progress,
                      retry_after=_retry_after(ws, spec["transport"]))
        result.counts = ledger.counts(campaign)
        return result


def _prepare(ws: Workspace, release: Release, editions: dict[str, Edition]
             ) -> dict[str, Prepared]:
    """Render and inline each edition once; per recipient there is only substitution."""
    renderer = _renderer(ws)
    files = load_attachments(release.attachments, ws.config.delivery.attachment_budget_mb)
    return {key: prepare(renderer, edition, ws, files) for key, edition in editions.items()}


def _renderer(ws: Workspace) -> Renderer:
    return Renderer(ws, lambda path: _asset_url(ws, path))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _asset_url(ws: Workspace, path: Path) -> str:
    """Images in mails must be absolute URLs: they are published beside the archive."""
    return f"{ws.config.web.archive_url}{ws.relative(path)}"
