"""The dashboard (``admin/``): releases against languages, embargoes, schedules, campaigns."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.app import dashboard as overview
from newsletter.app.accounts import Account
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render


@admin_page
async def dashboard(request: Request, user: Account) -> Response:
    board = await run_in_threadpool(overview.dashboard, admin_site(request).ws, user)
    return render(request, user, "dashboard.html.j2", board=board)


routes = [Route("/", dashboard, methods=["GET"])]
