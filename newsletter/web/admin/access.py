"""Who may open an admin page: the access API every admin module uses.

    @admin_page                    any signed-in account
    @admin_page(officer=True)      officers only (403 for a reviewer)
    async def endpoint(request: Request, user: Account) -> Response: ...

    require_language(user, lang)   inside an endpoint: 403 unless the account may see
                                   and change ``lang`` (a reviewer: their languages)
    require_officer(user)          the same for the officer's role
    current_user(request)          the account, or None (pages open to everyone)

The decorator refuses, before the endpoint runs: a POST (or any non-GET) from another
site (403), a request without a live session (GET: to the login page, which comes back
here afterwards; otherwise 401), a reviewer on an officer's page (403). Unknown
releases and languages in the path become 404. Errors an endpoint raises this way
(Forbidden, NotSignedIn, ReleaseError, LanguageError) are answered the same.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import overload

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from newsletter.app.accounts import Account, require_language, require_officer
from newsletter.errors import (
    Forbidden,
    LanguageError,
    NotSignedIn,
    ReleaseError,
    WorkspaceError,
)
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render_error
from newsletter.web.security import CrossSite, check_same_site

__all__ = ["COOKIE", "Account", "admin_page", "current_user", "require_language",
           "require_officer"]

log = logging.getLogger("newsletter.web.admin")
COOKIE = "newsletter_admin"
SAFE_METHODS = ("GET", "HEAD")

Endpoint = Callable[[Request, Account], Awaitable[Response]]


def session_cookie(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


async def current_user(request: Request) -> Account | None:
    """The signed-in account of this request, or None."""
    if hasattr(request.state, "admin_user"):
        return request.state.admin_user
    cookie = session_cookie(request)
    user = None
    if cookie:
        try:
            user = await run_in_threadpool(admin_site(request).sessions.account, cookie)
        except NotSignedIn as why:
            log.info("%s %s: not signed in: %s", request.method, request.url.path, why)
    request.state.admin_user = user
    return user


def _to_login(request: Request) -> Response:
    site = admin_site(request)
    if request.method in SAFE_METHODS:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = RedirectResponse(site.url("login", next=here), status_code=303)
    else:
        response = render_error(request, None, 401, "signed_out")
    if session_cookie(request):  # a dead session: let the browser forget it
        response.delete_cookie(COOKIE, path=site.base, secure=site.secure_cookie,
                               httponly=True, samesite="lax")
    return response


@overload
def admin_page(handler: Endpoint, /) -> Callable[[Request], Awaitable[Response]]: ...
@overload
def admin_page(*, officer: bool = False
               ) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]: ...


def admin_page(handler: Endpoint | None = None, /, *, officer: bool = False):  # type: ignore[no-untyped-def]
    """Make ``handler(request, user)`` a Starlette endpoint that only the right
    accounts reach (see the module's docstring)."""

    def decorate(handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                if request.method not in SAFE_METHODS:
                    check_same_site(request, admin_site(request).public_url)
                user = await current_user(request)
                if user is None:
                    raise NotSignedIn("no live session")
                if officer:
                    require_officer(user)
                return await handler(request, user)
            except NotSignedIn:
                return _to_login(request)
            except (Forbidden, CrossSite) as why:
                log.info("%s %s: 403 %s", request.method, request.url.path, why)
                problem = "cross_site" if isinstance(why, CrossSite) else "forbidden"
                return render_error(request, await current_user(request), 403, problem)
            except (ReleaseError, LanguageError, WorkspaceError) as why:
                log.info("%s %s: 404 %s", request.method, request.url.path, why)
                return render_error(request, await current_user(request), 404, "not_found")

        return endpoint

    return decorate if handler is None else decorate(handler)
