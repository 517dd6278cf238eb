"""Reports (``admin/reports``, officers only): the campaigns and the suppression list
counted by reason and route; one campaign per language and status
(``admin/reports/<campaign>``), and its CSV as the command writes it.

The download is a POST (same-site checked, like every change): it writes the file into
state/exports/, records it for erasure and writes the audit log.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.app import reports
from newsletter.app.accounts import Account
from newsletter.errors import DeliveryError
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render, render_error


@admin_page(officer=True)
async def overview(request: Request, user: Account) -> Response:
    ws = admin_site(request).ws
    found = await run_in_threadpool(reports.campaigns, ws)
    routes_ = await run_in_threadpool(reports.suppressions_by_route, ws)
    return render(request, user, "reports.html.j2", campaigns=found, suppressions=routes_)


@admin_page(officer=True)
async def campaign(request: Request, user: Account) -> Response:
    ws = admin_site(request).ws
    try:
        report = await run_in_threadpool(reports.campaign_report, ws,
                                         request.path_params["campaign"])
    except DeliveryError:
        return render_error(request, user, 404, "not_found")
    return render(request, user, "report.html.j2", report=report)


@admin_page(officer=True)
async def download(request: Request, user: Account) -> Response:
    ws = admin_site(request).ws
    try:
        done = await run_in_threadpool(reports.download_csv, ws,
                                       request.path_params["campaign"], user.name)
    except DeliveryError:
        return render_error(request, user, 404, "not_found")
    # the file name is made of safe characters only (reports.download_csv)
    return Response(done.data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{done.filename}"',
        "Cache-Control": "no-store"})


routes = [
    Route("/reports", overview, methods=["GET"]),
    Route("/reports/{campaign}", campaign, methods=["GET"]),
    Route("/reports/{campaign}/csv", download, methods=["POST"]),
]
