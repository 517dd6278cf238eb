"""Login, logout and the interface language of the admin pages.

The login form answers a wrong name and a wrong password with the same page, the same
status and (argon2 on a dummy hash) about the same time. Too many attempts from one
network address, too many failures for one name from it, or a name slowed down by
failures elsewhere get 429 before any password is looked at (app/limits); so does a
login that finds no free turn for argon2. The session cookie: HttpOnly, SameSite=Lax,
Secure when the public URL is https, Path limited to the admin pages.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.app import accounts
from newsletter.app.accounts import Account
from newsletter.errors import LoginFailed, RateLimited
from newsletter.web.admin.access import COOKIE, admin_page, current_user, session_cookie
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render
from newsletter.web.security import CrossSite, check_same_site, read_form


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _next(request: Request, value: str) -> str:
    site = admin_site(request)
    return value if site.inside(value) else site.url()


async def login(request: Request) -> Response:
    site = admin_site(request)
    target = _next(request, request.query_params.get("next", ""))
    if request.method == "GET":
        user = await current_user(request)
        if user is not None:
            return RedirectResponse(target, status_code=303)
        return render(request, None, "login.html.j2", failed=False, too_many=False,
                      name="", next=target)
    try:
        check_same_site(request, site.public_url)
    except CrossSite:
        return render(request, None, "error.html.j2", status=403, status_code=403,
                      problem="cross_site")
    form = await read_form(request)
    name = str(form.get("username") or "")
    password = str(form.get("password") or "")
    target = _next(request, str(form.get("next") or ""))
    try:
        done = await run_in_threadpool(site.sessions.login, name, password, _client(request))
    except (LoginFailed, RateLimited) as err:
        limited = isinstance(err, RateLimited)
        return render(request, None, "login.html.j2", status=429 if limited else 401,
                      failed=not limited, too_many=limited, name=name[:64], next=target)
    old = session_cookie(request)
    if old:  # one browser, one session: the one it had before ends here
        await run_in_threadpool(site.sessions.logout, old, _client(request))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, done.cookie, max_age=site.sessions.lifetime_seconds,
                        path=site.base, secure=site.secure_cookie, httponly=True,
                        samesite="lax")
    return response


@admin_page
async def logout(request: Request, user: Account) -> Response:
    site = admin_site(request)
    await run_in_threadpool(site.sessions.logout, session_cookie(request), _client(request))
    response = RedirectResponse(site.url("login"), status_code=303)
    response.delete_cookie(COOKIE, path=site.base, secure=site.secure_cookie, httponly=True,
                           samesite="lax")
    return response


@admin_page
async def interface_language(request: Request, user: Account) -> Response:
    """The account's interface language (a form in every page's header)."""
    site = admin_site(request)
    form = await read_form(request)
    code = str(form.get("ui") or "")
    if code in {lg.code for lg in site.pages.languages()}:
        await run_in_threadpool(accounts.set_ui_language, site.ws, user, code)
    return RedirectResponse(_next(request, str(form.get("next") or "")), status_code=303)


async def stylesheet(request: Request) -> Response:
    css = await run_in_threadpool(admin_site(request).pages.static, "admin.css")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/ui", interface_language, methods=["POST"]),
    Route("/admin.css", stylesheet, methods=["GET"]),
]
