"""The officer's and the reviewers' pages, below ``<public_url>admin/``.

Like the reader's pages, they call the application layer only. What exists:

    auth.py       login, logout, the interface language     admin/login, logout, ui
    dashboard.py  releases x languages                       admin/
    previews.py   what a reader of a language receives      admin/preview/<release>/<lang>
    reports.py    campaigns, suppressions by route, CSV      admin/reports[/<campaign>]
    people.py     one person: suppress, forget, consent      admin/people
    upload.py     import a press release, its front matter   admin/upload, release/<id>/edit
    review.py     approving a release's entries one by one  admin/review/<release>/<lang>
    sending.py    plan, confirm, send, progress, schedules  admin/send (officers)

Extension points, for the pages still to come (review, sending, people, upload):

* A new module ``web/admin/<name>.py`` defines ``routes`` (Starlette ``Route``s,
  relative to ``admin/``) and is added to ``MODULES`` below; nothing else changes.
* Its endpoints are ``async def page(request, user)`` decorated with ``@admin_page``
  (any account) or ``@admin_page(officer=True)``; inside, ``require_language(user,
  lang)`` for language-bound pages. The decorator refuses cross-site posts, missing
  or ended sessions and wrong roles before the endpoint runs (access.py).
* Forms: ``read_form(request)`` from web.security (the same-origin check already ran).
* Pages: ``render(request, user, "<name>.html.j2", **values)`` (views.py); templates
  extend ``base.html.j2`` in templates/admin/ and put their strings in ``_()`` (domain
  'admin', ``newsletter extract --ui``). Links: ``url("review/<id>/<lang>")``.
* Every change a page makes goes through an app-layer use case that writes the audit
  log (``newsletter.app.audit.record``), naming the account, never a secret.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from newsletter.web.admin import (
    auth,
    dashboard,
    people,
    previews,
    reports,
    review,
    sending,
    upload,
)
from newsletter.web.admin.site import PREFIX, AdminSite, open_site

__all__ = ["MODULES", "AdminSite", "open_site", "routes"]

MODULES = (auth, dashboard, previews, review, sending, reports, people, upload)


def routes() -> list[BaseRoute]:
    """Every admin page, to mount below public_url's path."""
    return [Mount("/" + PREFIX.rstrip("/"),
                  routes=[route for module in MODULES for route in module.routes])]
