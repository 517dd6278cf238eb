"""The review page (``admin/review/<release>/<lang>``): one entry at a time.

GET shows an entry (``?entry=N``, from 0; default the first still to approve) with
everything a reviewer needs to judge it, a form, and the edition in that language in
a sandboxed frame with the entry marked. POST saves it: "approve" (clears fuzzy; a
check error refuses) or "save" (keeps it a draft). The form carries the entry's key
and the fingerprint it had when the page was built; a save finding another state
(another reviewer, ``translate``, a git pull) writes nothing and shows both versions
(409). After a save the browser is sent on (303): to the next entry still open after
an approval, back to the same entry after a plain save. The script (review.js) only
adds Ctrl+Enter for "approve"; everything works without it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from newsletter.app import review
from newsletter.app.accounts import Account
from newsletter.app.workspace import Release
from newsletter.errors import CatalogBusy, FormError
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.previews import FRAME_POLICY
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render, render_error
from newsletter.web.security import read_form

STATIC = {"review.js": "text/javascript", "review.css": "text/css"}
MAX_TEXT = 20_000  # characters: far above any paragraph of a press release


def _index(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _page_url(request: Request, index: int | None = None, **query: str) -> str:
    p = request.path_params
    extra = {"entry": str(index)} if index is not None else {}
    return admin_site(request).url(f"review/{p['release']}/{p['lang']}", **extra, **query)


async def _show(request: Request, user: Account, index: int | None, *, status: int = 200,
                **values: object) -> Response:
    site = admin_site(request)
    p = request.path_params
    page = await run_in_threadpool(review.review_page, site.ws, user, p["release"], p["lang"],
                                   index)
    current = page.current
    frame = None
    if current is not None:
        frame = site.url(f"review/{page.release_id}/{page.language.code}/frame",
                         entry=str(current.index)) + f"#{review.ANCHOR}"
    values.setdefault("text", current.translation if current else "")
    values.setdefault("problems", ())
    values.setdefault("conflict", None)
    values.setdefault("busy", False)
    return render(request, user, "review.html.j2", status=status, page=page, entry=current,
                  frame_url=frame, saved=request.query_params.get("saved", ""),
                  script=site.url("review.js"), review_css=site.url("review.css"),
                  **values)


@admin_page
async def show(request: Request, user: Account) -> Response:
    return await _show(request, user, _index(request.query_params.get("entry")))


@admin_page
async def post(request: Request, user: Account) -> Response:
    try:
        return await _save(request, user)
    except FormError:  # a form our page never sends: say no more than that
        return render_error(request, user, 400, "input")


async def _save(request: Request, user: Account) -> Response:
    site = admin_site(request)
    p = request.path_params
    form = await read_form(request)
    action = str(form.get("action", ""))
    index = _index(str(form.get("entry", "")))
    source, seen = str(form.get("source", "")), str(form.get("seen", ""))
    text = str(form.get("text", ""))
    context = form.get("context")
    if action not in ("approve", "save") or not source or not seen or index is None:
        raise FormError(("action", "source", "seen", "entry"), "an incomplete review form")
    if len(text) > MAX_TEXT:
        raise FormError("text", "the translation is far too long")
    try:
        done = await run_in_threadpool(
            review.save, site.ws, user, p["release"], p["lang"],
            context=None if context is None else str(context), source=source, seen=seen,
            text=text, approve=action == "approve")
    except CatalogBusy:
        return await _show(request, user, index, status=409, text=text, busy=True)
    if done.outcome == "blocked":
        return await _show(request, user, index, status=422, text=text,
                           problems=done.problems)
    if done.outcome == "changed":
        return await _show(request, user, done.entry.index if done.entry else index,
                           status=409, text=text, conflict=done)
    if done.outcome == "approved" and done.entry is not None:
        page = await run_in_threadpool(review.review_page, site.ws, user, p["release"],
                                       p["lang"], done.entry.index)
        following = review.next_open(page.entries, done.entry.index)
        target = following.index if following else done.entry.index
        return RedirectResponse(_page_url(request, target, saved="approved"), status_code=303)
    index = done.entry.index if done.entry else index
    return RedirectResponse(_page_url(request, index, saved="saved"), status_code=303)


@admin_page
async def frame(request: Request, user: Account) -> Response:
    site = admin_site(request)
    p = request.path_params

    def asset(rel: Release, path: Path) -> str:
        return site.url(f"preview/{rel.id}/files/{path.name}",
                        t=site.sessions.link_token(f"{rel.id}/{path.name}"))

    html = await run_in_threadpool(review.preview_html, site.ws, user, p["release"],
                                   p["lang"], _index(request.query_params.get("entry")),
                                   asset_url=asset)
    return HTMLResponse(html, headers={"Content-Security-Policy": FRAME_POLICY,
                                       "X-Frame-Options": "SAMEORIGIN"})


async def static(request: Request) -> Response:
    """review.js and review.css, from templates/admin/ like the stylesheet."""
    name = request.url.path.rsplit("/", 1)[-1]
    data = await run_in_threadpool(admin_site(request).pages.static, name)
    return Response(data, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


routes = [
    Route("/review/{release}/{lang}", show, methods=["GET"]),
    Route("/review/{release}/{lang}", post, methods=["POST"]),
    Route("/review/{release}/{lang}/frame", frame, methods=["GET"]),
    *(Route(f"/{name}", static, methods=["GET"]) for name in STATIC),
]
