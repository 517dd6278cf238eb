"""Previews (``admin/preview/<release>/<lang>``): what a reader of a language receives.

The page shows which edition that is and why (the fallback and its reasons), the HTML
in a sandboxed iframe, and the plain-text part. The iframe's document comes from its
own route with a policy of its own: no scripts, no forms, no plugins, only inline
styles and the release's images, framed by our own pages only. A phone-width view is
a link (``?width=phone``): no JavaScript needed.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from newsletter.app import previews
from newsletter.app.accounts import Account, require_language
from newsletter.app.workspace import Release
from newsletter.errors import ReleaseError, WorkspaceError
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render

WIDTHS = {"phone": 375, "desktop": 700}  # CSS pixels: a small phone; the mail's width + margin
FRAME_POLICY = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def _edition(request: Request, user: Account) -> previews.EditionPreview:
    site = admin_site(request)
    release, lang = request.path_params["release"], request.path_params["lang"]
    require_language(user, lang)

    def asset(rel: Release, path: Path) -> str:
        return site.url(f"preview/{rel.id}/files/{path.name}",
                        t=site.sessions.link_token(f"{rel.id}/{path.name}"))

    return previews.edition_preview(site.ws, release, lang, asset_url=asset)


@admin_page
async def preview(request: Request, user: Account) -> Response:
    site = admin_site(request)
    shown = await run_in_threadpool(_edition, request, user)
    width = request.query_params.get("width", "desktop")
    width = width if width in WIDTHS else "desktop"
    langs = [c for c in site.ws.config.languages.all if user.may_read(c)]
    return render(request, user, "preview.html.j2", preview=shown, width=width,
                  frame_width=WIDTHS[width], languages=langs,
                  frame_url=site.url(f"preview/{shown.release_id}/{shown.requested.code}"
                                     "/frame"))


@admin_page
async def frame(request: Request, user: Account) -> Response:
    shown = await run_in_threadpool(_edition, request, user)
    return HTMLResponse(shown.html, headers={"Content-Security-Policy": FRAME_POLICY,
                                             "X-Frame-Options": "SAMEORIGIN"})


async def release_file(request: Request) -> Response:
    """An image of a release, for the sandboxed frame: its requests carry no cookie (the
    frame's origin is its own), so the link is signed instead (as a preview rendered it
    for a signed-in account); the image of an embargoed release stays unguessable."""
    site = admin_site(request)
    release, name = request.path_params["release"], request.path_params["name"]
    if not site.sessions.check_link(f"{release}/{name}", request.query_params.get("t", "")):
        return Response(status_code=404)
    try:
        data, media = await run_in_threadpool(previews.release_file, site.ws, release, name)
    except (ReleaseError, WorkspaceError):  # signed, but the file has gone since
        return Response(status_code=404)
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=300"})


routes = [
    Route("/preview/{release}/{lang}", preview, methods=["GET"]),
    Route("/preview/{release}/{lang}/frame", frame, methods=["GET"]),
    Route("/preview/{release}/files/{name}", release_file, methods=["GET"]),
]
