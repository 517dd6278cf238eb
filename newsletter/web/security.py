"""What every response carries, and which form posts are believed.

Headers: a Content-Security-Policy that allows nothing but this site (no scripts are
needed: the pages work without JavaScript), no framing, no indexing, no sniffing,
and no Referer to other sites (token links must not leak to the imprint's or a topic's
server), no caching of pages that carry tokens. The referrer policy is "same-origin",
not "no-referrer": under "no-referrer" browsers send ``Origin: null`` with every form
post, even to the page's own site, and the cross-site check below refuses that.

Cross-site form posts: a browser says where a form was sent from (Sec-Fetch-Site, or
Origin in browsers before 2020); a post from another site is refused. The one-click
unsubscribe POST is the exception by design (RFC 8058: mail clients post it, with no
cookies and no origin), and so are webhooks; neither uses this check. Requests without
either header do not come from a browser form, and a forged request needs a browser to
be worth anything.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none';"
                               " form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}
NO_STORE = "no-store"
MAX_FORM = 64 * 1024  # a sign-up or preferences form is a few hundred bytes


def secure(headers: MutableHeaders) -> None:
    """The headers above, except where a response set a stricter one of its own: the
    admin pages' preview frame brings its own policy (no scripts at all, framed only by
    our own page), which ``frame-ancestors 'none'`` and DENY would break."""
    own_policy = "content-security-policy" in headers
    for name, value in HEADERS.items():
        if own_policy and name in ("Content-Security-Policy", "X-Frame-Options"):
            continue
        headers[name] = value
    if "cache-control" not in headers:
        headers["Cache-Control"] = NO_STORE


class SecurityHeaders:
    """ASGI middleware: the headers above on every response that passes through."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_secured)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(request: Request, public_url: str) -> bool:
    """Whether a form post comes from our own pages (or from no browser at all)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        # set by the browser itself (no page can forge it); it also holds where a
        # page's referrer policy turns Origin into "null" (the preview frame's)
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {origin_of(public_url), origin_of(str(request.url))}
    return origin.lower() in allowed  # "null" (a sandboxed or privacy-stripped page) is not


async def read_form(request: Request, *, lenient: bool = False) -> FormData:
    """The posted form (urlencoded or multipart), small and without files. ``lenient``:
    an unreadable body counts as empty (the one-click POST needs only its token)."""
    try:
        size = int(request.headers.get("content-length") or 0)
    except ValueError:
        size = MAX_FORM + 1
    if size > MAX_FORM:
        if lenient:
            return FormData()
        raise FormTooLarge
    try:
        return await request.form(max_files=0, max_fields=64, max_part_size=MAX_FORM)
    except (HTTPException, MultiPartException, UnicodeDecodeError):  # a broken body
        if lenient:
            return FormData()
        raise BadForm from None


class CrossSite(Exception):
    """A form post from another site (the reader's pages and the admin pages refuse it)."""


def check_same_site(request: Request, public_url: str) -> None:
    """Refuse (CrossSite) a form post that another site's page made the browser send."""
    if not same_site(request, public_url):
        raise CrossSite


class BadForm(Exception):
    """The body is not a readable form."""


class FormTooLarge(BadForm):
    """The body is larger than any of our forms."""
