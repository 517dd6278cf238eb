"""Sending (``admin/send``), officers only: choose, dry run, typed confirmation, progress.

    GET  send                              choose a release or a month, lists, tags, languages;
                                           the campaigns so far and the waiting schedules
    GET  send/plan?kind=&release=&month=&list=&tag=&lang=
                                           the dry-run plan (GET: it changes nothing)
    POST send/start                        the typed confirmation: send now, or schedule
    GET  send/campaigns/<id>               progress from the ledger; pause, resume,
                                           resend unknown
    GET  send/campaigns/<id>/status        the same numbers as JSON (sending.js polls it)
    POST send/campaigns/<id>/pause|resume|resend-unknown
    POST send/schedules/<id>/cancel

The send itself runs in a worker process (app.sending); the progress page works without
JavaScript (a "Refresh" link) and, with it, updates itself from the status route.
No <meta refresh>: a page that reloads itself on a timer is an accessibility failure
(WCAG 2.2.1), and axe-core reports it as critical.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from newsletter.app import sending
from newsletter.app.accounts import Account
from newsletter.app.workspace import Workspace, language_info, list_releases
from newsletter.errors import (
    AudienceError,
    DeliveryError,
    EmbargoError,
    FormError,
    RecipientError,
    ReleaseError,
)
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render, ui_language
from newsletter.web.security import read_form

# what a redirect after an action tells the next page (?done=...)
DONE = ("started", "paused", "resumed", "resending", "scheduled", "cancelled")


def _fields(source: QueryParams | FormData) -> dict[str, Any]:
    return {"kind": str(source.get("kind") or "release"),
            "ref": str(source.get("month") if source.get("kind") == "digest"
                       else source.get("release") or ""),
            "lists": [str(v) for v in source.getlist("list")],
            "tags": str(source.get("tags") or ""),
            "langs": [str(v) for v in source.getlist("lang")],
            "skip_invalid": source.get("skip_invalid") == "1",
            "sandbox": source.get("sandbox") == "1"}


def _form_values(request: Request, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What the choice form needs: the releases, lists, languages, and what was chosen."""
    ws = admin_site(request).ws
    return {"releases": list_releases(ws), "lists": [*ws.config.lists, "web"],
            "languages": [language_info(c) for c in ws.config.languages.all], "chosen": fields,
            "transport": ws.config.delivery.transport}


async def _choice_page(request: Request, user: Account, fields: Mapping[str, Any], *,
                       status: int = 200, error: str = "", invalid_rows: bool = False
                       ) -> Response:
    ws = admin_site(request).ws
    campaigns = await run_in_threadpool(sending.campaigns, ws)
    waiting = await run_in_threadpool(sending.schedules, ws)
    return render(request, user, "send.html.j2", status=status, error=error,
                  invalid_rows=invalid_rows, campaigns=campaigns, schedules=waiting,
                  done=request.query_params.get("done", ""), **_form_values(request, fields))


@admin_page(officer=True)
async def index(request: Request, user: Account) -> Response:
    return await _choice_page(request, user, _fields(request.query_params))


async def _plan_page(request: Request, user: Account, fields: Mapping[str, Any], *,
                     status: int = 200, error: str = "", typed: str = "", at: str = ""
                     ) -> Response:
    """The dry run, with the confirmation form; bad choices go back to the form."""
    ws = admin_site(request).ws
    try:
        choice = sending.read_choice(ws, **fields)
        plan = await run_in_threadpool(sending.dry_run, ws, choice)
    except (FormError, AudienceError, ReleaseError) as why:
        return await _choice_page(request, user, fields, status=422, error=why.message)
    except RecipientError as why:  # invalid rows: say which, offer to leave them out
        return await _choice_page(request, user, fields, status=422, error=why.message,
                                  invalid_rows=True)
    shown = sending.format_count(plan.total, ui_language(request, user))
    return render(request, user, "send-plan.html.j2", status=status, plan=plan,
                  count=shown, error=error, typed=typed, at=at, chosen=fields)


@admin_page(officer=True)
async def plan_page(request: Request, user: Account) -> Response:
    return await _plan_page(request, user, _fields(request.query_params))


@admin_page(officer=True)
async def start(request: Request, user: Account) -> Response:
    site = admin_site(request)
    form = await read_form(request)
    fields = _fields(form)
    campaign = str(form.get("campaign") or "")
    typed = str(form.get("confirm") or "")[:40]
    at = str(form.get("at") or "")[:40]
    when = str(form.get("when") or "now")
    try:
        choice = sending.read_choice(site.ws, **fields)
        if when == "schedule":
            await run_in_threadpool(lambda: sending.schedule(
                site.ws, user, choice, campaign=campaign, typed=typed, at=at))
            return RedirectResponse(site.url("send", done="scheduled"), status_code=303)
        await run_in_threadpool(lambda: sending.start(site.ws, user, choice,
                                                      campaign=campaign, typed=typed))
    except FormError as why:
        return await _plan_page(request, user, fields, status=422, error=why.message,
                                typed=typed, at=at)
    except (EmbargoError, sending.CampaignLocked) as why:
        return await _plan_page(request, user, fields, status=409, error=why.message,
                                typed=typed, at=at)
    return RedirectResponse(site.url(f"send/campaigns/{campaign}", done="started"),
                            status_code=303)


async def _progress(request: Request) -> sending.Progress | None:
    try:
        return await run_in_threadpool(sending.progress, admin_site(request).ws,
                                       request.path_params["campaign"])
    except DeliveryError:  # no such campaign, or not an id at all
        return None


async def _campaign_view(request: Request, user: Account, *, status: int = 200,
                         error: str = "") -> Response:
    shown = await _progress(request)
    if shown is None:
        return render(request, user, "error.html.j2", status=404, status_code=404,
                      problem="not_found")
    return render(request, user, "send-progress.html.j2", status=status, progress=shown,
                  error=error, done=request.query_params.get("done", ""),
                  script=admin_site(request).url("sending.js"))


@admin_page(officer=True)
async def campaign_page(request: Request, user: Account) -> Response:
    return await _campaign_view(request, user)


@admin_page(officer=True)
async def campaign_status(request: Request, user: Account) -> Response:
    shown = await _progress(request)
    if shown is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse(shown.as_json(), headers={"Cache-Control": "no-store"})


def _action(act, done: str):  # type: ignore[no-untyped-def]
    """A button of the progress page: do it, then back to the page (or the page with
    the reason it was refused, 409)."""

    @admin_page(officer=True)
    async def endpoint(request: Request, user: Account) -> Response:
        site = admin_site(request)
        campaign = request.path_params["campaign"]
        form = await read_form(request)
        try:
            await run_in_threadpool(act, site.ws, user, campaign, form)
        except FormError as why:
            return await _campaign_view(request, user, status=422, error=why.message)
        except DeliveryError as why:  # CampaignLocked is one: say it, start nothing
            return await _campaign_view(request, user, status=409, error=why.message)
        return RedirectResponse(site.url(f"send/campaigns/{campaign}", done=done),
                                status_code=303)

    return endpoint


def _pause(ws: Workspace, user: Account, campaign: str, form: FormData) -> None:
    sending.pause(ws, user, campaign)


def _resume(ws: Workspace, user: Account, campaign: str, form: FormData) -> None:
    sending.resume(ws, user, campaign)


def _resend(ws: Workspace, user: Account, campaign: str, form: FormData) -> None:
    """Explicitly: these people may have got the message already, and will again."""
    if form.get("understood") != "1":
        raise FormError("understood", "tick the box: the recipients of unknown fate may "
                        "get the message twice")
    sending.resume(ws, user, campaign, resend_unknown=True)


@admin_page(officer=True)
async def cancel(request: Request, user: Account) -> Response:
    site = admin_site(request)
    await read_form(request)
    try:
        await run_in_threadpool(sending.cancel, site.ws, user, request.path_params["campaign"])
    except DeliveryError as why:
        return await _choice_page(request, user, _fields(QueryParams()), status=409,
                                  error=why.message)
    return RedirectResponse(site.url("send", done="cancelled"), status_code=303)


async def script(request: Request) -> Response:
    js = await run_in_threadpool(admin_site(request).pages.static, "sending.js")
    return Response(js, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


routes = [
    Route("/send", index, methods=["GET"]),
    Route("/send/plan", plan_page, methods=["GET"]),
    Route("/send/start", start, methods=["POST"]),
    Route("/send/campaigns/{campaign}", campaign_page, methods=["GET"]),
    Route("/send/campaigns/{campaign}/status", campaign_status, methods=["GET"]),
    Route("/send/campaigns/{campaign}/pause", _action(_pause, "paused"),
          methods=["POST"]),
    Route("/send/campaigns/{campaign}/resume", _action(_resume, "resumed"),
          methods=["POST"]),
    Route("/send/campaigns/{campaign}/resend-unknown", _action(_resend, "resending"),
          methods=["POST"]),
    Route("/send/schedules/{campaign}/cancel", cancel, methods=["POST"]),
    Route("/sending.js", script, methods=["GET"]),
]
