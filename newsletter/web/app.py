"""The Starlette app: the reader's pages below [web] public_url's path, the security
headers, and the one place errors of the core become HTTP answers.

    TokenError              400  the link is not valid (nothing more is said)
    BadForm                 400  the body is not a readable form
    CrossSite               403  a form posted from another site
    FormError, RecipientError, LanguageError
                            422  the form again, or a page saying what to check
    RateLimited             429  too many attempts
    EmbargoError            409
    DeliveryError           503  the confirmation mail could not be handed over
    any other error         500  (ConfigError, SecretError, StateError, and bugs)

The providers' hooks (web/hooks: SendGrid's Event Webhook and Inbound Parse) mount
beside the pages and answer their own errors; they get the same headers and no
cross-site check, which is for browser forms only. The admin pages (web/admin, below
admin/) answer their own access errors (401, 403, 404) with pages of their own and
check every form post for the same origin. ``extra_routes`` add more.

Behind a proxy, the app answers whether the proxy passes the public path on
(``/newsletter/app/subscribe``, as the shipped deploy/ files do) or strips it
(``/subscribe``: nginx's ``proxy_pass`` with a URI part, Caddy's ``handle_path``):
PublicPath puts a stripped prefix back before routing, so links, redirects, the admin
cookie's Path and the same-site checks all see the address the browser sees. They
are made from public_url, never from a request header, so no header is trusted for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.app.limits import RateLimits
from newsletter.app.pages import open_pages
from newsletter.app.sessions import Sessions
from newsletter.app.workspace import Workspace
from newsletter.errors import (
    ConfigError,
    DeliveryError,
    EmbargoError,
    FormError,
    LanguageError,
    NewsletterError,
    RateLimited,
    RecipientError,
    TokenError,
)
from newsletter.web import admin
from newsletter.web.hooks import routes as hook_routes
from newsletter.web.pages import CrossSite, Site, language, page_routes, render, unsubscribe
from newsletter.web.security import BadForm, FormTooLarge, SecurityHeaders, secure

log = logging.getLogger("newsletter.web")

# (status, what the error page says) per error class, most specific first
_ANSWERS: tuple[tuple[type[BaseException], int, str], ...] = (
    (TokenError, 400, "token"),
    (FormTooLarge, 413, "input"),
    (BadForm, 400, "input"),
    (CrossSite, 403, "cross_site"),
    (FormError, 422, "input"),
    (RecipientError, 422, "input"),
    (LanguageError, 422, "input"),
    (RateLimited, 429, "too_many"),
    (EmbargoError, 409, "server"),
    (DeliveryError, 503, "server"),
)


def answer_for(exc: BaseException) -> tuple[int, str]:
    for kind, status, problem in _ANSWERS:
        if isinstance(exc, kind):
            return status, problem
    return 500, "server"


def create_app(ws: Workspace, extra_routes: Sequence[BaseRoute] = (), *,
               limits: RateLimits | None = None,
               admin_sessions: Sessions | None = None) -> Starlette:
    """The web app of ``ws``: the reader's pages, the providers' hooks and the admin
    pages, below public_url's path. ``extra_routes`` mount there too; ``limits`` and
    ``admin_sessions`` replace the default rate limits and sessions (tests: a clock)."""
    public = ws.config.web.public_url
    if not public:
        raise ConfigError("[web] public_url is not set: the pages need the address they "
                          "are reached at (e.g. https://example.org/newsletter/app/)")
    base = urlsplit(public).path.rstrip("/")
    routes: list[BaseRoute] = [*page_routes(), *hook_routes, *admin.routes(), *extra_routes]
    top: list[BaseRoute] = [Mount(base, routes=routes)] if base else routes
    # mails link to unsubscribe_url: when it is set apart from public_url, serve it there
    unsubscribe_path = urlsplit(ws.config.web.unsubscribe_url).path
    if unsubscribe_path != f"{base}/unsubscribe":
        top.insert(0, Route(unsubscribe_path, unsubscribe, methods=["GET", "POST"]))
    handlers = {NewsletterError: error_page, BadForm: error_page, CrossSite: error_page,
                HTTPException: http_error_page, Exception: server_error_page}
    middleware = [Middleware(PublicPath, base=base, kept=(unsubscribe_path,)),
                  Middleware(SecurityHeaders)]
    app = Starlette(routes=top, middleware=middleware,
                    exception_handlers=handlers)  # type: ignore[arg-type]
    app.state.site = Site(ws, open_pages(ws), limits or RateLimits())
    app.state.ws = ws  # the hooks' workspace
    app.state.admin = admin.open_site(ws, admin_sessions)
    return app


class PublicPath:
    """ASGI middleware: a path outside ``base`` (the public URL's path) is one a proxy
    stripped it from; it gets the prefix back. Paths below ``base`` and the ``kept``
    ones (an unsubscribe_url set apart) pass unchanged."""

    def __init__(self, app: ASGIApp, base: str, kept: tuple[str, ...] = ()):
        self.app = app
        self.base = base  # "" when the app is at the root: nothing is ever stripped
        self.kept = kept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.base:
            path: str = scope["path"]
            if not (path == self.base or path.startswith(self.base + "/")
                    or path in self.kept):
                scope = dict(scope, path=self.base + path)
                if "raw_path" in scope and scope["raw_path"] is not None:
                    scope["raw_path"] = quote(self.base).encode("ascii") + scope["raw_path"]
        await self.app(scope, receive, send)


def _error(request: Request, status: int, problem: str) -> Response:
    try:
        return render(request, "error.html.j2", language(request), status=status,
                      keep_query=False, problem=problem)
    except Exception:  # the error page itself failed (a broken template): say it plainly
        log.exception("the error page could not be rendered")
        return PlainTextResponse(f"{status}", status_code=status)


async def error_page(request: Request, exc: Exception) -> Response:
    status, problem = answer_for(exc)
    if status >= 500:
        log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    else:  # never the token or the form's contents: they name people
        log.info("%s %s: %d %s", request.method, request.url.path, status, type(exc).__name__)
    return _error(request, status, problem)


async def http_error_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return _error(request, 404, "not_found")
    response = PlainTextResponse(str(getattr(exc, "detail", "")), status_code=status,
                                 headers=getattr(exc, "headers", None))
    return response


async def server_error_page(request: Request, exc: Exception) -> Response:
    """A bug: the reader gets the error page, the log the traceback (Starlette re-raises
    after this). This response leaves outside the middleware: it secures itself."""
    response = _error(request, 500, "server")
    secure(response.headers)
    return response
