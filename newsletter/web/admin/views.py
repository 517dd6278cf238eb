"""Rendering an admin page: the interface language, what every template sees, errors."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from newsletter.app.accounts import Account
from newsletter.app.adminpages import choose_ui
from newsletter.web.admin.site import admin_site


def ui_language(request: Request, user: Account | None) -> str:
    """?ui= (this page), then the account's choice, then the browser's, then English."""
    site = admin_site(request)
    return choose_ui(site.pages, request.query_params.get("ui", ""),
                     user.ui_language if user else "",
                     accept=request.headers.get("accept-language", ""))


def render(request: Request, user: Account | None, template: str, *, status: int = 200,
           **values: Any) -> HTMLResponse:
    site = admin_site(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx = {"user": user, "url": site.url, "here": here,
           "stylesheet": site.url("admin.css"), **values}
    html = site.pages.render(template, ui_language(request, user), ctx)
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, user: Account | None, status: int, problem: str
                 ) -> HTMLResponse:
    """An error page: ``problem`` is signed_out, forbidden, cross_site, not_found or
    too_many; it says no more than that (no names, no reasons for logs)."""
    return render(request, user, "error.html.j2", status=status, status_code=status,
                  problem=problem)
