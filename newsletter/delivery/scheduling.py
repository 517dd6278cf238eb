"""Scheduled sends: SendGrid holds them (send_at, batch id); other transports wait for
``newsletter dispatch``, run from cron, which sends what is due."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from newsletter.audience.selection import Selection
from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.delivery.ledger import open_ledger
from newsletter.delivery.records import ScheduleState
from newsletter.delivery.sending import SendRequest, SendResult, check_embargo, plan_send, send
from newsletter.errors import DeliveryError
from newsletter.workspace.config import Workspace

SENDGRID_MAX_AHEAD = dt.timedelta(hours=72)


def parse_at(value: str, timezone: str) -> dt.datetime:
    """'2026-12-01 09:00' in the workspace's time zone, or with an explicit UTC offset."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as err:
        raise DeliveryError(f"--at {value!r}: write a time such as 2026-12-01 09:00") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


@dataclass(frozen=True)
class Scheduled:
    campaign: str
    at: dt.datetime
    transport: str
    batch_id: str
    result: SendResult | None  # SendGrid: the requests already handed over with send_at


def _request_json(request: SendRequest) -> str:
    data = asdict(request)
    data["outbox"] = str(request.outbox) if request.outbox else None
    return json.dumps(data, sort_keys=True)


def _request_from(text: str) -> SendRequest:
    data = json.loads(text)
    sel = data.pop("selection")
    data["outbox"] = Path(data["outbox"]) if data.get("outbox") else None
    data.update(send_at=None, batch_id="")
    return SendRequest(selection=Selection(
        lists=tuple(sel["lists"]), tags=tuple(sel["tags"]), langs=tuple(sel["langs"]),
        where=tuple(tuple(w) for w in sel["where"])), **data)


def schedule_send(ws: Workspace, release: Release, request: SendRequest, at: dt.datetime,
                  now: dt.datetime | None = None) -> Scheduled:
    moment = now or dt.datetime.now(dt.UTC)
    if at <= moment:
        raise DeliveryError(f"--at {at.isoformat(sep=' ', timespec='minutes')} is not in the "
                            "future")
    check_embargo(release, at)  # the scheduled time itself must respect the embargo
    planned = plan_send(ws, release, request)
    state = ws.state_dir
    rel_path = ws.relative(release.path)
    if request.transport == "sendgrid":
        if at - moment > SENDGRID_MAX_AHEAD:
            raise DeliveryError("SendGrid schedules at most 72 hours ahead; schedule it later, "
                                "or use another transport with 'newsletter dispatch'")
        from newsletter.delivery.transports.sendgrid_api import create_batch

        batch = create_batch(ws.config.delivery.sendgrid)
        held = SendRequest(**{**asdict(request), "selection": request.selection,
                              "send_at": int(at.timestamp()), "batch_id": batch})
        with open_ledger(state) as ledger:
            ledger.schedule(planned.campaign, rel_path, _request_json(request), at.isoformat(),
                            "sendgrid", batch, ScheduleState.HANDED_OVER)
        result = send(ws, release, held, planned, now=at)
        return Scheduled(planned.campaign, at, "sendgrid", batch, result)
    with open_ledger(state) as ledger:
        ledger.schedule(planned.campaign, rel_path, _request_json(request), at.isoformat(),
                        request.transport, "", ScheduleState.SCHEDULED)
    return Scheduled(planned.campaign, at, request.transport, "", None)


def dispatch(ws: Workspace, now: dt.datetime | None = None) -> list[tuple[str, SendResult]]:
    """Send every scheduled campaign that is due; a campaign that stops stays scheduled
    (the ledger makes the next dispatch continue without sending anything twice)."""
    moment = now or dt.datetime.now(dt.UTC)
    state = ws.state_dir
    with open_ledger(state) as ledger:
        due = [s for s in ledger.schedules(ScheduleState.SCHEDULED)
               if dt.datetime.fromisoformat(s.send_at) <= moment]
    done = []
    for entry in due:
        campaign, rel_path = entry.campaign, entry.release
        release = load_release(ws.inside(rel_path, what="release"), ws.root,
                               timezone=ws.config.delivery.timezone)
        request = _request_from(entry.request)
        planned = plan_send(ws, release, request)
        if planned.campaign != campaign:
            raise DeliveryError(f"{rel_path} changed since {campaign} was scheduled; cancel "
                                "it and schedule the new version")
        result = send(ws, release, request, planned, now=moment)
        if not (result.run.stopped or result.run.paused):
            with open_ledger(state) as ledger:
                ledger.set_schedule(campaign, ScheduleState.SENT)
        done.append((campaign, result))
    return done


def cancel(ws: Workspace, campaign: str) -> str:
    state = ws.state_dir
    with open_ledger(state) as ledger:
        rows = {s.campaign: s for s in ledger.schedules()}
        if campaign not in rows:
            raise DeliveryError(f"no scheduled campaign {campaign!r}")
        entry = rows[campaign]
        at, transport, batch, status = entry.send_at, entry.transport, entry.batch_id, entry.status
        if status in (ScheduleState.SENT, ScheduleState.CANCELLED):
            raise DeliveryError(f"{campaign} is already {status}")
        if transport == "sendgrid":
            if dt.datetime.fromisoformat(at) <= dt.datetime.now(dt.UTC):
                raise DeliveryError(f"{campaign} was due at {at}: too late to cancel")
            from newsletter.delivery.transports.sendgrid_api import cancel_batch

            cancel_batch(ws.config.delivery.sendgrid, batch)
        ledger.set_schedule(campaign, ScheduleState.CANCELLED)
    return f"{campaign} cancelled ({transport}, was due at {at})"
