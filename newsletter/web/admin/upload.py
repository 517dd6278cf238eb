"""Upload (``admin/upload``, officers only): a .docx, .txt or .html press release
through ``newsletter import``'s importer; then its front matter in a form
(``admin/release/<id>/edit``), written back only when the release parser accepts it.

An existing release is replaced only when the form's "replace" box was ticked; the
first try says that it exists and shows the box. The file is read in a child process
with limits (content/importers/limits.py): a file over them gets 413 (too large
unpacked, too many parts or paragraphs, too much memory) or 422 (damaged, a DTD, too
slow), with the reason on the page.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.app import uploads
from newsletter.app.accounts import Account
from newsletter.app.uploads import KINDS
from newsletter.errors import (
    AlreadyExists,
    FormError,
    ImportError_,
    ImportRefused,
    ImportTooLarge,
)
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render
from newsletter.web.security import BadForm, read_form
from newsletter.web.uploads import UploadTooLarge, read_upload


def _upload_form(request: Request, user: Account, *, status: int = 200, problem: str = "",
                 message: str = "", exists: bool = False, values: dict[str, str] | None = None
                 ) -> Response:
    return render(request, user, "upload.html.j2", status=status, problem=problem,
                  message=message, exists=exists, values=values or {}, kinds=KINDS,
                  max_mb=uploads.MAX_UPLOAD // (1024 * 1024))


@admin_page(officer=True)
async def upload_page(request: Request, user: Account) -> Response:
    return _upload_form(request, user)


@admin_page(officer=True)
async def upload(request: Request, user: Account) -> Response:
    ws = admin_site(request).ws
    with uploads.upload_folder(ws) as folder:
        try:
            got = await read_upload(request, folder, uploads.upload_name,
                                    max_bytes=uploads.MAX_UPLOAD)
        except UploadTooLarge:
            return _upload_form(request, user, status=413, problem="too_large")
        except BadForm:
            return _upload_form(request, user, status=400, problem="bad_form")
        except ImportError_ as err:  # a suffix the importer does not read
            return _upload_form(request, user, status=400, problem="import", message=err.message)
        values = {k: got.fields.get(k, "") for k in ("id", "kind")}
        if got.path is None:
            return _upload_form(request, user, status=400, problem="no_file", values=values)
        if values["kind"] and values["kind"] not in KINDS:
            return _upload_form(request, user, status=400, problem="bad_form", values=values)
        try:
            done = await run_in_threadpool(
                uploads.import_upload, ws, got.path, release_id=values["id"],
                kind=values["kind"], replace=got.fields.get("replace") == "yes",
                account=user.name)
        except AlreadyExists:
            return _upload_form(request, user, status=409, exists=True, values=values)
        except ImportRefused as err:  # too large unpacked, too long, damaged, a DTD
            return _upload_form(request, user,
                                status=413 if isinstance(err, ImportTooLarge) else 422,
                                problem="import", message=err.message, values=values)
        except ImportError_ as err:
            return _upload_form(request, user, status=400, problem="import",
                                message=err.message, values=values)
    edit = await run_in_threadpool(uploads.editable, ws, done.release.id)
    return render(request, user, "frontmatter.html.j2", edit=edit, kinds=KINDS,
                  imported=done, release_file=ws.relative(done.path),
                  images=[ws.relative(p) for p in done.images], saved=False, error=None)


@admin_page(officer=True)
async def edit_page(request: Request, user: Account) -> Response:
    ws = admin_site(request).ws
    edit = await run_in_threadpool(uploads.editable, ws, request.path_params["release"])
    return render(request, user, "frontmatter.html.j2", edit=edit, kinds=KINDS, imported=None,
                  release_file=f"releases/{edit.release_id}.md", images=[],
                  saved=request.query_params.get("saved") == "1", error=None)


@admin_page(officer=True)
async def save(request: Request, user: Account) -> Response:
    site = admin_site(request)
    release_id = request.path_params["release"]
    current = await run_in_threadpool(uploads.editable, site.ws, release_id)  # 404 if unknown
    try:
        form = await read_form(request)
    except BadForm:
        form = None
    if form is None:
        error = FormError((), "the form could not be read")
        return render(request, user, "frontmatter.html.j2", status=400, edit=current,
                      kinds=KINDS, imported=None, release_file=f"releases/{release_id}.md",
                      images=[], saved=False, error=error)
    typed = uploads.FrontMatterForm(**{name: str(form.get(name) or "")[:2000]
                                       for name in uploads.FrontMatterForm.names()})
    try:
        await run_in_threadpool(uploads.save_front_matter, site.ws, release_id, typed,
                                str(form.get("version") or ""), user.name)
    except FormError as error:
        # the version the form came with: after "changed since", a second press fails too
        shown = uploads.Editable(release_id, typed, str(form.get("version") or ""),
                                 current.kept, current.comments)
        return render(request, user, "frontmatter.html.j2", status=400, edit=shown,
                      kinds=KINDS, imported=None, release_file=f"releases/{release_id}.md",
                      images=[], saved=False, error=error)
    return RedirectResponse(site.url(f"release/{release_id}/edit", saved="1"), status_code=303)


routes = [
    Route("/upload", upload_page, methods=["GET"]),
    Route("/upload", upload, methods=["POST"]),
    Route("/release/{release}/edit", edit_page, methods=["GET"]),
    Route("/release/{release}/edit", save, methods=["POST"]),
]
