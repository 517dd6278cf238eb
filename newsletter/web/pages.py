"""The reader's pages: unsubscribe, subscribe, confirm, preferences.

Each endpoint reads the request, calls one use case of the application layer in the
thread pool (SQLite and the transports are synchronous), and renders the answer in
the reader's language. Errors are not handled here: the app maps them (app.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from newsletter.app import subscriptions
from newsletter.app.limits import RateLimits
from newsletter.app.pages import WebPages, choose_language
from newsletter.app.subscriptions import PreferenceChange, SignupForm, Visitor
from newsletter.app.workspace import Workspace
from newsletter.errors import FormError, NewsletterError
from newsletter.web.security import CrossSite, read_form, same_site

__all__ = ["CrossSite", "Site", "language", "page_routes", "render", "unsubscribe"]

UA_MAX = 500  # characters of a user agent worth keeping
log = logging.getLogger("newsletter.web")


@dataclass(frozen=True)
class Site:
    """What every endpoint needs; ``request.app.state.site``."""

    ws: Workspace
    pages: WebPages
    limits: RateLimits


def site_of(request: Request) -> Site:
    return request.app.state.site


def visitor(request: Request) -> Visitor:
    """The client as the trusted proxy reports it (uvicorn's --proxy-headers)."""
    return Visitor(request.client.host if request.client else "",
                   request.headers.get("user-agent", "")[:UA_MAX])


def language(request: Request, *known: str | None) -> str:
    """The page language: ?lang=, then what we know (the form's, the reader's), then
    the browser's Accept-Language, then the source language."""
    wanted = [request.query_params.get("lang", ""), *(k or "" for k in known)]
    return choose_language(site_of(request).ws, *wanted,
                           accept=request.headers.get("accept-language", ""))


def render(request: Request, template: str, lang: str, *, status: int = 200,
           keep_query: bool = True, **values: Any) -> HTMLResponse:
    """A page; the switcher links to the same page (same query, unless ``keep_query``
    is off: an error page does not repeat a refused token) in each language."""
    query = dict(request.query_params) if keep_query else {}

    def link(code: str) -> str:
        return "?" + urlencode({**query, "lang": code})

    html = site_of(request).pages.render(template, lang, link, values)
    return HTMLResponse(html, status_code=status)


async def _form_post(request: Request) -> FormData:
    if not same_site(request, site_of(request).ws.config.web.public_url):
        raise CrossSite
    return await read_form(request)


def _urls(request: Request, token: str, preferences_token: str) -> dict[str, str]:
    pages = site_of(request).pages
    return {"action": f"{request.url.path}?{urlencode({'t': token})}",
            "preferences_url": pages.url("preferences", t=preferences_token)}


async def unsubscribe(request: Request) -> Response:
    """RFC 8058: GET shows one button and changes nothing; POST (urlencoded or multipart,
    from a mail client or the button) suppresses and answers 200, never a redirect, no
    cookie; a repeated POST gets 200 again."""
    ws = site_of(request).ws
    token = request.query_params.get("t", "")
    if request.method == "POST":
        form = await read_form(request, lenient=True)
        done = await run_in_threadpool(subscriptions.unsubscribe, ws, token, visitor(request))
        lang = language(request, str(form.get("lang") or ""), done.reader.language)
        return render(request, "unsubscribe.html.j2", lang, done=True,
                      **_urls(request, token, done.reader.preferences_token))
    reader = await run_in_threadpool(subscriptions.unsubscribe_view, ws, token)
    return render(request, "unsubscribe.html.j2", language(request, reader.language),
                  done=False, **_urls(request, token, reader.preferences_token))


def _signup_form(form: FormData) -> SignupForm:
    return SignupForm(email=str(form.get("email") or "").strip(),
                      name=str(form.get("name") or ""),
                      language=str(form.get("language") or ""),
                      topics=tuple(str(t) for t in form.getlist("topics")),
                      consent=bool(form.get("consent")),  # the box, ticked or not
                      trap=str(form.get("website") or ""),
                      shown_in=str(form.get("lang") or ""))


async def subscribe(request: Request) -> Response:
    """The sign-up form; its answer is the same, and as quick, for a new, a known, a
    suppressed and a robot's address: what differs is done after answering."""
    site = site_of(request)
    if request.method == "GET":
        lang = language(request)
        return render(request, "subscribe.html.j2", lang, sent=False, errors={},
                      values={"email": "", "name": "", "language": lang, "topics": ()})
    posted = _signup_form(await _form_post(request))
    lang = language(request, posted.shown_in)
    try:
        accepted = await run_in_threadpool(lambda: subscriptions.accept(
            site.ws, posted, visitor(request), limits=site.limits))
    except FormError as err:  # the form again, every problem marked, the box unticked
        values = {"email": posted.email, "name": posted.name,
                  "language": posted.language or lang, "topics": posted.topics}
        return render(request, "subscribe.html.j2", lang, status=422, sent=False,
                      errors=dict.fromkeys(err.fields, True), values=values)
    response = render(request, "subscribe.html.j2", lang, sent=True, errors={}, values={})
    if accepted is not None:
        # After the answer has left: how long the page took must not tell whether the
        # address was new (a mail to render and send), known or suppressed (nothing).
        response.background = BackgroundTask(_complete_signup, site, accepted)
    return response


def _complete_signup(site: Site, accepted: subscriptions.Accepted) -> None:
    """The sign-up's slow part, in the thread pool after the answer. Nobody waits for
    it, so a failure (the mail server refused, the ledger was busy) goes to the log."""
    try:
        subscriptions.complete(site.ws, accepted, pages=site.pages, limits=site.limits)
    except NewsletterError as err:
        log.error("a sign-up could not be completed: %s: %s", type(err).__name__, err)


async def confirm(request: Request) -> Response:
    """GET: a button (mail scanners open links); POST: confirmed, as often as pressed."""
    ws = site_of(request).ws
    token = request.query_params.get("t", "")
    if request.method == "POST":
        form = await _form_post(request)
        done = await run_in_threadpool(subscriptions.confirm, ws, token, visitor(request))
        lang = language(request, str(form.get("lang") or ""), done.reader.language)
        return render(request, "confirm.html.j2", lang, done=True,
                      **_urls(request, token, done.reader.preferences_token))
    reader = await run_in_threadpool(subscriptions.confirm_view, ws, token)
    return render(request, "confirm.html.j2", language(request, reader.language), done=False,
                  **_urls(request, token, reader.preferences_token))


async def preferences(request: Request) -> Response:
    """Language and topics; the save changes only the fields the page showed."""
    ws = site_of(request).ws
    token = request.query_params.get("t", "")
    notice = ""
    form = FormData()
    if request.method == "POST":
        form = await _form_post(request)
        if form.get("action") == "resubscribe":
            done = await run_in_threadpool(subscriptions.resubscribe, ws, token,
                                           visitor(request))
            notice = "resubscribed" if done else "not_resubscribed"
        else:
            change = PreferenceChange(
                language=str(form.get("language") or "") if "language" in form.getlist(
                    "shown") else None,
                shown_topics=tuple(str(t) for t in form.getlist("shown_topic")),
                chosen_topics=tuple(str(t) for t in form.getlist("topics")))
            await run_in_threadpool(subscriptions.save_preferences, ws, token, change,
                                    visitor(request))
            notice = "saved"
    now = await run_in_threadpool(subscriptions.preferences_view, ws, token)
    lang = language(request, str(form.get("lang") or ""), now.language)
    return render(request, "preferences.html.j2", lang, notice=notice, current=now,
                  unsubscribed=now.unsubscribed,
                  action=f"{request.url.path}?{urlencode({'t': token})}")


async def stylesheet(request: Request) -> Response:
    css = await run_in_threadpool(site_of(request).pages.stylesheet)
    return Response(css, media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600"})


async def front(request: Request) -> Response:
    """public_url itself (and the bare address uvicorn prints): the sign-up form."""
    path = urlsplit(site_of(request).ws.config.web.public_url).path or "/"
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{path}subscribe{query}", status_code=303)


def page_routes() -> list[Route]:
    """The reader's pages, relative to [web] public_url's path."""
    both = ["GET", "POST"]
    return [
        Route("/", front, methods=["GET"]),
        Route("/unsubscribe", unsubscribe, methods=both),
        Route("/subscribe", subscribe, methods=both),
        Route("/confirm", confirm, methods=both),
        Route("/preferences", preferences, methods=both),
        Route("/style.css", stylesheet, methods=["GET"]),
    ]
